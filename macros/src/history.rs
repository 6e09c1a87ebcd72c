//! `history(size = 100, ttl = "10m")` in `#[channel(...)]`: what the channel keeps
//! when it is a stream.

use syn::parse::ParseStream;
use syn::{Ident, LitInt, LitStr, Token};

/// Publications kept when `history` names no `size`.
const DEFAULT_SIZE: usize = 100;
/// Seconds kept when `history` names no `ttl` (10 minutes).
const DEFAULT_TTL_SECS: u64 = 600;

/// What a stream keeps: publications and seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct History {
    pub(crate) size: usize,
    pub(crate) ttl_secs: u64,
}

impl Default for History {
    fn default() -> Self {
        Self {
            size: DEFAULT_SIZE,
            ttl_secs: DEFAULT_TTL_SECS,
        }
    }
}

/// The inside of `history(...)`: `size = N, ttl = "10m"`, in any order, each optional.
pub(crate) fn options(input: ParseStream<'_>) -> syn::Result<History> {
    let mut history = History::default();
    while !input.is_empty() {
        let key: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        match key.to_string().as_str() {
            "size" => {
                let size: LitInt = input.parse()?;
                history.size = size.base10_parse()?;
                if history.size == 0 {
                    return Err(syn::Error::new(size.span(), "`size` must be at least 1"));
                }
            }
            "ttl" => {
                let ttl: LitStr = input.parse()?;
                history.ttl_secs = duration_secs(&ttl.value()).ok_or_else(|| {
                    syn::Error::new(
                        ttl.span(),
                        "`ttl` is a duration such as \"90s\", \"10m\", \"2h\" or \"1d\" (at least 1s)",
                    )
                })?;
            }
            other => {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown history option `{other}`; the options are `size` and `ttl`"),
                ));
            }
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(history)
}

/// `"90s"`, `"10m"`, `"2h"`, `"1d"` in seconds; at least one second.
fn duration_secs(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(scale).filter(|secs| *secs > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;
    use syn::parse::Parser;

    fn history(tokens: TokenStream) -> Result<History, String> {
        options.parse2(tokens).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_size_and_ttl_in_any_order() {
        assert_eq!(history(quote!()), Ok(History::default()));
        assert_eq!(
            history(quote!(ttl = "2h", size = 5)),
            Ok(History {
                size: 5,
                ttl_secs: 7200
            })
        );
    }

    #[test]
    fn refuses_unknown_options_and_bad_values() {
        assert!(history(quote!(depth = 3)).is_err());
        assert!(history(quote!(size = 0)).is_err());
        assert!(history(quote!(ttl = "10 minutes")).is_err());
        assert!(history(quote!(ttl = "0s")).is_err());
    }

    #[test]
    fn durations_have_a_unit() {
        assert_eq!(duration_secs("90s"), Some(90));
        assert_eq!(duration_secs("10m"), Some(600));
        assert_eq!(duration_secs("1d"), Some(86400));
        assert_eq!(duration_secs("10"), None);
        assert_eq!(duration_secs("m"), None);
    }
}
