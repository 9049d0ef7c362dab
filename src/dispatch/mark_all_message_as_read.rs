//! `TIMMsgMarkAllMessageAsRead`: reports every conversation of the caller read.

use std::sync::Arc;

use super::{Accepted, ApiCall, empty_result};
use crate::error::TimError;
use crate::session::Session;

pub fn begin(session: &Arc<Session>, _call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let s = session.clone();
    Ok(Accepted::later(async move { empty_result(s.mark_all_message_as_read().await) }))
}
