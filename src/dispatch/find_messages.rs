//! `TIMMsgFindMessages`: the caller's messages by ID, as an array of Message.

use std::sync::Arc;

use super::{Accepted, ApiCall, parse, views_result};
use crate::error::TimError;
use crate::session::Session;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let ids: Vec<String> = parse::json(parse::required(call.json, "json_message_id_array")?, "json_message_id_array")?;
    let s = session.clone();
    Ok(Accepted::later(async move { views_result(s.find_messages(&ids).await) }))
}
