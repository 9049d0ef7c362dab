//! Calls over the event WebSocket. Besides reading events, a client may send text frames
//! `{"id", "api", "conv_id", "conv_type", "param", "opt", "path"}` — the body of
//! `POST /v1/<api>` plus the function's name and an `id` of its choosing — and gets a frame
//! `{"reply": id, "code", "desc", "json_params"}` back for each, as calls complete (not
//! necessarily in the order sent).
//!
//! Why: a call over HTTP pays for its request line, headers, routing and UserSig check each
//! time; on the socket the user was authenticated once, and many calls can be in flight on one
//! connection. Frames are handed to the dispatcher in the order they arrive, so a cancel sent
//! after a send is ordered after it, as over the C ABI. At most [`MAX_IN_FLIGHT`] calls run per
//! connection; beyond that the service stops reading the socket until one completes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::ServiceState;
use super::api::{CallBody, begin_call};
use super::hub::UserHub;
use crate::dispatch::API_TABLE;
use crate::error::TimError;
use crate::session::Session;

/// Calls one connection may have running at once.
pub const MAX_IN_FLIGHT: usize = 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallFrame {
    id: Value,
    api: String,
    #[serde(default)]
    conv_id: Option<String>,
    #[serde(default)]
    conv_type: u32,
    #[serde(default)]
    param: Value,
    #[serde(default)]
    opt: u32,
    #[serde(default)]
    path: Option<String>,
}

/// A reply frame; `json_params` is embedded as JSON when it is JSON (as over HTTP).
fn reply(id: &Value, code: i32, desc: &str, json_params: &str) -> String {
    let params = if json_params.is_empty() {
        Value::String(String::new())
    } else {
        serde_json::from_str(json_params).unwrap_or_else(|_| Value::String(json_params.to_string()))
    };
    json!({"reply": id, "code": code, "desc": desc, "json_params": params}).to_string()
}

/// The reply to a call, ready now (a refusal) or when the call completes.
pub type PendingReply = Pin<Box<dyn Future<Output = String> + Send + 'static>>;

/// Starts the call a client frame carries. A frame that is not a call is answered with a
/// param error (and `"reply": null` when it has no readable id).
pub fn start(state: &ServiceState, session: &Arc<Session>, hub: Arc<UserHub>, frame: &str) -> PendingReply {
    let call: CallFrame = match crate::wire::lenient::from_str(frame) {
        Ok(c) => c,
        Err(e) => {
            let id =
                serde_json::from_str::<Value>(frame).ok().and_then(|v| v.get("id").cloned()).unwrap_or(Value::Null);
            let e = TimError::json(format!("call frame: {e}"));
            return Box::pin(std::future::ready(reply(&id, e.code, &e.desc, "")));
        }
    };
    if !API_TABLE.iter().any(|(name, _)| *name == call.api) {
        let e = TimError::param(format!("no function {:?}; see /v1/openapi.json", call.api));
        return Box::pin(std::future::ready(reply(&call.id, e.code, &e.desc, "")));
    }
    let body = CallBody {
        conv_id: call.conv_id,
        conv_type: call.conv_type,
        param: call.param,
        opt: call.opt,
        path: call.path,
    };
    match begin_call(state, session, hub, &call.api, &body) {
        Ok(begun) => {
            let id = call.id;
            Box::pin(async move {
                let r = begun.completion.await;
                reply(&id, r.code, &r.desc, &r.json_params)
            })
        }
        Err((_, e)) => Box::pin(std::future::ready(reply(&call.id, e.code, &e.desc, ""))),
    }
}
