//! `TIMMsgListDelete`: deletes local and roaming copies of up to 30 messages, once a second.

use std::sync::Arc;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::{MAX_LIST_DELETE, Session};
use crate::wire::WireMessage;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let msgs: Vec<WireMessage> = parse::json(parse::required(call.json, "json_msg_array")?, "json_msg_array")?;
    if msgs.is_empty() || msgs.len() > MAX_LIST_DELETE {
        return Err(TimError::param(format!(
            "json_msg_array takes 1 to {MAX_LIST_DELETE} messages, got {}",
            msgs.len()
        )));
    }
    let targets = msgs.iter().map(parse::target).collect::<Result<Vec<_>, _>>()?;
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.list_delete(&conv, targets).await) }))
}
