//! Collecting mistakes so one expansion reports everything it can find at once.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// Mistakes found so far, combined into one `syn::Error` (like serde's `Ctxt`).
#[derive(Debug, Default)]
pub(crate) struct Errors {
    all: Option<syn::Error>,
    count: usize,
}

impl Errors {
    /// Records `error`.
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.all {
            Some(all) => all.combine(error),
            None => self.all = Some(error),
        }
    }

    /// Records `message` pointing at `tokens`.
    pub(crate) fn at(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// The value of `result`, or `None` once its error is recorded.
    pub(crate) fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// How many mistakes were recorded; compare two counts to see whether a step
    /// found any.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// `expansion` when nothing went wrong; otherwise `fallback` (the original item and
    /// stand-in impls, so IDEs and the rest of the crate keep working) and the errors.
    pub(crate) fn emit(self, expansion: TokenStream, fallback: TokenStream) -> TokenStream {
        match self.all {
            None => expansion,
            Some(error) => {
                let error = error.into_compile_error();
                quote! { #fallback #error }
            }
        }
    }
}
