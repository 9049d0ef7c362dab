//! `TIMMsgFindByMsgLocatorList`: messages of one conversation by locator (seq, rand, time).

use std::sync::Arc;

use timsg_actors::message::MessageLocator;

use super::{Accepted, ApiCall, parse, views_result};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::params::MsgLocator;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let locators: Vec<MsgLocator> =
        parse::json(parse::required(call.json, "json_msg_Locator_array")?, "json_msg_Locator_array")?;
    let locators = locators
        .into_iter()
        .map(|l| MessageLocator {
            conv: conv.clone(),
            is_revoked: l.message_locator_is_revoked,
            time: l.message_locator_time,
            seq: l.message_locator_seq,
            is_self: l.message_locator_is_self,
            rand: l.message_locator_rand,
        })
        .collect();
    let s = session.clone();
    Ok(Accepted::later(async move { views_result(s.find_by_msg_locator_list(&conv, locators).await) }))
}
