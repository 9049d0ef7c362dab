//! `TIMMsgGetMsgList`: one page of history. Anchor rules: `last_msg` (excluded) wins over the
//! group-only `last_msg_seq` (included); with neither, a time range starts at `time_begin`,
//! else the newest message. `is_remble` reads the roaming (server) view instead of the local
//! one. Backward pages come newest first, forward pages oldest first.

use std::sync::Arc;

use timsg_actors::history::{HistoryAnchor, HistoryQuery, MessageTarget};
use timsg_actors::ids::ConvType;
use timsg_actors::member::ViewKind;

use super::{Accepted, ApiCall, parse, views_result};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::params::MsgGetMsgListParam;

/// Messages per page when the caller gives no count.
pub const DEFAULT_COUNT: usize = 20;

pub fn query_of(p: &MsgGetMsgListParam, conv_type: ConvType) -> Result<HistoryQuery, TimError> {
    let last_msg = p.msg_getmsglist_param_last_msg.as_ref().filter(|m| !m.is_empty_object());
    let anchor = match (last_msg, p.msg_getmsglist_param_last_msg_seq) {
        (Some(m), _) => HistoryAnchor::Message(parse::target(m)?),
        (None, Some(seq)) if seq > 0 && conv_type == ConvType::Group => HistoryAnchor::Seq(seq),
        _ => HistoryAnchor::None,
    };
    let count = match p.msg_getmsglist_param_count.unwrap_or(0) {
        0 => DEFAULT_COUNT,
        n => n as usize,
    };
    Ok(HistoryQuery {
        anchor,
        count,
        forward: p.msg_getmsglist_param_is_forward.unwrap_or(false),
        view: if p.msg_getmsglist_param_is_ramble.unwrap_or(false) { ViewKind::Roaming } else { ViewKind::Local },
        time_begin: p.msg_getmsglist_param_time_begin.unwrap_or(0),
        time_period: p.msg_getmsglist_param_time_period.unwrap_or(0),
        types: p.msg_getmsglist_param_message_type_array.clone().unwrap_or_default(),
    })
}

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let conv = parse::conv(call.conv_id, call.conv_type)?;
    let p: MsgGetMsgListParam = match parse::optional(call.json) {
        Some(j) => parse::json(j, "json_get_msg_param")?,
        None => MsgGetMsgListParam::default(),
    };
    let s = session.clone();
    // V7: a group's seq list, when given, takes priority and returns exactly those messages.
    if let Some(seqs) = p.msg_getmsglist_param_message_seq_array.clone().filter(|s| !s.is_empty())
        && conv.conv_type == ConvType::Group
    {
        return Ok(Accepted::later(async move {
            let key = match s.conv_key(&conv) {
                Ok(k) => k,
                Err(e) => return e.into(),
            };
            let user = s.user_id().into();
            let targets = seqs.into_iter().map(MessageTarget::Seq).collect();
            let found = s
                .engine()
                .call(&key, |reply| timsg_actors::actors::ConvOp::GetMessages { user, targets, reply })
                .await
                .map_err(TimError::from);
            views_result(found)
        }));
    }
    let query = query_of(&p, conv.conv_type)?;
    Ok(Accepted::later(async move { views_result(s.get_msg_list(&conv, query).await) }))
}
