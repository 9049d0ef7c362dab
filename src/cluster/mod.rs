//! Cluster mode, as every way in to a node (the service, the C ABI) meets it: a call for a
//! conversation another node owns is forwarded there ([`forwarding`]), and a logged-in user's
//! events come from the cluster's events stream ([`event_feed`]), wherever they were made.
//! The engine's side — the log of record, leases, the streams — is `timsg_actors::cluster`.

pub mod event_feed;
pub mod forwarding;
