//! `group_open_http_svc` commands on groups and their members: `create_group`,
//! `destroy_group`, `add_group_member`, `delete_group_member`, `get_group_info` and
//! `get_joined_group_list`. They run as the app admin, which the engine lets act in any group
//! as its owner would without being a member (see `EngineConfig::app_admin`); a group made
//! with an `Owner_Account` is created by that user, one made without is owned by the admin.
//!
//! The group codes are the 10000 range's (`10004` a bad parameter, `10005` too many accounts,
//! `10007` not allowed, `10010` no such group, `10014` full, `10021`/`10025` ID taken).

use serde_json::{Map, Value, json};
use timsg_actors::group::{GroupAddOption, GroupKind, GroupProfile, GroupSnapshot};
use timsg_actors::ids::is_valid_identifier;
use timsg_actors::member::{ReceiveOpt, Role};

use super::envelope::RestError;
use crate::error::TimError;
use crate::service::ServiceState;
use crate::service::sessions::ActivityGuard;

/// `10004`: a parameter is missing or wrong.
pub const ERR_GROUP_PARAM: i32 = 10004;
/// `10005`: more accounts in one request than the command takes.
pub const ERR_GROUP_TOO_MANY: i32 = 10005;
/// `10007`: the operation is not allowed (on this group type).
pub const ERR_GROUP_NOT_ALLOWED: i32 = 10007;
/// `10010`: the group does not exist or was dismissed.
pub const ERR_GROUP_NOT_FOUND: i32 = 10010;
/// `10021`: the group ID is taken; `10025`: taken by a group the same owner made.
pub const ERR_GROUP_ID_TAKEN: i32 = 10021;
pub const ERR_GROUP_ID_TAKEN_BY_OWNER: i32 = 10025;

/// Longest values, in bytes, as the REST API documents them.
const MAX_NAME: usize = 30;
const MAX_INTRODUCTION: usize = 240;
const MAX_NOTIFICATION: usize = 300;
const MAX_FACE_URL: usize = 100;
const MAX_GROUP_ID: usize = 48;
/// Accounts per request: initial members, members added, members removed, groups asked.
const MAX_INITIAL_MEMBERS: usize = 100;
const MAX_ADDED: usize = 300;
const MAX_REMOVED: usize = 100;
const MAX_GROUPS_ASKED: usize = 50;

pub(super) fn param(info: impl Into<String>) -> RestError {
    RestError::new(ERR_GROUP_PARAM, info)
}

/// An engine refusal as a group command's error: group codes as they are, parameter
/// refusals as `10004`.
pub(super) fn group_error(e: TimError) -> RestError {
    use crate::error::code;
    let c = match e.code {
        code::ERR_SVR_GROUP_GROUPID_IN_USED => ERR_GROUP_ID_TAKEN,
        c if c < 0 => ERR_GROUP_PARAM,
        code::ERR_INVALID_PARAMETERS | code::ERR_SDK_COMM_INVALID_IDENTIFIER => ERR_GROUP_PARAM,
        c => c,
    };
    RestError::new(c, e.desc)
}

/// The group a command names. A community topic (`TopicId`) is refused: timsg has none, and
/// acting on the whole group instead would be wrong.
pub(super) fn group_id(body: &Value) -> Result<String, RestError> {
    if body.get("TopicId").and_then(Value::as_str).is_some_and(|t| !t.is_empty()) {
        return Err(param("TopicId: community topics are not offered here"));
    }
    match body.get("GroupId") {
        Some(Value::String(g)) if !g.is_empty() => Ok(g.clone()),
        _ => Err(param("GroupId (a string) is required")),
    }
}

/// A user ID under `key`, or `10004`.
pub(super) fn account(body: &Value, key: &str) -> Result<String, RestError> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|u| is_valid_identifier(u))
        .map(str::to_string)
        .ok_or_else(|| param(format!("{key} (a user ID) is required")))
}

/// An optional string of at most `max` bytes.
fn bounded(body: &Value, key: &str, max: usize) -> Result<String, RestError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.len() <= max => Ok(s.clone()),
        Some(Value::String(s)) => Err(param(format!("{key} is {} bytes: at most {max}", s.len()))),
        Some(_) => Err(param(format!("{key} must be a string"))),
    }
}

/// An optional unsigned integer.
pub(super) fn number(body: &Value, key: &str) -> Result<Option<u64>, RestError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| param(format!("{key} must be an unsigned integer"))),
    }
}

/// An array of strings of at most `max` items under `key` (`None` when absent).
fn strings(body: &Value, key: &str, max: usize) -> Result<Option<Vec<String>>, RestError> {
    let items = match body.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(param(format!("{key} must be an array of strings"))),
    };
    if items.len() > max {
        return Err(RestError::new(ERR_GROUP_TOO_MANY, format!("{key} names {} items: at most {max}", items.len())));
    }
    items
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .map(Some)
        .ok_or_else(|| param(format!("{key} must be an array of strings")))
}

fn kind_of(name: &str) -> Option<GroupKind> {
    Some(match name {
        "Private" | "Work" => GroupKind::Private,
        "Public" => GroupKind::Public,
        "ChatRoom" | "Meeting" => GroupKind::ChatRoom,
        "BChatRoom" => GroupKind::BChatRoom,
        "AVChatRoom" => GroupKind::AVChatRoom,
        "Community" => GroupKind::Community,
        _ => return None,
    })
}

fn kind_name(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Private => "Private",
        GroupKind::Public => "Public",
        GroupKind::ChatRoom => "ChatRoom",
        GroupKind::BChatRoom => "BChatRoom",
        GroupKind::AVChatRoom => "AVChatRoom",
        GroupKind::Community => "Community",
    }
}

fn apply_option_name(option: GroupAddOption) -> &'static str {
    match option {
        GroupAddOption::Any => "FreeAccess",
        GroupAddOption::Auth => "NeedPermission",
        GroupAddOption::Forbid => "DisableApply",
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Member => "Member",
    }
}

fn msg_flag_name(opt: ReceiveOpt) -> &'static str {
    match opt {
        ReceiveOpt::Receive => "AcceptAndNotify",
        ReceiveOpt::NotReceive => "Discard",
        ReceiveOpt::NotNotify => "AcceptNotNotify",
    }
}

/// The admin's session: the identity group commands run as.
pub(super) fn admin(state: &ServiceState) -> Result<ActivityGuard, RestError> {
    state.session(&state.config.admin).map_err(group_error)
}

/// A live group (`10010` for none or a dismissed one).
pub(super) async fn live_group(admin: &ActivityGuard, gid: &str) -> Result<GroupSnapshot, RestError> {
    match admin.session().group_snapshot(gid).await {
        Ok(s) if !s.info.dismissed => Ok(s),
        Ok(_) => Err(RestError::new(ERR_GROUP_NOT_FOUND, format!("group {gid} was dismissed"))),
        Err(e) => Err(group_error(e)),
    }
}

/// A custom group ID: printable ASCII, at most 48 bytes, not the made IDs' `@TGS#` prefix.
fn custom_group_id(id: &str) -> Result<(), RestError> {
    if id.len() > MAX_GROUP_ID || !id.bytes().all(|b| (0x20..=0x7e).contains(&b)) || id.starts_with("@TGS#") {
        return Err(param(format!(
            "GroupId {id:?}: printable ASCII, at most {MAX_GROUP_ID} bytes, not starting with @TGS#"
        )));
    }
    Ok(())
}

pub async fn create_group(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let kind = body
        .get("Type")
        .and_then(Value::as_str)
        .and_then(kind_of)
        .ok_or_else(|| param("Type is one of Private, Public, ChatRoom, AVChatRoom, Community"))?;
    let name = bounded(body, "Name", MAX_NAME)?;
    if name.is_empty() {
        return Err(param("Name is required"));
    }
    let max_members = number(body, "MaxMemberCount")?.unwrap_or(0);
    let profile = GroupProfile {
        introduction: bounded(body, "Introduction", MAX_INTRODUCTION)?,
        notification: bounded(body, "Notification", MAX_NOTIFICATION)?,
        face_url: bounded(body, "FaceUrl", MAX_FACE_URL)?,
        max_members: u32::try_from(max_members).map_err(|_| param("MaxMemberCount is too large"))?,
    };
    let add_option = match body.get("ApplyJoinOption").and_then(Value::as_str) {
        None => GroupAddOption::default_for(kind),
        Some("FreeAccess") => GroupAddOption::Any,
        Some("NeedPermission") => GroupAddOption::Auth,
        Some("DisableApply") => GroupAddOption::Forbid,
        Some(other) => {
            return Err(param(format!("ApplyJoinOption {other:?} is not FreeAccess, NeedPermission or DisableApply")));
        }
    };
    if body.get("AppDefinedData").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
        return Err(param("AppDefinedData: no custom group fields are configured here"));
    }
    let owner = match body.get("Owner_Account") {
        None | Some(Value::Null) => state.config.admin.clone(),
        Some(_) => account(body, "Owner_Account")?,
    };
    let gid = match body.get("GroupId").and_then(Value::as_str).filter(|g| !g.is_empty()) {
        Some(g) => {
            custom_group_id(g)?;
            g.to_string()
        }
        None => crate::dispatch::group_create::new_group_id(),
    };
    let listed = match body.get("MemberList") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.len() <= MAX_INITIAL_MEMBERS => a.clone(),
        Some(Value::Array(_)) => {
            return Err(RestError::new(ERR_GROUP_TOO_MANY, format!("MemberList: at most {MAX_INITIAL_MEMBERS}")));
        }
        Some(_) => return Err(param("MemberList must be an array")),
    };
    if kind == GroupKind::AVChatRoom && !listed.is_empty() {
        return Err(param("an AVChatRoom takes no MemberList"));
    }
    let (mut members, mut admins) = (Vec::new(), Vec::new());
    for m in &listed {
        let user = account(m, "Member_Account")?;
        match m.get("Role").and_then(Value::as_str) {
            None | Some("") | Some("Member") => {}
            Some("Admin") => admins.push(user.clone()),
            Some(other) => return Err(param(format!("Role {other:?}: a member's role is Admin or none"))),
        }
        if user != owner && !members.contains(&user) {
            members.push(user);
        }
    }
    let creator = state.session(&owner).map_err(group_error)?;
    let created = creator.session().create_group_with_profile(&gid, &name, kind, add_option, profile, members).await;
    if let Err(e) = created {
        if e.code == crate::error::code::ERR_SVR_GROUP_GROUPID_IN_USED {
            let same_owner = admin(state)?.session().group_snapshot(&gid).await.is_ok_and(|s| s.info.owner == owner);
            let code = if same_owner { ERR_GROUP_ID_TAKEN_BY_OWNER } else { ERR_GROUP_ID_TAKEN };
            return Err(RestError::new(code, format!("group ID {gid} is taken")));
        }
        return Err(group_error(e));
    }
    for user in admins {
        creator.session().set_group_admin(&gid, &user, true).await.map_err(group_error)?;
    }
    let mut reply = Map::new();
    reply.insert("GroupId".into(), gid.into());
    Ok(reply)
}

pub async fn destroy_group(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    admin(state)?.session().dismiss_group(&gid).await.map_err(group_error)?;
    Ok(Map::new())
}

pub async fn add_group_member(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let listed = match body.get("MemberList") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_ADDED => a,
        Some(Value::Array(a)) if a.len() > MAX_ADDED => {
            return Err(RestError::new(ERR_GROUP_TOO_MANY, format!("MemberList: at most {MAX_ADDED}")));
        }
        _ => return Err(param("MemberList (an array of {Member_Account}) is required")),
    };
    let admin = admin(state)?;
    let group = live_group(&admin, &gid).await?;
    if group.info.kind == GroupKind::AVChatRoom {
        return Err(RestError::new(ERR_GROUP_NOT_ALLOWED, "an AVChatRoom takes no members added"));
    }
    let asked: Vec<Option<String>> = listed.iter().map(|m| account(m, "Member_Account").ok()).collect();
    let valid: Vec<String> = asked.iter().flatten().cloned().collect();
    let joined = admin.session().invite_to_group(&gid, valid).await.map_err(group_error)?;
    // 1 added, 2 a member already, 0 failed (not a user ID).
    let results: Vec<Value> = listed
        .iter()
        .zip(&asked)
        .map(|(m, user)| {
            let result = match user {
                Some(u) if joined.contains(u) => 1,
                Some(_) => 2,
                None => 0,
            };
            json!({"Member_Account": m.get("Member_Account").cloned().unwrap_or(Value::Null), "Result": result})
        })
        .collect();
    let mut reply = Map::new();
    reply.insert("MemberList".into(), results.into());
    Ok(reply)
}

pub async fn delete_group_member(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let users = strings(body, "MemberToDel_Account", MAX_REMOVED)?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| param("MemberToDel_Account (an array of user IDs) is required"))?;
    let admin = admin(state)?;
    // Removing one that is no member succeeds: only the members are removed. A removal racing
    // this one makes the engine refuse the list; the next look sees it done.
    for _ in 0..3 {
        let group = live_group(&admin, &gid).await?;
        if group.info.kind == GroupKind::AVChatRoom {
            return Err(param("an AVChatRoom has no members to remove"));
        }
        let present: Vec<String> =
            users.iter().filter(|u| group.members.iter().any(|m| *m.user == ***u)).cloned().collect();
        if present.is_empty() {
            return Ok(Map::new());
        }
        if present.contains(&group.info.owner) {
            return Err(RestError::new(ERR_GROUP_NOT_ALLOWED, "the owner cannot be removed"));
        }
        match admin.session().kick_from_group(&gid, present).await {
            Ok(_) => return Ok(Map::new()),
            Err(e) if e.code == crate::error::code::ERR_SVR_GROUP_PERMISSION_DENY => continue,
            Err(e) => return Err(group_error(e)),
        }
    }
    Err(RestError::new(ERR_GROUP_NOT_ALLOWED, "the members changed under the removal three times; retry"))
}

/// A filter (`ResponseFilter.<key>`): `None` takes everything.
fn filter<'a>(body: &'a Value, key: &str) -> Option<Vec<&'a str>> {
    body.get("ResponseFilter")?.get(key)?.as_array().map(|a| a.iter().filter_map(Value::as_str).collect())
}

/// A group's base fields as `get_group_info` and `get_joined_group_list` give them.
fn base_info(state: &ServiceState, g: &GroupSnapshot) -> Map<String, Value> {
    let i = &g.info;
    let fields = json!({
        "Type": kind_name(i.kind),
        "Name": i.name,
        "Appid": state.config.sdkappid,
        "Introduction": i.profile.introduction,
        "Notification": i.profile.notification,
        "FaceUrl": i.profile.face_url,
        "Owner_Account": i.owner,
        "CreateTime": i.created_at,
        // Nothing changes a group's profile after its creation here.
        "LastInfoTime": i.created_at,
        "LastMsgTime": g.last_msg_time,
        "NextMsgSeq": g.next_seq,
        "MemberNum": g.members.len(),
        "MaxMemberNum": i.profile.max_members,
        "ApplyJoinOption": apply_option_name(i.add_option()),
        "ShutUpAllMember": "Off",
    });
    object(fields)
}

/// The map of a JSON object literal.
fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Keeps the keys `wanted` names (all when `None`).
fn keep(mut fields: Map<String, Value>, wanted: Option<&[&str]>) -> Map<String, Value> {
    if let Some(wanted) = wanted {
        fields.retain(|k, _| wanted.contains(&k.as_str()));
    }
    fields
}

pub async fn get_group_info(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let ids = strings(body, "GroupIdList", MAX_GROUPS_ASKED)?
        .filter(|g| !g.is_empty())
        .ok_or_else(|| param("GroupIdList (an array of group IDs) is required"))?;
    let base_filter = filter(body, "GroupBaseInfoFilter");
    let member_filter = filter(body, "MemberInfoFilter");
    // Without a filter everything comes; with one, members only when asked for.
    let with_members = body.get("ResponseFilter").is_none() || member_filter.is_some();
    let admin = admin(state)?;
    let mut infos = Vec::with_capacity(ids.len());
    for gid in ids {
        let mut item = Map::new();
        item.insert("GroupId".into(), gid.clone().into());
        match live_group(&admin, &gid).await {
            Ok(g) => {
                item.insert("ErrorCode".into(), 0.into());
                item.insert("ErrorInfo".into(), "".into());
                item.extend(keep(base_info(state, &g), base_filter.as_deref()));
                item.insert("AppDefinedData".into(), Value::Array(Vec::new()));
                if with_members && g.info.kind != GroupKind::AVChatRoom {
                    let members: Vec<Value> = g
                        .members
                        .iter()
                        .map(|m| {
                            let fields = json!({
                                "Role": role_name(m.role),
                                "JoinTime": m.join_time,
                                "MsgSeq": m.read_seq,
                                "MsgFlag": msg_flag_name(m.recv_opt),
                                "ShutUpUntil": 0,
                                "AppMemberDefinedData": [],
                            });
                            let mut out = Map::new();
                            out.insert("Member_Account".into(), m.user.to_string().into());
                            out.extend(keep(object(fields), member_filter.as_deref()));
                            Value::Object(out)
                        })
                        .collect();
                    item.insert("MemberList".into(), members.into());
                }
            }
            Err(e) => {
                item.insert("ErrorCode".into(), e.code.into());
                item.insert("ErrorInfo".into(), e.info.into());
            }
        }
        infos.push(Value::Object(item));
    }
    let mut reply = Map::new();
    reply.insert("GroupInfo".into(), infos.into());
    Ok(reply)
}

pub async fn get_joined_group_list(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let member = account(body, "Member_Account")?;
    let limit = number(body, "Limit")?.map(|n| n as usize);
    let offset = number(body, "Offset")?.unwrap_or(0) as usize;
    let only = match body.get("GroupType").and_then(Value::as_str) {
        None => None,
        Some(t) => Some(kind_of(t).ok_or_else(|| param(format!("GroupType {t:?} is not a group type")))?),
    };
    let with_huge = number(body, "WithHugeGroups")? == Some(1) || only == Some(GroupKind::AVChatRoom);
    let base_filter = filter(body, "GroupBaseInfoFilter");
    let self_filter = filter(body, "SelfInfoFilter");
    let admin = admin(state)?;
    let keys = state.runtime.engine().conversations_of(&member).map_err(|e| group_error(e.into()))?;
    let mut groups = Vec::new();
    for key in keys {
        let timsg_actors::ids::ConvKey::Group(gid) = key else { continue };
        let Ok(g) = admin.session().group_snapshot(&gid).await else { continue };
        let kind = g.info.kind;
        if g.info.dismissed || only.is_some_and(|k| k != kind) || (kind == GroupKind::AVChatRoom && !with_huge) {
            continue;
        }
        if let Some(me) = g.members.iter().find(|m| *m.user == *member) {
            let me = me.clone();
            groups.push((g, me));
        }
    }
    groups.sort_by(|a, b| a.0.info.id.cmp(&b.0.info.id));
    let total = groups.len();
    let page: Vec<Value> = groups
        .iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|(g, me)| {
            let mut item = Map::new();
            item.insert("GroupId".into(), g.info.id.clone().into());
            // Only the fields asked for: the group ID alone when none are.
            item.extend(keep(base_info(state, g), Some(base_filter.as_deref().unwrap_or(&[]))));
            if let Some(wanted) = &self_filter {
                let fields = json!({
                    "Role": role_name(me.role),
                    "JoinTime": me.join_time,
                    "MsgFlag": msg_flag_name(me.recv_opt),
                    "MsgSeq": me.read_seq,
                });
                item.insert("SelfInfo".into(), Value::Object(keep(object(fields), Some(wanted))));
            }
            Value::Object(item)
        })
        .collect();
    let mut reply = Map::new();
    reply.insert("TotalCount".into(), total.into());
    reply.insert("GroupIdList".into(), page.into());
    Ok(reply)
}
