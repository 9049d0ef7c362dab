//! `TIMMsgDownloadElemToPath`: downloads an element's media to a path. The callback fires for
//! progress (code 0, `MsgDownloadElemResult` with `current < total`) and once at the end with
//! `current == total`.

use std::sync::Arc;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::params::{DownloadElemParam, MsgDownloadElemResult};

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let p: DownloadElemParam =
        parse::json(parse::required(call.json, "json_download_elem_param")?, "json_download_elem_param")?;
    let path = call.path.filter(|p| !p.is_empty()).ok_or_else(|| TimError::param("path is required"))?;
    let download =
        session.download_elem_to_path(&p.msg_download_elem_param_url, &p.msg_download_elem_param_id, path.as_ref())?;
    let (progress, finished) = download.split();
    Ok(Accepted {
        message_id: None,
        progress: Some(progress),
        completion: Box::pin(async move {
            match finished.await {
                Ok(size) => DispatchResult::ok_json(&MsgDownloadElemResult {
                    msg_download_elem_result_current_size: size,
                    msg_download_elem_result_total_size: size,
                }),
                Err(e) => e.into(),
            }
        }),
    })
}
