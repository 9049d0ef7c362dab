//! `TIMMsgSetLocalCustomData`: stores `message_custom_int` / `message_custom_str` on a message,
//! in the caller's view only. The message JSON names its conversation.

use std::sync::Arc;

use timsg_actors::message::LocalCustomData;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::WireMessage;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let m: WireMessage = parse::json(parse::required(call.json, "json_msg_param")?, "json_msg_param")?;
    let conv = parse::conv(m.message_conv_id.as_deref(), m.message_conv_type.unwrap_or(0))?;
    let target = parse::target(&m)?;
    let data = LocalCustomData {
        int: m.message_custom_int.unwrap_or(0),
        text: m.message_custom_str.clone().unwrap_or_default(),
    };
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.set_local_custom_data(&conv, target, data).await) }))
}
