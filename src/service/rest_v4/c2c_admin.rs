//! `openim` commands on a C2C conversation as one of its users: `admin_getroammsg` (history,
//! paged back in time), `admin_msgwithdraw` (recall, no time limit), `admin_set_msg_read` and
//! `get_c2c_unread_msg_num`.

use serde_json::{Map, Value, json};
use timsg_actors::history::{HistoryAnchor, HistoryQuery, MessageTarget};
use timsg_actors::ids::{ConvRef, is_valid_identifier};
use timsg_actors::member::ViewKind;

use super::envelope::RestError;
use super::msg_body;
use super::openim::{ERR_FROM_ACCOUNT, ERR_TO_ACCOUNT, msg_key};
use crate::error::TimError;
use crate::service::ServiceState;

/// `90054`: the `MsgKey` names no message; `20022` the message is not found; `20023` it was
/// recalled already.
pub const ERR_MSG_KEY: i32 = 90054;
pub const ERR_RECALL_NOT_FOUND: i32 = 20022;
pub const ERR_RECALL_DONE: i32 = 20023;
/// `Peer_Account` of `get_c2c_unread_msg_num` names at most this many users.
pub const MAX_UNREAD_PEERS: usize = 10;
/// Messages read from the store per step of `admin_getroammsg`.
const ROAM_STEP: usize = 100;

/// A user ID under `key` (or its legacy name), or `code`.
fn account(body: &Value, keys: &[&str], code: i32) -> Result<String, RestError> {
    keys.iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .filter(|id| is_valid_identifier(id))
        .map(str::to_string)
        .ok_or_else(|| RestError::new(code, format!("{} (a user ID) is required", keys[0])))
}

fn tim(e: TimError) -> RestError {
    RestError::new(e.code, e.desc)
}

/// The seq a `MsgKey` (`<seq>_<random>_<time>`) names.
fn seq_of_key(key: &str) -> Option<u64> {
    let mut parts = key.split('_');
    let seq = parts.next()?.parse().ok().filter(|s| *s > 0)?;
    let (_random, _time): (u64, u64) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    parts.next().is_none().then_some(seq)
}

pub async fn admin_msgwithdraw(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let from = account(body, &["From_Account"], ERR_FROM_ACCOUNT)?;
    let to = account(body, &["To_Account"], ERR_TO_ACCOUNT)?;
    let seq = body
        .get("MsgKey")
        .and_then(Value::as_str)
        .and_then(seq_of_key)
        .ok_or_else(|| RestError::new(ERR_MSG_KEY, "MsgKey is not a key this API answered"))?;
    let activity = state.session(&from).map_err(tim)?;
    match activity.session().withdraw_as_admin(&ConvRef::c2c(&to), MessageTarget::Seq(seq)).await {
        Ok(()) => Ok(Map::new()),
        Err(e) if e.code == crate::error::code::ERR_SDK_COMM_DATABASE_NOTFOUND => {
            Err(RestError::new(ERR_RECALL_NOT_FOUND, e.desc))
        }
        Err(e) if e.desc.contains("already revoked") => Err(RestError::new(ERR_RECALL_DONE, e.desc)),
        Err(e) => Err(tim(e)),
    }
}

/// A message as `admin_getroammsg` lists it.
fn roam_item(owner: &str, peer: &str, m: &Value) -> Value {
    let sender = m["message_sender"].as_str().unwrap_or_default();
    let to = if sender == owner { peer } else { owner };
    let random = m["message_rand"].as_u64().unwrap_or(0);
    let (time, key) = msg_key(m, random);
    json!({
        "From_Account": sender,
        "To_Account": to,
        "MsgSeq": m["message_seq"],
        "MsgRandom": random,
        "MsgTimeStamp": time,
        "MsgFlagBits": if m["message_status"] == 6 { 8 } else { 0 },
        "IsPeerRead": u8::from(m["message_is_peer_read"].as_bool().unwrap_or(false)),
        "MsgKey": key,
        "MsgBody": msg_body::from_elements(&m["message_elem_array"]),
        "CloudCustomData": m["message_cloud_custom_str"],
    })
}

pub async fn admin_getroammsg(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let owner = account(body, &["Operator_Account", "From_Account"], ERR_FROM_ACCOUNT)?;
    let peer = account(body, &["Peer_Account", "To_Account"], ERR_TO_ACCOUNT)?;
    let number = |k: &str| body.get(k).and_then(Value::as_u64);
    let max = number("MaxCnt").filter(|n| *n > 0).ok_or_else(|| RestError::new(90010, "MaxCnt is required"))? as usize;
    let (min_time, max_time) = (number("MinTime").unwrap_or(0), number("MaxTime").unwrap_or(u64::MAX));
    // Continuing: the page before the last one's oldest message.
    let mut anchor = match body.get("LastMsgKey").and_then(Value::as_str).filter(|k| !k.is_empty()) {
        Some(k) => Some(seq_of_key(k).ok_or_else(|| RestError::new(ERR_MSG_KEY, "LastMsgKey is not a key"))?),
        None => None,
    };
    let activity = state.session(&owner).map_err(tim)?;
    let conv = ConvRef::c2c(&peer);
    let mut page: Vec<Value> = Vec::new();
    let mut complete = true;
    'walk: loop {
        let query = HistoryQuery {
            anchor: anchor.map_or(HistoryAnchor::None, |seq| HistoryAnchor::Message(MessageTarget::Seq(seq))),
            count: ROAM_STEP,
            view: ViewKind::Roaming,
            ..Default::default()
        };
        let views = activity.session().get_msg_list(&conv, query).await.map_err(tim)?;
        for v in &views {
            anchor = Some(v.message.seq).filter(|s| *s > 0).or(anchor);
            let time = v.message.server_time;
            if time > max_time || v.message.seq == 0 {
                continue;
            }
            if time < min_time {
                break 'walk;
            }
            if page.len() == max {
                complete = false;
                break 'walk;
            }
            page.push(roam_item(&owner, &peer, &crate::wire::view_to_json(v)));
        }
        if views.len() < ROAM_STEP {
            break;
        }
    }
    // Newest first as read; a page lists them oldest first.
    page.reverse();
    let mut reply = Map::new();
    reply.insert("Complete".into(), u8::from(complete).into());
    reply.insert("MsgCnt".into(), page.len().into());
    if let Some(oldest) = page.first() {
        reply.insert("LastMsgTime".into(), oldest["MsgTimeStamp"].clone());
        reply.insert("LastMsgKey".into(), oldest["MsgKey"].clone());
    }
    reply.insert("MsgList".into(), page.into());
    Ok(reply)
}

pub async fn admin_set_msg_read(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let reader = account(body, &["Report_Account"], ERR_FROM_ACCOUNT)?;
    let peer = account(body, &["Peer_Account"], ERR_TO_ACCOUNT)?;
    let activity = state.session(&reader).map_err(tim)?;
    let conv = ConvRef::c2c(&peer);
    // `MsgReadTime` (a number or a string of one): what came up to then is read; absent, all.
    let until = match body.get("MsgReadTime") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Some(s.parse::<u64>().map_err(|_| RestError::new(90010, "MsgReadTime is not a time"))?)
        }
        Some(v) => Some(v.as_u64().ok_or_else(|| RestError::new(90010, "MsgReadTime is not a time"))?),
    };
    let target = match until {
        None => None,
        Some(t) => {
            let query = HistoryQuery { count: 1, view: ViewKind::Roaming, time_begin: t, ..Default::default() };
            let newest = activity.session().get_msg_list(&conv, query).await.map_err(tim)?;
            match newest.first() {
                Some(m) => Some(MessageTarget::Seq(m.message.seq)),
                None => return Ok(Map::new()),
            }
        }
    };
    activity.session().report_readed(&conv, target).await.map_err(tim)?;
    Ok(Map::new())
}

pub async fn get_c2c_unread_msg_num(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let owner = account(body, &["To_Account"], ERR_TO_ACCOUNT)?;
    let activity = state.session(&owner).map_err(tim)?;
    let session = activity.session();
    let mut reply = Map::new();
    match body.get("Peer_Account") {
        None | Some(Value::Null) => {
            let mut all = 0;
            for key in session.engine().conversations_of(&owner).map_err(|e| tim(e.into()))? {
                let seen = key.as_seen_by(&owner);
                if seen.conv_type == timsg_actors::ids::ConvType::C2c {
                    all += session.unread_count(&seen).await.map_err(tim)?;
                }
            }
            reply.insert("AllC2CUnreadMsgNum".into(), all.into());
        }
        Some(Value::Array(peers)) if peers.len() <= MAX_UNREAD_PEERS => {
            let (mut counts, mut errors) = (Vec::new(), Vec::new());
            for p in peers {
                match p.as_str().filter(|p| is_valid_identifier(p)) {
                    Some(peer) => {
                        let n = session.unread_count(&ConvRef::c2c(peer)).await.map_err(tim)?;
                        counts.push(json!({"Peer_Account": peer, "C2CUnreadMsgNum": n}));
                    }
                    None => errors.push(json!({"Peer_Account": p, "ErrorCode": 70107})),
                }
            }
            reply.insert("C2CUnreadMsgNumList".into(), counts.into());
            if !errors.is_empty() {
                reply.insert("ErrorList".into(), errors.into());
            }
        }
        Some(_) => {
            return Err(RestError::new(
                90010,
                format!("Peer_Account is an array of at most {MAX_UNREAD_PEERS} user IDs"),
            ));
        }
    }
    Ok(reply)
}
