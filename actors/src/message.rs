//! IM messages in their domain form: what a sender supplies ([`MessageContent`]), what a
//! conversation stores ([`StoredMessage`]) and what one user sees of it ([`MessageView`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::element::{Element, type_bit};
use crate::ids::{ConvRef, MsgId, UserId};

/// `TIMMsgStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageStatus {
    Sending = 1,
    SendSucc = 2,
    SendFail = 3,
    Deleted = 4,
    LocalImported = 5,
    Revoked = 6,
    Cancel = 7,
}

impl MessageStatus {
    pub fn number(self) -> u32 {
        self as u32
    }

    pub fn from_number(n: u32) -> Option<MessageStatus> {
        Some(match n {
            1 => MessageStatus::Sending,
            2 => MessageStatus::SendSucc,
            3 => MessageStatus::SendFail,
            4 => MessageStatus::Deleted,
            5 => MessageStatus::LocalImported,
            6 => MessageStatus::Revoked,
            7 => MessageStatus::Cancel,
            _ => return None,
        })
    }
}

/// What the sender supplies. Shared by every viewer of the message, so it sits behind an `Arc`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageContent {
    pub elements: Vec<Element>,
    /// `TIMMsgPriority`: 0 high, 1 normal, 2 low, 3 lowest.
    pub priority: u32,
    pub client_time: u64,
    pub platform: u32,
    pub cloud_custom_str: String,
    /// Online-only: delivered to online members, never stored, never unread, not revocable.
    pub is_online: bool,
    pub excluded_from_unread: bool,
    pub excluded_from_last_message: bool,
    pub need_read_receipt: bool,
    pub at_users: Vec<String>,
    /// Targeted group message: only these members receive it.
    pub target_members: Vec<String>,
    /// Unmodelled message keys as JSON object text, opaque to this crate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Arc<str>>,
}

impl MessageContent {
    pub fn with_elements(elements: Vec<Element>) -> MessageContent {
        MessageContent { elements, priority: 1, ..Default::default() }
    }

    /// Total bytes of client-supplied content, checked against the body size limit.
    pub fn content_bytes(&self) -> usize {
        self.elements.iter().map(Element::content_bytes).sum::<usize>()
            + self.cloud_custom_str.len()
            + self.extension.as_deref().map_or(0, str::len)
    }

    /// Bit mask of the element types the message carries (see [`type_bit`]).
    pub fn type_mask(&self) -> u32 {
        self.elements.iter().fold(0, |m, e| m | type_bit(e.type_number()))
    }

    /// Whether any element must be uploaded before the message can commit.
    pub fn needs_upload(&self) -> bool {
        self.elements.iter().any(Element::needs_upload)
    }

    /// Blob hashes the message refers to.
    pub fn blob_refs(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.elements {
            e.blob_refs(&mut out);
        }
        out
    }

    /// Text the local search index sees for the message.
    pub fn searchable_text(&self) -> String {
        let mut out = String::new();
        for e in &self.elements {
            e.searchable_text(&mut out);
        }
        out
    }
}

/// Who revoked a message and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokeInfo {
    pub by: UserId,
    pub reason: String,
    /// When it was revoked, as an event stamp (see `Shared::stamp`), so users who were away
    /// hear of it later.
    #[serde(default)]
    pub stamp: u64,
}

/// A message as a conversation stores it: shared ones carry a seq, local-only ones
/// (SaveMsg / ImportMsgList) carry `local_id` instead and belong to one user's view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub id: MsgId,
    pub sender: UserId,
    /// Shared seq (from 1, gap-free); for local-only messages the seq the caller gave, or 0.
    pub seq: u64,
    /// Position among the owner's local-only messages; 0 for shared messages.
    pub local_id: u64,
    pub rand: u64,
    pub server_time: u64,
    pub status: MessageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<Box<RevokeInfo>>,
    pub content: Arc<MessageContent>,
}

impl StoredMessage {
    pub fn is_local(&self) -> bool {
        self.local_id != 0
    }

    /// Order of messages within one user's view: time first, then shared before local, then
    /// seq or local position. Shared messages get non-decreasing server times in seq order,
    /// so this order is seq order for them.
    pub fn view_order(&self) -> (u64, u8, u64) {
        if self.is_local() { (self.server_time, 1, self.local_id) } else { (self.server_time, 0, self.seq) }
    }
}

/// Per-user data attached to a message (`message_custom_int` / `message_custom_str`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LocalCustomData {
    pub int: u32,
    pub text: String,
}

/// One user's view of a message: the stored message plus what differs per viewer.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub conv: ConvRef,
    pub message: Arc<StoredMessage>,
    pub is_self: bool,
    pub is_read: bool,
    pub is_peer_read: bool,
    pub custom: LocalCustomData,
}

impl MessageView {
    /// The user this view belongs to: the sender for their own messages.
    pub fn sender_id(&self) -> crate::ids::UserId {
        self.message.sender.clone()
    }
}

/// Where a message sits, for `FindByMsgLocatorList` and the revoke listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLocator {
    pub conv: ConvRef,
    pub is_revoked: bool,
    pub time: u64,
    pub seq: u64,
    pub is_self: bool,
    pub rand: u64,
}

/// A C2C read receipt as the peer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReceipt {
    pub conv: ConvRef,
    pub time: u64,
}
