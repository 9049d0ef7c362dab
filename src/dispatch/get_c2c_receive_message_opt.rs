//! `TIMMsgGetC2CReceiveMessageOpt`: the caller's options for up to 30 users.

use std::sync::Arc;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::params::GetC2CRecvMsgOptResult;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let ids: Vec<String> = parse::json(parse::required(call.json, "json_identifier_array")?, "json_identifier_array")?;
    // Checked before the call is accepted: a bad count is -4 at once, as the SDK answers.
    Session::check_recv_opt_ids(&ids)?;
    let s = session.clone();
    Ok(Accepted::later(async move {
        match s.get_c2c_receive_message_opt(&ids).await {
            Ok(opts) => DispatchResult::ok_json(
                &opts
                    .into_iter()
                    .map(|(id, opt)| GetC2CRecvMsgOptResult {
                        msg_recv_msg_opt_result_identifier: id,
                        msg_recv_msg_opt_result_opt: opt.number(),
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(e) => e.into(),
        }
    }))
}
