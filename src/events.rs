//! Events as the JSON the TIM listeners receive: new messages (`TIMRecvNewMsgCallback`, an
//! array of Message), revokes (`TIMMsgRevokeCallback`, an array of MsgLocator), read receipts
//! (`TIMMsgReadedReceiptCallback`, an array of MessageReceipt), updates
//! (`TIMMsgUpdateCallback`, an array of Message) and upload progress
//! (`TIMMsgElemUploadProgressCallback`).

use serde_json::{Value, json};
use timsg_actors::events::Event;

use crate::wire::params::MessageReceipt;
use crate::wire::view_json::views_json;
use crate::wire::view_to_json;

/// One event as a stream sends it (the service's WebSockets, a cluster node's event feed):
/// `{"cursor", "event", "json"}` text.
pub type EventText = std::sync::Arc<str>;

/// The frame of event `event` (its JSON `body`) under `cursor`.
pub fn event_text(cursor: u64, event: &str, body: &str) -> EventText {
    format!(r#"{{"cursor":{cursor},"event":{},"json":{body}}}"#, Value::from(event)).into()
}

/// Which listener an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    RecvNewMsg,
    MsgRevoke,
    MsgReadedReceipt,
    MsgUpdate,
    /// `TIMMsgElemUploadProgressCallback`: the JSON is `{"message", "index", "current", "total"}`
    /// (the C callback takes the message JSON and the three numbers as arguments).
    MsgElemUploadProgress,
}

impl Listener {
    /// The listener's name (the C callback's, without `TIM…Callback`), as the event streams
    /// of the CLI and the service name it.
    pub fn name(self) -> &'static str {
        match self {
            Listener::RecvNewMsg => "RecvNewMsg",
            Listener::MsgRevoke => "MsgRevoke",
            Listener::MsgReadedReceipt => "MsgReadedReceipt",
            Listener::MsgUpdate => "MsgUpdate",
            Listener::MsgElemUploadProgress => "MsgElemUploadProgress",
        }
    }

    /// The listener named `name` (see [`Listener::name`]).
    pub fn from_name(name: &str) -> Option<Listener> {
        [
            Listener::RecvNewMsg,
            Listener::MsgRevoke,
            Listener::MsgReadedReceipt,
            Listener::MsgUpdate,
            Listener::MsgElemUploadProgress,
        ]
        .into_iter()
        .find(|l| l.name() == name)
    }
}

/// The listener and the JSON text it receives for `event`.
pub fn to_listener_json(event: &Event) -> (Listener, String) {
    let (listener, value) = match event {
        // Messages, on every delivery: written straight to text (see `wire::view_json`).
        Event::NewMessages { messages, .. } => {
            return (Listener::RecvNewMsg, views_json(messages.iter()));
        }
        Event::MessagesUpdated(messages) => {
            return (Listener::MsgUpdate, views_json(messages.iter()));
        }
        Event::Revoked { locators, by, reason } => (
            Listener::MsgRevoke,
            Value::Array(
                locators
                    .iter()
                    .map(|l| {
                        json!({
                            "message_locator_conv_id": &*l.conv.id,
                            "message_locator_conv_type": l.conv.conv_type.number(),
                            "message_locator_is_revoked": l.is_revoked,
                            "message_locator_time": l.time,
                            "message_locator_seq": l.seq,
                            "message_locator_is_self": l.is_self,
                            "message_locator_rand": l.rand,
                            "message_revoker_user_id": &**by,
                            "message_revoke_reason": reason,
                        })
                    })
                    .collect(),
            ),
        ),
        Event::UploadProgress { message, index, current, total } => (
            Listener::MsgElemUploadProgress,
            json!({"message": view_to_json(message), "index": index, "current": current, "total": total}),
        ),
        Event::ReadReceipts(receipts) => (
            Listener::MsgReadedReceipt,
            serde_json::to_value(
                receipts
                    .iter()
                    .map(|r| MessageReceipt {
                        msg_receipt_conv_id: r.conv.id.to_string(),
                        msg_receipt_conv_type: r.conv.conv_type.number(),
                        msg_receipt_time_stamp: r.time,
                    })
                    .collect::<Vec<_>>(),
            )
            .unwrap_or(Value::Null),
        ),
    };
    (listener, value.to_string())
}
