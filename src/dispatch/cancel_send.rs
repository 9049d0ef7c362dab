//! `TIMMsgCancelSend`: cancels a message still in the send queue (its send fails with 8021);
//! a committed or unknown message gives 8020. `json` carries the message ID.

use std::sync::Arc;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::Session;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let id = parse::required(call.json, "message_id")?.to_string();
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.cancel_send(&conv, &id).await) }))
}
