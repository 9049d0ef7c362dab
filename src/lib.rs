//! `timsg`: an actor-based messaging runtime implementing the Tencent Cloud IM `TIMMsg*`
//! message API. This crate holds the ways in; the conversations themselves live in
//! `timsg-actors`. Map of the modules:
//!
//! - [`runtime`] / [`session`]: the typed Rust API — `Runtime::open` → `Runtime::login` →
//!   `Session`, one async method per `TIMMsg*` function, plus an event stream.
//! - [`wire`]: the TIM JSON model (exact key strings and enum numbers) and its mapping to the
//!   domain types.
//! - [`dispatch`]: the JSON dispatcher, `(api, conv_id, conv_type, json)` →
//!   `(code, desc, json_params)`, one file per function; every other way in calls it.
//! - [`events`]: events as the JSON the TIM listeners receive.
//! - [`error`]: TIM codes and the mapping from domain errors.
//! - [`service`]: `timsg serve`, the HTTP and WebSocket service.
//! - [`load`]: `timsg load`, the load generator with its delivery check.
//! - [`cli`]: the `timsg` command.
//! - [`access`]: the trust boundary — what a device and what a remote caller may name — and
//!   the per-user limits of remote callers.
//! - [`auth`]: UserSig v2.
//! - [`capi`]: the C ABI (`libtimsg`, `include/TIMCloud.h`).
//! - [`cluster`]: what every way in shares in cluster mode — calls forwarded to the node that
//!   owns their conversation, and a user's events fed from the cluster's events stream.

pub mod access;
pub mod auth;
pub mod capi;
pub mod catch_up;
pub mod cli;
pub mod cluster;
pub mod dispatch;
pub mod error;
pub mod events;
pub mod load;
pub mod runtime;
pub mod service;
pub mod session;
pub mod wire;

pub use error::{TimError, TimResult};
pub use runtime::{Runtime, RuntimeConfig};
pub use session::{LocalMessage, Session};
pub use timsg_actors::clock::Clock;
pub use timsg_actors::config::Durability;
pub use timsg_actors::element::Element;
pub use timsg_actors::events::{Event, EventStream};
pub use timsg_actors::history::{HistoryAnchor, HistoryQuery, MessageTarget};
pub use timsg_actors::ids::{ConvRef, ConvType};
pub use timsg_actors::member::{ReceiveOpt, ViewKind};
pub use timsg_actors::message::{LocalCustomData, MessageContent, MessageLocator, MessageStatus, MessageView};
pub use timsg_actors::search::{SearchQuery, SearchResult};
