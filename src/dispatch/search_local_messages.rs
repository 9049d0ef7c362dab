//! `TIMMsgSearchLocalMessages`: keywords (≤ 5, AND/OR), senders (≤ 5), element types, one
//! conversation or all, a time window and paging; results grouped per conversation.

use std::sync::Arc;

use timsg_actors::ids::{ConvRef, ConvType};
use timsg_actors::search::SearchQuery;

use super::{Accepted, ApiCall, DispatchResult, parse};
use crate::error::TimError;
use crate::session::Session;
use crate::wire::params::{MessageSearchParam, MessageSearchResult, MessageSearchResultItem};
use crate::wire::view_to_json;

pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let p: MessageSearchParam =
        parse::json(parse::required(call.json, "json_search_message_param")?, "json_search_message_param")?;
    let conv_type = p.msg_search_param_conv_type.unwrap_or(0);
    let conv = match (p.msg_search_param_conv_id.as_deref().filter(|c| !c.is_empty()), ConvType::from_number(conv_type))
    {
        (Some(id), Some(t @ (ConvType::C2c | ConvType::Group))) => {
            // V7 documents prefixed IDs (`c2c_<user>`, `group_<group>`); accept those too.
            let prefix = if t == ConvType::C2c { "c2c_" } else { "group_" };
            let id = id.strip_prefix(prefix).unwrap_or(id);
            Some(session.conv_key(&ConvRef { conv_type: t, id: id.into() })?)
        }
        (Some(_), _) => {
            return Err(TimError::param("msg_search_param_conv_type must be 1 or 2 with a conv_id"));
        }
        (None, _) => None,
    };
    let position = p.msg_search_param_search_time_position.unwrap_or(0);
    let period = p.msg_search_param_search_time_period.unwrap_or(0);
    let time_to = if position == 0 { u64::MAX } else { position };
    let time_from = match (period, position) {
        (0, _) => 0,
        (_, 0) => session.engine().now_ms() / 1000 - period.min(session.engine().now_ms() / 1000),
        _ => position.saturating_sub(period),
    };
    let query = SearchQuery {
        keywords: p.msg_search_param_keyword_array.clone().unwrap_or_default(),
        match_all: p.msg_search_param_keyword_list_match_type == Some(1),
        senders: p.msg_search_param_send_identifier_array.clone().unwrap_or_default(),
        types: p.msg_search_param_message_type_array.clone().unwrap_or_default(),
        conv,
        time_from,
        time_to,
        page_index: p.msg_search_param_page_index.unwrap_or(0) as usize,
        page_size: p.msg_search_param_page_size.unwrap_or(0) as usize,
    };
    // Refused before the call is accepted (-4, no callback), as the SDK checks its arguments.
    query.check_limits().map_err(TimError::param)?;
    let s = session.clone();
    Ok(Accepted::later(async move {
        match s.search_local_messages(query).await {
            Ok(r) => DispatchResult::ok_json(&MessageSearchResult {
                msg_search_result_total_count: r.total_count as u64,
                msg_search_result_item_array: r
                    .items
                    .iter()
                    .map(|i| MessageSearchResultItem {
                        msg_search_result_item_conv_id: i.conv.id.to_string(),
                        msg_search_result_item_conv_type: i.conv.conv_type.number(),
                        msg_search_result_item_total_message_count: i.total_message_count as u64,
                        msg_search_result_item_message_array: i.messages.iter().map(view_to_json).collect(),
                    })
                    .collect(),
            }),
            Err(e) => e.into(),
        }
    }))
}
