//! The TIM server REST API v4 on the same service: `POST /v4/<service>/<command>?sdkappid=…
//! &identifier=<admin>&usersig=…&random=…&contenttype=json`, answered — always with HTTP 200 —
//! with `{"ActionStatus":"OK"|"FAIL","ErrorCode":…,"ErrorInfo":…, …}`, so a bot platform's
//! existing server code points at timsg by changing its base URL. Only the admin identity may
//! call it, with its UserSig in the query string. Commands go through the same engine (and
//! dispatcher) as every other way in: a message sent here is the message C SDK users see.
//!
//! - [`envelope`]: the reply shape and the protocol's error codes;
//! - [`accounts`]: `account_import`, `multiaccount_import`, `account_delete`,
//!   `account_check`, `kick`;
//! - [`msg_body`]: `MsgBody` elements to and from the engine's;
//! - [`openim`]: `sendmsg`, `batchsendmsg`, `querystate` / `query_online_status`;
//! - [`c2c_admin`]: `admin_getroammsg`, `admin_msgwithdraw`, `admin_set_msg_read`,
//!   `get_c2c_unread_msg_num`;
//! - [`group_admin`]: `create_group`, `destroy_group`, `add_group_member`,
//!   `delete_group_member`, `get_group_info`, `get_joined_group_list`;
//! - [`group_msg`]: `send_group_msg`, `send_group_system_notification`, `group_msg_recall`,
//!   `group_msg_get_simple`, `delete_group_msg_by_sender`;
//! - [`import`]: `importmsg`, `import_group_msg`;
//! - [`COMMANDS`]: every command, for the metrics and the OpenAPI document.

pub mod accounts;
pub mod c2c_admin;
pub mod envelope;
pub mod group_admin;
pub mod group_msg;
pub mod import;
pub mod msg_body;
pub mod openim;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::ServiceState;
use super::api::read_body;
use super::auth::query_param;
use envelope::{RestError, reply};

/// `60012`: `sdkappid` missing from the URL.
pub const ERR_SDKAPPID_MISSING: i32 = 60012;
/// `70014`: `sdkappid` is not this service's app.
pub const ERR_SDKAPPID_MISMATCH: i32 = 70014;
/// `60010`: the caller is not the admin account.
pub const ERR_ADMIN_REQUIRED: i32 = 60010;
/// `60009`: no such service or command.
pub const ERR_UNKNOWN_COMMAND: i32 = 60009;
/// `90001`: the body is not JSON.
pub const ERR_BODY_JSON: i32 = 90001;
/// `70001` UserSig expired, `70002` empty, `70003` invalid, `70013` made for another user.
pub const ERR_SIG_EXPIRED: i32 = 70001;
pub const ERR_SIG_EMPTY: i32 = 70002;
pub const ERR_SIG_INVALID: i32 = 70003;
pub const ERR_SIG_OTHER_USER: i32 = 70013;

/// Every command served, `("service/command", what it does)`: the dispatch below, the metric
/// labels and the OpenAPI document all come from it.
pub const COMMANDS: &[(&str, &str)] = &[
    ("im_open_login_svc/account_import", "register one account (nickname, face URL)"),
    ("im_open_login_svc/multiaccount_import", "register up to 100 accounts"),
    ("im_open_login_svc/account_delete", "unregister accounts and revoke their UserSigs"),
    ("im_open_login_svc/account_check", "whether accounts are registered"),
    ("im_open_login_svc/kick", "revoke a user's UserSigs and end its sessions"),
    ("openim/sendmsg", "one C2C message, as From_Account or the admin"),
    ("openim/batchsendmsg", "one message to up to 500 users"),
    ("openim/importmsg", "one C2C message from another system, at its own time"),
    ("openim/admin_getroammsg", "C2C history, paged back in time"),
    ("openim/admin_msgwithdraw", "recall a C2C message by MsgKey"),
    ("openim/admin_set_msg_read", "mark a C2C conversation read for a user"),
    ("openim/get_c2c_unread_msg_num", "a user's C2C unread counts"),
    ("openim/querystate", "users' online state (legacy name)"),
    ("openim/query_online_status", "users' online state"),
    ("group_open_http_svc/create_group", "a group, owned by Owner_Account or the admin"),
    ("group_open_http_svc/destroy_group", "dismiss a group"),
    ("group_open_http_svc/add_group_member", "add members to a group"),
    ("group_open_http_svc/delete_group_member", "remove members from a group"),
    ("group_open_http_svc/get_group_info", "groups' profiles and members"),
    ("group_open_http_svc/get_joined_group_list", "the groups a user is in"),
    ("group_open_http_svc/send_group_msg", "a group message, as From_Account or the admin"),
    ("group_open_http_svc/send_group_system_notification", "a system notice to a group's members"),
    ("group_open_http_svc/group_msg_recall", "recall group messages by MsgSeq"),
    ("group_open_http_svc/import_group_msg", "up to 7 group messages from another system, at their own times"),
    ("group_open_http_svc/group_msg_get_simple", "a group's history, newest first"),
    ("group_open_http_svc/delete_group_msg_by_sender", "recall every message of one sender in a group"),
];

/// The message ID of a REST message: `<prefix>-` and 24 hex digits of a SHA-256 of what the
/// REST API dedupes that message on, so the same request again names the same message and the
/// engine answers the one already stored.
pub(crate) fn dedupe_id(prefix: &str, parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(parts.join("\u{0}").as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

/// The metric label of a command: its `service/command`, or `unknown`.
fn label(service: &str, command: &str) -> &'static str {
    COMMANDS
        .iter()
        .map(|(path, _)| *path)
        .find(|path| path.split_once('/') == Some((service, command)))
        .unwrap_or("unknown")
}

async fn group_command(
    state: &ServiceState,
    command: &str,
    body: &Value,
) -> Result<serde_json::Map<String, Value>, RestError> {
    match command {
        "create_group" => group_admin::create_group(state, body).await,
        "destroy_group" => group_admin::destroy_group(state, body).await,
        "add_group_member" => group_admin::add_group_member(state, body).await,
        "delete_group_member" => group_admin::delete_group_member(state, body).await,
        "get_group_info" => group_admin::get_group_info(state, body).await,
        "get_joined_group_list" => group_admin::get_joined_group_list(state, body).await,
        "send_group_msg" => group_msg::send_group_msg(state, body).await,
        "send_group_system_notification" => group_msg::send_group_system_notification(state, body).await,
        "group_msg_recall" => group_msg::group_msg_recall(state, body).await,
        "import_group_msg" => import::import_group_msg(state, body).await,
        "group_msg_get_simple" => group_msg::group_msg_get_simple(state, body).await,
        "delete_group_msg_by_sender" => group_msg::delete_group_msg_by_sender(state, body).await,
        _ => Err(RestError::new(ERR_UNKNOWN_COMMAND, format!("no command group_open_http_svc/{command} here"))),
    }
}

/// Checks the URL's `sdkappid`, `identifier` (the admin) and `usersig`.
fn authenticate(state: &ServiceState, req: &HttpRequest) -> Result<(), RestError> {
    let app = query_param(req, "sdkappid").filter(|a| !a.is_empty());
    let app = app.ok_or_else(|| RestError::new(ERR_SDKAPPID_MISSING, "sdkappid is missing from the URL"))?;
    if app.parse::<u64>().ok() != Some(state.config.sdkappid) {
        return Err(RestError::new(ERR_SDKAPPID_MISMATCH, format!("sdkappid {app} is not this app's")));
    }
    let identifier = query_param(req, "identifier").unwrap_or_default();
    if identifier != state.config.admin {
        return Err(RestError::new(
            ERR_ADMIN_REQUIRED,
            format!("the REST API takes only the admin account as identifier, not {identifier:?}"),
        ));
    }
    let sig = query_param(req, "usersig").filter(|s| !s.is_empty());
    let sig = sig.ok_or_else(|| RestError::new(ERR_SIG_EMPTY, "usersig is missing from the URL"))?;
    let now = state.runtime.engine().now_ms() / 1000;
    let issued = state.verified_sigs.verify_issued(&sig, state.config.sdkappid, &identifier, now).map_err(|e| {
        let code = match e.code {
            6206 => ERR_SIG_EXPIRED,
            70013 => ERR_SIG_OTHER_USER,
            _ => ERR_SIG_INVALID,
        };
        RestError::new(code, e.desc)
    })?;
    super::auth::check_not_revoked(state, &identifier, issued).map_err(|e| RestError::new(e.code, e.desc))
}

/// `POST /v4/{service}/{command}`.
pub async fn call(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<ServiceState>,
) -> HttpResponse {
    let (service, command) = path.into_inner();
    let started = std::time::Instant::now();
    let outcome = run(&req, &service, &command, payload, &state).await;
    let label = label(&service, &command);
    let result = if outcome.is_ok() { "ok" } else { "error" };
    metrics::counter!("timsg_rest_calls_total", "command" => label, "outcome" => result).increment(1);
    metrics::histogram!("timsg_rest_call_seconds", "command" => label).record(started.elapsed().as_secs_f64());
    reply(outcome)
}

async fn run(
    req: &HttpRequest,
    service: &str,
    command: &str,
    payload: web::Payload,
    state: &ServiceState,
) -> Result<serde_json::Map<String, Value>, RestError> {
    authenticate(state, req)?;
    let body = read_body(payload, state.config.max_body)
        .await
        .map_err(|_| RestError::new(envelope::ERR_BODY_TOO_LONG, "the request body is too long"))?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|_| RestError::new(ERR_BODY_JSON, "Fail to Parse json data of body, Please check it"))?;
    let outcome = run_command(state, service, command, &body).await;
    match state.forwarding.as_ref() {
        Some(forwarding) => served_by_owner(state, forwarding, service, command, &body, outcome).await,
        None => outcome,
    }
}

/// `outcome`, or — when the command failed because another node owns its conversation
/// (nothing of it ran here) — the outcome of the command run there, within the call deadline.
/// (A command that reads or writes one conversation: every command but
/// `get_joined_group_list`, which reads only the groups this node's store knows.)
async fn served_by_owner(
    state: &ServiceState,
    forwarding: &crate::cluster::forwarding::Forwarding,
    service: &str,
    command: &str,
    body: &Value,
    mut outcome: Result<serde_json::Map<String, Value>, RestError>,
) -> Result<serde_json::Map<String, Value>, RestError> {
    use crate::cluster::forwarding::{ForwardError, Owner, RETRY_AFTER_OWNER_LOST};
    let until = tokio::time::Instant::now() + forwarding.deadline();
    loop {
        let Err(e) = &outcome else { return outcome };
        let Some(owner) = forwarding.owner(&e.info) else { return outcome };
        if tokio::time::Instant::now() + RETRY_AFTER_OWNER_LOST >= until {
            return outcome;
        }
        outcome = match owner {
            Owner::Nobody => {
                tokio::time::sleep(RETRY_AFTER_OWNER_LOST).await;
                run_command(state, service, command, body).await
            }
            Owner::Node(node) => {
                metrics::counter!("timsg_cluster_calls_forwarded_total").increment(1);
                let left = until.saturating_duration_since(tokio::time::Instant::now());
                match forwarding.forward_rest(&node, service, command, body, left).await {
                    Ok(a) if a.code == 0 => Ok(serde_json::from_str(&a.json_params).unwrap_or_default()),
                    Ok(a) => Err(RestError::new(a.code, a.desc)),
                    // The owner is down: tried again (here, or wherever it moves) shortly.
                    Err(ForwardError::NoOwner(_)) => {
                        tokio::time::sleep(RETRY_AFTER_OWNER_LOST).await;
                        run_command(state, service, command, body).await
                    }
                    Err(ForwardError::Failed(why)) => {
                        return Err(RestError::new(crate::error::code::ERR_DATABASE_OPERATE_FAILED, why));
                    }
                }
            }
        };
    }
}

/// Runs an authenticated command on this node.
pub(crate) async fn run_command(
    state: &ServiceState,
    service: &str,
    command: &str,
    body: &Value,
) -> Result<serde_json::Map<String, Value>, RestError> {
    match (service, command) {
        ("im_open_login_svc", "account_import") => accounts::account_import(state, body).await,
        ("im_open_login_svc", "multiaccount_import") => accounts::multiaccount_import(state, body).await,
        ("im_open_login_svc", "account_delete") => accounts::account_delete(state, body).await,
        ("im_open_login_svc", "account_check") => accounts::account_check(state, body).await,
        ("im_open_login_svc", "kick") => accounts::kick(state, body).await,
        ("openim", "sendmsg") => openim::sendmsg(state, body).await,
        ("openim", "batchsendmsg") => openim::batchsendmsg(state, body).await,
        ("openim", "importmsg") => import::importmsg(state, body).await,
        ("openim", "admin_getroammsg") => c2c_admin::admin_getroammsg(state, body).await,
        ("openim", "admin_msgwithdraw") => c2c_admin::admin_msgwithdraw(state, body).await,
        ("openim", "admin_set_msg_read") => c2c_admin::admin_set_msg_read(state, body).await,
        ("openim", "get_c2c_unread_msg_num") => c2c_admin::get_c2c_unread_msg_num(state, body).await,
        ("openim", "querystate" | "query_online_status") => openim::query_online_status(state, body),
        ("group_open_http_svc", command) => group_command(state, command, body).await,
        _ => Err(RestError::new(ERR_UNKNOWN_COMMAND, format!("no command {service}/{command} here"))),
    }
}
