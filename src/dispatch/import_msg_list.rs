//! `TIMMsgImportMsgList`: puts messages into the caller's view without sending them
//! (status 5, no shared seq, never delivered).

use std::sync::Arc;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::{LocalMessage, Session};
use crate::wire::WireMessage;

/// A Message object as a local-only message.
pub fn local_message(m: &WireMessage) -> LocalMessage {
    LocalMessage {
        id: m.message_msg_id.clone().filter(|i| !i.is_empty()),
        sender: m.message_sender.clone().filter(|s| !s.is_empty()),
        server_time: m.message_server_time.or(m.message_client_time).unwrap_or(0),
        rand: m.message_rand.unwrap_or(0),
        seq: m.message_seq.unwrap_or(0),
        content: m.to_content(),
    }
}

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let msgs: Vec<WireMessage> = parse::json(parse::required(call.json, "json_msg_array")?, "json_msg_array")?;
    let locals = msgs.iter().map(local_message).collect();
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.import_msg_list(&conv, locals).await.map(|_| ())) }))
}
