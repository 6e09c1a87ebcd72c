//! The items the macros go on: listener structs and inherent impl blocks.

use proc_macro2::{Span, TokenStream};
use syn::{Data, DeriveInput, Generics, Item, ItemImpl};

use crate::errors::Errors;

/// Checks that a derive's input is a struct without generics (`what`: "channel
/// listeners"); true when it is, so a stand-in impl can be emitted on other errors.
pub(crate) fn check_struct(
    input: &DeriveInput,
    derive: &str,
    what: &str,
    errors: &mut Errors,
) -> bool {
    let keyword = match &input.data {
        Data::Struct(_) => None,
        Data::Enum(data) => Some(quote::ToTokens::to_token_stream(&data.enum_token)),
        Data::Union(data) => Some(quote::ToTokens::to_token_stream(&data.union_token)),
    };
    if let Some(keyword) = &keyword {
        errors.at(
            keyword,
            format_args!("`{derive}` can only be derived for a struct"),
        );
    }
    check_generics(&input.generics, what, errors) && keyword.is_none()
}

/// The impl block `#[attr]` is on; any other item is an error at the attribute.
pub(crate) fn parse_impl(item: TokenStream, attr: &str) -> syn::Result<ItemImpl> {
    match syn::parse2(item)? {
        Item::Impl(block) => Ok(block),
        _ => Err(syn::Error::new(
            Span::call_site(),
            format!("#[{attr}] goes on an inherent impl block"),
        )),
    }
}

/// Checks that `#[attr]` is on a non-generic inherent impl block; true when it is not
/// generic, so a stand-in impl for its type can be emitted on errors.
pub(crate) fn check_impl(block: &ItemImpl, attr: &str, what: &str, errors: &mut Errors) -> bool {
    if let Some((_, path, _)) = &block.trait_ {
        errors.at(
            path,
            format_args!("#[{attr}] goes on an inherent impl block"),
        );
    }
    check_generics(&block.generics, what, errors)
}

fn check_generics(generics: &Generics, what: &str, errors: &mut Errors) -> bool {
    if generics.params.is_empty() && generics.where_clause.is_none() {
        return true;
    }
    let message = format!("{what} cannot have generic parameters");
    match &generics.where_clause {
        Some(where_clause) if generics.params.is_empty() => errors.at(where_clause, message),
        _ => errors.at(generics, message),
    }
    false
}
