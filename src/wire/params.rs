//! Parameter and result objects of the message APIs, with their exact keys. Where a key's
//! spelling changed between SDK versions, both are read and the seed spelling is written.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::message::WireMessage;

/// `MsgLocator`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MsgLocator {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_locator_conv_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_locator_conv_type: Option<u32>,
    pub message_locator_is_revoked: bool,
    pub message_locator_time: u64,
    pub message_locator_seq: u64,
    pub message_locator_is_self: bool,
    pub message_locator_rand: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_locator_unique_id: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `MsgGetMsgListParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MsgGetMsgListParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_last_msg: Option<WireMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_count: Option<u32>,
    #[serde(rename = "msg_getmsglist_param_is_remble", alias = "msg_getmsglist_param_is_ramble")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_is_ramble: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_is_forward: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_last_msg_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_time_begin: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_time_period: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_message_type_array: Option<Vec<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_getmsglist_param_message_seq_array: Option<Vec<u64>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `MsgDeleteParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MsgDeleteParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_delete_param_msg: Option<WireMessage>,
    #[serde(rename = "msg_delete_param_is_remble", alias = "msg_delete_param_is_ramble")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_delete_param_is_ramble: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `MsgBatchSendParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MsgBatchSendParam {
    pub msg_batch_send_param_identifier_array: Vec<String>,
    pub msg_batch_send_param_msg: WireMessage,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `MsgBatchSendResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MsgBatchSendResult {
    pub msg_batch_send_result_identifier: String,
    pub msg_batch_send_result_code: i32,
    pub msg_batch_send_result_desc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_batch_send_result_msg: Option<Value>,
}

/// `MessageSearchParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageSearchParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_keyword_array: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_message_type_array: Option<Vec<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_conv_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_conv_type: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_search_time_position: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_search_time_period: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_page_index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_keyword_list_match_type: Option<u32>,
    #[serde(rename = "msg_search_param_send_indentifier_array", alias = "msg_search_param_send_identifier_array")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_send_identifier_array: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_search_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_search_param_search_cursor: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `MessageSearchResultItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageSearchResultItem {
    pub msg_search_result_item_conv_id: String,
    pub msg_search_result_item_conv_type: u32,
    pub msg_search_result_item_total_message_count: u64,
    pub msg_search_result_item_message_array: Vec<Value>,
}

/// `MessageSearchResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageSearchResult {
    pub msg_search_result_total_count: u64,
    pub msg_search_result_item_array: Vec<MessageSearchResultItem>,
}

/// `GetC2CRecvMsgOptResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetC2CRecvMsgOptResult {
    pub msg_recv_msg_opt_result_identifier: String,
    pub msg_recv_msg_opt_result_opt: u32,
}

/// `MessageReceipt`, the payload of the read-receipt listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageReceipt {
    pub msg_receipt_conv_id: String,
    pub msg_receipt_conv_type: u32,
    pub msg_receipt_time_stamp: u64,
}

/// `DownloadElemParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DownloadElemParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_download_elem_param_flag: Option<u32>,
    pub msg_download_elem_param_type: u32,
    pub msg_download_elem_param_id: String,
    pub msg_download_elem_param_business_id: u32,
    pub msg_download_elem_param_url: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `MsgDownloadElemResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MsgDownloadElemResult {
    pub msg_download_elem_result_current_size: u64,
    pub msg_download_elem_result_total_size: u64,
}

impl MsgDownloadElemResult {
    /// The JSON of a download's progress report.
    pub fn progress(current: u64, total: u64) -> Value {
        serde_json::to_value(MsgDownloadElemResult {
            msg_download_elem_result_current_size: current,
            msg_download_elem_result_total_size: total,
        })
        .unwrap_or(Value::Null)
    }
}
