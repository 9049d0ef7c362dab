//! `TIMMsgBatchSend`: one message to many C2C receivers; one result per receiver.

use std::sync::Arc;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::params::{MsgBatchSendParam, MsgBatchSendResult};
use crate::wire::view_to_json;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let p: MsgBatchSendParam =
        parse::json(parse::required(call.json, "json_batch_send_param")?, "json_batch_send_param")?;
    let max = session.engine().config().batch_send_max;
    let n = p.msg_batch_send_param_identifier_array.len();
    if n == 0 || n > max {
        return Err(TimError::param(format!("msg_batch_send_param_identifier_array takes 1 to {max} ids, got {n}")));
    }
    let content = p.msg_batch_send_param_msg.to_content();
    let s = session.clone();
    Ok(Accepted::later(async move {
        match s.batch_send(p.msg_batch_send_param_identifier_array, content).await {
            Ok(results) => DispatchResult::ok_json(
                &results
                    .into_iter()
                    .map(|r| match r.outcome {
                        Ok(view) => MsgBatchSendResult {
                            msg_batch_send_result_identifier: r.receiver,
                            msg_batch_send_result_code: 0,
                            msg_batch_send_result_desc: String::new(),
                            msg_batch_send_result_msg: Some(view_to_json(&view)),
                        },
                        Err(e) => {
                            let e = TimError::from(e);
                            MsgBatchSendResult {
                                msg_batch_send_result_identifier: r.receiver,
                                msg_batch_send_result_code: e.code,
                                msg_batch_send_result_desc: e.desc,
                                msg_batch_send_result_msg: None,
                            }
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(e) => e.into(),
        }
    }))
}
