//! Media over HTTP. `PUT /v1/blobs` streams the body into the blob store — to a temp file on a
//! blocking thread, hashed as it arrives, never held in memory — up to `max_blob_bytes` and
//! the user's daily upload allowance, and answers `{hash, size, url}`. The `url` is the blob's
//! capability: it names the blob in messages the user sends, and reads it back.
//! `GET /v1/blobs/<sha256>?sig=<token>` serves a blob (with Range) to whoever holds its URL —
//! its uploader, and everyone who can see a message that carries it; the hash alone gets 403.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::ServiceState;
use super::api::{ERR_SDK_NET_PKG_SIZE_LIMIT, refuse};
use super::auth::{authenticate, query_param};
use crate::access::limits::Limit;
use crate::error::{TimError, code};

/// Chunks in flight between the HTTP reader and the writing thread.
const WRITE_QUEUE: usize = 8;

fn store_error(e: impl std::fmt::Display) -> HttpResponse {
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        &TimError::new(code::ERR_FILE_TRANS_UPLOAD_FAILED, format!("cannot store the blob: {e}")),
    )
}

pub async fn put(req: HttpRequest, mut payload: web::Payload, state: web::Data<ServiceState>) -> HttpResponse {
    let user = match authenticate(&state, &req) {
        Ok(u) => u,
        Err(r) => return refuse(r.status, &r.error),
    };
    let max = state.config.max_blob_bytes;
    let too_large = |size: u64| {
        metrics::counter!("timsg_limits_refused_total", "limit" => "blob_size").increment(1);
        let e = TimError::new(ERR_SDK_NET_PKG_SIZE_LIMIT, format!("the blob is {size} bytes or more, over {max}"));
        refuse(StatusCode::PAYLOAD_TOO_LARGE, &e)
    };
    // A declared length is checked before a byte is read; the count below holds either way.
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > max) {
        return too_large(n);
    }
    let now = state.runtime.engine().now_ms();
    let limits = &state.policy.limits;
    if let Some(n) = declared
        && let Err(e) = limits.take(&user, Limit::BlobBytes, n, now)
    {
        return refuse(StatusCode::TOO_MANY_REQUESTS, &e);
    }
    let mut writer = match state.runtime.engine().blobs().writer() {
        Ok(w) => w,
        Err(e) => return store_error(e),
    };
    // The file is written and synced on a blocking thread; the HTTP worker only moves chunks.
    let (chunks, mut incoming) = mpsc::channel::<web::Bytes>(WRITE_QUEUE);
    let (done_tx, done) = oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let mut result = Ok(());
        while let Some(chunk) = incoming.blocking_recv() {
            if let Err(e) = writer.write(&chunk) {
                result = Err(e);
                break;
            }
        }
        // A sender dropped before the end (a refusal, a broken body) drops the writer unfinished:
        // its temp file is removed.
        let _ = done_tx.send(result.map(|()| writer));
    });
    let mut size = 0u64;
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, &TimError::param(format!("cannot read the body: {e}"))),
        };
        size += chunk.len() as u64;
        if size > max {
            return too_large(size);
        }
        if chunks.send(chunk).await.is_err() {
            break;
        }
    }
    drop(chunks);
    let writer = match done.await {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => return store_error(e),
        Err(_) => return store_error("the writer stopped"),
    };
    if size == 0 {
        return refuse(
            StatusCode::BAD_REQUEST,
            &TimError::new(code::ERR_SDK_COMM_FILE_SIZE_EMPTY, "the blob is empty"),
        );
    }
    if declared.is_none()
        && let Err(e) = limits.take(&user, Limit::BlobBytes, size, now)
    {
        return refuse(StatusCode::TOO_MANY_REQUESTS, &e);
    }
    let info = match web::block(move || writer.finish()).await {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => return store_error(e),
        Err(e) => return store_error(e),
    };
    metrics::counter!("timsg_upload_bytes_total").increment(info.size);
    let url = state.runtime.engine().blobs().url_of(&info.hash);
    HttpResponse::Created().json(json!({"hash": info.hash, "size": info.size, "url": url}))
}

pub async fn get(req: HttpRequest, hash: web::Path<String>, state: web::Data<ServiceState>) -> HttpResponse {
    if let Err(r) = authenticate(&state, &req) {
        return refuse(r.status, &r.error);
    }
    let blobs = state.runtime.engine().blobs();
    if !blobs.token_grants(&hash, query_param(&req, "sig").as_deref()) {
        metrics::counter!("timsg_limits_refused_total", "limit" => "blob_read").increment(1);
        let e = TimError::new(
            code::ERR_SDK_INVALID_OPERATION,
            "a blob is read by the url its upload or a message gave (with its sig), not by its hash alone",
        );
        return refuse(StatusCode::FORBIDDEN, &e);
    }
    if !blobs.exists(&hash) {
        return refuse(
            StatusCode::NOT_FOUND,
            &TimError::new(code::ERR_FILE_TRANS_DOWNLOAD_FAILED, format!("no blob {hash}")),
        );
    }
    match actix_files::NamedFile::open_async(blobs.path_of(&hash)).await {
        Ok(f) => f.use_etag(true).set_content_type(actix_files::file_extension_to_mime("bin")).into_response(&req),
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            &TimError::new(code::ERR_FILE_TRANS_DOWNLOAD_FAILED, e.to_string()),
        ),
    }
}
