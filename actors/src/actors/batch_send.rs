//! `BatchSendActor`: one per `TIMMsgBatchSend` call. It fans one message out to the C2C
//! conversations of every receiver at once, then gathers one result per receiver, so a failure
//! for one receiver never stops the others.

use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::engine::Engine;
use crate::error::{ConvError, ConvResult};
use crate::ids::{ConvKey, UserId, is_valid_identifier};
use crate::message::{MessageContent, MessageView};

/// What one receiver got.
#[derive(Debug, Clone)]
pub struct BatchRecipientResult {
    pub receiver: String,
    pub outcome: ConvResult<MessageView>,
}

#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct RunBatchSend {
    pub sender: UserId,
    pub receivers: Vec<String>,
    pub content: Arc<MessageContent>,
    pub reply: oneshot::Sender<Vec<BatchRecipientResult>>,
}

pub struct BatchSendActor {
    engine: Engine,
}

impl BatchSendActor {
    pub fn new(engine: Engine) -> BatchSendActor {
        BatchSendActor { engine }
    }
}

impl Actor for BatchSendActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1);
    }
}

impl Handler<RunBatchSend> for BatchSendActor {
    type Result = ();

    fn handle(&mut self, msg: RunBatchSend, ctx: &mut Context<Self>) {
        let engine = self.engine.clone();
        // Enqueue every send first, so the conversations work in parallel, then collect.
        let mut pending = Vec::with_capacity(msg.receivers.len());
        for receiver in msg.receivers {
            if !is_valid_identifier(&receiver) {
                pending.push((receiver.clone(), Err(ConvError::InvalidIdentifier(receiver))));
                continue;
            }
            let key = ConvKey::c2c(&msg.sender, &receiver);
            let send = engine.send_message(&msg.sender, key, msg.content.clone(), None);
            pending.push((receiver, send));
        }
        let reply = msg.reply;
        let fut = async move {
            let mut results = Vec::with_capacity(pending.len());
            for (receiver, send) in pending {
                let outcome = match send {
                    Ok(p) => p.outcome().await,
                    Err(e) => Err(e),
                };
                let label = if outcome.is_ok() { "ok" } else { "failed" };
                metrics::counter!("timsg_batch_send_recipients_total", "outcome" => label).increment(1);
                results.push(BatchRecipientResult { receiver, outcome });
            }
            let _ = reply.send(results);
        };
        ctx.wait(fut.into_actor(self).map(|_, _, ctx: &mut Context<Self>| ctx.stop()));
    }
}
