//! `TIMMsgDownloadMergerMessage`: the messages a merged message carries, as an array of Message.

use std::sync::Arc;

use timsg_actors::element::ElementBody;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::WireMessage;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let m: WireMessage = parse::json(parse::required(call.json, "json_single_msg")?, "json_single_msg")?;
    let content = m.to_content();
    let merge = content
        .elements
        .into_iter()
        .find_map(|e| match e.body {
            ElementBody::Merge(m) => Some(m),
            _ => None,
        })
        .ok_or_else(|| TimError::param("the message has no merge element"))?;
    let s = session.clone();
    Ok(Accepted::later(async move {
        match s.download_merger_message(&merge).await {
            Ok(array) => DispatchResult::ok(array),
            Err(e) => e.into(),
        }
    }))
}
