//! `openim`: C2C messages sent by the admin, as itself or as any user (`From_Account`).
//!
//! - `sendmsg`: one message; answers `MsgTime` and `MsgKey` (`<seq>_<random>_<time>`, as
//!   the REST API forms it, with the message's own random: the key `admin_getroammsg` lists
//!   and `admin_msgwithdraw` takes). The same `From_Account`, `To_Account`, `MsgSeq` and
//!   `MsgRandom` again return the message already sent instead of a second one.
//! - `batchsendmsg`: one message to up to 500 users through the batch-send fan-out actor;
//!   answers `MsgKey` and an `ErrorList` of the receivers it failed for.
//!
//! `MsgLifeTime` 0 sends an online-only message (not stored); `CloudCustomData` is kept with
//! the message. Accepted and not acted on, since they concern Tencent's cloud only:
//! `SyncOtherMachine` (the sender's history always has the message), `OfflinePushInfo`,
//! `ForbidCallbackControl`, `SendMsgControl`, `SupportMessageExtension`, `IsNeedReadReceipt`.
//! Every valid user ID is a user: no account needs importing first (see `accounts`).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::envelope::RestError;
use super::msg_body;
use crate::dispatch::{self, ApiCall};
use crate::error::TimError;
use crate::service::ServiceState;
use crate::service::api::CallBody;
use crate::session::Session;

/// `90003` `To_Account` missing or invalid; `90005` `MsgRandom` missing or not an integer;
/// `90008` `From_Account` invalid; `90011` more than 500 receivers; `90026` `MsgLifeTime`
/// over 7 days; `90031` `SyncOtherMachine` not an integer; `90044` `MsgLifeTime` not an
/// integer; `90010` a malformed message; `80002` a message too long.
pub const ERR_TO_ACCOUNT: i32 = 90003;
pub const ERR_MSG_RANDOM: i32 = 90005;
pub const ERR_FROM_ACCOUNT: i32 = 90008;
pub const ERR_TOO_MANY_RECEIVERS: i32 = 90011;
pub const ERR_LIFETIME_RANGE: i32 = 90026;
pub const ERR_SYNC_OTHER_MACHINE: i32 = 90031;
pub const ERR_LIFETIME_TYPE: i32 = 90044;
pub const ERR_MSG_FORMAT: i32 = 90010;
pub const ERR_MSG_TOO_LONG: i32 = 80002;

/// Receivers of one `batchsendmsg` at most.
pub const MAX_BATCH_RECEIVERS: usize = 500;
/// The longest offline lifetime, seconds.
const MAX_LIFETIME_SECS: u64 = 7 * 24 * 3600;

fn u32_key(body: &Value, key: &str, code: i32) -> Result<Option<u32>, RestError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| RestError::new(code, format!("{key} must be an unsigned 32-bit integer"))),
    }
}

/// What `sendmsg` and `batchsendmsg` share: the sender and the message in TIM C API JSON.
struct Outgoing {
    from: String,
    message: Value,
}

fn outgoing(state: &ServiceState, body: &Value, receivers: &str) -> Result<Outgoing, RestError> {
    let from = match body.get("From_Account") {
        None | Some(Value::Null) => state.config.admin.clone(),
        Some(Value::String(s)) if timsg_actors::ids::is_valid_identifier(s) => s.clone(),
        Some(other) => return Err(RestError::new(ERR_FROM_ACCOUNT, format!("From_Account {other} is not a user ID"))),
    };
    let random = u32_key(body, "MsgRandom", ERR_MSG_RANDOM)?
        .ok_or_else(|| RestError::new(ERR_MSG_RANDOM, "MsgRandom (an unsigned 32-bit integer) is required"))?;
    let seq = u32_key(body, "MsgSeq", ERR_MSG_FORMAT)?;
    u32_key(body, "SyncOtherMachine", ERR_SYNC_OTHER_MACHINE)?;
    let online_only = match body.get("MsgLifeTime") {
        None | Some(Value::Null) => false,
        Some(v) => match v.as_u64() {
            Some(s) if s > MAX_LIFETIME_SECS => {
                return Err(RestError::new(ERR_LIFETIME_RANGE, format!("MsgLifeTime {s} is over 7 days")));
            }
            Some(s) => s == 0,
            None => return Err(RestError::new(ERR_LIFETIME_TYPE, "MsgLifeTime must be an integer")),
        },
    };
    let custom = match body.get("CloudCustomData") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(RestError::new(ERR_MSG_FORMAT, "CloudCustomData must be a string")),
    };
    let elements = msg_body::to_elements(body.get("MsgBody"))?;
    // The same sender, receivers, MsgSeq and MsgRandom name the same message: sent again, the
    // one already stored is the answer (the REST API's dedupe).
    let id = super::dedupe_id("v4", &[&from, receivers, &format!("{seq:?}"), &random.to_string()]);
    let message = json!({
        "message_elem_array": elements,
        "message_cloud_custom_str": custom,
        "message_is_online_msg": online_only,
        "message_msg_id": id,
    });
    Ok(Outgoing { from, message })
}

/// A dispatcher refusal as a REST error.
pub(super) fn rest_error(code: i32, desc: String) -> RestError {
    let code = match code {
        8001 => ERR_MSG_TOO_LONG,
        7003 => ERR_TO_ACCOUNT,
        6016 | 6017 | -3 | -4 => ERR_MSG_FORMAT,
        other => other,
    };
    RestError::new(code, desc)
}

/// Runs one dispatcher call as `user` and returns its `json_params`; `refusal` turns a TIM
/// code into the command's.
pub(super) async fn call_as(
    state: &ServiceState,
    user: &str,
    call: ApiCall<'_>,
    refusal: fn(i32, String) -> RestError,
) -> Result<Value, RestError> {
    let activity = state.session(user).map_err(|e: TimError| refusal(e.code, e.desc))?;
    let session: &Arc<Session> = activity.session();
    let accepted = dispatch::begin(session, &call).map_err(|e| refusal(e.code, e.desc))?;
    let r = accepted.completion.await;
    // In cluster mode a conversation another node owns is served there (see `forward`).
    let r = match state.forwarding {
        Some(_) => {
            let body = CallBody::of(&call);
            crate::service::forward::served_by_owner(state, user, call.api, &body, r).await
        }
        None => r,
    };
    if r.code != 0 {
        return Err(refusal(r.code, r.desc));
    }
    Ok(serde_json::from_str(&r.json_params).unwrap_or(Value::Null))
}

/// The time and the `<seq>_<random>_<time>` key of a message (its view as the C API gives it).
pub fn msg_key(message: &Value, random: u64) -> (u64, String) {
    let time = message["message_server_time"].as_u64().unwrap_or(0);
    let seq = message["message_seq"].as_u64().unwrap_or(0);
    (time, format!("{seq}_{random}_{time}"))
}

pub async fn sendmsg(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let to = match body.get("To_Account") {
        Some(Value::String(s)) if timsg_actors::ids::is_valid_identifier(s) => s.clone(),
        _ => return Err(RestError::new(ERR_TO_ACCOUNT, "To_Account (a user ID) is required")),
    };
    let out = outgoing(state, body, &to)?;
    let json = out.message.to_string();
    let call =
        ApiCall { api: "TIMMsgSendMessage", conv_id: Some(&to), conv_type: 1, json: &json, ..Default::default() };
    let sent = call_as(state, &out.from, call, rest_error).await?;
    let (time, key) = msg_key(&sent, sent["message_rand"].as_u64().unwrap_or(0));
    let mut reply = Map::new();
    reply.insert("MsgTime".into(), time.into());
    reply.insert("MsgKey".into(), key.into());
    Ok(reply)
}

pub async fn batchsendmsg(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let to: Vec<String> = match body.get("To_Account") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| RestError::new(ERR_TO_ACCOUNT, "To_Account must be an array of user IDs"))?,
        _ => return Err(RestError::new(ERR_TO_ACCOUNT, "To_Account (an array of user IDs) is required")),
    };
    if to.len() > MAX_BATCH_RECEIVERS {
        return Err(RestError::new(
            ERR_TOO_MANY_RECEIVERS,
            format!("To_Account names {} users: at most {MAX_BATCH_RECEIVERS}", to.len()),
        ));
    }
    let out = outgoing(state, body, &to.join("\u{1}"))?;
    let param =
        json!({"msg_batch_send_param_identifier_array": to, "msg_batch_send_param_msg": out.message}).to_string();
    let call = ApiCall { api: "TIMMsgBatchSend", json: &param, ..Default::default() };
    let results = call_as(state, &out.from, call, rest_error).await?;
    let mut errors = Vec::new();
    let mut key = None;
    for r in results.as_array().into_iter().flatten() {
        let code = r["msg_batch_send_result_code"].as_i64().unwrap_or(0);
        if code == 0 {
            let m = &r["msg_batch_send_result_msg"];
            key = key.or_else(|| Some(msg_key(m, m["message_rand"].as_u64().unwrap_or(0))));
        } else {
            errors.push(json!({"To_Account": r["msg_batch_send_result_identifier"], "ErrorCode": code}));
        }
    }
    let mut reply = Map::new();
    if let Some((time, key)) = key {
        reply.insert("MsgTime".into(), time.into());
        reply.insert("MsgKey".into(), key.into());
    }
    if !errors.is_empty() {
        reply.insert("ErrorList".into(), errors.into());
    }
    Ok(reply)
}

/// `querystate` (the legacy name) and `query_online_status`: `Online` for a user with a live
/// session (a WebSocket, a recent call, a logged-in SDK), else `Offline`; both `Status` and
/// `State` are given, as the two generations of clients read one or the other.
pub fn query_online_status(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let users = match body.get("To_Account") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_BATCH_RECEIVERS => a,
        Some(Value::Array(a)) if a.len() > MAX_BATCH_RECEIVERS => {
            return Err(RestError::new(ERR_TOO_MANY_RECEIVERS, "To_Account names more than 500 users"));
        }
        _ => return Err(RestError::new(ERR_TO_ACCOUNT, "To_Account (an array of user IDs) is required")),
    };
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for u in users {
        match u.as_str().filter(|u| timsg_actors::ids::is_valid_identifier(u)) {
            Some(user) => {
                let status = if state.runtime.engine().is_online(user) { "Online" } else { "Offline" };
                results.push(json!({"To_Account": user, "Status": status, "State": status}));
            }
            None => errors.push(json!({"To_Account": u, "ErrorCode": 70107})),
        }
    }
    let mut reply = Map::new();
    reply.insert("QueryResult".into(), results.into());
    if !errors.is_empty() {
        reply.insert("ErrorList".into(), errors.into());
    }
    Ok(reply)
}
