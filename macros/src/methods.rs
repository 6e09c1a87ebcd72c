//! Hook and event methods as the generated code calls them: a `&self` receiver, then
//! parameters the framework supplies.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericParam, Ident, Receiver, ReturnType, Signature, Type};

use crate::errors::Errors;
use crate::params::{self, Param};

/// What the method's return value is converted into.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Returns {
    /// The ack's data or the refusal (`IntoEventResult`).
    Event,
    /// A subscription verdict (`IntoAuthorisation`).
    Authorisation,
}

/// A method the generated code calls.
pub(crate) struct Method {
    pub(crate) ident: Ident,
    pub(crate) params: Vec<Param>,
    /// The type of the ack's data, when the return type says: `()` for none, `T` of
    /// `Result<T, E>`.
    pub(crate) ack: Option<Type>,
    /// Where a return type that does not convert is reported.
    output_span: Span,
}

impl Method {
    /// Reads `sig`, or records why it cannot be called; `receiver_error` is the
    /// message for a receiver other than `&self`.
    pub(crate) fn read(sig: &Signature, receiver_error: &str, errors: &mut Errors) -> Option<Self> {
        let before = errors.count();
        match sig.receiver() {
            Some(receiver) if is_shared_self(receiver) => {}
            Some(receiver) => errors.at(receiver, receiver_error),
            None => errors.at(&sig.ident, receiver_error),
        }
        if let Some(unsafety) = &sig.unsafety {
            errors.at(unsafety, "listener methods cannot be `unsafe`");
        }
        let generic = sig
            .generics
            .params
            .iter()
            .find(|p| !matches!(p, GenericParam::Lifetime(_)));
        if let Some(generic) = generic {
            errors.at(
                generic,
                "listener methods cannot have generic type parameters: \
                 the framework supplies every argument",
            );
        }
        let params: Vec<Param> = sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Typed(typed) => errors.take(Param::classify(&typed.ty)),
                FnArg::Receiver(_) => None,
            })
            .collect();
        let output_span = match &sig.output {
            ReturnType::Default => sig.ident.span(),
            ReturnType::Type(_, ty) => ty.span(),
        };
        (errors.count() == before).then(|| Self {
            ident: sig.ident.clone(),
            params,
            ack: ack_type(&sig.output),
            output_span,
        })
    }

    /// The payload type of its `Packet<T>` parameter, if it has one and it can be
    /// named outside the impl block (see [`nameable`]).
    pub(crate) fn payload(&self) -> Option<&Type> {
        self.params
            .iter()
            .find_map(|param| match &param.kind {
                params::Kind::Packet(t) => Some(t),
                _ => None,
            })
            .filter(|t| nameable(t))
    }

    /// The boxed `async move` block that reads the parameters from `invocation`,
    /// calls the method on `self: Arc<Self>` and converts what it returns.
    pub(crate) fn call(&self, returns: Returns) -> TokenStream {
        let (statements, args) = params::extract(&self.params);
        let ident = &self.ident;
        let convert = match returns {
            Returns::Event => quote_spanned!(self.output_span=>
                ::switchboard::__private::IntoEventResult::into_event_result
            ),
            Returns::Authorisation => quote_spanned!(self.output_span=>
                ::switchboard::__private::IntoAuthorisation::into_authorisation
            ),
        };
        // UFCS: `self.name(..)` on an `Arc<Self>` could pick a trait method instead.
        // Spanned at the return type, so a type that does not convert is reported there.
        let this = quote!(self);
        let call = quote_spanned!(self.output_span=>
            #convert(Self::#ident(&*#this #(, #args)*).await)
        );
        quote! {
            ::std::boxed::Box::pin(async move {
                let __inv = invocation;
                #statements
                #call
            })
        }
    }
}

/// What an event returning `output` acks with, read from the syntax as
/// `IntoEventResult` converts it: `()` (data `null`) or the `T` of a `Result<T, E>`;
/// `None` for a type the syntax does not tell (an alias).
fn ack_type(output: &ReturnType) -> Option<Type> {
    let ty = match output {
        ReturnType::Default => return Some(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => &**ty,
    };
    if !nameable(ty) {
        return None;
    }
    match ty {
        Type::Tuple(tuple) if tuple.elems.is_empty() => Some(ty.clone()),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            if last.ident != "Result" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
        }
        _ => None,
    }
}

/// Whether `ty` means the same outside the impl block, where the TypeScript
/// registration names it: not with `Self`, `impl Trait` or `_` in it.
fn nameable(ty: &Type) -> bool {
    fn clean(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().all(|token| match token {
            proc_macro2::TokenTree::Ident(ident) => {
                !matches!(ident.to_string().as_str(), "Self" | "impl" | "_")
            }
            proc_macro2::TokenTree::Group(group) => clean(group.stream()),
            proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => true,
        })
    }
    clean(quote!(#ty))
}

/// `&self`, `&'a self` or `self: &Self`.
fn is_shared_self(receiver: &Receiver) -> bool {
    match &*receiver.ty {
        Type::Reference(r) if r.mutability.is_none() => {
            matches!(&*r.elem, Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse_quote;

    fn ack(output: ReturnType) -> Option<String> {
        ack_type(&output).map(|t| t.to_token_stream().to_string())
    }

    #[test]
    fn the_ack_type_is_read_from_the_return_type() {
        assert_eq!(ack(parse_quote!()), Some("()".into()));
        assert_eq!(ack(parse_quote!(-> ())), Some("()".into()));
        assert_eq!(
            ack(parse_quote!(-> Result<Receipt, SocketError>)),
            Some("Receipt".into())
        );
        assert_eq!(
            ack(parse_quote!(-> std::result::Result<Vec<u8>, E>)),
            Some("Vec < u8 >".into())
        );
        // Only the syntax is read: an alias, `Self` or `impl Trait` say nothing.
        assert_eq!(ack(parse_quote!(-> EventResult)), None);
        assert_eq!(ack(parse_quote!(-> Result<Self, E>)), None);
        assert_eq!(ack(parse_quote!(-> Result<impl Serialize, E>)), None);
        assert_eq!(ack(parse_quote!(-> Result<Vec<_>, E>)), None);
    }
}
