//! `timsg-actors`: the domain model, the conversation actors and the store of timsg.
//!
//! This crate knows nothing of TIM JSON keys, C types or HTTP; the `timsg` crate maps those
//! onto the types here. Map of the modules:
//!
//! - Domain model: [`ids`] (users, conversations, message IDs), [`element`], [`message`],
//!   [`member`] (one user's state in a conversation), [`group`], [`error`].
//! - Pure logic: [`log`] (the conversation log and send queue; [`hashed_id_index`] finds
//!   its messages by ID), [`history`] (paging rules),
//!   [`search`] (grouping and paging of search results), [`rate_limit`].
//! - Actors: [`actors`] — `ConversationActor`, `SupervisorActor`, `BatchSendActor`,
//!   `DownloadManagerActor`.
//! - Media: [`media`] — the blob store, uploads on send, downloads.
//! - Plumbing: [`engine`] (actor system, routing, the calls every way in uses), [`store`]
//!   (SQLite, the group-commit writer, reads and search), [`events`] (per-user event streams),
//!   [`users`] (per-user options), [`config`], [`clock`], [`telemetry`] (the metric catalog),
//!   [`os_random`] (everything that must not be guessable), [`faults`] (failure points for
//!   fault-injection tests).

pub mod actors;
pub mod background;
pub mod chunked;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod element;
pub mod engine;
pub mod error;
pub mod events;
pub mod faults;
pub mod group;
pub mod hashed_id_index;
pub mod history;
pub mod ids;
pub mod log;
pub mod media;
pub mod member;
pub mod message;
pub mod os_random;
pub mod rate_limit;
pub mod search;
pub mod seq_ranges;
pub mod slow_reads;
pub mod store;
pub mod telemetry;
pub mod users;
pub mod whole_user;

pub use clock::Clock;
pub use config::{Durability, EngineConfig};
pub use engine::{Engine, PendingSend};
pub use error::{ConvError, ConvResult};
