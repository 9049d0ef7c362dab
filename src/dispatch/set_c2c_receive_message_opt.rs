//! `TIMMsgSetC2CReceiveMessageOpt`: the caller's option for C2C messages from up to 30 users.

use std::sync::Arc;

use timsg_actors::member::ReceiveOpt;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::Session;

/// A `TIMReceiveMessageOpt` number.
pub fn receive_opt(n: u32) -> Result<ReceiveOpt, TimError> {
    ReceiveOpt::from_number(n).ok_or_else(|| TimError::param(format!("receive option {n} is not 0, 1 or 2")))
}

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let ids: Vec<String> = parse::json(parse::required(call.json, "json_identifier_array")?, "json_identifier_array")?;
    // Checked before the call is accepted: a bad count is -4 at once, as the SDK answers.
    Session::check_recv_opt_ids(&ids)?;
    let opt = receive_opt(call.opt)?;
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.set_c2c_receive_message_opt(&ids, opt).await) }))
}
