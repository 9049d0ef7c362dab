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

use serde_json::{Map, Value};

use super::ServiceState;
use super::api::{CallBody, answer_text, begin_call, known_function};
use super::hub::UserHub;
use crate::error::TimError;
use crate::session::Session;

/// Calls one connection may have running at once.
pub const MAX_IN_FLIGHT: usize = 1024;

/// A reply frame.
fn reply(id: &Value, code: i32, desc: &str, json_params: &str) -> String {
    answer_text(&format!(r#""reply":{id},"#), code, desc, json_params)
}

/// A call frame read apart: its id, its function, and the rest as the body of `POST /v1/<api>`
/// (the same type, so the same keys are accepted and unknown ones refused). A frame that is
/// not a call gives the error and the id, if it had one.
pub fn read_frame(frame: &str) -> Result<(Value, String, CallBody), (Value, TimError)> {
    let bad = |id: Value, e: String| (id, TimError::json(format!("call frame: {e}")));
    let mut fields: Map<String, Value> =
        crate::wire::lenient::from_str(frame).map_err(|e| bad(Value::Null, e.to_string()))?;
    let id = fields.remove("id").ok_or_else(|| bad(Value::Null, "missing field `id`".into()))?;
    let api = match fields.remove("api") {
        Some(Value::String(api)) => api,
        Some(_) => return Err(bad(id, "`api` is not a string".into())),
        None => return Err(bad(id, "missing field `api`".into())),
    };
    match serde_json::from_value::<CallBody>(Value::Object(fields)) {
        Ok(body) => Ok((id, api, body)),
        Err(e) => Err(bad(id, e.to_string())),
    }
}

/// The reply to a call, ready now (a refusal) or when the call completes.
pub type PendingReply = Pin<Box<dyn Future<Output = String> + Send + 'static>>;

/// Starts the call a client frame carries. A frame that is not a call is answered with a
/// param error (and `"reply": null` when it has no readable id).
pub fn start(
    state: &actix_web::web::Data<ServiceState>,
    session: &Arc<Session>,
    hub: Arc<UserHub>,
    frame: &str,
) -> PendingReply {
    let (id, api, body) = match read_frame(frame) {
        Ok(call) => call,
        Err((id, e)) => return Box::pin(std::future::ready(reply(&id, e.code, &e.desc, ""))),
    };
    if let Err(e) = known_function(&api) {
        return Box::pin(std::future::ready(reply(&id, e.code, &e.desc, "")));
    }
    match begin_call(state, session, hub, &api, &body) {
        Ok(begun) => {
            let (state, user) = (state.clone(), session.user_id().to_string());
            Box::pin(async move {
                let r = begun.completion.await;
                let r = super::forward::served_by_owner(&state, &user, &api, &body, r).await;
                reply(&id, r.code, &r.desc, &r.json_params)
            })
        }
        Err((_, e)) => Box::pin(std::future::ready(reply(&id, e.code, &e.desc, ""))),
    }
}
