//! Turning C-style arguments into typed ones, with the TIM code for each way they can be wrong.

use serde::de::DeserializeOwned;
use timsg_actors::history::MessageTarget;
use timsg_actors::ids::{ConvRef, ConvType};

use crate::error::{TimError, code};
use crate::wire::WireMessage;

/// Parses `json` as `T`; malformed JSON or a key of the wrong type is `TIM_ERR_JSON`.
pub fn json<T: DeserializeOwned>(json: &str, what: &str) -> Result<T, TimError> {
    crate::wire::lenient::from_str(json).map_err(|e| TimError::json(format!("{what}: {e}")))
}

/// `None` for a missing parameter (`NULL` or `""` in the C API).
pub fn optional(json: &str) -> Option<&str> {
    let t = json.trim();
    (!t.is_empty()).then_some(t)
}

/// Requires a JSON parameter.
pub fn required<'a>(json: &'a str, what: &str) -> Result<&'a str, TimError> {
    optional(json).ok_or_else(|| TimError::param(format!("{what} is required")))
}

/// The conversation named by `conv_id` and `conv_type`.
pub fn conv(conv_id: Option<&str>, conv_type: u32) -> Result<ConvRef, TimError> {
    let conv_type = match ConvType::from_number(conv_type) {
        Some(t @ (ConvType::C2c | ConvType::Group)) => t,
        _ => {
            return Err(TimError::new(
                code::TIM_ERR_CONV,
                format!("conv_type {conv_type} is not 1 (C2C) or 2 (group)"),
            ));
        }
    };
    match conv_id {
        Some(id) if !id.is_empty() => Ok(ConvRef { conv_type, id: id.into() }),
        _ => Err(TimError::param("conv_id is required")),
    }
}

/// Which message a Message object names: its `message_msg_id`, else its `message_seq`.
pub fn target(m: &WireMessage) -> Result<MessageTarget, TimError> {
    if let Some(id) = m.message_msg_id.as_deref().filter(|i| !i.is_empty()) {
        return Ok(MessageTarget::Id(id.into()));
    }
    match m.message_seq {
        Some(seq) if seq > 0 => Ok(MessageTarget::Seq(seq)),
        _ => Err(TimError::param("the message has neither message_msg_id nor message_seq")),
    }
}
