//! `TIMMsgSaveMsg`: puts one message into the caller's view without sending it.

use std::sync::Arc;

use super::import_msg_list::local_message;
use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::WireMessage;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let m: WireMessage = parse::json(parse::required(call.json, "json_msg_param")?, "json_msg_param")?;
    let local = local_message(&m);
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.save_msg(&conv, local).await.map(|_| ())) }))
}
