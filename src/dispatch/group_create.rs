//! `TIMGroupCreate`: creates a group owned by the caller, with initial members; answers
//! `CreateGroupResult`. Without a group ID, one is made (`@TGS#…`, as the backend does).

use std::sync::Arc;

use timsg_actors::group::{GroupAddOption, GroupKind};
use timsg_actors::os_random;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::group::{CreateGroupParam, CreateGroupResult};

/// A group ID made for a group created without one: `@TGS#` and 12 hex digits, as the backend
/// makes them, from the OS's random source (a made ID says nothing about the next one).
pub fn new_group_id() -> String {
    format!("@TGS#{:012X}", u64::from(os_random::u32()) << 16 | u64::from(os_random::u32() >> 16))
}

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let p: CreateGroupParam =
        parse::json(parse::required(call.json, "json_group_create_param")?, "json_group_create_param")?;
    let kind = match p.create_group_param_group_type {
        None => GroupKind::Public,
        Some(n) => GroupKind::from_number(n).ok_or_else(|| TimError::param(format!("group type {n} is not 0 to 5")))?,
    };
    let add_option = match p.create_group_param_add_option {
        None => GroupAddOption::default_for(kind),
        Some(n) => {
            GroupAddOption::from_number(n).ok_or_else(|| TimError::param(format!("add option {n} is not 0 to 2")))?
        }
    };
    let group_id = p.create_group_param_group_id.filter(|g| !g.is_empty()).unwrap_or_else(new_group_id);
    let members = p
        .create_group_param_group_member_array
        .iter()
        .filter_map(|m| m.group_member_info_identifier.clone())
        .filter(|m| m != session.user_id())
        .collect();
    let (s, name) = (session.clone(), p.create_group_param_group_name);
    Ok(Accepted::later(async move {
        match s.create_group_with(&group_id, &name, kind, add_option, members).await {
            Ok(()) => DispatchResult::ok_json(&CreateGroupResult { create_group_result_groupid: group_id }),
            Err(e) => e.into(),
        }
    }))
}
