//! `TIMGroupJoin`: the caller joins a group (group ID in `conv_id`, hello message in `json`).

use std::sync::Arc;

use super::group_delete::group_id;
use super::{Accepted, ApiCall, empty_result};
use crate::error::TimError;
use crate::session::Session;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let group = group_id(call)?;
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.join_group(&group).await) }))
}
