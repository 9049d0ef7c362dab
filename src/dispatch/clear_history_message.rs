//! `TIMMsgClearHistoryMessage`: empties the caller's local and roaming views of a conversation.

use std::sync::Arc;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::TimError;
use crate::session::Session;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.clear_history_message(&conv).await) }))
}
