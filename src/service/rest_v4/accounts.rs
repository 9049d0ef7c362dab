//! `im_open_login_svc`: the app's account registry — `account_import`,
//! `multiaccount_import`, `account_delete`, `account_check` — and `kick`.
//!
//! On timsg every valid user ID is a user: importing is not needed to log in or to receive.
//! The registry keeps what the app imported (nickname, face URL) so `account_check` answers
//! as the REST API does. `kick` revokes every UserSig of the user made before it, to the second (70052 at
//! their next use), closes its WebSockets and ends its session; a new UserSig logs in. It
//! takes any user ID, imported or not (a user that can log in can be kicked). Deleting an
//! account un-imports it and revokes its UserSigs the same way.

use serde_json::{Map, Value, json};
use timsg_actors::ids::is_valid_identifier;

use super::envelope::RestError;
use crate::error::TimError;
use crate::service::ServiceState;

/// `70402`: a parameter is missing or wrong; `40601`: a profile value over 500 bytes;
/// `70206`: more accounts than one request takes; `70107`: the account was not imported.
pub const ERR_ACCOUNT_PARAM: i32 = 70402;
pub const ERR_PROFILE_TOO_LONG: i32 = 40601;
pub const ERR_TOO_MANY_ACCOUNTS: i32 = 70206;
pub const ERR_NOT_IMPORTED: i32 = 70107;
/// Accounts one request names at most.
const MAX_ACCOUNTS: usize = 100;
/// The longest nickname or face URL, in bytes.
const MAX_PROFILE_VALUE: usize = 500;

fn param(info: impl Into<String>) -> RestError {
    RestError::new(ERR_ACCOUNT_PARAM, info)
}

fn stored(e: TimError) -> RestError {
    RestError::new(e.code, e.desc)
}

/// The user ID under `UserID` (or the legacy `Identifier`).
fn user_id(item: &Value) -> Option<String> {
    ["UserID", "Identifier"]
        .iter()
        .find_map(|k| item.get(*k).and_then(Value::as_str))
        .filter(|u| is_valid_identifier(u))
        .map(str::to_string)
}

fn profile_value(item: &Value, key: &str) -> Result<String, RestError> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.len() <= MAX_PROFILE_VALUE => Ok(s.clone()),
        Some(Value::String(_)) => {
            Err(RestError::new(ERR_PROFILE_TOO_LONG, format!("{key} is over {MAX_PROFILE_VALUE} bytes")))
        }
        Some(_) => Err(param(format!("{key} must be a string"))),
    }
}

/// The items of an array under `key`, at most [`MAX_ACCOUNTS`].
fn items<'a>(body: &'a Value, key: &str) -> Result<&'a [Value], RestError> {
    match body.get(key) {
        Some(Value::Array(a)) if a.len() > MAX_ACCOUNTS => {
            Err(RestError::new(ERR_TOO_MANY_ACCOUNTS, format!("{key} names {}: at most {MAX_ACCOUNTS}", a.len())))
        }
        Some(Value::Array(a)) if !a.is_empty() => Ok(a),
        _ => Err(param(format!("{key} (an array) is required"))),
    }
}

fn now_secs(state: &ServiceState) -> u64 {
    state.runtime.engine().now_ms() / 1000
}

async fn import(state: &ServiceState, item: &Value) -> Result<(), RestError> {
    let user = user_id(item).ok_or_else(|| param("UserID (1 to 32 bytes, a valid user ID) is required"))?;
    let (nick, face) = (profile_value(item, "Nick")?, profile_value(item, "FaceUrl")?);
    state.runtime.engine().import_account(&user.as_str().into(), nick, face).await.map_err(|e| stored(e.into()))
}

pub async fn account_import(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    import(state, body).await?;
    Ok(Map::new())
}

/// `Accounts` (IDs) or the newer `AccountList` (`{UserID, Nick, FaceUrl}`): those it could not
/// import in `FailAccounts`.
pub async fn multiaccount_import(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let listed: Vec<Value> = match (body.get("Accounts"), body.get("AccountList")) {
        (Some(_), _) => items(body, "Accounts")?.iter().map(|id| json!({"UserID": id})).collect(),
        (None, Some(_)) => items(body, "AccountList")?.to_vec(),
        (None, None) => return Err(param("Accounts (an array of user IDs) is required")),
    };
    let mut failed = Vec::new();
    for item in &listed {
        if import(state, item).await.is_err() {
            failed.push(item.get("UserID").cloned().unwrap_or(Value::Null));
        }
    }
    let mut reply = Map::new();
    reply.insert("FailAccounts".into(), failed.into());
    Ok(reply)
}

pub async fn account_delete(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let mut results = Vec::new();
    for item in items(body, "DeleteItem")? {
        let shown = item.get("UserID").cloned().unwrap_or(Value::Null);
        let (code, info) = match user_id(item) {
            None => (ERR_ACCOUNT_PARAM, "not a user ID".to_string()),
            Some(user) => match state.runtime.engine().account(&user).map_err(|e| stored(e.into()))? {
                Some(a) if a.imported => {
                    state.revoke_sigs(&user, now_secs(state), true).await.map_err(stored)?;
                    (0, String::new())
                }
                _ => (ERR_NOT_IMPORTED, "Err_TLS_PT_Open_Login_Account_Not_Exist".to_string()),
            },
        };
        results.push(json!({"UserID": shown, "ResultCode": code, "ResultInfo": info}));
    }
    let mut reply = Map::new();
    reply.insert("ResultItem".into(), results.into());
    Ok(reply)
}

pub async fn account_check(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let mut results = Vec::new();
    for item in items(body, "CheckItem")? {
        let shown = item.get("UserID").cloned().unwrap_or(Value::Null);
        results.push(match user_id(item) {
            None => json!({"UserID": shown, "ResultCode": ERR_ACCOUNT_PARAM, "ResultInfo": "not a user ID"}),
            Some(user) => {
                let imported =
                    state.runtime.engine().account(&user).map_err(|e| stored(e.into()))?.is_some_and(|a| a.imported);
                json!({"UserID": shown, "ResultCode": 0, "ResultInfo": "",
                    "AccountStatus": if imported { "Imported" } else { "NotImported" }})
            }
        });
    }
    let mut reply = Map::new();
    reply.insert("ResultItem".into(), results.into());
    Ok(reply)
}

pub async fn kick(state: &ServiceState, body: &Value) -> Result<Map<String, Value>, RestError> {
    let user = user_id(body).ok_or_else(|| param("UserID (a valid user ID) is required"))?;
    state.revoke_sigs(&user, now_secs(state), false).await.map_err(stored)?;
    Ok(Map::new())
}
