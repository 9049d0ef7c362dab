//! The REST reply: `ActionStatus`, `ErrorCode`, `ErrorInfo` and the command's own keys, with
//! HTTP 200 whatever the outcome (clients read the code, not the status).

use actix_web::HttpResponse;
use serde_json::{Map, Value};

/// `93000`: the request is larger than the service takes.
pub const ERR_BODY_TOO_LONG: i32 = 93000;

/// A failed command: its REST error code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError {
    pub code: i32,
    pub info: String,
}

impl RestError {
    pub fn new(code: i32, info: impl Into<String>) -> RestError {
        RestError { code, info: info.into() }
    }
}

/// The reply of a command: its keys beside the envelope's.
pub fn reply(outcome: Result<Map<String, Value>, RestError>) -> HttpResponse {
    let mut body = Map::new();
    match outcome {
        Ok(keys) => {
            body.insert("ActionStatus".into(), "OK".into());
            body.insert("ErrorCode".into(), 0.into());
            body.insert("ErrorInfo".into(), "".into());
            body.extend(keys);
        }
        Err(e) => {
            body.insert("ActionStatus".into(), "FAIL".into());
            body.insert("ErrorCode".into(), e.code.into());
            body.insert("ErrorInfo".into(), e.info.into());
        }
    }
    HttpResponse::Ok().content_type("application/json").body(Value::Object(body).to_string())
}
