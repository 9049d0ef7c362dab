//! What the store is asked to write, and whom it tells when the write is durable. Both
//! backends (SQLite and memory) take the same requests.

use std::sync::Arc;

use actix::Recipient;
use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::message::StoredMessage;

use super::StoreError;

/// One change to the database. Serialized into the journal as it is.
#[derive(Debug, Serialize, Deserialize)]
pub enum WriteOp {
    InsertShared {
        conv: Arc<str>,
        message: Arc<StoredMessage>,
    },
    UpdateShared {
        conv: Arc<str>,
        message: Arc<StoredMessage>,
    },
    UpsertMember {
        conv: Arc<str>,
        user: UserId,
        state: String,
    },
    InsertLocal {
        conv: Arc<str>,
        owner: UserId,
        message: Arc<StoredMessage>,
    },
    DeleteLocal {
        conv: Arc<str>,
        owner: UserId,
        local_id: u64,
    },
    UpsertGroup {
        conv: Arc<str>,
        info: String,
    },
    SetC2cReceiveOpt {
        owner: UserId,
        peer: String,
        opt: u32,
    },
    SetOfflineMark {
        user: UserId,
        mark: i64,
        stamp: u64,
    },
    /// A login that handed nothing out ended, for a user no logout left a point for yet: the
    /// next login delivers every unread message (mark 0) and the revokes and read receipts
    /// since `stamp`, the abandoned login's start. A point already there stays.
    StartOfflineMark {
        user: UserId,
        stamp: u64,
    },
    /// Cluster mode: the conversation's changes up to this sequence of its log of record are
    /// in this store (the next takeover reads the log after it).
    SetLogPosition {
        conv: Arc<str>,
        seq: u64,
    },
    /// The app imported `user` (the REST API's `account_import`): its nickname and face URL.
    ImportAccount {
        user: UserId,
        nick: String,
        face_url: String,
    },
    /// `user`'s UserSigs made before `before` (s) log in no more (a kick); with `delete`, the
    /// account is no longer imported either.
    RevokeSigs {
        user: UserId,
        before: u64,
        delete: bool,
    },
    /// A message or system notice (a GroupReport) that reached no event stream of `user`
    /// (it had logged out, or its stream was full), kept until a stream delivers it.
    AddPendingDelivery {
        user: UserId,
        stamp: u64,
        /// The conversation as `user` sees it (`ConvType` number, ID).
        conv_type: u32,
        conv_id: String,
        message: Arc<StoredMessage>,
    },
    /// These pending deliveries of `user` reached a stream: they go.
    DropPendingDeliveries {
        user: UserId,
        ids: Vec<crate::ids::MsgId>,
    },
}

impl WriteOp {
    /// What a read names to see this op (see `store::progress`): the conversation's storage
    /// key, or the user whose options or logout point it sets.
    pub fn read_key(&self) -> &Arc<str> {
        match self {
            WriteOp::InsertShared { conv, .. }
            | WriteOp::UpdateShared { conv, .. }
            | WriteOp::UpsertMember { conv, .. }
            | WriteOp::InsertLocal { conv, .. }
            | WriteOp::DeleteLocal { conv, .. }
            | WriteOp::UpsertGroup { conv, .. }
            | WriteOp::SetLogPosition { conv, .. } => conv,
            WriteOp::SetC2cReceiveOpt { owner, .. } => owner,
            WriteOp::SetOfflineMark { user, .. }
            | WriteOp::StartOfflineMark { user, .. }
            | WriteOp::ImportAccount { user, .. }
            | WriteOp::RevokeSigs { user, .. }
            | WriteOp::AddPendingDelivery { user, .. }
            | WriteOp::DropPendingDeliveries { user, .. } => user,
        }
    }

    /// The conversation (storage key) this op writes to, if it is a conversation's op.
    pub fn conversation(&self) -> Option<&Arc<str>> {
        match self {
            WriteOp::SetC2cReceiveOpt { .. }
            | WriteOp::SetOfflineMark { .. }
            | WriteOp::StartOfflineMark { .. }
            | WriteOp::ImportAccount { .. }
            | WriteOp::RevokeSigs { .. }
            | WriteOp::AddPendingDelivery { .. }
            | WriteOp::DropPendingDeliveries { .. } => None,
            other => Some(other.read_key()),
        }
    }
}

/// Tells a conversation actor that its write `token` is durable (or failed).
#[derive(Debug, actix::Message)]
#[rtype(result = "()")]
pub struct WriteCompleted {
    pub token: u64,
    pub result: Result<(), StoreError>,
}

/// Whom to tell when a request is durable.
pub enum Completion {
    None,
    Actor { to: Recipient<WriteCompleted>, token: u64 },
    Channel(tokio::sync::oneshot::Sender<Result<(), StoreError>>),
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Completion::None => f.write_str("None"),
            Completion::Actor { token, .. } => write!(f, "Actor({token})"),
            Completion::Channel(_) => f.write_str("Channel"),
        }
    }
}

impl Completion {
    pub(super) fn complete(self, result: Result<(), StoreError>) {
        match self {
            Completion::None => {}
            Completion::Actor { to, token } => to.do_send(WriteCompleted { token, result }),
            Completion::Channel(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

/// A batch of ops committed together, then completed.
#[derive(Debug)]
pub struct WriteRequest {
    pub ops: Vec<WriteOp>,
    pub done: Completion,
    /// Set by a conversation that reloads after a failed write: from here on (in the
    /// writer's order) its writes are taken again. See `store::writer`.
    pub clears_failure_of: Option<Arc<str>>,
}

impl WriteRequest {
    pub fn new(ops: Vec<WriteOp>, done: Completion) -> WriteRequest {
        WriteRequest { ops, done, clears_failure_of: None }
    }
}
