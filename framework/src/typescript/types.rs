//! Rust types as TypeScript: each payload type's name, and the declarations of every
//! type it needs, gathered once however many events share them.
//!
//! The macros reach a type through [`Probe`]: a type that implements `ts_rs::TS`
//! becomes its TypeScript name; any other type becomes `unknown` rather than a
//! compile error (autoref specialisation: the method on `Probe<T>` needs `T: TS`, the
//! one on `&Probe<T>` does not, and method lookup tries `Probe<T>` first).

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::marker::PhantomData;

use ts_rs::{Config, TS, TypeVisitor};

/// Writes one type's TypeScript into a [`TypeSet`] and returns how to refer to it.
pub type TsType = fn(&mut TypeSet) -> String;

/// A type declaration and the Rust type it came from.
#[derive(Debug)]
pub(crate) struct Declared {
    pub(crate) text: String,
    pub(crate) rust: &'static str,
}

/// The declarations gathered so far, by TypeScript name, and what did not fit.
pub struct TypeSet {
    config: Config,
    visited: HashSet<TypeId>,
    pub(crate) declared: BTreeMap<String, Declared>,
    /// Two Rust types with one TypeScript name: (name, first, second).
    pub(crate) clashes: Vec<(String, &'static str, &'static str)>,
    /// Payload types that do not implement `TS`, written as `unknown`.
    pub(crate) unknown: BTreeSet<&'static str>,
}

impl TypeSet {
    pub(crate) fn new() -> Self {
        Self {
            // JSON numbers are JavaScript numbers, whatever their width in Rust.
            config: Config::new().with_large_int("number"),
            visited: HashSet::new(),
            declared: BTreeMap::new(),
            clashes: Vec::new(),
            unknown: BTreeSet::new(),
        }
    }

    /// Declares `T` (when it has a declaration) and everything it refers to.
    fn visit<T: TS + ?Sized + 'static>(&mut self) {
        if !self.visited.insert(TypeId::of::<T>()) {
            return;
        }
        // Types with a declaration of their own (derived ones) are exported; built-in
        // ones (`string`, `Array<T>`, `T | null`) are written inline.
        if T::output_path().is_some() {
            let name = T::ident(&self.config);
            let rust = std::any::type_name::<T>();
            let text = format!(
                "{}export {}",
                T::docs().unwrap_or_default(),
                T::decl(&self.config)
            );
            match self.declared.get(&name) {
                Some(first) if first.text != text => {
                    self.clashes.push((name, first.rust, rust));
                }
                Some(_) => {}
                None => {
                    self.declared.insert(name, Declared { text, rust });
                }
            }
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

impl std::fmt::Debug for TypeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // ts_rs::Config has no Debug.
        f.debug_struct("TypeSet")
            .field("declared", &self.declared.keys())
            .field("unknown", &self.unknown)
            .finish_non_exhaustive()
    }
}

impl TypeVisitor for TypeSet {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        TypeSet::visit::<T>(self);
    }
}

/// Stands for the type `T` in macro output; see the module docs.
#[derive(Debug)]
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    /// The probe of `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// `T` implements `TS`: its name, and its declarations into the set.
pub trait ViaTs {
    /// How to refer to the type.
    fn ts_name(&self, types: &mut TypeSet) -> String;
}

impl<T: TS + ?Sized + 'static> ViaTs for Probe<T> {
    fn ts_name(&self, types: &mut TypeSet) -> String {
        types.visit::<T>();
        T::name(&types.config)
    }
}

/// `T` does not implement `TS`: `unknown`, and a note of it.
pub trait ViaUnknown {
    /// `unknown`.
    fn ts_name(&self, types: &mut TypeSet) -> String;
}

impl<T: ?Sized> ViaUnknown for &Probe<T> {
    fn ts_name(&self, types: &mut TypeSet) -> String {
        types.unknown.insert(std::any::type_name::<T>());
        "unknown".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // With ts-rs's own derive: the framework depends on it directly.
    /// Doc comments become JSDoc.
    #[derive(TS)]
    #[allow(dead_code)]
    struct Inner {
        big: u64,
        list: Vec<String>,
    }

    #[derive(TS)]
    #[allow(dead_code)]
    struct Outer {
        inner: Option<Inner>,
    }

    struct Opaque;

    fn name_of(probe: TsType, types: &mut TypeSet) -> String {
        probe(types)
    }

    #[test]
    fn a_ts_type_is_named_and_declared_with_what_it_needs() {
        let mut types = TypeSet::new();
        let outer: TsType = crate::__typescript_type!(Outer);
        assert_eq!(name_of(outer, &mut types), "Outer");
        assert_eq!(name_of(outer, &mut types), "Outer");
        let names: Vec<&str> = types.declared.keys().map(String::as_str).collect();
        assert_eq!(names, ["Inner", "Outer"]);
        assert_eq!(
            types.declared["Inner"].text,
            "/**\n * Doc comments become JSDoc.\n */\nexport type Inner = { big: number, list: Array<string>, };"
        );
        assert!(types.unknown.is_empty());
    }

    #[test]
    fn a_type_without_ts_is_unknown_and_noted() {
        let mut types = TypeSet::new();
        let opaque: TsType = crate::__typescript_type!(Opaque);
        assert_eq!(name_of(opaque, &mut types), "unknown");
        assert!(types.declared.is_empty());
        assert_eq!(types.unknown.len(), 1);
    }
}
