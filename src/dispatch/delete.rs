//! `TIMMsgDelete`: deletes one message (or, with no message, the whole conversation) from the
//! caller's local view, or with `is_remble` from the roaming view too.

use std::sync::Arc;

use timsg_actors::member::ViewKind;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::params::MsgDeleteParam;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let p: MsgDeleteParam = match parse::optional(call.json) {
        Some(j) => parse::json(j, "json_msgdel_param")?,
        None => MsgDeleteParam::default(),
    };
    let target = match p.msg_delete_param_msg.as_ref().filter(|m| !m.is_empty_object()) {
        Some(m) => Some(parse::target(m)?),
        None => None,
    };
    let view = if p.msg_delete_param_is_ramble.unwrap_or(false) { ViewKind::Roaming } else { ViewKind::Local };
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.delete(&conv, target, view).await) }))
}
