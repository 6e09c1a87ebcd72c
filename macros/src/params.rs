//! Parameters after `&self`: what each asks for, recognised by its type's syntax, and
//! the expression that supplies it from the `Invocation`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, Type, TypePath};

const UNSUPPORTED: &str = "unsupported parameter type: expected `EventContext`, `Packet<T>`, \
                           `&Connection`, `&YourUser`, `Option<&YourUser>`, `State<T>` or a \
                           type implementing `switchboard::FromInvocation`";

/// What a parameter asks for.
pub(crate) enum Kind {
    /// `EventContext`.
    Context,
    /// `&EventContext`.
    ContextRef,
    /// `Packet<T>`: the payload as `T`.
    Packet(Type),
    /// `Connection`.
    Connection,
    /// `&Connection`.
    ConnectionRef,
    /// `&T`: the user, refusing anonymous connections.
    User(Type),
    /// `Option<&T>`: the user, or `None` when anonymous.
    OptionalUser(Type),
    /// `State<T>`: registered application state, checked at start-up.
    State(Type),
    /// Any other owned type: built by its `FromInvocation` impl; a type without one is
    /// a compile error on the parameter.
    Extract,
}

impl Kind {
    /// How the parameter is written, for error messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Self::Context => "`EventContext`",
            Self::ContextRef => "`&EventContext`",
            Self::Packet(_) => "`Packet<T>`",
            Self::Connection => "`Connection`",
            Self::ConnectionRef => "`&Connection`",
            Self::User(_) => "`&YourUser`",
            Self::OptionalUser(_) => "`Option<&YourUser>`",
            Self::State(_) => "`State<T>`",
            Self::Extract => "an extracted type",
        }
    }

    /// Whether it is an `EventContext` (owned or borrowed).
    pub(crate) fn is_context(&self) -> bool {
        matches!(self, Self::Context | Self::ContextRef)
    }

    /// Whether it needs an event (a payload or an event context).
    pub(crate) fn needs_event(&self) -> bool {
        matches!(self, Self::Context | Self::ContextRef | Self::Packet(_))
    }

    /// Extraction order: the connection first, then the user (so anonymous callers are
    /// refused before their payload is read), then the payload.
    fn order(&self) -> u8 {
        match self {
            Self::Context | Self::ContextRef | Self::Connection | Self::ConnectionRef => 0,
            Self::User(_) | Self::OptionalUser(_) | Self::State(_) | Self::Extract => 1,
            Self::Packet(_) => 2,
        }
    }
}

/// `const USER_TYPES` and `const STATE_TYPES` listing each distinct user and state
/// type the parameters ask for (none: nothing, so the trait's empty default stands).
pub(crate) fn type_lists<'p>(params: impl IntoIterator<Item = &'p Param> + Clone) -> TokenStream {
    let users = distinct(params.clone().into_iter().filter_map(|p| match &p.kind {
        Kind::User(t) | Kind::OptionalUser(t) => Some(t),
        _ => None,
    }));
    let states = distinct(params.into_iter().filter_map(|p| match &p.kind {
        Kind::State(t) => Some(t),
        _ => None,
    }));
    let list = |name: TokenStream, types: Vec<&Type>| {
        (!types.is_empty()).then(|| {
            quote! {
                const #name: &'static [::switchboard::__private::UserType] =
                    &[#(::switchboard::__private::UserType::of::<#types>()),*];
            }
        })
    };
    let users = list(quote!(USER_TYPES), users);
    let states = list(quote!(STATE_TYPES), states);
    quote!(#users #states)
}

/// The types, each once, in first-seen order.
fn distinct<'t>(types: impl Iterator<Item = &'t Type>) -> Vec<&'t Type> {
    let mut seen: Vec<(String, &Type)> = Vec::new();
    for t in types {
        let key = quote!(#t).to_string();
        if !seen.iter().any(|(k, _)| *k == key) {
            seen.push((key, t));
        }
    }
    seen.into_iter().map(|(_, t)| t).collect()
}

/// One parameter: its kind and its type as written (for spans).
pub(crate) struct Param {
    pub(crate) kind: Kind,
    pub(crate) ty: Type,
}

impl Param {
    /// Classifies a parameter of type `ty`; an unsupported type is an error on it.
    pub(crate) fn classify(ty: &Type) -> syn::Result<Self> {
        let kind = kind_of(ty).ok_or_else(|| syn::Error::new_spanned(ty, UNSUPPORTED))?;
        Ok(Self {
            kind,
            ty: ty.clone(),
        })
    }
}

fn kind_of(ty: &Type) -> Option<Kind> {
    match strip(ty) {
        Type::Reference(r) if r.mutability.is_none() => {
            let elem = strip(&r.elem);
            match last_segment(elem) {
                Some(("EventContext", PathArguments::None)) => Some(Kind::ContextRef),
                Some(("Connection", PathArguments::None)) => Some(Kind::ConnectionRef),
                _ if is_framework_type(elem) => None,
                _ => Some(Kind::User(elem.clone())),
            }
        }
        ty @ (Type::Path(_) | Type::Tuple(_)) => match last_segment(ty) {
            Some(("EventContext", PathArguments::None)) => Some(Kind::Context),
            Some(("Connection", PathArguments::None)) => Some(Kind::Connection),
            Some(("Packet", args)) => Some(Kind::Packet(single_type_arg(args)?.clone())),
            Some(("State", args)) => Some(Kind::State(single_type_arg(args)?.clone())),
            Some(("Option", args)) => match strip(single_type_arg(args)?) {
                Type::Reference(r) if r.mutability.is_none() && !is_framework_type(&r.elem) => {
                    Some(Kind::OptionalUser(strip(&r.elem).clone()))
                }
                Type::Reference(_) => None,
                _ => Some(Kind::Extract),
            },
            Some(_) => None,
            None => Some(Kind::Extract),
        },
        _ => None,
    }
}

/// `ty` without invisible groups and parentheses.
fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => strip(&g.elem),
        Type::Paren(p) => strip(&p.elem),
        ty => ty,
    }
}

/// The names the classification looks for.
const KNOWN: [&str; 5] = ["EventContext", "Connection", "Packet", "State", "Option"];

/// The last segment of a plain path type (no `<T as Trait>::` qualifier) when it is
/// one of the [`KNOWN`] names, with its generic arguments.
fn last_segment(ty: &Type) -> Option<(&'static str, &PathArguments)> {
    let Type::Path(TypePath { qself: None, path }) = strip(ty) else {
        return None;
    };
    let segment = path.segments.last()?;
    let name = KNOWN.into_iter().find(|name| segment.ident == name)?;
    Some((name, &segment.arguments))
}

/// Whether `ty` names a framework type, which is never a user type.
fn is_framework_type(ty: &Type) -> bool {
    matches!(
        last_segment(ty),
        Some(("EventContext" | "Connection" | "Packet" | "State", _))
    )
}

fn single_type_arg(args: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = args else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next(), args.args.len()) {
        (Some(ty), None, 1) => Some(ty),
        _ => None,
    }
}

/// The `let __aN = …;` statements that extract `params` from `__inv`, and the
/// arguments to pass, in parameter order.
pub(crate) fn extract(params: &[Param]) -> (TokenStream, Vec<syn::Ident>) {
    let inv = quote!(__inv);
    let mut statements = TokenStream::new();
    if params.iter().any(|p| matches!(p.kind, Kind::ContextRef)) {
        statements.extend(quote!(let __ctx = #inv.context();));
    }
    let args: Vec<syn::Ident> = (0..params.len())
        .map(|i| quote::format_ident!("__a{i}"))
        .collect();
    let mut order: Vec<usize> = (0..params.len()).collect();
    order.sort_by_key(|&i| params[i].kind.order());
    for i in order {
        let arg = &args[i];
        let value = value(&params[i], &inv);
        statements.extend(quote!(let #arg = #value;));
    }
    (statements, args)
}

/// The expression supplying `param`, spanned at its type so type errors point there.
fn value(param: &Param, inv: &TokenStream) -> TokenStream {
    let span = |ty: &Type| -> Span { ty.span() };
    match &param.kind {
        Kind::Context => quote_spanned!(span(&param.ty)=> #inv.context()),
        Kind::ContextRef => quote_spanned!(span(&param.ty)=> &__ctx),
        Kind::Connection => {
            quote_spanned!(span(&param.ty)=> ::std::clone::Clone::clone(#inv.connection()))
        }
        Kind::ConnectionRef => quote_spanned!(span(&param.ty)=> #inv.connection()),
        Kind::Packet(t) => quote_spanned!(span(t)=> #inv.packet::<#t>()?),
        Kind::User(t) => quote_spanned!(span(t)=> #inv.require_user::<#t>()?),
        Kind::OptionalUser(t) => quote_spanned!(span(t)=> #inv.user::<#t>()),
        Kind::State(t) => quote_spanned!(span(t)=> #inv.state::<#t>()?),
        Kind::Extract => {
            let ty = &param.ty;
            quote_spanned!(span(ty)=>
                <#ty as ::switchboard::__private::FromInvocation>::from_invocation(&#inv)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    /// The kind as text, e.g. "`Packet<T>` Vec < u8 >".
    fn kind(ty: Type) -> Option<String> {
        let param = Param::classify(&ty).ok()?;
        let inner = match &param.kind {
            Kind::Packet(t) | Kind::User(t) | Kind::OptionalUser(t) => {
                format!(" {}", t.to_token_stream())
            }
            _ => String::new(),
        };
        Some(format!("{}{inner}", param.kind.describe()))
    }

    fn text(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn framework_types() {
        assert_eq!(kind(parse_quote!(EventContext)), text("`EventContext`"));
        assert_eq!(
            kind(parse_quote!(&switchboard::EventContext)),
            text("`&EventContext`")
        );
        assert_eq!(kind(parse_quote!(Connection)), text("`Connection`"));
        assert_eq!(kind(parse_quote!(&'a Connection)), text("`&Connection`"));
        assert_eq!(
            kind(parse_quote!(Packet<Vec<u8>>)),
            text("`Packet<T>` Vec < u8 >")
        );
        assert_eq!(
            kind(parse_quote!(::switchboard::Packet<serde_json::Value>)),
            text("`Packet<T>` serde_json :: Value")
        );
    }

    #[test]
    fn users() {
        assert_eq!(kind(parse_quote!(&AppUser)), text("`&YourUser` AppUser"));
        assert_eq!(
            kind(parse_quote!(&'a crate::AppUser)),
            text("`&YourUser` crate :: AppUser")
        );
        assert_eq!(
            kind(parse_quote!(Option<&AppUser>)),
            text("`Option<&YourUser>` AppUser")
        );
        assert_eq!(
            kind(parse_quote!(std::option::Option<&(AppUser)>)),
            text("`Option<&YourUser>` AppUser")
        );
    }

    #[test]
    fn state_and_extracted_types() {
        assert_eq!(kind(parse_quote!(State<Pool>)), text("`State<T>`"));
        for ty in [
            parse_quote!(String),
            parse_quote!(Option<AppUser>),
            parse_quote!(<T as Tr>::Packet<u8>),
            parse_quote!((u8, u8)),
            parse_quote!(crate::Claims),
        ] {
            let ty: Type = ty;
            assert_eq!(
                kind(ty.clone()),
                text("an extracted type"),
                "{}",
                ty.to_token_stream()
            );
        }
    }

    #[test]
    fn unsupported() {
        for ty in [
            parse_quote!(&mut AppUser),
            parse_quote!(Option<&mut AppUser>),
            parse_quote!(Option<&Connection>),
            parse_quote!(&Packet<String>),
            parse_quote!(Packet),
            parse_quote!(Packet<A, B>),
            parse_quote!(Packet<'a>),
            parse_quote!(State<A, B>),
            parse_quote!(&State<Pool>),
            parse_quote!(impl Fn()),
        ] {
            let ty: Type = ty;
            let result = Param::classify(&ty)
                .map(|p| p.kind.describe())
                .map_err(|e| e.to_string());
            assert_eq!(
                result,
                Err(UNSUPPORTED.to_owned()),
                "{}",
                ty.to_token_stream()
            );
        }
    }

    #[test]
    fn extraction_order_and_bindings() {
        let params: Vec<Param> = [
            parse_quote!(Packet<Msg>),
            parse_quote!(&EventContext),
            parse_quote!(&AppUser),
        ]
        .iter()
        .map(|ty: &Type| Param::classify(ty).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()
        .expect("supported");
        let (statements, args) = extract(&params);
        assert_eq!(args.len(), 3);
        let text = statements.to_string();
        let ctx = text.find("let __ctx").expect("context bound");
        let user = text.find("let __a2").expect("user");
        let packet = text.find("let __a0").expect("packet");
        let ctx_ref = text.find("let __a1").expect("context ref");
        assert!(ctx < ctx_ref && ctx_ref < user && user < packet, "{text}");
        assert!(text.contains("require_user :: < AppUser >"), "{text}");
        assert!(text.contains("packet :: < Msg >"), "{text}");
    }
}
