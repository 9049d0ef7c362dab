//! The C ABI: `libtimsg`, a drop-in for programs written against the TIM C SDK's message API.
//! `include/TIMCloud.h` declares everything here.
//!
//! - [`state`]: the one SDK instance (`TIMInit` … `TIMUninit`) and the one logged-in user;
//! - [`callbacks`]: the dedicated callback thread every callback runs on, in order;
//! - [`cstr`]: C strings in and out;
//! - [`cluster`]: an embedder as a node of a cluster (forwarded calls, the events stream);
//! - [`lifecycle`], [`message`], [`group`], [`listeners`]: the exported functions.
//!
//! Every exported function catches panics: none crosses the boundary. Arguments are checked
//! before anything starts: a NULL or non-UTF-8 string is `TIM_ERR_PARAM`, malformed JSON
//! `TIM_ERR_JSON`; the callback fires only for calls that returned `TIM_SUCC`.

pub mod callbacks;
pub mod cluster;
pub mod cstr;
pub mod group;
pub mod lifecycle;
pub mod listeners;
pub mod message;
pub mod state;
