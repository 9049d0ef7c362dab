//! `POST /v1/<TIM function>`: the same arguments as the C call, as JSON —
//! `{"conv_id", "conv_type", "param", "opt", "path"}` (`param` is the C call's JSON argument,
//! as an object, an array or a string) — answered with `{code, desc, json_params}` through the
//! same dispatcher as the C ABI. Synchronous refusals (negative codes) come with HTTP 400,
//! authentication failures 401/403, bodies over 1 MB 413 with 9522.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use serde_json::Value;

use super::ServiceState;
use super::auth::authenticate;
use crate::dispatch::{self, API_TABLE};
use crate::error::{TimError, code};
use crate::wire::params::MsgDownloadElemResult;

/// `ERR_SDK_NET_PKG_SIZE_LIMIT`: the request is over 1 MB.
pub const ERR_SDK_NET_PKG_SIZE_LIMIT: i32 = 9522;

pub use crate::dispatch::CallBody;

/// A call's answer as JSON text: `{"code", "desc", "json_params"}`, with `lead` (such as
/// `"reply":7,`) first. `json_params` is embedded as it is when it is JSON — checked, not
/// parsed into a tree and written out again, which for a sent message's view was a third of
/// the cost of a WebSocket reply — and as a string otherwise.
pub fn answer_text(lead: &str, code: i32, desc: &str, json_params: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(lead.len() + desc.len() + json_params.len() + 48);
    out.push('{');
    out.push_str(lead);
    let _ = write!(out, r#""code":{code},"desc":{},"json_params":"#, Value::from(desc));
    if !json_params.is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(json_params).is_ok() {
        out.push_str(json_params);
    } else {
        let _ = write!(out, "{}", Value::from(json_params));
    }
    out.push('}');
    out
}

/// Refuses a name that is not one of the dispatcher's functions.
pub fn known_function(api: &str) -> Result<(), TimError> {
    if API_TABLE.iter().any(|(name, _)| *name == api) {
        Ok(())
    } else {
        Err(TimError::param(format!("no function {api:?}; see /v1/openapi.json")))
    }
}

/// `{code, desc, json_params}` with the given HTTP status (see [`answer_text`]).
pub fn answer(status: StatusCode, code: i32, desc: &str, json_params: &str) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").body(answer_text("", code, desc, json_params))
}

pub fn refuse(status: StatusCode, e: &TimError) -> HttpResponse {
    answer(status, e.code, &e.desc, "")
}

/// Reads a body of at most `limit` bytes.
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, HttpResponse> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| refuse(StatusCode::BAD_REQUEST, &TimError::param(format!("cannot read the body: {e}"))))?;
        if body.len() + chunk.len() > limit {
            let e = TimError::new(ERR_SDK_NET_PKG_SIZE_LIMIT, format!("the request body is over {limit} bytes"));
            return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, &e));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub async fn call(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<ServiceState>,
) -> HttpResponse {
    let api = path.into_inner();
    if let Err(e) = known_function(&api) {
        return refuse(StatusCode::NOT_FOUND, &e);
    }
    let user = match authenticate(&state, &req) {
        Ok(u) => u,
        Err(r) => return refuse(r.status, &r.error),
    };
    let body = match read_body(payload, state.config.max_body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let call_body: CallBody = if body.iter().all(u8::is_ascii_whitespace) {
        CallBody::default()
    } else {
        match crate::wire::lenient::from_str(std::str::from_utf8(&body).unwrap_or("\u{fffd}")) {
            Ok(b) => b,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &TimError::json(format!("request body: {e}"))),
        }
    };
    // Held until the call is answered: the user's session does not end for idleness meanwhile.
    let activity = match state.session(&user) {
        Ok(a) => a,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    let begun = match begin_call(&state, activity.session(), activity.hub().clone(), &api, &call_body) {
        Ok(b) => b,
        Err((status, e)) => return refuse(status, &e),
    };
    let r = begun.completion.await;
    drop(activity);
    let owned_elsewhere = super::forward::owned_elsewhere(&r);
    let r = super::forward::served_by_owner(&state, &user, &api, &call_body, r).await;
    let mut resp = answer(StatusCode::OK, r.code, &r.desc, &r.json_params);
    // Served by another node, a sent message has the ID that node gave it.
    let message_id = match owned_elsewhere {
        true => serde_json::from_str::<Value>(&r.json_params)
            .ok()
            .and_then(|v| v["message_msg_id"].as_str().map(String::from))
            .or(begun.message_id),
        false => begun.message_id,
    };
    if let Some(id) = message_id
        && let Ok(v) = id.parse()
    {
        resp.headers_mut().insert(actix_web::http::header::HeaderName::from_static("x-tim-message-id"), v);
    }
    resp
}

/// A call handed to the dispatcher: its outcome comes through `completion`.
pub struct BegunCall {
    pub message_id: Option<String>,
    pub completion: dispatch::Completion,
}

/// Hands `api` with `body` to the dispatcher for `session` (the op is queued in order before
/// this returns, so a later call is ordered after it); download progress goes to the user's
/// event stream. A refusal comes with the HTTP status it answers with.
pub fn begin_call(
    state: &ServiceState,
    session: &std::sync::Arc<crate::session::Session>,
    hub: std::sync::Arc<super::hub::UserHub>,
    api: &str,
    body: &CallBody,
) -> Result<BegunCall, (StatusCode, TimError)> {
    let json = dispatch::argument_text(&body.param);
    let call = body.as_call(api, &json);
    let accepted = match dispatch::begin(session, &call) {
        Ok(a) => a,
        Err(e) if e.is_synchronous() => return Err((StatusCode::BAD_REQUEST, e)),
        Err(e) => return Err((StatusCode::OK, e)),
    };
    let dispatch::Accepted { message_id, progress, completion } = accepted;
    if let Some(mut progress) = progress {
        let engine = state.runtime.engine().clone();
        let user = session.user_id().to_string();
        actix_web::rt::spawn(async move {
            while let Some((current, total)) = progress.recv().await {
                let body = MsgDownloadElemResult::progress(current, total).to_string();
                match engine.cluster() {
                    // In cluster mode the user's sockets read the events stream, perhaps on
                    // another node.
                    Some(cluster) => drop(cluster.publish_event(&user, "DownloadProgress", body)),
                    None => hub.push(engine.stamp(), "DownloadProgress", &body),
                }
            }
        });
    }
    Ok(BegunCall { message_id, completion })
}

/// Any other path or method.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let known_post = req.path().strip_prefix("/v1/").is_some_and(|api| API_TABLE.iter().any(|(n, _)| *n == api));
    if known_post {
        let e = TimError::param(format!("{} takes POST", req.path()));
        return refuse(StatusCode::METHOD_NOT_ALLOWED, &e);
    }
    refuse(
        StatusCode::NOT_FOUND,
        &TimError::new(code::TIM_ERR_PARAM, format!("no endpoint {} {}", req.method(), req.path())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn an_answer_embeds_json_params_that_are_json_and_quotes_the_rest() {
        let sent = r#"{"message_msg_id": "a\"b", "n": [1, 2]}"#;
        let text = answer_text(r#""reply":7,"#, 0, "", sent);
        assert_eq!(
            parsed(&text),
            serde_json::json!({"reply": 7, "code": 0, "desc": "", "json_params": {"message_msg_id": "a\"b", "n": [1, 2]}})
        );
        let refused = answer_text("", 6017, "bad \"param\"\n", "not json {");
        assert_eq!(
            parsed(&refused),
            serde_json::json!({"code": 6017, "desc": "bad \"param\"\n", "json_params": "not json {"})
        );
        // Two values, or none, are not one JSON document: quoted too.
        assert_eq!(parsed(&answer_text("", 0, "", "1 2"))["json_params"], "1 2");
        assert_eq!(parsed(&answer_text("", 0, "", ""))["json_params"], "");
    }
}
