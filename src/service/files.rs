//! `GET /v1/files/<path>`: a file the user's downloads wrote into their own folder of the data
//! directory (`TIMMsgDownloadElemToPath` over the service writes there; see
//! [`crate::access::user_files`]), with Range requests. A user reads only their own folder.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::ServiceState;
use super::api::refuse;
use super::auth::authenticate;
use crate::access::user_files;
use crate::error::TimError;

pub async fn get(req: HttpRequest, path: web::Path<String>, state: web::Data<ServiceState>) -> HttpResponse {
    let user = match authenticate(&state, &req) {
        Ok(u) => u,
        Err(r) => return refuse(r.status, &r.error),
    };
    let file = match user_files::existing_file(&state.policy.files_root, &user, &path) {
        Ok(f) => f,
        Err(e) if e.code == crate::error::code::ERR_SDK_COMM_FILE_NOT_FOUND => {
            return refuse(StatusCode::NOT_FOUND, &e);
        }
        Err(e) => return refuse(StatusCode::FORBIDDEN, &e),
    };
    match actix_files::NamedFile::open_async(&file).await {
        Ok(f) => f.set_content_type(actix_files::file_extension_to_mime("bin")).into_response(&req),
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            &TimError::new(crate::error::code::ERR_SDK_COMM_FILE_OPEN_FAILED, e.to_string()),
        ),
    }
}
