//! Parameter and result objects of the group calls (`TIMGroupCreate`, `TIMGroupInviteMember`,
//! `TIMGroupDeleteMember`), with the SDK's keys.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::profile::GroupMemberInfo;

/// `CreateGroupParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateGroupParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_group_id: Option<String>,
    /// `TIMGroupType`: 0 Public, 1 Private (Work), 2 ChatRoom (Meeting), 3 BChatRoom, 4 AVChatRoom, 5 Community.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_group_type: Option<u32>,
    pub create_group_param_group_name: String,
    pub create_group_param_group_member_array: Vec<GroupMemberInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_notification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_introduction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_face_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_add_option: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_approve_option: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_max_member_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_group_param_custom_info: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `CreateGroupResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateGroupResult {
    pub create_group_result_groupid: String,
}

/// `GroupInviteMemberParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupInviteMemberParam {
    pub group_invite_member_param_group_id: String,
    pub group_invite_member_param_identifier_array: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_invite_member_param_user_data: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GroupInviteMemberResult`; `result` is a `HandleGroupMemberResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupInviteMemberResult {
    pub group_invite_member_result_identifier: String,
    pub group_invite_member_result_result: u32,
}

/// `GroupDeleteMemberParam`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupDeleteMemberParam {
    pub group_delete_member_param_group_id: String,
    pub group_delete_member_param_identifier_array: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_delete_member_param_user_data: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GroupDeleteMemberResult`; `result` is a `HandleGroupMemberResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDeleteMemberResult {
    pub group_delete_member_result_identifier: String,
    pub group_delete_member_result_result: u32,
}

/// `HandleGroupMemberResult` values.
pub mod handle_result {
    pub const ERR: u32 = 0;
    pub const SUCC: u32 = 1;
    pub const INCLUDED: u32 = 2;
}
