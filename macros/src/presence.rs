//! `presence` or `presence(counts)` inside `#[channel(...)]`: the channel keeps who is
//! on it, as members or as counts only.

use syn::Ident;
use syn::parse::ParseStream;

/// What a channel's presence keeps (`switchboard::PresenceMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Members,
    Counts,
}

/// After the word `presence`: nothing (members), or `(counts)`.
pub(crate) fn presence_option(input: ParseStream<'_>) -> syn::Result<Presence> {
    if !input.peek(syn::token::Paren) {
        return Ok(Presence::Members);
    }
    let inner;
    syn::parenthesized!(inner in input);
    let word: Ident = inner.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected `counts`, as in `presence(counts)`; write `presence` alone for members",
        )
    })?;
    if word != "counts" {
        return Err(syn::Error::new(
            word.span(),
            format!(
                "unknown presence mode `{word}`; write `presence` for members (with joins and \
                 leaves) or `presence(counts)` for counts only"
            ),
        ));
    }
    if !inner.is_empty() {
        return Err(inner.error("`presence(counts)` takes nothing more"));
    }
    Ok(Presence::Counts)
}
