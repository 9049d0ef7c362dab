//! `TIMMsgSendMessage` / `TIMMsgSendNewMsg`: sends a message; the message ID is known when the
//! call returns, and the callback gets the sent message (status 2, with seq and server time).

use std::sync::Arc;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::WireMessage;
use crate::wire::view_json::ViewJson;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let msg: WireMessage = parse::json(parse::required(call.json, "json_msg_param")?, "json_msg_param")?;
    let id = msg.message_msg_id.clone().filter(|i| !i.is_empty());
    let pending = session.send_message_with_id(&conv, msg.to_content(), id.as_deref());
    let pending = match pending {
        Ok(p) => p,
        // Content rules (size, element types, receiver ID) answer through the callback. The
        // message has its ID all the same, as in the SDK: in cluster mode a conversation
        // another node owns refuses here, and its owner then stores the message under it.
        Err(e) if !e.is_synchronous() => {
            let id = id.unwrap_or_else(|| session.engine().next_message_id().to_string());
            let mut later = Accepted::later(async move { DispatchResult::from(e) });
            later.message_id = Some(id);
            return Ok(later);
        }
        Err(e) => return Err(e),
    };
    let message_id = pending.id.to_string();
    Ok(Accepted {
        message_id: Some(message_id),
        progress: None,
        completion: Box::pin(async move {
            match pending.outcome().await {
                Ok(view) => DispatchResult::ok(ViewJson(&view).to_json_string()),
                Err(e) => TimError::from(e).into(),
            }
        }),
    })
}
