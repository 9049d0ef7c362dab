//! Media over HTTP: `PUT /v1/blobs` stores the body and answers its hash and URL;
//! `GET /v1/blobs/<sha256>` serves a stored blob, with Range requests. Both need a valid UserSig.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::ServiceState;
use super::api::{read_body, refuse};
use super::auth::authenticate;
use crate::error::TimError;

/// Largest blob taken over HTTP: the largest media file the SDK allows (video, file).
pub const MAX_BLOB: usize = 100 * 1024 * 1024;

pub async fn put(req: HttpRequest, payload: web::Payload, state: web::Data<ServiceState>) -> HttpResponse {
    if let Err(r) = authenticate(&state, &req) {
        return refuse(r.status, &r.error);
    }
    let body = match read_body(payload, MAX_BLOB).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    if body.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, &TimError::new(7006, "the blob is empty"));
    }
    let blobs = state.runtime.engine().blobs();
    match blobs.put_bytes(&body) {
        Ok(info) => {
            HttpResponse::Created().json(json!({"hash": info.hash, "size": info.size, "url": blobs.url_of(&info.hash)}))
        }
        Err(e) => {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, &TimError::new(6008, format!("cannot store the blob: {e}")))
        }
    }
}

pub async fn get(req: HttpRequest, hash: web::Path<String>, state: web::Data<ServiceState>) -> HttpResponse {
    if let Err(r) = authenticate(&state, &req) {
        return refuse(r.status, &r.error);
    }
    let blobs = state.runtime.engine().blobs();
    if !blobs.exists(&hash) {
        return refuse(StatusCode::NOT_FOUND, &TimError::new(6009, format!("no blob {hash}")));
    }
    match actix_files::NamedFile::open_async(blobs.path_of(&hash)).await {
        Ok(f) => f.use_etag(true).set_content_type(actix_files::file_extension_to_mime("bin")).into_response(&req),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &TimError::new(6009, e.to_string())),
    }
}
