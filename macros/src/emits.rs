//! `emits(message = Posted, "typing" = Typing | Idle)` in `#[channel(...)]`: the
//! events the server sends on the listener's channels and their payload types, for
//! the TypeScript declarations (`switchboard::typescript`). Nothing at run time
//! depends on it.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Ident, LitStr, Token, Type};

use crate::names;

const EXAMPLE: &str = "emits(message = Posted, \"user-joined\" = Joined)";

/// One event the channel's server side sends, and its payload types (a union).
pub(crate) struct Emitted {
    pub(crate) name: String,
    pub(crate) payloads: Vec<Type>,
}

/// The inside of `emits(...)`: `event = Type`, comma separated; an event is an
/// identifier or a string (for names such as `user-joined`), a type may be a union
/// `A | B`.
pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<Vec<Emitted>> {
    let mut emitted: Vec<Emitted> = Vec::new();
    while !input.is_empty() {
        let (name, span) = event_name(input)?;
        if let Some(problem) = names::event_name_problem(&name) {
            return Err(syn::Error::new(span, problem));
        }
        if emitted.iter().any(|e| e.name == name) {
            return Err(syn::Error::new(
                span,
                format!(
                    "`{name}` is already in `emits(...)`: give its types once, as `{name} = A | B`"
                ),
            ));
        }
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                span,
                format!("expected `= PayloadType` after `{name}`, as in `{EXAMPLE}`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let mut payloads = vec![payload_type(input, &name)?];
        while input.peek(Token![|]) {
            input.parse::<Token![|]>()?;
            payloads.push(payload_type(input, &name)?);
        }
        emitted.push(Emitted { name, payloads });
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(emitted)
}

fn event_name(input: ParseStream<'_>) -> syn::Result<(String, Span)> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Ok((lit.value(), lit.span()));
    }
    if input.peek(Ident::peek_any) {
        let ident = input.call(Ident::parse_any)?;
        return Ok((ident.unraw().to_string(), ident.span()));
    }
    Err(input.error(format!(
        "expected an event name (an identifier or a string), as in `{EXAMPLE}`"
    )))
}

fn payload_type(input: ParseStream<'_>, name: &str) -> syn::Result<Type> {
    if input.is_empty() || input.peek(Token![,]) || input.peek(Token![|]) {
        return Err(input.error(format!(
            "expected the payload type of `{name}`, as in `{EXAMPLE}`"
        )));
    }
    input.parse()
}

/// The call registering `listener`'s declared events with `switchboard::typescript`
/// (`undeclared` when `#[channel]` has no `emits`).
pub(crate) fn registration(listener: &Ident, emitted: Option<&[Emitted]>) -> TokenStream {
    let events = match emitted {
        None => quote!(undeclared),
        Some(emitted) => {
            let events = emitted
                .iter()
                .map(|Emitted { name, payloads }| quote!(#name => [#(#payloads),*]));
            quote!(#(#events),*)
        }
    };
    quote! {
        ::switchboard::__private::typescript_channel! { #listener; #events }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;
    use syn::parse::Parser;

    fn emits(tokens: TokenStream) -> Result<Vec<(String, Vec<String>)>, String> {
        parse
            .parse2(tokens)
            .map(|all| {
                all.into_iter()
                    .map(|e| {
                        let types = e
                            .payloads
                            .iter()
                            .map(|t| t.to_token_stream().to_string())
                            .collect();
                        (e.name, types)
                    })
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn events_are_identifiers_or_strings_with_one_type_or_a_union() {
        assert_eq!(
            emits(quote!(message = Posted, "user-joined" = a::Joined | Left<'static>,)),
            Ok(vec![
                ("message".into(), vec!["Posted".into()]),
                (
                    "user-joined".into(),
                    vec!["a :: Joined".into(), "Left < 'static >".into()]
                ),
            ])
        );
        assert_eq!(
            emits(quote!(r#type = T)),
            Ok(vec![("type".into(), vec!["T".into()])])
        );
        assert_eq!(emits(quote!()), Ok(vec![]));
    }

    #[test]
    fn mistakes_name_what_is_missing() {
        let error = |tokens| emits(tokens).expect_err("refused");
        assert!(error(quote!(message)).contains("expected `= PayloadType` after `message`"));
        assert!(error(quote!(message = )).contains("expected the payload type of `message`"));
        assert!(error(quote!(message = A |)).contains("expected the payload type of `message`"));
        assert!(error(quote!(42 = A)).contains("expected an event name"));
        assert!(error(quote!(ready = A)).contains("reserved"));
        assert!(error(quote!(a = A, a = B)).starts_with("`a` is already in `emits(...)`"));
    }
}
