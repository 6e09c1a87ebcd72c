//! Macros for Switchboard listeners (placeholder until the real ones land).
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_derive(ChannelListener, attributes(channel))]
pub fn derive_channel_listener(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
/// Placeholder.
#[proc_macro_derive(SocketListener, attributes(event))]
pub fn derive_socket_listener(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
/// Placeholder.
#[proc_macro_attribute]
pub fn channel_events(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
/// Placeholder.
#[proc_macro_attribute]
pub fn socket_handler(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
