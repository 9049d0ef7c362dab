//! `TIMGroupInviteMember`: adds users to a group; one `GroupInviteMemberResult` per user
//! (1 added, 2 already a member).

use std::sync::Arc;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::group::{GroupInviteMemberParam, GroupInviteMemberResult, handle_result};

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let p: GroupInviteMemberParam =
        parse::json(parse::required(call.json, "json_group_invite_param")?, "json_group_invite_param")?;
    if p.group_invite_member_param_group_id.is_empty() || p.group_invite_member_param_identifier_array.is_empty() {
        return Err(TimError::param(
            "group_invite_member_param_group_id and a non-empty identifier array are required",
        ));
    }
    let s = session.clone();
    Ok(Accepted::later(async move {
        let users = p.group_invite_member_param_identifier_array;
        match s.invite_to_group(&p.group_invite_member_param_group_id, users.clone()).await {
            Ok(added) => DispatchResult::ok_json(
                &users
                    .into_iter()
                    .map(|u| GroupInviteMemberResult {
                        group_invite_member_result_result: if added.contains(&u) {
                            handle_result::SUCC
                        } else {
                            handle_result::INCLUDED
                        },
                        group_invite_member_result_identifier: u,
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(e) => e.into(),
        }
    }))
}
