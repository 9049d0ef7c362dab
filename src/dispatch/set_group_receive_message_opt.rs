//! `TIMMsgSetGroupReceiveMessageOpt`: the caller's option for one group (group ID in `conv_id`).

use std::sync::Arc;

use super::set_c2c_receive_message_opt::receive_opt;
use super::{Accepted, ApiCall, empty_result};
use crate::error::TimError;
use crate::session::Session;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let group_id =
        call.conv_id.filter(|g| !g.is_empty()).ok_or_else(|| TimError::param("group_id is required"))?.to_string();
    let opt = receive_opt(call.opt)?;
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.set_group_receive_message_opt(&group_id, opt).await) }))
}
