//! The TIM Message object (`message_*` keys) and its mapping to the domain.
//!
//! Parsing accepts both spellings of keys that changed between SDK versions (the V5/seed
//! `message_offlie_push_config` and the V7 `message_offline_push_config`); output uses the seed
//! spelling. Keys that are not modelled survive a round trip: they ride in the message's
//! extension through the store.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use timsg_actors::message::{MessageContent, MessageView};

use super::elem::{self, WireElem};
use super::extension::extension_of;
use super::profile::{GroupMemberInfo, OfflinePushConfig, UserProfile};
use super::view_json::ViewJson;

/// A Message as TIM JSON. Every key is optional on input; read-only keys (seq, status, server
/// time, …) are filled by the runtime on output.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WireMessage {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub message_elem_array: Vec<WireElem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_conv_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_conv_type: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_sender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_priority: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_client_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_server_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_is_from_self: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_platform: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_is_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_is_online_msg: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_is_peer_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_receipt_peer_read: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_need_read_receipt: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_support_message_extension: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_is_broadcast_message: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_has_sent_receipt: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_group_receipt_read_count: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_group_receipt_unread_count: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_unique_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_msg_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_rand: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_custom_int: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_custom_str: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_cloud_custom_str: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_is_excluded_from_unread_count: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_group_at_user_array: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_is_forward_message: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_sender_profile: Option<UserProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_sender_group_member_info: Option<GroupMemberInfo>,
    #[serde(rename = "message_offlie_push_config", alias = "message_offline_push_config")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_offline_push_config: Option<OfflinePushConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_excluded_from_last_message: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_excluded_from_content_moderation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_custom_moderation_configuration_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_has_risk_content: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_risk_type_identified: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_target_group_member_array: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_revoker_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_revoker_nick_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_revoker_face_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_revoke_reason: Option<String>,
    /// Keys this version does not model, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WireMessage {
    /// Whether the object names no message at all (the seed samples pass `{}` as "no anchor").
    pub fn is_empty_object(&self) -> bool {
        *self == WireMessage::default()
    }

    /// The sender-supplied content in domain form. Keys with no domain meaning (profiles,
    /// push settings, unknown keys) are kept together as the content's extension.
    pub fn to_content(&self) -> MessageContent {
        let mut passthrough = self.extra.clone();
        let mut keep = |key: &str, v: Option<Value>| {
            if let Some(v) = v {
                passthrough.insert(key.to_string(), v);
            }
        };
        keep("message_sender_profile", self.message_sender_profile.as_ref().and_then(|p| serde_json::to_value(p).ok()));
        keep(
            "message_sender_group_member_info",
            self.message_sender_group_member_info.as_ref().and_then(|p| serde_json::to_value(p).ok()),
        );
        keep(
            "message_offlie_push_config",
            self.message_offline_push_config.as_ref().and_then(|p| serde_json::to_value(p).ok()),
        );
        keep("message_support_message_extension", self.message_support_message_extension.map(Value::Bool));
        keep(
            "message_excluded_from_content_moderation",
            self.message_excluded_from_content_moderation.map(Value::Bool),
        );
        keep("message_is_forward_message", self.message_is_forward_message.map(Value::Bool));
        MessageContent {
            elements: self.message_elem_array.iter().map(elem::to_domain).collect(),
            priority: self.message_priority.unwrap_or(1),
            client_time: self.message_client_time.unwrap_or(0),
            platform: self.message_platform.unwrap_or(0),
            cloud_custom_str: self.message_cloud_custom_str.clone().unwrap_or_default(),
            is_online: self.message_is_online_msg.unwrap_or(false),
            excluded_from_unread: self.message_is_excluded_from_unread_count.unwrap_or(false),
            excluded_from_last_message: self.message_excluded_from_last_message.unwrap_or(false),
            need_read_receipt: self.message_need_read_receipt.unwrap_or(false),
            at_users: self.message_group_at_user_array.clone().unwrap_or_default(),
            target_members: self.message_target_group_member_array.clone().unwrap_or_default(),
            extension: extension_of(&passthrough),
        }
    }
}

/// One user's view of a message as a TIM JSON value (see [`ViewJson`] to write it as text).
pub fn view_to_json(view: &MessageView) -> Value {
    serde_json::from_str(&ViewJson(view).to_json_string()).unwrap_or(Value::Null)
}
