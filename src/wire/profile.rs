//! Objects a message may carry about people and push delivery: `UserProfile`,
//! `GroupMemberInfo`, `OfflinePushConfig`. The runtime passes them through unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UserProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_nick_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_gender: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_face_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_friend_remark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_self_signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_add_permission: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_language: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_birthday: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_level: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_role: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_custom_string_array: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupMemberInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_join_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_member_role: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_msg_flag: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_msg_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_shutup_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_name_card: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_nick_name: Option<String>,
    /// V5 `group_member_info_remark`, V7 `group_member_info_friend_remark`.
    #[serde(rename = "group_member_info_remark", alias = "group_member_info_friend_remark")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_friend_remark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_face_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_member_info_custom_info: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IosOfflinePushConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ios_offline_push_config_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ios_offline_push_config_sound: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ios_offline_push_config_ignore_badge: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ios_offline_push_config_push_type: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AndroidOfflinePushConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub android_offline_push_config_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub android_offline_push_config_sound: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub android_offline_push_config_notify_mode: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub android_offline_push_config_vivo_classification: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub android_offline_push_config_oppo_channel_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OfflinePushConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_push_config_desc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_push_config_ext: Option<String>,
    /// 0 push, 1 no push.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_push_config_flag: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_push_config_ios_config: Option<IosOfflinePushConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_push_config_android_config: Option<AndroidOfflinePushConfig>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
