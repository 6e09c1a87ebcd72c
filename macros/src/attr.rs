//! Reading `#[channel("…")]` and `#[event("…")]` attributes.

use syn::parse::ParseStream;
use syn::{Attribute, LitStr, Meta};

use crate::errors::Errors;

/// The one attribute called `name` among `attrs`; every further one is an error.
pub(crate) fn single<'a>(
    attrs: &'a [Attribute],
    name: &str,
    errors: &mut Errors,
) -> Option<&'a Attribute> {
    let mut found = attrs.iter().filter(|attr| attr.path().is_ident(name));
    let first = found.next();
    for duplicate in found {
        errors.at(
            duplicate,
            format_args!("duplicate `#[{name}]` attribute: there can be only one"),
        );
    }
    first
}

/// Removes the attributes called `name` from `attrs` and returns them.
pub(crate) fn take(attrs: &mut Vec<Attribute>, name: &str) -> Vec<Attribute> {
    let (taken, kept) = std::mem::take(attrs)
        .into_iter()
        .partition(|attr| attr.path().is_ident(name));
    *attrs = kept;
    taken
}

/// The string literal of `#[name("…")]`; `example` shows the expected form.
pub(crate) fn string_arg(attr: &Attribute, example: &str) -> syn::Result<LitStr> {
    let expected = format!("expected a string literal, as in `{example}`");
    leading_string(attr, &expected, |lit, input| {
        if !input.is_empty() {
            return Err(input.error(format!("unexpected tokens after the string; {expected}")));
        }
        Ok(lit)
    })
}

/// Parses `#[name("…" …)]`: the leading string literal (else `expected` is the error),
/// then `rest` reads what follows it.
pub(crate) fn leading_string<T>(
    attr: &Attribute,
    expected: &str,
    rest: impl FnOnce(LitStr, ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<T> {
    let list = match &attr.meta {
        Meta::List(list) if !list.tokens.is_empty() => list,
        _ => return Err(syn::Error::new_spanned(attr, expected)),
    };
    list.parse_args_with(|input: ParseStream<'_>| {
        if !input.peek(LitStr) {
            return Err(syn::Error::new_spanned(&list.tokens, expected));
        }
        let lit: LitStr = input.parse()?;
        rest(lit, input)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn arg(attr: Attribute) -> Result<String, String> {
        string_arg(&attr, "#[x(\"a\")]")
            .map(|lit| lit.value())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_one_string() {
        assert_eq!(arg(parse_quote!(#[channel("user:*")])), Ok("user:*".into()));
    }

    #[test]
    fn refuses_other_forms() {
        let expected = "expected a string literal, as in `#[x(\"a\")]`";
        for attr in [
            parse_quote!(#[channel]),
            parse_quote!(#[channel()]),
            parse_quote!(#[channel = "a"]),
            parse_quote!(#[channel(user)]),
            parse_quote!(#[channel(42)]),
        ] {
            assert_eq!(arg(attr), Err(expected.to_owned()));
        }
        assert!(
            arg(parse_quote!(#[channel("a", "b")]))
                .is_err_and(|e| e.starts_with("unexpected tokens after the string"))
        );
    }

    #[test]
    fn single_reports_duplicates() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = "x"]),
            parse_quote!(#[event("a")]),
            parse_quote!(#[event("b")]),
        ];
        let mut errors = Errors::default();
        let found = single(&attrs, "event", &mut errors).map(|a| arg(a.clone()));
        assert_eq!(found, Some(Ok("a".into())));
        assert_eq!(errors.count(), 1);
    }

    #[test]
    fn take_strips() {
        let mut attrs: Vec<Attribute> =
            vec![parse_quote!(#[doc = "x"]), parse_quote!(#[event("a")])];
        assert_eq!(take(&mut attrs, "event").len(), 1);
        assert_eq!(attrs.len(), 1);
    }
}
