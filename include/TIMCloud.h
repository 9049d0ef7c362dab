/*
 * TIMCloud.h — the C interface of libtimsg.
 *
 * A drop-in for programs written against the Tencent Cloud IM C SDK's message API: the same
 * function names and prototypes, enum values, JSON key constants and callback types. Including
 * this header alone is enough; link with -ltimsg.
 *
 * Callbacks run on one dedicated thread of the library, never on the caller's stack, in the
 * order their events happened. A TIMCommCallback fires only when its call returned TIM_SUCC.
 */
#ifndef TIMSG_TIM_CLOUD_H_
#define TIMSG_TIM_CLOUD_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(ENABLE_STATIC_LIB)
#    define TIM_API
#  elif defined(TIMSG_BUILDING)
#    define TIM_API __declspec(dllexport)
#  else
#    define TIM_API __declspec(dllimport)
#  endif
#else
#  define TIM_API __attribute__((visibility("default")))
#endif
#define TIM_DECL TIM_API

/* JSON keys are `static const char*`, as in the SDK; unused ones do not warn. */
#if defined(__GNUC__) || defined(__clang__)
#  define TIM_JSON_KEY __attribute__((unused)) static const char*
#else
#  define TIM_JSON_KEY static const char*
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Results and error codes                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Synchronous result of every call. */
enum TIMResult {
    TIM_SUCC = 0,
    TIM_ERR_SDKUNINIT = -1,
    TIM_ERR_NOTLOGIN = -2,
    TIM_ERR_JSON = -3,
    TIM_ERR_PARAM = -4,
    TIM_ERR_CONV = -5,
    TIM_ERR_GROUP = -6,
};

/* Codes passed to callbacks. */
enum TIMErrCode {
    ERR_SUCC = 0,
    ERR_INVALID_CONVERSATION = 6004,
    ERR_FILE_TRANS_UPLOAD_FAILED = 6008,
    ERR_FILE_TRANS_DOWNLOAD_FAILED = 6009,
    ERR_HTTP_REQ_FAILED = 6010,
    ERR_SDK_NOT_INITIALIZED = 6013,
    ERR_SDK_NOT_LOGGED_IN = 6014,
    ERR_IN_PROGESS = 6015,
    ERR_INVALID_MSG_ELEM = 6016,
    ERR_INVALID_PARAMETERS = 6017,
    ERR_DATABASE_OPERATE_FAILED = 6019,
    ERR_INVALID_JSON = 6027,
    ERR_IMAGE_UPLOAD_FAILED_NOTIMAGE = 6031,
    ERR_USER_SIG_EXPIRED = 6206,
    ERR_SDK_COMM_INVALID_IDENTIFIER = 7003,
    ERR_SDK_COMM_FILE_NOT_FOUND = 7004,
    ERR_SDK_COMM_FILE_TOO_LARGE = 7005,
    ERR_SDK_COMM_FILE_SIZE_EMPTY = 7006,
    ERR_SDK_COMM_FILE_OPEN_FAILED = 7007,
    ERR_SDK_COMM_API_CALL_FREQUENCY_LIMIT = 7008,
    ERR_SDK_COMM_INTERRUPT = 7009,
    ERR_SDK_COMM_DATABASE_NOTFOUND = 7011,
    ERR_SDK_INTERNAL_ERROR = 7012,
    ERR_SDK_INVALID_OPERATION = 7014,
    ERR_SDK_MSG_BODY_SIZE_LIMIT = 8001,
    ERR_MERGER_MSG_LAYERS_OVER_LIMIT = 8005,
    ERR_SDK_INVALID_CANCEL_MESSAGE = 8020,
    ERR_SDK_SEND_MESSAGE_FAILED_WITH_CANCEL = 8021,
    ERR_SDK_NET_REQ_COUNT_LIMIT = 9507,
    ERR_SDK_NET_PKG_SIZE_LIMIT = 9522,
    ERR_SVR_GROUP_PERMISSION_DENY = 10007,
    ERR_SVR_GROUP_NOT_FOUND = 10010,
    ERR_SVR_GROUP_INVALID_GROUPID = 10015,
    ERR_SVR_GROUP_SEND_MSG_FREQ_LIMIT = 10023,
    ERR_SVR_GROUP_GROUPID_IN_USED = 10025,
    ERR_SVR_GROUP_REVOKE_MSG_NOT_FOUND = 10030,
    ERR_SVR_GROUP_REVOKE_MSG_TIME_LIMIT = 10031,
    ERR_SVR_GROUP_REVOKE_MSG_DENY = 10032,
    ERR_SVR_MSG_REVOKE_TIME_LIMIT = 20016,
    ERR_SVR_ACCOUNT_USERSIG_INVALID = 70003,
    ERR_SVR_ACCOUNT_USERSIG_MISMATCH_ID = 70013,
    ERR_SVR_ACCOUNT_USERSIG_MISMATCH_SDKAPPID = 70014,
    ERR_SVR_RES_SEND_CANCEL = 114003,
};

/* ------------------------------------------------------------------------------------------ */
/* Enums                                                                                      */
/* ------------------------------------------------------------------------------------------ */

enum TIMConvType {
    kTIMConv_Invalid = 0,
    kTIMConv_C2C = 1,
    kTIMConv_Group = 2,
    kTIMConv_System = 3,
};

enum TIMElemType {
    kTIMElem_Text = 0,
    kTIMElem_Image = 1,
    kTIMElem_Sound = 2,
    kTIMElem_Custom = 3,
    kTIMElem_File = 4,
    kTIMElem_GroupTips = 5,
    kTIMElem_Face = 6,
    kTIMElem_Location = 7,
    kTIMElem_GroupReport = 8,
    kTIMElem_Video = 9,
    kTIMElem_FriendChange = 10,
    kTIMElem_ProfileChange = 11,
    kTIMElem_Merge = 12,
    kTIMElem_Invalid = -1,
};

enum TIMMsgStatus {
    kTIMMsg_Sending = 1,
    kTIMMsg_SendSucc = 2,
    kTIMMsg_SendFail = 3,
    kTIMMsg_Deleted = 4,
    kTIMMsg_LocalImported = 5,
    kTIMMsg_Revoked = 6,
    kTIMMsg_Cancel = 7,
};

enum TIMMsgPriority {
    kTIMMsgPriority_High = 0,
    kTIMMsgPriority_Normal = 1,
    kTIMMsgPriority_Low = 2,
    kTIMMsgPriority_Lowest = 3,
};

enum TIMPlatform {
    kTIMPlatform_Other = 0,
    kTIMPlatform_Windows = 1,
    kTIMPlatform_Android = 2,
    kTIMPlatform_IOS = 3,
    kTIMPlatform_Mac = 4,
    kTIMPlatform_Simulator = 5,
};

enum TIMImageLevel {
    kTIMImageLevel_Orig = 0,
    kTIMImageLevel_Compression = 1,
    kTIMImageLevel_HD = 2,
};

enum TIMReceiveMessageOpt {
    kTIMRecvMsgOpt_Receive = 0,
    kTIMRecvMsgOpt_Not_Receive = 1,
    kTIMRecvMsgOpt_Not_Notify = 2,
};

enum TIMDownloadType {
    kTIMDownload_VideoThumb = 0,
    kTIMDownload_File = 1,
    kTIMDownload_Video = 2,
    kTIMDownload_Sound = 3,
};

enum TIMKeywordListMatchType {
    TIMKeywordListMatchType_Or = 0,
    TIMKeywordListMatchType_And = 1,
};

enum TIMLoginStatus {
    kTIMLoginStatus_Logined = 1,
    kTIMLoginStatus_Logining = 2,
    kTIMLoginStatus_UnLogined = 3,
    kTIMLoginStatus_Logouting = 4,
};

enum TIMOfflinePushFlag {
    kTIMOfflinePushFlag_Push = 0,
    kTIMOfflinePushFlag_NoPush = 1,
};

enum TIMGroupType {
    kTIMGroup_Public = 0,
    kTIMGroup_Private = 1,
    kTIMGroup_ChatRoom = 2,
    kTIMGroup_BChatRoom = 3,
    kTIMGroup_AVChatRoom = 4,
    kTIMGroup_Community = 5,
};

enum TIMGroupMemberRole {
    kTIMMemberRole_None = 0,
    kTIMMemberRole_Normal = 200,
    kTIMMemberRole_Admin = 300,
    kTIMMemberRole_Owner = 400,
};

enum TIMGroupAddOption {
    kTIMGroupAddOpt_Forbid = 0,
    kTIMGroupAddOpt_Auth = 1,
    kTIMGroupAddOpt_Any = 2,
    kTIMGroupAddOpt_Unknown = 3,
};

enum HandleGroupMemberResult {
    kTIMGroupMember_HandledErr = 0,
    kTIMGroupMember_HandledSuc = 1,
    kTIMGroupMember_Included = 2,
    kTIMGroupMember_Invited = 3,
};

enum TIMGroupTipType {
    kTIMGroupTip_None = 0,
    kTIMGroupTip_Invite = 1,
    kTIMGroupTip_Quit = 2,
    kTIMGroupTip_Kick = 3,
    kTIMGroupTip_SetAdmin = 4,
    kTIMGroupTip_CancelAdmin = 5,
    kTIMGroupTip_GroupInfoChange = 6,
    kTIMGroupTip_MemberInfoChange = 7,
    kTIMGroupTip_MemberMarkChange = 8,
    kTIMGroupTip_TopicInfoChange = 9,
};

enum TIMGroupTipGroupChangeFlag {
    kTIMGroupTipChangeFlag_Unknown = 0,
    kTIMGroupTipChangeFlag_Name = 1,
    kTIMGroupTipChangeFlag_Introduction = 2,
    kTIMGroupTipChangeFlag_Notification = 3,
    kTIMGroupTipChangeFlag_FaceUrl = 4,
    kTIMGroupTipChangeFlag_Owner = 5,
    kTIMGroupTipChangeFlag_Custom = 6,
    kTIMGroupTipChangeFlag_Attribute = 7,
};

enum TIMGroupReportType {
    kTIMGroupReport_None = 0,
    kTIMGroupReport_AddRequest = 1,
    kTIMGroupReport_AddAccept = 2,
    kTIMGroupReport_AddRefuse = 3,
    kTIMGroupReport_BeKicked = 4,
    kTIMGroupReport_Delete = 5,
    kTIMGroupReport_Create = 6,
    kTIMGroupReport_Invite = 7,
    kTIMGroupReport_Quit = 8,
    kTIMGroupReport_GrantAdmin = 9,
    kTIMGroupReport_CancelAdmin = 10,
    kTIMGroupReport_GroupRecycle = 11,
    kTIMGroupReport_InviteReq = 12,
    kTIMGroupReport_InviteAccept = 13,
    kTIMGroupReport_InviteRefuse = 14,
    kTIMGroupReport_ReadReport = 15,
    kTIMGroupReport_UserDefine = 16,
};

enum TIMProfileChangeType {
    kTIMProfileChange_None = 0,
    kTIMProfileChange_Profile = 1,
};

/* ------------------------------------------------------------------------------------------ */
/* JSON keys                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* TIMInit's json_sdk_config */
TIM_JSON_KEY kTIMSdkConfigConfigFilePath = "sdk_config_config_file_path"; /* the data directory */
TIM_JSON_KEY kTIMSdkConfigLogFilePath = "sdk_config_log_file_path";
TIM_JSON_KEY kTIMSdkConfigSecretKey = "timsg_config_secret_key";     /* timsg: verify UserSig with this key */
TIM_JSON_KEY kTIMSdkConfigDurability = "timsg_config_durability";    /* timsg: "fsync", "os" or "memory" */

/* Message keys */
TIM_JSON_KEY kTIMMsgElemArray = "message_elem_array";
TIM_JSON_KEY kTIMMsgConvId = "message_conv_id";
TIM_JSON_KEY kTIMMsgConvType = "message_conv_type";
TIM_JSON_KEY kTIMMsgSender = "message_sender";
TIM_JSON_KEY kTIMMsgPriority = "message_priority";
TIM_JSON_KEY kTIMMsgClientTime = "message_client_time";
TIM_JSON_KEY kTIMMsgServerTime = "message_server_time";
TIM_JSON_KEY kTIMMsgIsFormSelf = "message_is_from_self";
TIM_JSON_KEY kTIMMsgPlatform = "message_platform";
TIM_JSON_KEY kTIMMsgIsRead = "message_is_read";
TIM_JSON_KEY kTIMMsgIsOnlineMsg = "message_is_online_msg";
TIM_JSON_KEY kTIMMsgIsPeerRead = "message_is_peer_read";
TIM_JSON_KEY kTIMMsgReceiptPeerRead = "message_receipt_peer_read";
TIM_JSON_KEY kTIMMsgNeedReadReceipt = "message_need_read_receipt";
TIM_JSON_KEY kTIMMsgSupportMessageExtension = "message_support_message_extension";
TIM_JSON_KEY kTIMMsgIsBroadcastMessage = "message_is_broadcast_message";
TIM_JSON_KEY kTIMMsgHasSentReceipt = "message_has_sent_receipt";
TIM_JSON_KEY kTIMMsgGroupReceiptReadCount = "message_group_receipt_read_count";
TIM_JSON_KEY kTIMMsgGroupReceiptUnreadCount = "message_group_receipt_unread_count";
TIM_JSON_KEY kTIMMsgVersion = "message_version";
TIM_JSON_KEY kTIMMsgStatus = "message_status";
TIM_JSON_KEY kTIMMsgUniqueId = "message_unique_id";
TIM_JSON_KEY kTIMMsgMsgId = "message_msg_id";
TIM_JSON_KEY kTIMMsgRand = "message_rand";
TIM_JSON_KEY kTIMMsgSeq = "message_seq";
TIM_JSON_KEY kTIMMsgCustomInt = "message_custom_int";
TIM_JSON_KEY kTIMMsgCustomStr = "message_custom_str";
TIM_JSON_KEY kTIMMsgCloudCustomStr = "message_cloud_custom_str";
TIM_JSON_KEY kTIMMsgIsExcludedFromUnreadCount = "message_is_excluded_from_unread_count";
TIM_JSON_KEY kTIMMsgGroupAtUserArray = "message_group_at_user_array";
TIM_JSON_KEY kTIMMsgIsForwardMessage = "message_is_forward_message";
TIM_JSON_KEY kTIMMsgSenderProfile = "message_sender_profile";
TIM_JSON_KEY kTIMMsgSenderGroupMemberInfo = "message_sender_group_member_info";
TIM_JSON_KEY kTIMMsgOfflinePushConfig = "message_offlie_push_config";
TIM_JSON_KEY kTIMMsgExcludedFromLastMessage = "message_excluded_from_last_message";
TIM_JSON_KEY kTIMMsgExcludedFromContentModeration = "message_excluded_from_content_moderation";
TIM_JSON_KEY kTIMMsgCustomModerationConfigurationID = "message_custom_moderation_configuration_id";
TIM_JSON_KEY kTIMMsgHasRiskContent = "message_has_risk_content";
TIM_JSON_KEY kTIMMsgRiskTypeIdentified = "message_risk_type_identified";
TIM_JSON_KEY kTIMMsgTargetGroupMemberArray = "message_target_group_member_array";
TIM_JSON_KEY kTIMMsgRevokerUserId = "message_revoker_user_id";
TIM_JSON_KEY kTIMMsgRevokerNickName = "message_revoker_nick_name";
TIM_JSON_KEY kTIMMsgRevokerFaceUrl = "message_revoker_face_url";
TIM_JSON_KEY kTIMMsgRevokeReason = "message_revoke_reason";

/* The @-all sentinel */
TIM_JSON_KEY kImSDK_MesssageAtALL = "__kImSDK_MesssageAtALL__"; /* the @-all sentinel in message_group_at_user_array */

/* UserProfile */
TIM_JSON_KEY kTIMUserProfileIdentifier = "user_profile_identifier";
TIM_JSON_KEY kTIMUserProfileNickName = "user_profile_nick_name";
TIM_JSON_KEY kTIMUserProfileGender = "user_profile_gender";
TIM_JSON_KEY kTIMUserProfileFaceUrl = "user_profile_face_url";
TIM_JSON_KEY kTIMUserProfileFriendRemark = "user_profile_friend_remark";
TIM_JSON_KEY kTIMUserProfileSelfSignature = "user_profile_self_signature";
TIM_JSON_KEY kTIMUserProfileAddPermission = "user_profile_add_permission";
TIM_JSON_KEY kTIMUserProfileLocation = "user_profile_location";
TIM_JSON_KEY kTIMUserProfileLanguage = "user_profile_language";
TIM_JSON_KEY kTIMUserProfileBirthDay = "user_profile_birthday";
TIM_JSON_KEY kTIMUserProfileLevel = "user_profile_level";
TIM_JSON_KEY kTIMUserProfileRole = "user_profile_role";
TIM_JSON_KEY kTIMUserProfileCustomStringArray = "user_profile_custom_string_array";

/* GroupMemberInfo */
TIM_JSON_KEY kTIMGroupMemberInfoIdentifier = "group_member_info_identifier";
TIM_JSON_KEY kTIMGroupMemberInfoGroupId = "group_member_info_group_id";
TIM_JSON_KEY kTIMGroupMemberInfoJoinTime = "group_member_info_join_time";
TIM_JSON_KEY kTIMGroupMemberInfoMemberRole = "group_member_info_member_role";
TIM_JSON_KEY kTIMGroupMemberInfoMsgFlag = "group_member_info_msg_flag";
TIM_JSON_KEY kTIMGroupMemberInfoMsgSeq = "group_member_info_msg_seq";
TIM_JSON_KEY kTIMGroupMemberInfoShutupTime = "group_member_info_shutup_time";
TIM_JSON_KEY kTIMGroupMemberInfoNameCard = "group_member_info_name_card";
TIM_JSON_KEY kTIMGroupMemberInfoNickName = "group_member_info_nick_name";
TIM_JSON_KEY kTIMGroupMemberInfoFriendRemark = "group_member_info_remark";
TIM_JSON_KEY kTIMGroupMemberInfoRemark = "group_member_info_remark";
TIM_JSON_KEY kTIMGroupMemberInfoFaceUrl = "group_member_info_face_url";
TIM_JSON_KEY kTIMGroupMemberInfoCustomInfo = "group_member_info_custom_info";
TIM_JSON_KEY kTIMGroupMemberInfoIsOnline = "group_member_info_is_online";

/* OfflinePushConfig and sub-objects */
TIM_JSON_KEY kTIMOfflinePushConfigDesc = "offline_push_config_desc";
TIM_JSON_KEY kTIMOfflinePushConfigExt = "offline_push_config_ext";
TIM_JSON_KEY kTIMOfflinePushConfigFlag = "offline_push_config_flag";
TIM_JSON_KEY kTIMOfflinePushConfigIOSConfig = "offline_push_config_ios_config";
TIM_JSON_KEY kTIMOfflinePushConfigAndroidConfig = "offline_push_config_android_config";
TIM_JSON_KEY kTIMIOSOfflinePushConfigTitle = "ios_offline_push_config_title";
TIM_JSON_KEY kTIMIOSOfflinePushConfigSound = "ios_offline_push_config_sound";
TIM_JSON_KEY kTIMIOSOfflinePushConfigIgnoreBadge = "ios_offline_push_config_ignore_badge";
TIM_JSON_KEY kTIMIOSOfflinePushConfigPushType = "ios_offline_push_config_push_type";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigTitle = "android_offline_push_config_title";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigSound = "android_offline_push_config_sound";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigNotifyMode = "android_offline_push_config_notify_mode";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigVIVOClassification = "android_offline_push_config_vivo_classification";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigVIVOCategory = "android_offline_push_config_vivo_category";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigOPPOChannelID = "android_offline_push_config_oppo_channel_id";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigXiaoMiChannelID = "android_offline_push_config_xiaomi_channel_id";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigFCMChannelID = "android_offline_push_config_fcm_channel_id";
TIM_JSON_KEY kTIMAndroidOfflinePushConfigHuaWeiCategory = "android_offline_push_config_huawei_category";

/* Every element */
TIM_JSON_KEY kTIMElemType = "elem_type";

/* TextElem */
TIM_JSON_KEY kTIMTextElemContent = "text_elem_content";

/* FaceElem */
TIM_JSON_KEY kTIMFaceElemIndex = "face_elem_index";
TIM_JSON_KEY kTIMFaceElemBuf = "face_elem_buf";

/* LocationElem */
TIM_JSON_KEY kTIMLocationElemDesc = "location_elem_desc";
TIM_JSON_KEY kTIMLocationElemLongitude = "location_elem_longitude";
TIM_JSON_KEY kTIMLocationElemLatitude = "location_elem_latitude";
TIM_JSON_KEY kTIMLocationElemlatitude = "location_elem_latitude";

/* ImageElem */
TIM_JSON_KEY kTIMImageElemOrigPath = "image_elem_orig_path";
TIM_JSON_KEY kTIMImageElemLevel = "image_elem_level";
TIM_JSON_KEY kTIMImageElemFormat = "image_elem_format";
TIM_JSON_KEY kTIMImageElemOrigId = "image_elem_orig_id";
TIM_JSON_KEY kTIMImageElemOrigPicHeight = "image_elem_orig_pic_height";
TIM_JSON_KEY kTIMImageElemThumbId = "image_elem_thumb_id";
TIM_JSON_KEY kTIMImageElemThumbPicHeight = "image_elem_thumb_pic_height";
TIM_JSON_KEY kTIMImageElemLargeId = "image_elem_large_id";
TIM_JSON_KEY kTIMImageElemLargePicHeight = "image_elem_large_pic_height";
TIM_JSON_KEY kTIMImageElemOrigPicWidth = "image_elem_orig_pic_width";
TIM_JSON_KEY kTIMImageElemOrigPicSize = "image_elem_orig_pic_size";
TIM_JSON_KEY kTIMImageElemThumbPicWidth = "image_elem_thumb_pic_width";
TIM_JSON_KEY kTIMImageElemThumbPicSize = "image_elem_thumb_pic_size";
TIM_JSON_KEY kTIMImageElemLargePicWidth = "image_elem_large_pic_width";
TIM_JSON_KEY kTIMImageElemLargePicSize = "image_elem_large_pic_size";
TIM_JSON_KEY kTIMImageElemOrigUrl = "image_elem_orig_url";
TIM_JSON_KEY kTIMImageElemThumbUrl = "image_elem_thumb_url";
TIM_JSON_KEY kTIMImageElemLargeUrl = "image_elem_large_url";
TIM_JSON_KEY kTIMImageElemTaskId = "image_elem_task_id";

/* SoundElem */
TIM_JSON_KEY kTIMSoundElemFilePath = "sound_elem_file_path";
TIM_JSON_KEY kTIMSoundElemFileSize = "sound_elem_file_size";
TIM_JSON_KEY kTIMSoundElemFileTime = "sound_elem_file_time";
TIM_JSON_KEY kTIMSoundElemFileId = "sound_elem_file_id";
TIM_JSON_KEY kTIMSoundElemBusinessId = "sound_elem_business_id";
TIM_JSON_KEY kTIMSoundElemDownloadFlag = "sound_elem_download_flag";
TIM_JSON_KEY kTIMSoundElemUrl = "sound_elem_url";
TIM_JSON_KEY kTIMSoundElemTaskId = "sound_elem_task_id";

/* CustomElem */
TIM_JSON_KEY kTIMCustomElemData = "custom_elem_data";
TIM_JSON_KEY kTIMCustomElemDesc = "custom_elem_desc";
TIM_JSON_KEY kTIMCustomElemExt = "custom_elem_ext";
TIM_JSON_KEY kTIMCustomElemSound = "custom_elem_sound";

/* FileElem */
TIM_JSON_KEY kTIMFileElemFilePath = "file_elem_file_path";
TIM_JSON_KEY kTIMFileElemFileName = "file_elem_file_name";
TIM_JSON_KEY kTIMFileElemFileSize = "file_elem_file_size";
TIM_JSON_KEY kTIMFileElemFileId = "file_elem_file_id";
TIM_JSON_KEY kTIMFileElemBusinessId = "file_elem_business_id";
TIM_JSON_KEY kTIMFileElemDownloadFlag = "file_elem_download_flag";
TIM_JSON_KEY kTIMFileElemUrl = "file_elem_url";
TIM_JSON_KEY kTIMFileElemTaskId = "file_elem_task_id";

/* VideoElem */
TIM_JSON_KEY kTIMVideoElemVideoType = "video_elem_video_type";
TIM_JSON_KEY kTIMVideoElemVideoSize = "video_elem_video_size";
TIM_JSON_KEY kTIMVideoElemVideoDuration = "video_elem_video_duration";
TIM_JSON_KEY kTIMVideoElemVideoPath = "video_elem_video_path";
TIM_JSON_KEY kTIMVideoElemVideoId = "video_elem_video_id";
TIM_JSON_KEY kTIMVideoElemBusinessId = "video_elem_business_id";
TIM_JSON_KEY kTIMVideoElemVideoDownloadFlag = "video_elem_video_download_flag";
TIM_JSON_KEY kTIMVideoElemVideoUrl = "video_elem_video_url";
TIM_JSON_KEY kTIMVideoElemImageType = "video_elem_image_type";
TIM_JSON_KEY kTIMVideoElemImageSize = "video_elem_image_size";
TIM_JSON_KEY kTIMVideoElemImageWidth = "video_elem_image_width";
TIM_JSON_KEY kTIMVideoElemImageHeight = "video_elem_image_height";
TIM_JSON_KEY kTIMVideoElemImagePath = "video_elem_image_path";
TIM_JSON_KEY kTIMVideoElemImageId = "video_elem_image_id";
TIM_JSON_KEY kTIMVideoElemImageDownloadFlag = "video_elem_image_download_flag";
TIM_JSON_KEY kTIMVideoElemImageUrl = "video_elem_image_url";
TIM_JSON_KEY kTIMVideoElemTaskId = "video_elem_task_id";

/* MergerElem */
TIM_JSON_KEY kTIMMergerElemTitle = "merge_elem_title";
TIM_JSON_KEY kTIMMergerElemAbstractArray = "merge_elem_abstract_array";
TIM_JSON_KEY kTIMMergerElemCompatibleText = "merge_elem_compatible_text";
TIM_JSON_KEY kTIMMergerElemMsgArray = "merge_elem_message_array";
TIM_JSON_KEY kTIMMergerElemLayersOverLimit = "merge_elem_layer_over_limit";
TIM_JSON_KEY kTIMMergerElemRelayPbKey = "merge_elem_relay_pb_key";
TIM_JSON_KEY kTIMMergerElemRelayJsonKey = "merge_elem_relay_json_key";
TIM_JSON_KEY kTIMMergerElemRelayBuffer = "merge_elem_relay_buffer";

/* GroupTipsElem */
TIM_JSON_KEY kTIMGroupTipsElemTipType = "group_tips_elem_tip_type";
TIM_JSON_KEY kTIMGroupTipsElemOpUser = "group_tips_elem_op_user";
TIM_JSON_KEY kTIMGroupTipsElemGroupName = "group_tips_elem_group_name";
TIM_JSON_KEY kTIMGroupTipsElemGroupId = "group_tips_elem_group_id";
TIM_JSON_KEY kTIMGroupTipsElemTime = "group_tips_elem_time";
TIM_JSON_KEY kTIMGroupTipsElemUserArray = "group_tips_elem_user_array";
TIM_JSON_KEY kTIMGroupTipsElemGroupChangeInfoArray = "group_tips_elem_group_change_info_array";
TIM_JSON_KEY kTIMGroupTipsElemMemberChangeInfoArray = "group_tips_elem_member_change_info_array";
TIM_JSON_KEY kTIMGroupTipsElemOpUserInfo = "group_tips_elem_op_user_info";
TIM_JSON_KEY kTIMGroupTipsElemOpGroupMemberInfo = "group_tips_elem_op_group_memberinfo";
TIM_JSON_KEY kTIMGroupTipsElemChangedUserInfoArray = "group_tips_elem_changed_user_info_array";
TIM_JSON_KEY kTIMGroupTipsElemChangedGroupMemberInfoArray = "group_tips_elem_changed_group_memberinfo_array";
TIM_JSON_KEY kTIMGroupTipsElemMemberNum = "group_tips_elem_member_num";
TIM_JSON_KEY kTIMGroupTipsElemPlatform = "group_tips_elem_platform";
TIM_JSON_KEY kTIMGroupTipsElemMemberMarkInfoArray = "group_tips_elem_member_mark_info_array";

/* GroupReportElem */
TIM_JSON_KEY kTIMGroupReportElemReportType = "group_report_elem_report_type";
TIM_JSON_KEY kTIMGroupReportElemGroupId = "group_report_elem_group_id";
TIM_JSON_KEY kTIMGroupReportElemGroupName = "group_report_elem_group_name";
TIM_JSON_KEY kTIMGroupReportElemOpUser = "group_report_elem_op_user";
TIM_JSON_KEY kTIMGroupReportElemMsg = "group_report_elem_msg";
TIM_JSON_KEY kTIMGroupReportElemUserData = "group_report_elem_user_data";
TIM_JSON_KEY kTIMGroupReportElemOpUserInfo = "group_report_elem_op_user_info";
TIM_JSON_KEY kTIMGroupReportElemOpGroupMemberInfo = "group_report_elem_op_group_memberinfo";
TIM_JSON_KEY kTIMGroupReportElemPlatform = "group_report_elem_platform";
TIM_JSON_KEY kTIMGroupReportElemShutUpTime = "group_report_elem_shut_up_time";
TIM_JSON_KEY kTIMGroupReportElemGroupMessageReceiveOption = "group_report_elem_group_message_receive_option";

/* ProfileChangeElem */
TIM_JSON_KEY kTIMProfileChangeElemChangeType = "profile_change_elem_change_type";
TIM_JSON_KEY kTIMProfileChangeElemFromIdentifier = "profile_change_elem_from_identifer";
TIM_JSON_KEY kTIMProfileChangeElemFromIndentifier = "profile_change_elem_from_identifer";
TIM_JSON_KEY kTIMProfileChangeElemUserProfileItem = "profile_change_elem_user_profile_item";
TIM_JSON_KEY kTIMFriendChangeElemChangeType = "friend_change_elem_change_type";
TIM_JSON_KEY kTIMFriendChangeElemFriendAddIdentifierArray = "friend_change_elem_friend_add_identifier_array";
TIM_JSON_KEY kTIMFriendChangeElemFriendDelIdentifierArray = "friend_change_elem_friend_del_identifier_array";
TIM_JSON_KEY kTIMFriendChangeElemFriendAddPendencyItemArray = "friend_change_elem_friend_add_pendency_array";
TIM_JSON_KEY kTIMFriendChangeElemPendencyDelIdentifierArray = "friend_change_elem_pendency_del_identifier_array";
TIM_JSON_KEY kTIMFriendChangeElemPendencyReadedReportTimestamp = "friend_change_elem_pendency_readed_report_timestamp";
TIM_JSON_KEY kTIMFriendChangeElemBlackListAddIdentifierArray = "friend_change_elem_blacklist_add_identifier_array";
TIM_JSON_KEY kTIMFriendChangeElemBlackListDelIdentifierArray = "friend_change_elem_blacklist_del_identifier_array";
TIM_JSON_KEY kTIMFriendChangeElemFreindProfileUpdateItemArray = "friend_change_elem_friend_profile_update_item_array";
TIM_JSON_KEY kTIMFriendChangeElemFriendGroupAddIdentifierArray = "friend_change_elem_friend_group_add_array";
TIM_JSON_KEY kTIMFriendChangeElemFriendGroupDelIdentifierArray = "friend_change_elem_friend_group_del_array";
TIM_JSON_KEY kTIMFriendChangeElemFriendGroupModifyIdentifierArray = "friend_change_elem_friend_group_update_array";

/* MsgLocator */
TIM_JSON_KEY kTIMMsgLocatorConvId = "message_locator_conv_id";
TIM_JSON_KEY kTIMMsgLocatorConvType = "message_locator_conv_type";
TIM_JSON_KEY kTIMMsgLocatorIsRevoked = "message_locator_is_revoked";
TIM_JSON_KEY kTIMMsgLocatorTime = "message_locator_time";
TIM_JSON_KEY kTIMMsgLocatorSeq = "message_locator_seq";
TIM_JSON_KEY kTIMMsgLocatorIsSelf = "message_locator_is_self";
TIM_JSON_KEY kTIMMsgLocatorRand = "message_locator_rand";
TIM_JSON_KEY kTIMMsgLocatorUniqueId = "message_locator_unique_id";

/* MsgGetMsgListParam */
TIM_JSON_KEY kTIMMsgGetMsgListParamLastMsg = "msg_getmsglist_param_last_msg";
TIM_JSON_KEY kTIMMsgGetMsgListParamCount = "msg_getmsglist_param_count";
TIM_JSON_KEY kTIMMsgGetMsgListParamIsRamble = "msg_getmsglist_param_is_remble";
TIM_JSON_KEY kTIMMsgGetMsgListParamIsForward = "msg_getmsglist_param_is_forward";
TIM_JSON_KEY kTIMMsgGetMsgListParamLastMsgSeq = "msg_getmsglist_param_last_msg_seq";
TIM_JSON_KEY kTIMMsgGetMsgListParamTimeBegin = "msg_getmsglist_param_time_begin";
TIM_JSON_KEY kTIMMsgGetMsgListParamTimePeriod = "msg_getmsglist_param_time_period";
TIM_JSON_KEY kTIMMsgGetMsgListMessageTypeArray = "msg_getmsglist_param_message_type_array";
TIM_JSON_KEY kTIMMsgGetMsgListParamMessageSeqArray = "msg_getmsglist_param_message_seq_array";

/* MsgDeleteParam */
TIM_JSON_KEY kTIMMsgDeleteParamMsg = "msg_delete_param_msg";
TIM_JSON_KEY kTIMMsgDeleteParamIsRamble = "msg_delete_param_is_remble";

/* MsgBatchSendParam / MsgBatchSendResult */
TIM_JSON_KEY kTIMMsgBatchSendParamIdentifierArray = "msg_batch_send_param_identifier_array";
TIM_JSON_KEY kTIMMsgBatchSendParamMsg = "msg_batch_send_param_msg";
TIM_JSON_KEY kTIMMsgBatchSendResultIdentifier = "msg_batch_send_result_identifier";
TIM_JSON_KEY kTIMMsgBatchSendResultCode = "msg_batch_send_result_code";
TIM_JSON_KEY kTIMMsgBatchSendResultDesc = "msg_batch_send_result_desc";
TIM_JSON_KEY kTIMMsgBatchSendResultMsg = "msg_batch_send_result_msg";

/* DownloadElemParam / MsgDownloadElemResult */
TIM_JSON_KEY kTIMMsgDownloadElemParamFlag = "msg_download_elem_param_flag";
TIM_JSON_KEY kTIMMsgDownloadElemParamType = "msg_download_elem_param_type";
TIM_JSON_KEY kTIMMsgDownloadElemParamId = "msg_download_elem_param_id";
TIM_JSON_KEY kTIMMsgDownloadElemParamBusinessId = "msg_download_elem_param_business_id";
TIM_JSON_KEY kTIMMsgDownloadElemParamUrl = "msg_download_elem_param_url";
TIM_JSON_KEY kTIMMsgDownloadElemResultCurrentSize = "msg_download_elem_result_current_size";
TIM_JSON_KEY kTIMMsgDownloadElemResultTotalSize = "msg_download_elem_result_total_size";

/* MessageSearchParam */
TIM_JSON_KEY kTIMMsgSearchParamKeywordArray = "msg_search_param_keyword_array";
TIM_JSON_KEY kTIMMsgSearchParamMessageTypeArray = "msg_search_param_message_type_array";
TIM_JSON_KEY kTIMMsgSearchParamConvId = "msg_search_param_conv_id";
TIM_JSON_KEY kTIMMsgSearchParamConvType = "msg_search_param_conv_type";
TIM_JSON_KEY kTIMMsgSearchParamSearchTimePosition = "msg_search_param_search_time_position";
TIM_JSON_KEY kTIMMsgSearchParamSearchTimePeriod = "msg_search_param_search_time_period";
TIM_JSON_KEY kTIMMsgSearchParamPageIndex = "msg_search_param_page_index";
TIM_JSON_KEY kTIMMsgSearchParamPageSize = "msg_search_param_page_size";
TIM_JSON_KEY kTIMMsgSearchParamKeywordListMatchType = "msg_search_param_keyword_list_match_type";
TIM_JSON_KEY kTIMMsgSearchParamSenderIdentifierArray = "msg_search_param_send_indentifier_array";
TIM_JSON_KEY kTIMMsgSearchParamSearchCount = "msg_search_param_search_count";
TIM_JSON_KEY kTIMMsgSearchParamSearchCursor = "msg_search_param_search_cursor";

/* MessageSearchResult / MessageSearchResultItem */
TIM_JSON_KEY kTIMMsgSearchResultTotalCount = "msg_search_result_total_count";
TIM_JSON_KEY kTIMMsgSearchResultItemArray = "msg_search_result_item_array";
TIM_JSON_KEY kTIMMsgSearchResultSearchCursor = "msg_search_result_search_cursor";
TIM_JSON_KEY kTIMMsgSearchResultItemConvId = "msg_search_result_item_conv_id";
TIM_JSON_KEY kTIMMsgSearchResultItemConvType = "msg_search_result_item_conv_type";
TIM_JSON_KEY kTIMMsgSearchResultItemTotalMessageCount = "msg_search_result_item_total_message_count";
TIM_JSON_KEY kTIMMsgSearchResultItemMessageArray = "msg_search_result_item_message_array";

/* Receive options */
TIM_JSON_KEY kTIMMsgGetC2CRecvMsgOptResultIdentifier = "msg_recv_msg_opt_result_identifier";
TIM_JSON_KEY kTIMMsgGetC2CRecvMsgOptResultOpt = "msg_recv_msg_opt_result_opt";
TIM_JSON_KEY kTIMMsgAllRecvMsgOptStartHour = "msg_all_recv_msg_opt_start_hour";
TIM_JSON_KEY kTIMMsgAllRecvMsgOptStartMinute = "msg_all_recv_msg_opt_start_minute";
TIM_JSON_KEY kTIMMsgAllRecvMsgOptStartSecond = "msg_all_recv_msg_opt_start_second";
TIM_JSON_KEY kTIMMsgAllRecvMsgOptStartTimeStamp = "msg_all_recv_msg_opt_start_time_stamp";
TIM_JSON_KEY kTIMMsgAllRecvMsgDuration = "msg_all_recv_msg_duration";
TIM_JSON_KEY kTIMMsgAllRecvMsgOptLevel = "msg_all_recv_msg_opt_level";

/* MessageReceipt */
TIM_JSON_KEY kTIMMsgReceiptConvId = "msg_receipt_conv_id";
TIM_JSON_KEY kTIMMsgReceiptConvType = "msg_receipt_conv_type";
TIM_JSON_KEY kTIMMsgReceiptMsgId = "msg_receipt_msg_id";
TIM_JSON_KEY kTIMMsgReceiptTimeStamp = "msg_receipt_time_stamp";
TIM_JSON_KEY kTIMMsgReceiptIsPeerRead = "msg_receipt_is_peer_read";
TIM_JSON_KEY kTIMMsgReceiptReadCount = "msg_receipt_read_count";
TIM_JSON_KEY kTIMMsgReceiptUnreadCount = "msg_receipt_unread_count";

/* CreateGroupParam / CreateGroupResult */
TIM_JSON_KEY kTIMCreateGroupParamGroupId = "create_group_param_group_id";
TIM_JSON_KEY kTIMCreateGroupParamGroupType = "create_group_param_group_type";
TIM_JSON_KEY kTIMCreateGroupParamGroupName = "create_group_param_group_name";
TIM_JSON_KEY kTIMCreateGroupParamGroupMemberArray = "create_group_param_group_member_array";
TIM_JSON_KEY kTIMCreateGroupParamNotification = "create_group_param_notification";
TIM_JSON_KEY kTIMCreateGroupParamIntroduction = "create_group_param_introduction";
TIM_JSON_KEY kTIMCreateGroupParamFaceUrl = "create_group_param_face_url";
TIM_JSON_KEY kTIMCreateGroupParamAddOption = "create_group_param_add_option";
TIM_JSON_KEY kTIMCreateGroupParamApproveOption = "create_group_param_approve_option";
TIM_JSON_KEY kTIMCreateGroupParamMaxMemberCount = "create_group_param_max_member_num";
TIM_JSON_KEY kTIMCreateGroupParamCustomInfo = "create_group_param_custom_info";
TIM_JSON_KEY kTIMCreateGroupResultGroupId = "create_group_result_groupid";

/* GroupInviteMemberParam / GroupInviteMemberResult */
TIM_JSON_KEY kTIMGroupInviteMemberParamGroupId = "group_invite_member_param_group_id";
TIM_JSON_KEY kTIMGroupInviteMemberParamIdentifierArray = "group_invite_member_param_identifier_array";
TIM_JSON_KEY kTIMGroupInviteMemberParamUserData = "group_invite_member_param_user_data";
TIM_JSON_KEY kTIMGroupInviteMemberResultIdentifier = "group_invite_member_result_identifier";
TIM_JSON_KEY kTIMGroupInviteMemberResultResult = "group_invite_member_result_result";

/* GroupDeleteMemberParam / GroupDeleteMemberResult */
TIM_JSON_KEY kTIMGroupDeleteMemberParamGroupId = "group_delete_member_param_group_id";
TIM_JSON_KEY kTIMGroupDeleteMemberParamIdentifierArray = "group_delete_member_param_identifier_array";
TIM_JSON_KEY kTIMGroupDeleteMemberParamUserData = "group_delete_member_param_user_data";
TIM_JSON_KEY kTIMGroupDeleteMemberResultIdentifier = "group_delete_member_result_identifier";
TIM_JSON_KEY kTIMGroupDeleteMemberResultResult = "group_delete_member_result_result";

/* ------------------------------------------------------------------------------------------ */
/* Callbacks                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef void (*TIMCommCallback)(int32_t code, const char* desc, const char* json_params, const void* user_data);
typedef void (*TIMRecvNewMsgCallback)(const char* json_msg_array, const void* user_data);
typedef void (*TIMMsgReadedReceiptCallback)(const char* json_msg_read_receipt_array, const void* user_data);
typedef void (*TIMMsgRevokeCallback)(const char* json_msg_revoke_info_array, const void* user_data);
typedef void (*TIMMsgUpdateCallback)(const char* json_msg_array, const void* user_data);
typedef void (*TIMMsgElemUploadProgressCallback)(const char* json_msg, uint32_t index, uint32_t cur_size, uint32_t total_size, const void* user_data);

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle                                                                                  */
/* ------------------------------------------------------------------------------------------ */

TIM_DECL int TIMInit(uint64_t sdk_app_id, const char* json_sdk_config);
TIM_DECL int TIMUninit(void);
TIM_DECL int TIMLogin(const char* user_id, const char* user_sig, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMLogout(TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMGetLoginUserID(char* user_id_buffer);
TIM_DECL enum TIMLoginStatus TIMGetLoginStatus(void);
TIM_DECL const char* TIMGetSDKVersion(void);
TIM_DECL uint64_t TIMGetServerTime(void);

/* ------------------------------------------------------------------------------------------ */
/* Listeners                                                                                  */
/* ------------------------------------------------------------------------------------------ */

TIM_DECL void TIMAddRecvNewMsgCallback(TIMRecvNewMsgCallback cb, const void* user_data);
TIM_DECL void TIMRemoveRecvNewMsgCallback(TIMRecvNewMsgCallback cb);
TIM_DECL void TIMSetMsgReadedReceiptCallback(TIMMsgReadedReceiptCallback cb, const void* user_data);
TIM_DECL void TIMSetMsgRevokeCallback(TIMMsgRevokeCallback cb, const void* user_data);
TIM_DECL void TIMSetMsgElemUploadProgressCallback(TIMMsgElemUploadProgressCallback cb, const void* user_data);
TIM_DECL void TIMSetMsgUpdateCallback(TIMMsgUpdateCallback cb, const void* user_data);

/* ------------------------------------------------------------------------------------------ */
/* Messages                                                                                   */
/* ------------------------------------------------------------------------------------------ */

TIM_DECL int TIMMsgSendMessage(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_param, char* message_id_buffer, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgSendNewMsg(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgCancelSend(const char* conv_id, enum TIMConvType conv_type, const char* message_id, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgFindMessages(const char* json_message_id_array, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgReportReaded(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgMarkAllMessageAsRead(TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgRevoke(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgFindByMsgLocatorList(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_Locator_array, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgImportMsgList(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_array, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgSaveMsg(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgGetMsgList(const char* conv_id, enum TIMConvType conv_type, const char* json_get_msg_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgDelete(const char* conv_id, enum TIMConvType conv_type, const char* json_msgdel_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgListDelete(const char* conv_id, enum TIMConvType conv_type, const char* json_msg_array, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgClearHistoryMessage(const char* conv_id, enum TIMConvType conv_type, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgSetC2CReceiveMessageOpt(const char* json_identifier_array, enum TIMReceiveMessageOpt opt, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgGetC2CReceiveMessageOpt(const char* json_identifier_array, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgSetGroupReceiveMessageOpt(const char* group_id, enum TIMReceiveMessageOpt opt, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgDownloadElemToPath(const char* json_download_elem_param, const char* path, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgDownloadMergerMessage(const char* json_single_msg, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgSearchLocalMessages(const char* json_search_message_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgSetLocalCustomData(const char* json_msg_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMMsgBatchSend(const char* json_batch_send_param, TIMCommCallback cb, const void* user_data);

/* ------------------------------------------------------------------------------------------ */
/* Groups                                                                                     */
/* ------------------------------------------------------------------------------------------ */

TIM_DECL int TIMGroupCreate(const char* json_group_create_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMGroupDelete(const char* group_id, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMGroupJoin(const char* group_id, const char* hello_msg, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMGroupQuit(const char* group_id, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMGroupInviteMember(const char* json_group_invite_param, TIMCommCallback cb, const void* user_data);
TIM_DECL int TIMGroupDeleteMember(const char* json_group_delete_param, TIMCommCallback cb, const void* user_data);

#ifdef __cplusplus
}
#endif

#endif /* TIMSG_TIM_CLOUD_H_ */
