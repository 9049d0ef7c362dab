//! `TIMGroupDelete`: the owner dismisses a group (group ID in `conv_id`).

use std::sync::Arc;

use super::{Accepted, ApiCall, empty_result};
use crate::error::TimError;
use crate::session::Session;

/// The group ID a group call names in `conv_id`.
pub fn group_id(call: &ApiCall<'_>) -> Result<String, TimError> {
    call.conv_id.filter(|g| !g.is_empty()).map(str::to_string).ok_or_else(|| TimError::param("group_id is required"))
}

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let group = group_id(call)?;
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.dismiss_group(&group).await) }))
}
