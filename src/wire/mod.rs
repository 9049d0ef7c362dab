//! The TIM wire model: JSON objects with the SDK's exact key strings and enum numbers, and
//! their mapping to the domain types of `timsg-actors`.
//!
//! - [`message`]: the Message object; [`elem`]: every element type;
//! - [`params`]: parameter and result objects of the message APIs;
//! - [`group`]: parameter and result objects of the group calls;
//! - [`profile`]: profiles and push settings carried by messages;
//! - [`extension`]: how unmodelled keys survive a round trip;
//! - [`lenient`]: reading JSON as the SDK's JSON library does (trailing commas).

pub mod elem;
pub mod extension;
pub mod group;
pub mod lenient;
pub mod message;
pub mod params;
pub mod profile;
pub mod view_json;

pub use elem::WireElem;
pub use message::{WireMessage, view_to_json};
