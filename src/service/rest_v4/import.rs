//! Messages from another system into the shared history, at their own times: `importmsg`
//! (one C2C message) and `import_group_msg` (up to 7 group messages). Imports keep each
//! conversation in time order: a message may not be older than the conversation's newest
//! (a group's creation included) nor in the future (the current second is not: the REST API
//! asks for a time before now, timsg takes now too).
//!
//! `SyncFromOldSystem` 1 and 5 import a live message (delivered, counted unread); 2 and every
//! group import are history: delivered to no one, read by every member. The same message
//! imported twice (C2C: the same `MsgSeq`, `MsgRandom` and `MsgTimeStamp` in the
//! conversation; group: the same sender, `SendTime` and `Random`) is kept once.

use serde_json::{Map, Value, json};
use timsg_actors::group::GroupKind;
use timsg_actors::ids::{ConvKey, ConvRef, is_valid_identifier};

use super::envelope::RestError;
use super::group_admin::{self, ERR_GROUP_NOT_ALLOWED, ERR_GROUP_PARAM, admin, group_error, group_id, live_group};
use super::msg_body;
use super::openim::{ERR_FROM_ACCOUNT, ERR_MSG_RANDOM, ERR_MSG_TOO_LONG, ERR_TO_ACCOUNT};
use crate::error::{TimError, code};
use crate::service::ServiceState;
use timsg_actors::message::MessageContent;

/// `90006`: `MsgTimeStamp` missing, not an integer, or out of order; `90030`:
/// `SyncFromOldSystem` is not 1, 2 or 5.
pub const ERR_TIMESTAMP: i32 = 90006;
pub const ERR_SYNC_FROM_OLD_SYSTEM: i32 = 90030;
/// Messages one `import_group_msg` takes.
const MAX_GROUP_IMPORT: usize = 7;

/// The engine's content of a `MsgBody` and `CloudCustomData`.
fn content(item: &Value) -> Result<MessageContent, RestError> {
    let elements = msg_body::to_elements(item.get("MsgBody"))?;
    let custom = match item.get("CloudCustomData") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(RestError::new(super::openim::ERR_MSG_FORMAT, "CloudCustomData must be a string")),
    };
    let wire: crate::wire::message::WireMessage =
        serde_json::from_value(json!({"message_elem_array": elements, "message_cloud_custom_str": custom}))
            .map_err(|e| RestError::new(msg_body::ERR_BODY_FORMAT, e.to_string()))?;
    Ok(wire.to_content())
}

fn now_secs(state: &ServiceState) -> u64 {
    state.runtime.engine().now_ms() / 1000
}

pub async fn importmsg(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let live = match body.get("SyncFromOldSystem").and_then(Value::as_u64) {
        Some(1 | 5) => true,
        Some(2) => false,
        _ => return Err(RestError::new(ERR_SYNC_FROM_OLD_SYSTEM, "SyncFromOldSystem is 1 (live), 2 (history) or 5")),
    };
    let account = |key: &str, code: i32| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|u| is_valid_identifier(u))
            .map(str::to_string)
            .ok_or_else(|| RestError::new(code, format!("{key} (a user ID) is required")))
    };
    let (from, to) = (account("From_Account", ERR_FROM_ACCOUNT)?, account("To_Account", ERR_TO_ACCOUNT)?);
    let random = body
        .get("MsgRandom")
        .and_then(Value::as_u64)
        .filter(|r| *r <= u64::from(u32::MAX))
        .ok_or_else(|| RestError::new(ERR_MSG_RANDOM, "MsgRandom (an unsigned 32-bit integer) is required"))?;
    let seq = body.get("MsgSeq").and_then(Value::as_u64).unwrap_or(0);
    let time = body
        .get("MsgTimeStamp")
        .and_then(Value::as_u64)
        .ok_or_else(|| RestError::new(ERR_TIMESTAMP, "MsgTimeStamp (Unix seconds) is required"))?;
    if time > now_secs(state) {
        return Err(RestError::new(ERR_TIMESTAMP, format!("MsgTimeStamp {time} is in the future")));
    }
    let content = content(body)?;
    // Either direction of the same conversation names the same message.
    let conv = ConvKey::c2c(&from, &to).storage_key().to_string();
    let id = super::dedupe_id("v4i", &[&conv, &seq.to_string(), &random.to_string(), &time.to_string()]);
    let activity = state.session(&from).map_err(|e| RestError::new(e.code, e.desc))?;
    activity.session().import_shared(&ConvRef::c2c(&to), &from, id, content, random, time, live).await.map_err(
        |e| match e.code {
            code::ERR_INVALID_PARAMETERS => RestError::new(ERR_TIMESTAMP, e.desc),
            code::ERR_SDK_MSG_BODY_SIZE_LIMIT => RestError::new(ERR_MSG_TOO_LONG, e.desc),
            c if c < 0 || c == code::ERR_INVALID_MSG_ELEM => RestError::new(msg_body::ERR_BODY_FORMAT, e.desc),
            _ => RestError::new(e.code, e.desc),
        },
    )?;
    Ok(Map::new())
}

/// One `MsgList` item of `import_group_msg`: its result code, and the message when imported.
async fn import_one(
    state: &ServiceState,
    admin: &crate::service::sessions::ActivityGuard,
    gid: &str,
    item: &Value,
) -> Result<(u64, u64), i32> {
    let from = group_admin::account(item, "From_Account").map_err(|e| e.code)?;
    let time = item.get("SendTime").and_then(Value::as_u64).ok_or(ERR_GROUP_PARAM)?;
    if time > now_secs(state) {
        return Err(ERR_GROUP_PARAM);
    }
    let random = item.get("Random").and_then(Value::as_u64).unwrap_or(0);
    let content = content(item).map_err(|_| ERR_GROUP_PARAM)?;
    let id = super::dedupe_id("v4gi", &[gid, &from, &time.to_string(), &random.to_string()]);
    let r = admin.session().import_shared(&ConvRef::group(gid), &from, id, content, random, time, false).await;
    r.map(|view| (view.message.seq, view.message.server_time)).map_err(|e: TimError| match e.code {
        code::ERR_SDK_MSG_BODY_SIZE_LIMIT => ERR_MSG_TOO_LONG,
        c if c < 0 || c == code::ERR_INVALID_PARAMETERS || c == code::ERR_INVALID_MSG_ELEM => ERR_GROUP_PARAM,
        _ => group_error(e).code,
    })
}

pub async fn import_group_msg(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let gid = group_id(body)?;
    let items = match body.get("MsgList") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_GROUP_IMPORT => a,
        _ => return Err(group_admin::param(format!("MsgList: 1 to {MAX_GROUP_IMPORT} messages"))),
    };
    let admin = admin(state)?;
    if live_group(&admin, &gid).await?.info.kind == GroupKind::AVChatRoom {
        return Err(RestError::new(ERR_GROUP_NOT_ALLOWED, "an AVChatRoom keeps no history to import into"));
    }
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let time = item.get("SendTime").cloned().unwrap_or(Value::Null);
        results.push(match import_one(state, &admin, &gid, item).await {
            Ok((seq, at)) => json!({"MsgSeq": seq, "MsgTime": at, "Result": 0}),
            Err(code) => json!({"MsgSeq": 0, "MsgTime": time, "Result": code}),
        });
    }
    let mut reply = Map::new();
    reply.insert("ImportMsgResult".into(), results.into());
    Ok(reply)
}
