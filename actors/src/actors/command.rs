//! [`ConvCommand`], the one message a conversation actor takes: an op, and where it is going.
//!
//! A conversation passivates by leaving the routing table and stopping. A caller that looked
//! the actor up just before may still put a command in its mailbox; an actor that stops never
//! runs it. Such a command reroutes itself when it is dropped unrun: it goes to the
//! conversation's next actor (started on demand, loading the state the old one made durable),
//! so a send that races a passivation is carried out, not failed.

use std::sync::{Arc, Weak};

use actix::prelude::*;

use super::conversation::{ConvOp, ConversationActor};
use crate::engine::Shared;
use crate::ids::ConvKey;

/// Times a command may be rerouted before it is given up (its caller then sees the reply
/// dropped): enough for a passivation race, bounded for a conversation that cannot load.
const MAX_REROUTES: u8 = 3;

#[derive(Message)]
#[rtype(result = "()")]
pub struct ConvCommand {
    op: Option<ConvOp>,
    key: ConvKey,
    shared: Weak<Shared>,
    reroutes: u8,
}

impl std::fmt::Debug for ConvCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConvCommand").field("key", &self.key).field("op", &self.op).finish()
    }
}

impl ConvCommand {
    pub fn new(shared: &Arc<Shared>, key: ConvKey, op: ConvOp) -> ConvCommand {
        ConvCommand { op: Some(op), key, shared: Arc::downgrade(shared), reroutes: 0 }
    }

    /// The op, for the actor that runs it; from here on the command no longer reroutes.
    pub fn take(mut self) -> ConvOp {
        self.op.take().expect("a command's op is taken once")
    }

    /// Drops the command without rerouting it (its caller is told it failed).
    pub fn abandon(mut self) {
        self.op = None;
    }
}

impl Drop for ConvCommand {
    fn drop(&mut self) {
        let Some(op) = self.op.take() else { return };
        // A passivation meant the actor that stopped; its successor has no reason to.
        if matches!(op, ConvOp::Passivate { .. }) {
            return;
        }
        if self.reroutes >= MAX_REROUTES {
            // No actor of the conversation stayed up (it cannot be loaded): the caller hears
            // so, with a code, not a dropped reply.
            op.fail(crate::error::ConvError::Store(format!(
                "no actor of the conversation stayed up after {MAX_REROUTES} tries; it cannot be loaded now"
            )));
            return;
        }
        let Some(shared) = self.shared.upgrade() else { return };
        // The actor stopped because the conversation cannot be had now: its successor would
        // fail the same way, so the caller hears why at once.
        if let Some(why) = shared.unloadable.recent(&self.key) {
            op.fail(crate::error::ConvError::Store(why));
            return;
        }
        let addr: Addr<ConversationActor> = shared.route(&self.key);
        let next = ConvCommand {
            op: Some(op),
            key: self.key.clone(),
            shared: self.shared.clone(),
            reroutes: self.reroutes + 1,
        };
        // A full mailbox still takes it: the command was admitted once already.
        if let Err(e) = addr.try_send(next) {
            let cmd = match e {
                SendError::Full(c) => {
                    addr.do_send(c);
                    return;
                }
                SendError::Closed(c) => c,
            };
            shared.table.remove_if(&self.key, |_, a| *a == addr);
            drop(cmd); // reroutes again, at most MAX_REROUTES times in all
        }
    }
}
