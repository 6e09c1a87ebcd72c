//! `#[derive(ChannelListener)]` and `#[channel_events]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{
    Attribute, DeriveInput, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Type, Visibility,
};

use crate::channel_attr::{self, ChannelArgs};
use crate::errors::Errors;
use crate::history::History;
use crate::hooks::{self, Hook};
use crate::methods::{Method, Returns};
use crate::presence::Presence;
use crate::{attr, emits, item, names};

const WHAT: &str = "channel listeners";

/// `#[derive(ChannelListener)]`: the pattern and the `inventory` registration.
pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ident = &input.ident;
    let shape_ok = item::check_struct(input, "ChannelListener", WHAT, &mut errors);
    let args = match attr::single(&input.attrs, "channel", &mut errors) {
        None => {
            errors.push(syn::Error::new(
                ident.span(),
                "missing `#[channel(\"pattern\")]`: add one below the derive, \
                 e.g. `#[channel(\"user:chat.{id}\")]`",
            ));
            None
        }
        Some(channel) => errors.take(
            channel_attr::parse(channel)
                .and_then(|args| names::check_pattern(&args.pattern).map(|()| args)),
        ),
    };
    let expansion = args.map_or_else(TokenStream::new, |args| {
        let ChannelArgs {
            pattern,
            history,
            emits,
            presence,
        } = args;
        let listener = impl_listener(ident, &pattern, history, presence);
        let types = emits::registration(ident, emits.as_deref());
        quote! {
            #listener
            ::switchboard::__private::inventory::submit! {
                ::switchboard::__private::ChannelRegistration::of::<#ident>()
            }
            #types
        }
    });
    // A stand-in impl keeps `#[channel_events]` on the same type from failing too.
    let fallback = if shape_ok {
        impl_listener(ident, &LitStr::new("", ident.span()), None, None)
    } else {
        TokenStream::new()
    };
    errors.emit(expansion, fallback)
}

fn impl_listener(
    ident: &Ident,
    pattern: &LitStr,
    history: Option<History>,
    presence: Option<Presence>,
) -> TokenStream {
    let name = ident.unraw().to_string();
    let presence = presence.map(|presence| {
        let mode = match presence {
            Presence::Members => quote!(Members),
            Presence::Counts => quote!(Counts),
        };
        quote! {
            const PRESENCE: ::core::option::Option<::switchboard::PresenceMode> =
                ::core::option::Option::Some(::switchboard::PresenceMode::#mode);
        }
    });
    let history = history.map(|History { size, ttl_secs }| {
        quote! {
            const HISTORY: ::core::option::Option<::switchboard::HistorySpec> =
                ::core::option::Option::Some(::switchboard::HistorySpec::new(#size, #ttl_secs));
        }
    });
    quote! {
        impl ::switchboard::__private::ChannelListener for #ident {
            const PATTERN: &'static str = #pattern;
            const NAME: &'static str = #name;
            #history
            #presence
        }
    }
}

/// An event method and the name clients send for it.
struct Event {
    name: String,
    method: Method,
}

/// `#[channel_events]`: the impl block as written (without `#[event]` attributes),
/// plus `ChannelEvents` dispatching to its events and hooks.
pub(crate) fn events(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.at(&args, "#[channel_events] takes no arguments");
    }
    let mut block = match item::parse_impl(item.clone(), "channel_events") {
        Ok(block) => block,
        Err(e) => {
            errors.push(e);
            return errors.emit(TokenStream::new(), item);
        }
    };
    let block_ok = item::check_impl(&block, "channel_events", WHAT, &mut errors);
    let (events, hooks) = read_block(&mut block, &mut errors);
    let expansion = impl_events(&block.self_ty, &events, &hooks);
    // A stand-in impl keeps the derive's registration from failing too.
    let fallback = block_ok.then(|| impl_events(&block.self_ty, &[], &[]));
    errors.emit(quote! { #block #expansion }, quote! { #block #fallback })
}

/// Sorts the block's methods into events and hooks, stripping `#[event]` attributes.
/// Plain `fn`s that are not hooks are left alone.
fn read_block(
    block: &mut ItemImpl,
    errors: &mut Errors,
) -> (Vec<Event>, Vec<(&'static Hook, Method)>) {
    let mut events = Vec::new();
    let mut hooks = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else {
            continue;
        };
        let renames = attr::take(&mut method.attrs, "event");
        let name = method.sig.ident.unraw().to_string();
        if let Some(hook) = hooks::misspelt(&name) {
            errors.at(
                &method.sig.ident,
                format_args!(
                    "`{name}` is not a hook: did you mean `{hook}`? As written it would be an \
                     event any subscriber may call, and the hook would not run"
                ),
            );
            continue;
        }
        if let Some(hook) = hooks::named(&name) {
            hooks.extend(read_hook(hook, method, &renames, errors).map(|m| (hook, m)));
        } else if method.sig.asyncness.is_some() {
            events.extend(read_event(method, &renames, &events, errors));
        } else {
            for rename in &renames {
                errors.at(rename, "`#[event]` goes on an `async fn` event method");
            }
        }
    }
    (events, hooks)
}

fn read_hook(
    hook: &Hook,
    method: &ImplItemFn,
    renames: &[Attribute],
    errors: &mut Errors,
) -> Option<Method> {
    let before = errors.count();
    let name = hook.name;
    for rename in renames {
        errors.at(
            rename,
            format_args!("`#[event]` cannot go on the `{name}` hook: hooks are not events"),
        );
    }
    let sig = &method.sig;
    let (fn_token, ident) = (&sig.fn_token, &sig.ident);
    match (&sig.asyncness, hook.is_async) {
        (None, true) => errors.at(
            quote!(#fn_token #ident),
            format_args!("the `{name}` hook must be an `async fn`"),
        ),
        (Some(asyncness), false) => errors.at(
            asyncness,
            format_args!("the `{name}` hook must not be `async`"),
        ),
        _ => {}
    }
    let method = Method::read(sig, "hooks take `&self`", errors)?;
    if !hook.takes_params {
        for param in &method.params {
            errors.at(
                &param.ty,
                format_args!("the `{name}` hook takes only `&self`"),
            );
        }
    }
    let refused = |kind: &crate::params::Kind| {
        kind.needs_event() && !(hook.takes_context && kind.is_context())
    };
    for param in method.params.iter().filter(|p| refused(&p.kind)) {
        let may_take = if hook.takes_context {
            "`EventContext`, `&Connection`, `Connection`, `&YourUser`, `Option<&YourUser>` \
             or `State<T>`"
        } else {
            "`&Connection`, `Connection`, `&YourUser`, `Option<&YourUser>` or `State<T>`"
        };
        errors.at(
            &param.ty,
            format_args!(
                "the `{name}` hook cannot take {}: hooks run outside events; it may take \
                 {may_take}",
                param.kind.describe()
            ),
        );
    }
    (errors.count() == before).then_some(method)
}

fn read_event(
    method: &ImplItemFn,
    renames: &[Attribute],
    seen: &[Event],
    errors: &mut Errors,
) -> Option<Event> {
    let before = errors.count();
    let ident = &method.sig.ident;
    if matches!(method.vis, Visibility::Inherited) {
        errors.at(
            ident,
            "event methods must be `pub`; move private helpers to another impl block",
        );
    }
    let name = match attr::single(renames, "event", errors) {
        Some(rename) => errors.take(
            attr::string_arg(rename, "#[event(\"deleted-message\")]")
                .and_then(|lit| names::check_event_literal(&lit).map(|()| lit))
                .map(|lit| (lit.value(), lit.span())),
        ),
        None => {
            let name = ident.unraw().to_string();
            match names::event_name_problem(&name) {
                None => Some((name, ident.span())),
                Some(problem) => {
                    errors.at(
                        ident,
                        format_args!(
                            "{problem}; rename the method or give the event another name \
                             with `#[event(\"…\")]`"
                        ),
                    );
                    None
                }
            }
        }
    };
    if let Some((name, span)) = &name
        && let Some(first) = seen.iter().find(|event| event.name == *name)
    {
        errors.push(syn::Error::new(
            *span,
            format!(
                "duplicate event name `{name}`: `fn {}` already handles it",
                first.method.ident
            ),
        ));
    }
    let method = Method::read(&method.sig, "event methods take `&self`", errors)?;
    let (name, _) = name?;
    (errors.count() == before).then_some(Event { name, method })
}

fn impl_events(self_ty: &Type, events: &[Event], hooks: &[(&Hook, Method)]) -> TokenStream {
    let names = events.iter().map(|event| &event.name);
    let dispatch = if events.is_empty() {
        quote! {
            let _ = (event, invocation);
            ::std::option::Option::None
        }
    } else {
        let arms = events.iter().map(|event| {
            let name = &event.name;
            let call = event.method.call(Returns::Event);
            quote! { #name => ::std::option::Option::Some(#call), }
        });
        quote! {
            match event {
                #(#arms)*
                _ => ::std::option::Option::None,
            }
        }
    };
    // Without `is_authorised`, the trait's default authorises everyone.
    let authorise = hooks
        .iter()
        .find(|(hook, _)| hook.name == hooks::IS_AUTHORISED)
        .map(|(_, method)| {
            let call = method.call(Returns::Authorisation);
            quote! {
                fn authorise(
                    self: ::std::sync::Arc<Self>,
                    invocation: ::switchboard::__private::Invocation,
                ) -> ::switchboard::__private::AuthFuture {
                    #call
                }
            }
        });
    let lifecycle = [
        (hooks::ON_JOIN, quote!(ON_JOIN), quote!(on_join)),
        (hooks::ON_LEAVE, quote!(ON_LEAVE), quote!(on_leave)),
    ]
    .into_iter()
    .filter_map(|(name, flag, method_name)| {
        let (_, method) = hooks.iter().find(|(hook, _)| hook.name == name)?;
        let call = method.call(Returns::Event);
        Some(quote! {
            const #flag: bool = true;

            fn #method_name(
                self: ::std::sync::Arc<Self>,
                invocation: ::switchboard::__private::Invocation,
            ) -> ::switchboard::__private::EventFuture {
                #call
            }
        })
    });
    let middlewares = hooks
        .iter()
        .any(|(hook, _)| hook.name == hooks::MIDDLEWARES)
        .then(|| {
            quote! {
                fn middlewares(
                    &self,
                ) -> ::std::vec::Vec<::std::sync::Arc<dyn ::switchboard::__private::Middleware>> {
                    Self::middlewares(self)
                }
            }
        });
    let user_types = crate::params::type_lists(
        events
            .iter()
            .flat_map(|e| &e.method.params)
            .chain(hooks.iter().flat_map(|(_, m)| &m.params)),
    );
    let handled = events.iter().map(|event| {
        let name = &event.name;
        let (payload, ack) = (event.method.payload(), &event.method.ack);
        quote!(#name => (#payload) (#ack))
    });
    quote! {
        impl ::switchboard::__private::ChannelEvents for #self_ty {
            const EVENTS: &'static [&'static ::std::primitive::str] = &[#(#names),*];
            #user_types

            fn dispatch(
                self: ::std::sync::Arc<Self>,
                event: &::std::primitive::str,
                invocation: ::switchboard::__private::Invocation,
            ) -> ::std::option::Option<::switchboard::__private::EventFuture> {
                #dispatch
            }

            #authorise

            #(#lifecycle)*

            #middlewares
        }

        ::switchboard::__private::typescript_handlers! { #self_ty; #(#handled),* }
    }
}
