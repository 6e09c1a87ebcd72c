//! `#[channel("room.{id}", history(size = 100, ttl = "10m"), presence)]`: the pattern,
//! then options in any order, each at most once.

use syn::{Attribute, Ident, LitStr, Token};

use crate::history::{self, History};
use crate::presence::{self, Presence};

const EXAMPLE: &str = "#[channel(\"room.{id}\", history(size = 100, ttl = \"10m\"), presence)]";

/// What `#[channel(...)]` says.
pub(crate) struct ChannelArgs {
    pub(crate) pattern: LitStr,
    pub(crate) history: Option<History>,
    pub(crate) presence: Option<Presence>,
}

/// Reads `#[channel(...)]`.
pub(crate) fn channel_args(attr: &Attribute) -> syn::Result<ChannelArgs> {
    let expected = format!(
        "expected a string literal, as in `#[channel(\"user:chat.{{id}}\")]` or `{EXAMPLE}`"
    );
    crate::attr::leading_string(attr, &expected, |pattern, input| {
        let mut args = ChannelArgs {
            pattern,
            history: None,
            presence: None,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break; // a trailing comma
            }
            let word: Ident = input.parse()?;
            let twice = || {
                syn::Error::new(
                    word.span(),
                    format!("`{word}` is given twice; keep one"),
                )
            };
            if word == "history" {
                if args.history.is_some() {
                    return Err(twice());
                }
                args.history = Some(if input.peek(syn::token::Paren) {
                    let inner;
                    syn::parenthesized!(inner in input);
                    history::history_options(&inner)?
                } else {
                    History::default()
                });
            } else if word == "presence" {
                if args.presence.is_some() {
                    return Err(twice());
                }
                args.presence = Some(presence::presence_option(input)?);
            } else {
                return Err(syn::Error::new(
                    word.span(),
                    format!(
                        "unknown channel option `{word}`; the options are `history` and \
                         `presence`, as in `{EXAMPLE}`"
                    ),
                ));
            }
            if !input.is_empty() && !input.peek(Token![,]) {
                return Err(input.error(format!("unexpected tokens after `{word}`; {expected}")));
            }
        }
        Ok(args)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    type Read = (String, Option<History>, Option<Presence>);

    fn args(attr: Attribute) -> Result<Read, String> {
        channel_args(&attr)
            .map(|a| (a.pattern.value(), a.history, a.presence))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_pattern_alone_or_with_options_in_any_order() {
        assert_eq!(
            args(parse_quote!(#[channel("a.*")])),
            Ok(("a.*".into(), None, None))
        );
        let defaults = Some(History {
            size: 100,
            ttl_secs: 600,
        });
        assert_eq!(
            args(parse_quote!(#[channel("a.*", history)])),
            Ok(("a.*".into(), defaults, None))
        );
        assert_eq!(
            args(parse_quote!(#[channel("a.*", history(ttl = "2h", size = 5))])),
            Ok((
                "a.*".into(),
                Some(History {
                    size: 5,
                    ttl_secs: 7200
                }),
                None
            ))
        );
        assert_eq!(
            args(parse_quote!(#[channel("a.*", presence)])),
            Ok(("a.*".into(), None, Some(Presence::Members)))
        );
        assert_eq!(
            args(parse_quote!(#[channel("a.*", presence(counts), history)])),
            Ok(("a.*".into(), defaults, Some(Presence::Counts)))
        );
    }

    #[test]
    fn refuses_unknown_options_repeats_and_bad_values() {
        for refused in [
            parse_quote!(#[channel("a.*", members)]),
            parse_quote!(#[channel("a.*", presence(names))]),
            parse_quote!(#[channel("a.*", presence(counts, names))]),
            parse_quote!(#[channel("a.*", presence, presence)]),
            parse_quote!(#[channel("a.*", presence = true)]),
            parse_quote!(#[channel("a.*", history(depth = 3))]),
            parse_quote!(#[channel("a.*", history(size = 0))]),
            parse_quote!(#[channel("a.*", history(ttl = "10 minutes"))]),
            parse_quote!(#[channel("a.*", history(ttl = "0s"))]),
        ] {
            assert!(args(refused).is_err());
        }
    }
}
