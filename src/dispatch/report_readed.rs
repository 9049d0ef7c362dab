//! `TIMMsgReportReaded`: moves the read point to a message (or the newest one). An empty
//! `conv_id` reports every conversation of `conv_type` read.

use std::sync::Arc;

use timsg_actors::ids::ConvType;

use super::{Accepted, ApiCall, empty_result, parse};
use crate::error::{TimError, code};
use crate::session::Session;
use crate::wire::WireMessage;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let target = match parse::optional(call.json) {
        Some(j) => {
            let m: WireMessage = parse::json(j, "json_msg_param")?;
            if m.is_empty_object() { None } else { Some(parse::target(&m)?) }
        }
        None => None,
    };
    let s = session.clone();
    if call.conv_id.is_none_or(str::is_empty) {
        let conv_type = match ConvType::from_number(call.conv_type) {
            Some(t @ (ConvType::C2c | ConvType::Group)) => t,
            _ => {
                return Err(TimError::new(code::TIM_ERR_CONV, "conv_type must be 1 (C2C) or 2 (group)"));
            }
        };
        return Ok(Accepted::later(async move { empty_result(s.report_readed_all(Some(conv_type)).await) }));
    }
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    Ok(Accepted::later(async move { empty_result(s.report_readed(&conv, target).await) }))
}
