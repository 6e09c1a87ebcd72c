//! `#[channel("room.{id}", history(size = 100, ttl = "10m"), presence, emits(message = Posted))]`:
//! the pattern, then options in any order, each at most once.

use syn::parse::ParseStream;
use syn::{Attribute, Ident, LitStr, Token};

use crate::emits::{self, Emitted};
use crate::history::{self, History};
use crate::presence::{self, Presence};

const EXAMPLE: &str = "#[channel(\"room.{id}\", history(size = 100, ttl = \"10m\"))]";

/// What `#[channel(...)]` says.
pub(crate) struct ChannelArgs {
    pub(crate) pattern: LitStr,
    /// `history(...)`: the channel is a stream.
    pub(crate) history: Option<History>,
    /// `emits(...)`: what the server sends on the channel (`None`: not declared).
    pub(crate) emits: Option<Vec<Emitted>>,
    /// `presence` or `presence(counts)`: the channel keeps who is on it.
    pub(crate) presence: Option<Presence>,
}

/// Reads `#[channel(...)]`.
pub(crate) fn parse(attr: &Attribute) -> syn::Result<ChannelArgs> {
    let expected = format!(
        "expected a string literal, as in `#[channel(\"user:chat.{{id}}\")]` or `{EXAMPLE}`"
    );
    crate::attr::leading_string(attr, &expected, |pattern, input| {
        let mut args = ChannelArgs {
            pattern,
            history: None,
            emits: None,
            presence: None,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break; // a trailing comma
            }
            option(&mut args, input)?;
        }
        Ok(args)
    })
}

/// One option: `history`, `history(...)`, `presence`, `presence(counts)` or `emits(...)`.
fn option(args: &mut ChannelArgs, input: ParseStream<'_>) -> syn::Result<()> {
    let word: Ident = input.parse()?;
    let duplicate = || {
        syn::Error::new(
            word.span(),
            format!("`{word}` is given twice; give it once"),
        )
    };
    if word == "history" {
        if args.history.is_some() {
            return Err(duplicate());
        }
        args.history = Some(if input.peek(syn::token::Paren) {
            let inner;
            syn::parenthesized!(inner in input);
            history::options(&inner)?
        } else {
            History::default()
        });
    } else if word == "presence" {
        if args.presence.is_some() {
            return Err(duplicate());
        }
        args.presence = Some(presence::presence_option(input)?);
    } else if word == "emits" {
        if args.emits.is_some() {
            return Err(duplicate());
        }
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                word.span(),
                "`emits` lists events and their payload types, as in \
                 `emits(message = Posted, \"user-joined\" = Joined)`",
            ));
        }
        let inner;
        syn::parenthesized!(inner in input);
        args.emits = Some(emits::parse(&inner)?);
    } else {
        return Err(syn::Error::new(
            word.span(),
            format!(
                "unknown channel option `{word}`; the options are `history`, as in `{EXAMPLE}`, \
                 `presence` or `presence(counts)`, and `emits`, as in `emits(message = Posted)`"
            ),
        ));
    }
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error(format!("expected `,` after `{word}(...)`")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// The pattern, the history and the emitted event names.
    type Read = (String, Option<History>, Option<Vec<String>>);

    fn args(attr: Attribute) -> Result<Read, String> {
        parse(&attr)
            .map(|a| {
                let emits = a.emits.map(|all| all.into_iter().map(|e| e.name).collect());
                (a.pattern.value(), a.history, emits)
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_pattern_alone_or_with_options_in_any_order() {
        assert_eq!(
            args(parse_quote!(#[channel("a.*")])),
            Ok(("a.*".into(), None, None))
        );
        assert_eq!(
            args(parse_quote!(#[channel("a.*", history)])),
            Ok(("a.*".into(), Some(History::default()), None))
        );
        let five = Some(History {
            size: 5,
            ttl_secs: 7200,
        });
        assert_eq!(
            args(parse_quote!(#[channel("a.*", history(ttl = "2h", size = 5))])),
            Ok(("a.*".into(), five, None))
        );
        assert_eq!(
            args(
                parse_quote!(#[channel("a.*", emits(x = X, "y-z" = Y), history(ttl = "2h", size = 5),)])
            ),
            Ok(("a.*".into(), five, Some(vec!["x".into(), "y-z".into()])))
        );
        assert_eq!(
            args(parse_quote!(#[channel("a.*", emits())])),
            Ok(("a.*".into(), None, Some(vec![])))
        );
    }

    #[test]
    fn reads_presence_members_or_counts() {
        let presence = |attr| parse(&attr).map(|a| a.presence).map_err(|e| e.to_string());
        assert_eq!(presence(parse_quote!(#[channel("a.*")])), Ok(None));
        assert_eq!(
            presence(parse_quote!(#[channel("a.*", presence, history)])),
            Ok(Some(Presence::Members))
        );
        assert_eq!(
            presence(parse_quote!(#[channel("a.*", history, presence(counts))])),
            Ok(Some(Presence::Counts))
        );
    }

    #[test]
    fn refuses_unknown_repeated_or_malformed_options() {
        let error = |attr| args(attr).expect_err("refused");
        assert!(
            error(parse_quote!(#[channel("a.*", members)]))
                .starts_with("unknown channel option `members`")
        );
        assert!(error(parse_quote!(#[channel("a.*", presence(names))])).contains("presence mode"));
        assert!(
            error(parse_quote!(#[channel("a.*", presence(counts, x))])).contains("nothing more")
        );
        assert!(error(parse_quote!(#[channel("a.*", presence, presence)])).contains("given twice"));
        assert!(
            error(parse_quote!(#[channel("a.*", history(depth = 3))]))
                .starts_with("unknown history option")
        );
        assert!(error(parse_quote!(#[channel("a.*", history, history)])).contains("given twice"));
        assert!(
            error(parse_quote!(#[channel("a.*", emits(a = A), emits(b = B))]))
                .contains("given twice")
        );
        assert!(error(parse_quote!(#[channel("a.*", emits)])).starts_with("`emits` lists events"));
        assert!(
            error(parse_quote!(#[channel("a.*", emits(a))])).contains("expected `= PayloadType`")
        );
        assert!(error(parse_quote!(#[channel("a.*" history)])).starts_with("expected `,`"));
    }
}
