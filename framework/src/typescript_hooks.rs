//! Where the macros' output meets `switchboard::typescript` (cargo feature `typescript`),
//! and [`direct_events!`](crate::direct_events).
//!
//! The listener macros always call these `macro_rules!`; with the cargo feature
//! `typescript` they register the listener's types for `typescript::declarations()`,
//! without it they expand to nothing (or to a check that the named types exist, so a
//! typo in `emits(...)` fails either way). The proc macros need not know the feature.

/// Declares the events the server sends connections directly (without a channel) and
/// their payload types, for `switchboard::typescript::declarations()`; several
/// types for one event make a union. Without the cargo feature `typescript` it only
/// checks that the types exist.
///
/// ```
/// /// What `POST /api/notify/{user}` sends (derive `switchboard::typescript::TS` for
/// /// its TypeScript declaration; a type without it is `unknown`).
/// #[derive(serde::Serialize)]
/// pub struct Notification {
///     pub message: String,
/// }
///
/// switchboard::direct_events! {
///     "notification" => Notification,
///     "pong-back" => serde_json::Value,
///     "moved" => Notification | String,
/// }
/// # fn main() {}
/// ```
#[cfg(feature = "typescript")]
#[macro_export]
macro_rules! direct_events {
    ($($event:literal => $($payload:ty)|+),* $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::typescript::DirectDecl::new(&[$(
                $crate::typescript::Emitted::new(
                    $event,
                    &[$($crate::__typescript_type!($payload)),+],
                )
            ),*])
        }
    };
}

/// See the feature-enabled version.
#[cfg(not(feature = "typescript"))]
#[macro_export]
macro_rules! direct_events {
    ($($event:literal => $($payload:ty)|+),* $(,)?) => {
        $crate::__typescript_types_exist!($($($payload),+),*);
    };
}

/// `#[derive(ChannelListener)]`'s: the pattern and, unless `undeclared`, the events of
/// `emits(...)`.
#[cfg(feature = "typescript")]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_channel {
    ($listener:ty; undeclared) => {
        $crate::__private::inventory::submit! {
            $crate::typescript::ChannelDecl::new(
                ::core::any::type_name::<$listener>,
                <$listener as $crate::__private::ChannelListener>::PATTERN,
                ::core::option::Option::None,
            )
        }
    };
    ($listener:ty; $($event:literal => [$($payload:ty),+]),* $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::typescript::ChannelDecl::new(
                ::core::any::type_name::<$listener>,
                <$listener as $crate::__private::ChannelListener>::PATTERN,
                ::core::option::Option::Some(&[$(
                    $crate::typescript::Emitted::new(
                        $event,
                        &[$($crate::__typescript_type!($payload)),+],
                    )
                ),*]),
            )
        }
    };
}

#[cfg(not(feature = "typescript"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_channel {
    ($listener:ty; undeclared) => {};
    ($listener:ty; $($event:literal => [$($payload:ty),+]),* $(,)?) => {
        $crate::__typescript_types_exist!($($($payload),+),*);
    };
}

/// `#[channel_events]`'s: each event's payload type and ack type (absent: `unknown`).
#[cfg(feature = "typescript")]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_handlers {
    ($listener:ty; $($event:literal => ($($payload:ty)?) ($($ack:ty)?)),* $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::typescript::HandlersDecl::new(
                ::core::any::type_name::<$listener>,
                &[$(
                    $crate::typescript::Handled::new(
                        $event,
                        $crate::__typescript_optional_type!($($payload)?),
                        $crate::__typescript_optional_type!($($ack)?),
                    )
                ),*],
            )
        }
    };
}

#[cfg(not(feature = "typescript"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_handlers {
    ($($tokens:tt)*) => {};
}

/// `#[socket_handler]`'s: the payload and ack types of the listener's event.
#[cfg(feature = "typescript")]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_socket {
    ($listener:ty; ($($payload:ty)?) ($($ack:ty)?)) => {
        $crate::__private::inventory::submit! {
            $crate::typescript::SocketDecl::new($crate::typescript::Handled::new(
                <$listener as $crate::__private::SocketListener>::EVENT,
                $crate::__typescript_optional_type!($($payload)?),
                $crate::__typescript_optional_type!($($ack)?),
            ))
        }
    };
}

#[cfg(not(feature = "typescript"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_socket {
    ($($tokens:tt)*) => {};
}

/// The `TsType` of `$ty`: its TypeScript when it implements `TS`, else `unknown`.
#[cfg(feature = "typescript")]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_type {
    ($ty:ty) => {{
        fn write(types: &mut $crate::typescript::TypeSet) -> ::std::string::String {
            #[allow(unused_imports)]
            use $crate::typescript::{ViaTs as _, ViaUnknown as _};
            (&$crate::typescript::Probe::<$ty>::new()).ts_name(types)
        }
        write as $crate::typescript::TsType
    }};
}

#[cfg(feature = "typescript")]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_optional_type {
    () => {
        ::core::option::Option::None
    };
    ($ty:ty) => {
        ::core::option::Option::Some($crate::__typescript_type!($ty))
    };
}

/// Fails to compile when one of the types does not exist.
#[cfg(not(feature = "typescript"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __typescript_types_exist {
    ($($ty:ty),* $(,)?) => {
        const _: () = {
            $(let _ = ::core::marker::PhantomData::<$ty>;)*
        };
    };
}
