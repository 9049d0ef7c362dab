//! The JSON dispatcher: `(api, conv_id, conv_type, json)` → `(code, desc, json_params)`, the
//! one entry every other way in (C ABI, HTTP) calls. One file per `TIMMsg*` function; the
//! table below is the map from function to file to actor op.
//!
//! | function | file | conversation op |
//! |---|---|---|
//! | `TIMMsgSendMessage`, `TIMMsgSendNewMsg` | [`send_message`] | `SendMessage` |
//! | `TIMMsgCancelSend` | [`cancel_send`] | `CancelSend` |
//! | `TIMMsgFindMessages` | [`find_messages`] | store lookup, then `GetMessages` |
//! | `TIMMsgReportReaded` | [`report_readed`] | `ReportRead` |
//! | `TIMMsgMarkAllMessageAsRead` | [`mark_all_message_as_read`] | `ReportRead` per conversation |
//! | `TIMMsgRevoke` | [`revoke`] | `Revoke` |
//! | `TIMMsgFindByMsgLocatorList` | [`find_by_msg_locator_list`] | `GetByLocators` |
//! | `TIMMsgImportMsgList` | [`import_msg_list`] | `SaveLocal` |
//! | `TIMMsgSaveMsg` | [`save_msg`] | `SaveLocal` |
//! | `TIMMsgGetMsgList` | [`get_msg_list`] | `GetHistory` |
//! | `TIMMsgDelete` | [`delete`] | `Delete` |
//! | `TIMMsgListDelete` | [`list_delete`] | `ListDelete` |
//! | `TIMMsgClearHistoryMessage` | [`clear_history_message`] | `ClearHistory` |
//! | `TIMMsgSetC2CReceiveMessageOpt` | [`set_c2c_receive_message_opt`] | user options (store) |
//! | `TIMMsgGetC2CReceiveMessageOpt` | [`get_c2c_receive_message_opt`] | user options |
//! | `TIMMsgSetGroupReceiveMessageOpt` | [`set_group_receive_message_opt`] | `SetGroupReceiveOpt` |
//! | `TIMMsgSearchLocalMessages` | [`search_local_messages`] | FTS5 candidates, then `FilterVisible` |
//! | `TIMMsgSetLocalCustomData` | [`set_local_custom_data`] | `SetLocalCustomData` |
//! | `TIMMsgBatchSend` | [`batch_send`] | `BatchSendActor` → `SendMessage` per receiver |
//! | `TIMMsgDownloadElemToPath` | [`download_elem_to_path`] | `DownloadManagerActor` |
//! | `TIMMsgDownloadMergerMessage` | [`download_merger_message`] | the blob store |
//! | `TIMGroupCreate`, `TIMGroupDelete`, `TIMGroupJoin`, `TIMGroupQuit`, `TIMGroupInviteMember`, `TIMGroupDeleteMember` | `group_*` | `ApplyGroup` |
//!
//! A call is first *begun* synchronously: arguments are parsed and checked, and a refusal is a
//! negative `TIMResult` (`TIM_ERR_JSON`, `TIM_ERR_PARAM`, `TIM_ERR_CONV`) with no callback. An
//! accepted call yields a future of the callback's `(code, desc, json_params)`.

pub mod parse;

pub mod batch_send;
pub mod cancel_send;
pub mod clear_history_message;
pub mod delete;
pub mod download_elem_to_path;
pub mod download_merger_message;
pub mod find_by_msg_locator_list;
pub mod find_messages;
pub mod get_c2c_receive_message_opt;
pub mod get_msg_list;
pub mod group_create;
pub mod group_delete;
pub mod group_delete_member;
pub mod group_invite_member;
pub mod group_join;
pub mod group_quit;
pub mod import_msg_list;
pub mod list_delete;
pub mod mark_all_message_as_read;
pub mod report_readed;
pub mod revoke;
pub mod save_msg;
pub mod search_local_messages;
pub mod send_message;
pub mod set_c2c_receive_message_opt;
pub mod set_group_receive_message_opt;
pub mod set_local_custom_data;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use tracing::Instrument;

use crate::error::{TimError, code};
use crate::session::Session;

/// One call in C-API shape. Functions without a conversation ignore `conv_id`/`conv_type`;
/// the receive-option setters take their option in `opt` (and the group one its group ID in
/// `conv_id`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiCall<'a> {
    pub api: &'a str,
    pub conv_id: Option<&'a str>,
    pub conv_type: u32,
    pub json: &'a str,
    pub opt: u32,
    /// The destination of `TIMMsgDownloadElemToPath`.
    pub path: Option<&'a str>,
}

/// A call as JSON carries it (an HTTP `/v1` body, a WebSocket call frame, a call forwarded
/// to another node): the C call's arguments, `param` being its JSON argument as an object, an
/// array or a string.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallBody {
    pub conv_id: Option<String>,
    pub conv_type: u32,
    pub param: serde_json::Value,
    pub opt: u32,
    pub path: Option<String>,
}

impl CallBody {
    /// The call of `api` with this body, `json` being its argument's text
    /// ([`argument_text`] of `param`).
    pub fn as_call<'a>(&'a self, api: &'a str, json: &'a str) -> ApiCall<'a> {
        ApiCall {
            api,
            conv_id: self.conv_id.as_deref(),
            conv_type: self.conv_type,
            json,
            opt: self.opt,
            path: self.path.as_deref(),
        }
    }

    /// The body of `call` (its JSON argument kept as text).
    pub fn of(call: &ApiCall<'_>) -> CallBody {
        CallBody {
            conv_id: call.conv_id.map(str::to_string),
            conv_type: call.conv_type,
            param: serde_json::Value::String(call.json.to_string()),
            opt: call.opt,
            path: call.path.map(str::to_string),
        }
    }
}

/// A call's JSON argument given as a JSON value (by the CLI and the HTTP service): a string is
/// the argument's text, null is no argument, anything else is serialized.
pub fn argument_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What the callback receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchResult {
    pub code: i32,
    pub desc: String,
    pub json_params: String,
}

impl DispatchResult {
    pub fn ok(json_params: String) -> DispatchResult {
        DispatchResult { code: code::ERR_SUCC, desc: String::new(), json_params }
    }

    pub fn ok_json<T: Serialize>(value: &T) -> DispatchResult {
        match serde_json::to_string(value) {
            Ok(s) => DispatchResult::ok(s),
            Err(e) => DispatchResult::from(TimError::new(code::ERR_SDK_INTERNAL_ERROR, e.to_string())),
        }
    }

    /// Whether the call was refused synchronously (the callback must not fire).
    pub fn is_synchronous_refusal(&self) -> bool {
        self.code < 0
    }
}

impl From<TimError> for DispatchResult {
    fn from(e: TimError) -> Self {
        DispatchResult { code: e.code, desc: e.desc, json_params: String::new() }
    }
}

/// The outcome to come of an accepted call.
pub type Completion = Pin<Box<dyn Future<Output = DispatchResult> + Send + 'static>>;

/// An accepted call: the message ID (for sends), progress reports (for downloads: each is a
/// callback with code 0 and a `MsgDownloadElemResult`), and the callback's result to come.
pub struct Accepted {
    pub message_id: Option<String>,
    pub progress: Option<tokio::sync::mpsc::Receiver<(u64, u64)>>,
    pub completion: Completion,
}

impl std::fmt::Debug for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted").field("message_id", &self.message_id).finish()
    }
}

impl Accepted {
    pub fn later(fut: impl Future<Output = DispatchResult> + Send + 'static) -> Accepted {
        Accepted { message_id: None, progress: None, completion: Box::pin(fut) }
    }
}

type Begin = fn(&Arc<Session>, &ApiCall<'_>) -> Result<Accepted, TimError>;

/// Every function the dispatcher knows, by its C name.
pub const API_TABLE: &[(&str, Begin)] = &[
    ("TIMMsgSendMessage", send_message::begin),
    ("TIMMsgSendNewMsg", send_message::begin),
    ("TIMMsgCancelSend", cancel_send::begin),
    ("TIMMsgFindMessages", find_messages::begin),
    ("TIMMsgReportReaded", report_readed::begin),
    ("TIMMsgMarkAllMessageAsRead", mark_all_message_as_read::begin),
    ("TIMMsgRevoke", revoke::begin),
    ("TIMMsgFindByMsgLocatorList", find_by_msg_locator_list::begin),
    ("TIMMsgImportMsgList", import_msg_list::begin),
    ("TIMMsgSaveMsg", save_msg::begin),
    ("TIMMsgGetMsgList", get_msg_list::begin),
    ("TIMMsgDelete", delete::begin),
    ("TIMMsgListDelete", list_delete::begin),
    ("TIMMsgClearHistoryMessage", clear_history_message::begin),
    ("TIMMsgSetC2CReceiveMessageOpt", set_c2c_receive_message_opt::begin),
    ("TIMMsgGetC2CReceiveMessageOpt", get_c2c_receive_message_opt::begin),
    ("TIMMsgSetGroupReceiveMessageOpt", set_group_receive_message_opt::begin),
    ("TIMMsgSearchLocalMessages", search_local_messages::begin),
    ("TIMMsgSetLocalCustomData", set_local_custom_data::begin),
    ("TIMMsgBatchSend", batch_send::begin),
    ("TIMMsgDownloadElemToPath", download_elem_to_path::begin),
    ("TIMMsgDownloadMergerMessage", download_merger_message::begin),
    ("TIMGroupCreate", group_create::begin),
    ("TIMGroupDelete", group_delete::begin),
    ("TIMGroupJoin", group_join::begin),
    ("TIMGroupQuit", group_quit::begin),
    ("TIMGroupInviteMember", group_invite_member::begin),
    ("TIMGroupDeleteMember", group_delete_member::begin),
];

/// Begins a call: a synchronous refusal, or the accepted call.
pub fn begin(session: &Arc<Session>, call: &ApiCall<'_>) -> Result<Accepted, TimError> {
    let started = std::time::Instant::now();
    let entry = API_TABLE.iter().find(|(name, _)| *name == call.api);
    let Some((name, begin)) = entry else {
        return Err(TimError::param(format!("unknown api {:?}", call.api)));
    };
    // Parsing runs on caller-supplied text: a panic there must become an error, never unwind
    // into the caller (the C ABI sits above this).
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| begin(session, call)))
        .unwrap_or_else(|_| Err(TimError::new(code::ERR_SDK_INTERNAL_ERROR, "internal error while parsing the call")));
    match outcome {
        Ok(accepted) => {
            let Accepted { message_id, progress, completion } = accepted;
            // The span gives whatever is logged during the call its API; its fields are
            // formatted once, when it opens (a logging subscriber formats a span's fields at
            // every record, which at a field per record was ~20,000 instructions a call). How
            // the call ended goes on the `api call done` event, formatted only when shown.
            let span = tracing::info_span!("api", api = name, conv_type = call.conv_type);
            let completion = Box::pin(
                async move {
                    let result = completion.await;
                    let outcome = if result.code == 0 { "ok" } else { "error" };
                    let elapsed = started.elapsed();
                    metrics::counter!("timsg_api_calls_total", "api" => *name, "outcome" => outcome).increment(1);
                    metrics::histogram!("timsg_api_call_seconds", "api" => *name, "outcome" => outcome)
                        .record(elapsed.as_secs_f64());
                    tracing::debug!(
                        outcome,
                        code = result.code,
                        duration_us = elapsed.as_micros() as u64,
                        "api call done"
                    );
                    result
                }
                .instrument(span),
            );
            Ok(Accepted { message_id, progress, completion })
        }
        Err(e) => {
            metrics::counter!("timsg_api_calls_total", "api" => *name, "outcome" => "refused").increment(1);
            Err(e)
        }
    }
}

/// Runs a call to the end: a synchronous refusal comes back as its (negative) code. Progress
/// reports are dropped.
pub async fn dispatch(session: &Arc<Session>, call: &ApiCall<'_>) -> DispatchResult {
    match begin(session, call) {
        Ok(accepted) => {
            drop(accepted.progress);
            accepted.completion.await
        }
        Err(e) => e.into(),
    }
}

/// The async body shared by calls that answer `""` on success.
pub(crate) fn empty_result(r: Result<(), TimError>) -> DispatchResult {
    match r {
        Ok(()) => DispatchResult::ok(String::new()),
        Err(e) => e.into(),
    }
}

/// An array of message views as JSON.
pub(crate) fn views_result(r: Result<Vec<timsg_actors::message::MessageView>, TimError>) -> DispatchResult {
    match r {
        Ok(views) => DispatchResult::ok(crate::wire::view_json::views_json(views.iter())),
        Err(e) => e.into(),
    }
}
