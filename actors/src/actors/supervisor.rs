//! `SupervisorActor`: watches the conversation actors. The routing table it governs
//! ([`crate::engine::Shared::table`]) activates conversations lazily on first use; the
//! supervisor hears when one passivates (idle) or crashes (a panic, a failed write), restarts
//! crashed ones in place with their state reloaded from the store, and keeps the counts.

use std::sync::Weak;

use actix::prelude::*;

use super::conversation::{ConversationActor, ReloadState};
use crate::engine::Shared;
use crate::ids::ConvKey;

/// A conversation actor stopped because it was idle.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ConversationPassivated {
    pub key: ConvKey,
}

/// A conversation actor panicked or lost a write; it holds its ops until told to reload.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ConversationCrashed {
    pub key: ConvKey,
    pub addr: Addr<ConversationActor>,
}

/// A conversation actor was started.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ConversationActivated;

/// Counts since start, for tests and operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SupervisorStats {
    pub active: usize,
    pub activated: u64,
    pub passivated: u64,
    pub restarted: u64,
}

#[derive(Debug, Message)]
#[rtype(result = "SupervisorStats")]
pub struct GetSupervisorStats;

pub struct SupervisorActor {
    shared: Weak<Shared>,
    stats: SupervisorStats,
}

impl SupervisorActor {
    pub fn new(shared: Weak<Shared>) -> SupervisorActor {
        SupervisorActor { shared, stats: SupervisorStats::default() }
    }

    fn publish(&self) {
        if let Some(shared) = self.shared.upgrade() {
            metrics::gauge!("timsg_conversations_active").set(shared.table.len() as f64);
        }
    }
}

impl Actor for SupervisorActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(65536);
    }
}

impl Handler<ConversationActivated> for SupervisorActor {
    type Result = ();
    fn handle(&mut self, _: ConversationActivated, _: &mut Context<Self>) {
        self.stats.activated += 1;
        metrics::counter!("timsg_conversations_activated_total").increment(1);
        self.publish();
    }
}

impl Handler<ConversationPassivated> for SupervisorActor {
    type Result = ();
    fn handle(&mut self, msg: ConversationPassivated, _: &mut Context<Self>) {
        self.stats.passivated += 1;
        metrics::counter!("timsg_conversations_passivated_total").increment(1);
        tracing::debug!(conv = %msg.key, "conversation passivated");
        self.publish();
    }
}

impl Handler<ConversationCrashed> for SupervisorActor {
    type Result = ();
    fn handle(&mut self, msg: ConversationCrashed, _: &mut Context<Self>) {
        self.stats.restarted += 1;
        metrics::counter!("timsg_conversations_restarted_total").increment(1);
        // Restart in place: the actor keeps its mailbox, so no caller's op is lost, and
        // reloads its state from the store once its writes in flight are done.
        msg.addr.do_send(ReloadState);
        tracing::warn!(conv = %msg.key, "conversation restarted");
        self.publish();
    }
}

impl Handler<GetSupervisorStats> for SupervisorActor {
    type Result = MessageResult<GetSupervisorStats>;
    fn handle(&mut self, _: GetSupervisorStats, _: &mut Context<Self>) -> Self::Result {
        let active = self.shared.upgrade().map_or(0, |s| s.table.len());
        MessageResult(SupervisorStats { active, ..self.stats })
    }
}
