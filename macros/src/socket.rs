//! `#[derive(SocketListener)]` and `#[socket_handler]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{DeriveInput, Ident, ImplItem, ItemImpl, LitStr, Type};

use crate::errors::Errors;
use crate::methods::{Method, Returns};
use crate::{attr, item, names};

const WHAT: &str = "socket listeners";

/// `#[derive(SocketListener)]`: the event and the `inventory` registration.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ident = &input.ident;
    let shape_ok = item::check_struct(input, "SocketListener", WHAT, &mut errors);
    let event = match attr::single(&input.attrs, "event", &mut errors) {
        None => {
            errors.push(syn::Error::new(
                ident.span(),
                "missing `#[event(\"name\")]`: add one below the derive, e.g. `#[event(\"echo\")]`",
            ));
            None
        }
        Some(event) => errors.take(
            attr::string_arg(event, "#[event(\"echo\")]")
                .and_then(|lit| names::check_event_literal(&lit).map(|()| lit)),
        ),
    };
    let expansion = event.map_or_else(TokenStream::new, |event| {
        let listener = impl_listener(ident, &event);
        quote! {
            #listener
            ::switchboard::__private::inventory::submit! {
                ::switchboard::__private::SocketRegistration::of::<#ident>()
            }
        }
    });
    // A stand-in impl keeps `#[socket_handler]` on the same type from failing too.
    let fallback = if shape_ok {
        impl_listener(ident, &LitStr::new("", ident.span()))
    } else {
        TokenStream::new()
    };
    errors.emit(expansion, fallback)
}

fn impl_listener(ident: &Ident, event: &LitStr) -> TokenStream {
    let name = ident.unraw().to_string();
    quote! {
        impl ::switchboard::__private::SocketListener for #ident {
            const EVENT: &'static str = #event;
            const NAME: &'static str = #name;
        }
    }
}

/// `#[socket_handler]`: the impl block as written, plus `SocketHandler` calling its
/// `async fn handle`.
pub(crate) fn handler(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.at(&args, "#[socket_handler] takes no arguments");
    }
    let block = match item::parse_impl(item.clone(), "socket_handler") {
        Ok(block) => block,
        Err(e) => {
            errors.push(e);
            return errors.emit(TokenStream::new(), item);
        }
    };
    let block_ok = item::check_impl(&block, "socket_handler", WHAT, &mut errors);
    let expansion =
        read_handle(&block, &mut errors).map(|handle| impl_handler(&block.self_ty, Some(&handle)));
    // A stand-in impl keeps the derive's registration from failing too.
    let fallback = block_ok.then(|| impl_handler(&block.self_ty, None));
    errors.emit(quote! { #block #expansion }, quote! { #block #fallback })
}

/// The block's one `async fn handle(&self, …)`.
fn read_handle(block: &ItemImpl, errors: &mut Errors) -> Option<Method> {
    let mut found = block.items.iter().filter_map(|item| match item {
        ImplItem::Fn(method) if method.sig.ident.unraw() == "handle" => Some(method),
        _ => None,
    });
    let Some(handle) = found.next() else {
        errors.at(
            &block.self_ty,
            "#[socket_handler] needs `async fn handle(&self, …)`",
        );
        return None;
    };
    for duplicate in found {
        errors.at(
            &duplicate.sig.ident,
            "a socket listener has one `handle` method",
        );
    }
    let sig = &handle.sig;
    if sig.asyncness.is_none() {
        let (fn_token, ident) = (&sig.fn_token, &sig.ident);
        errors.at(quote!(#fn_token #ident), "`handle` must be an `async fn`");
    }
    Method::read(sig, "`handle` takes `&self`", errors)
}

/// `SocketHandler` calling `handle`, or (without it) a stand-in that never runs.
fn impl_handler(self_ty: &Type, handle: Option<&Method>) -> TokenStream {
    let body = match handle {
        Some(handle) => handle.call(Returns::Event),
        None => quote! {
            let _ = invocation;
            ::std::boxed::Box::pin(::std::future::pending())
        },
    };
    let user_types = crate::params::type_lists(handle.into_iter().flat_map(|m| &m.params));
    // The stand-in registers no types: the derive's errors say what is wrong.
    let types = handle.map(|handle| {
        let (payload, ack) = (handle.payload(), &handle.ack);
        quote! {
            ::switchboard::__private::typescript_socket! { #self_ty; (#payload) (#ack) }
        }
    });
    quote! {
        impl ::switchboard::__private::SocketHandler for #self_ty {
            #user_types

            fn invoke(
                self: ::std::sync::Arc<Self>,
                invocation: ::switchboard::__private::Invocation,
            ) -> ::switchboard::__private::EventFuture {
                #body
            }
        }

        #types
    }
}
