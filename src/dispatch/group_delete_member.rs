//! `TIMGroupDeleteMember`: an owner or admin removes members; one `GroupDeleteMemberResult`
//! per user.

use std::sync::Arc;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::group::{GroupDeleteMemberParam, GroupDeleteMemberResult, handle_result};

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let p: GroupDeleteMemberParam =
        parse::json(parse::required(call.json, "json_group_delete_param")?, "json_group_delete_param")?;
    if p.group_delete_member_param_group_id.is_empty() || p.group_delete_member_param_identifier_array.is_empty() {
        return Err(TimError::param(
            "group_delete_member_param_group_id and a non-empty identifier array are required",
        ));
    }
    let s = session.clone();
    Ok(Accepted::later(async move {
        match s
            .kick_from_group(&p.group_delete_member_param_group_id, p.group_delete_member_param_identifier_array)
            .await
        {
            Ok(removed) => DispatchResult::ok_json(
                &removed
                    .into_iter()
                    .map(|u| GroupDeleteMemberResult {
                        group_delete_member_result_identifier: u,
                        group_delete_member_result_result: handle_result::SUCC,
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(e) => e.into(),
        }
    }))
}
