//! `group_open_http_svc` commands on a group's messages: `send_group_msg`,
//! `send_group_system_notification`, `group_msg_recall`, `group_msg_get_simple` and
//! `delete_group_msg_by_sender`. Sends go through the dispatcher as the sender (a member, or
//! the app admin, which the engine lets send to any group); recalls and reads run as the app
//! admin, which sees every message of a group.

use serde_json::{Map, Value, json};
use timsg_actors::group::GroupKind;
use timsg_actors::history::{HistoryAnchor, HistoryQuery, MessageTarget};
use timsg_actors::ids::ConvRef;
use timsg_actors::member::ViewKind;
use timsg_actors::message::{MessageStatus, MessageView};

use super::envelope::RestError;
use super::group_admin::{ERR_GROUP_PARAM, account, admin, group_error, group_id, live_group, number, param};
use super::msg_body;
use super::openim::call_as;
use crate::dispatch::ApiCall;
use crate::error::TimError;
use crate::service::ServiceState;
use crate::service::sessions::ActivityGuard;

/// `10035`: messages of a live-stream group cannot be deleted.
pub const ERR_GROUP_NO_DELETE: i32 = 10035;
/// `80002`: the message is too long.
pub const ERR_MSG_TOO_LONG: i32 = 80002;
/// Messages `group_msg_get_simple` answers at most; seqs one `group_msg_recall` takes.
const MAX_SIMPLE_PAGE: u64 = 20;
const MAX_RECALLS: usize = 10;
/// Members a system notification names at most.
const MAX_NOTIFIED: usize = 500;
/// A group message's `Random` dedupes within this window (s), as the REST API documents.
const DEDUPE_WINDOW_SECS: u64 = 300;
/// Messages read per step when walking a group's history.
const WALK_STEP: usize = 100;
/// The at-all mention's member ID, as the TIM SDKs spell it.
const AT_ALL: &str = "__kImSDK_MesssageAtALL__";

/// A dispatcher refusal of a group message as the REST API's code.
fn send_refusal(code: i32, desc: String) -> RestError {
    let code = match code {
        8001 => ERR_MSG_TOO_LONG,
        c if c < 0 => ERR_GROUP_PARAM,
        6016 | 6017 | 7003 => ERR_GROUP_PARAM,
        other => other,
    };
    RestError::new(code, desc)
}

fn priority(body: &Value) -> Result<u32, RestError> {
    Ok(match body.get("MsgPriority").and_then(Value::as_str) {
        None => 1,
        Some("High") => 0,
        Some("Normal") => 1,
        Some("Low") => 2,
        Some("Lowest") => 3,
        Some(other) => return Err(param(format!("MsgPriority {other:?} is not High, Normal, Low or Lowest"))),
    })
}

fn priority_name(n: u64) -> &'static str {
    match n {
        0 => "High",
        2 => "Low",
        3 => "Lowest",
        _ => "Normal",
    }
}

/// The members `GroupAtInfo` mentions (`AT_ALL` for everyone).
fn mentions(body: &Value) -> Result<Vec<String>, RestError> {
    let mut out = Vec::new();
    for at in body.get("GroupAtInfo").and_then(Value::as_array).into_iter().flatten() {
        if at.get("GroupAtAllFlag").and_then(Value::as_u64) == Some(1) {
            out.push(AT_ALL.to_string());
        } else {
            out.push(account(at, "GroupAt_Account")?);
        }
    }
    Ok(out)
}

pub async fn send_group_msg(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let random = number(body, "Random")?
        .filter(|r| *r <= u64::from(u32::MAX))
        .ok_or_else(|| param("Random (an unsigned 32-bit integer) is required"))?;
    let from = match body.get("From_Account") {
        None | Some(Value::Null) => state.config.admin.clone(),
        Some(_) => account(body, "From_Account")?,
    };
    if body.get("To_Account").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
        return Err(param("To_Account: messages to some members of a group are not offered here"));
    }
    let online_only =
        ["OnlineOnlyFlag", "MsgOnlineOnlyFlag"].iter().any(|k| body.get(*k).and_then(Value::as_u64) == Some(1));
    let custom = match body.get("CloudCustomData") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(param("CloudCustomData must be a string")),
    };
    let elements = msg_body::to_elements(body.get("MsgBody"))?;
    // The same sender and Random in one group within the window are one message: sent again,
    // the one already stored is the answer.
    let window = state.runtime.engine().now_ms() / 1000 / DEDUPE_WINDOW_SECS;
    let id = super::dedupe_id("v4g", &[&from, &gid, &random.to_string(), &window.to_string()]);
    let message = json!({
        "message_elem_array": elements,
        "message_cloud_custom_str": custom,
        "message_is_online_msg": online_only,
        "message_priority": priority(body)?,
        "message_group_at_user_array": mentions(body)?,
        "message_msg_id": id,
    })
    .to_string();
    let call =
        ApiCall { api: "TIMMsgSendMessage", conv_id: Some(&gid), conv_type: 2, json: &message, ..Default::default() };
    let sent = call_as(state, &from, call, send_refusal).await?;
    let mut reply = Map::new();
    reply.insert("MsgTime".into(), sent["message_server_time"].clone());
    reply.insert("MsgSeq".into(), sent["message_seq"].clone());
    Ok(reply)
}

pub async fn send_group_system_notification(
    state: &ServiceState,
    body: &Value,
) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let content = match body.get("Content") {
        Some(Value::String(c)) if !c.is_empty() => c.clone(),
        _ => return Err(param("Content (a string) is required")),
    };
    let to: Vec<String> = match body.get("ToMembers_Account") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.len() <= MAX_NOTIFIED => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| param("ToMembers_Account must be an array of user IDs"))?,
        Some(_) => return Err(param(format!("ToMembers_Account: an array of at most {MAX_NOTIFIED} user IDs"))),
    };
    admin(state)?.session().notify_group(&gid, content, to).await.map_err(group_error)?;
    Ok(Map::new())
}

pub async fn group_msg_recall(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let seqs: Vec<u64> = match body.get("MsgSeqList") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_RECALLS => a
            .iter()
            .map(|m| m.get("MsgSeq").and_then(Value::as_u64))
            .collect::<Option<_>>()
            .ok_or_else(|| param("MsgSeqList holds {\"MsgSeq\": <integer>} items"))?,
        _ => return Err(param(format!("MsgSeqList: 1 to {MAX_RECALLS} items of {{\"MsgSeq\": <integer>}}"))),
    };
    let admin = admin(state)?;
    live_group(&admin, &gid).await?;
    let conv = ConvRef::group(&gid);
    let mut results = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let code = match admin.session().withdraw_as_admin(&conv, MessageTarget::Seq(seq)).await {
            Ok(()) => 0,
            Err(e) => group_error(e).code,
        };
        results.push(json!({"MsgSeq": seq, "RetCode": code}));
    }
    let mut reply = Map::new();
    reply.insert("RecallRetList".into(), results.into());
    Ok(reply)
}

/// One page of a group's history as the admin sees it, newest first, from `anchor` back.
async fn page_back(admin: &ActivityGuard, gid: &str, anchor: HistoryAnchor) -> Result<Vec<MessageView>, TimError> {
    let query = HistoryQuery { anchor, count: WALK_STEP, view: ViewKind::Roaming, ..Default::default() };
    admin.session().get_msg_list(&ConvRef::group(gid), query).await
}

/// Whether a message is the group's own (a tip), not a member's.
fn is_system(v: &MessageView) -> bool {
    *v.message.sender == *timsg_actors::ids::SYSTEM_SENDER
}

pub async fn group_msg_get_simple(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let wanted = number(body, "ReqMsgNumber")?
        .filter(|n| (1..=MAX_SIMPLE_PAGE).contains(n))
        .ok_or_else(|| param(format!("ReqMsgNumber (1 to {MAX_SIMPLE_PAGE}) is required")))? as usize;
    let with_recalled = number(body, "WithRecalledMsg")? == Some(1);
    let admin = admin(state)?;
    if live_group(&admin, &gid).await?.info.kind == GroupKind::AVChatRoom {
        return Err(RestError::new(super::group_admin::ERR_GROUP_NOT_ALLOWED, "an AVChatRoom keeps no history"));
    }
    let mut anchor = match number(body, "ReqMsgSeq")? {
        Some(seq) => HistoryAnchor::Seq(seq),
        None => HistoryAnchor::None,
    };
    let mut listed = Vec::new();
    let mut finished = true;
    'walk: loop {
        let views = page_back(&admin, &gid, anchor).await.map_err(group_error)?;
        for v in &views {
            if is_system(v) || (v.message.status == MessageStatus::Revoked && !with_recalled) {
                continue;
            }
            if listed.len() == wanted {
                finished = false;
                break 'walk;
            }
            let m = crate::wire::view_to_json(v);
            listed.push(json!({
                "From_Account": v.message.sender.to_string(),
                "IsPlaceMsg": 0,
                "IsSystemMsg": 0,
                "MsgBody": msg_body::from_elements(&m["message_elem_array"]),
                "MsgPriority": priority_name(m["message_priority"].as_u64().unwrap_or(1)),
                "MsgRandom": v.message.rand,
                "MsgSeq": v.message.seq,
                "MsgTimeStamp": v.message.server_time,
                "CloudCustomData": m["message_cloud_custom_str"],
            }));
        }
        match views.last() {
            Some(oldest) if views.len() == WALK_STEP => {
                anchor = HistoryAnchor::Message(MessageTarget::Seq(oldest.message.seq));
            }
            _ => break,
        }
    }
    let mut reply = Map::new();
    reply.insert("GroupId".into(), gid.into());
    reply.insert("IsFinished".into(), u8::from(finished).into());
    reply.insert("RspMsgList".into(), listed.into());
    Ok(reply)
}

pub async fn delete_group_msg_by_sender(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let sender = account(body, "Sender_Account")?;
    let admin = admin(state)?;
    if matches!(live_group(&admin, &gid).await?.info.kind, GroupKind::AVChatRoom | GroupKind::BChatRoom) {
        return Err(RestError::new(ERR_GROUP_NO_DELETE, "a live-stream group keeps no messages to delete"));
    }
    // Every message of the sender is recalled for every member: what the REST API's clients
    // call withdrawing a user's messages.
    let mut targets = Vec::new();
    let mut anchor = HistoryAnchor::None;
    loop {
        let views = page_back(&admin, &gid, anchor).await.map_err(group_error)?;
        targets.extend(
            views
                .iter()
                .filter(|v| *v.message.sender == *sender && v.message.status != MessageStatus::Revoked)
                .map(|v| v.message.seq),
        );
        match views.last() {
            Some(oldest) if views.len() == WALK_STEP => {
                anchor = HistoryAnchor::Message(MessageTarget::Seq(oldest.message.seq));
            }
            _ => break,
        }
    }
    let conv = ConvRef::group(&gid);
    for seq in targets {
        match admin.session().withdraw_as_admin(&conv, MessageTarget::Seq(seq)).await {
            Ok(()) => {}
            // Recalled meanwhile by someone else: as good.
            Err(e) if e.code == crate::error::code::ERR_SVR_GROUP_REVOKE_MSG_DENY => {}
            Err(e) => return Err(group_error(e)),
        }
    }
    Ok(Map::new())
}
