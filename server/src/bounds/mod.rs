//! Limits on connections: how large a request head may be, how long a client may take to send
//! its head and its body, how long an idle keep-alive connection stays open, how long a write
//! may wait for a client that does not read, and how many
//! connections are served at once. The stores' own caps live with the stores; `docs/server.md`
//! ("Bounds") lists them all.

mod body;
mod serve;
mod settings;
mod write_timeout;

pub(crate) use body::{guard, timed_out, Failed};
pub(crate) use serve::serve;
pub(crate) use settings::ConnectionSettings;
pub use settings::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEADER_BYTES, DEFAULT_WRITE_TIMEOUT,
};
pub(crate) use write_timeout::WriteTimeout;
