//! TIM result codes and the one mapping from domain errors to TIM `{code, desc}`.
//!
//! Synchronous `TIMResult` codes (negative) say the call was refused before it started: bad
//! JSON, a bad parameter, no login. Everything else arrives as the callback `code`.

use timsg_actors::ConvError;
use timsg_actors::ids::ConvType;

/// `TIMResult` and `TIMErrCode` values used by the message APIs.
pub mod code {
    pub const TIM_SUCC: i32 = 0;
    pub const TIM_ERR_SDKUNINIT: i32 = -1;
    pub const TIM_ERR_NOTLOGIN: i32 = -2;
    pub const TIM_ERR_JSON: i32 = -3;
    pub const TIM_ERR_PARAM: i32 = -4;
    pub const TIM_ERR_CONV: i32 = -5;
    pub const TIM_ERR_GROUP: i32 = -6;

    pub const ERR_SUCC: i32 = 0;
    pub const ERR_IN_PROGESS: i32 = 6015;
    pub const ERR_INVALID_MSG_ELEM: i32 = 6016;
    pub const ERR_INVALID_PARAMETERS: i32 = 6017;
    pub const ERR_DATABASE_OPERATE_FAILED: i32 = 6019;
    pub const ERR_INVALID_CONVERSATION: i32 = 6004;
    pub const ERR_SDK_COMM_INVALID_IDENTIFIER: i32 = 7003;
    pub const ERR_SDK_COMM_API_CALL_FREQUENCY_LIMIT: i32 = 7008;
    pub const ERR_SDK_COMM_INTERRUPT: i32 = 7009;
    pub const ERR_SDK_COMM_DATABASE_NOTFOUND: i32 = 7011;
    pub const ERR_SDK_INTERNAL_ERROR: i32 = 7012;
    pub const ERR_SDK_MSG_BODY_SIZE_LIMIT: i32 = 8001;
    pub const ERR_MERGER_MSG_LAYERS_OVER_LIMIT: i32 = 8005;
    pub const ERR_SDK_INVALID_CANCEL_MESSAGE: i32 = 8020;
    pub const ERR_SDK_SEND_MESSAGE_FAILED_WITH_CANCEL: i32 = 8021;
    pub const ERR_SDK_NET_REQ_COUNT_LIMIT: i32 = 9507;
    pub const ERR_SVR_MSG_REVOKE_TIME_LIMIT: i32 = 20016;
    pub const ERR_SVR_GROUP_PERMISSION_DENY: i32 = 10007;
    pub const ERR_SVR_GROUP_NOT_FOUND: i32 = 10010;
    pub const ERR_SVR_GROUP_FULL_MEMBER_COUNT: i32 = 10014;
    pub const ERR_SVR_GROUP_INVALID_GROUPID: i32 = 10015;
    pub const ERR_SVR_GROUP_SEND_MSG_FREQ_LIMIT: i32 = 10023;
    pub const ERR_SVR_GROUP_REVOKE_MSG_NOT_FOUND: i32 = 10030;
    pub const ERR_SVR_GROUP_REVOKE_MSG_TIME_LIMIT: i32 = 10031;
    pub const ERR_SVR_GROUP_REVOKE_MSG_DENY: i32 = 10032;
    pub const ERR_FILE_TRANS_UPLOAD_FAILED: i32 = 6008;
    pub const ERR_FILE_TRANS_DOWNLOAD_FAILED: i32 = 6009;
    pub const ERR_HTTP_REQ_FAILED: i32 = 6010;
    pub const ERR_IMAGE_UPLOAD_FAILED_NOTIMAGE: i32 = 6031;
    pub const ERR_SDK_COMM_FILE_NOT_FOUND: i32 = 7004;
    pub const ERR_SDK_COMM_FILE_TOO_LARGE: i32 = 7005;
    pub const ERR_SDK_COMM_FILE_SIZE_EMPTY: i32 = 7006;
    pub const ERR_SDK_COMM_FILE_OPEN_FAILED: i32 = 7007;
    pub const ERR_SVR_RES_SEND_CANCEL: i32 = 114003;
    pub const ERR_SVR_RES_TRANSFER_TIMEOUT: i32 = 114005;
    pub const ERR_SDK_INVALID_OPERATION: i32 = 7014;
    pub const ERR_REQUEST_TIME_OUT: i32 = 6012;
    /// The REST API's "already a member" (the client SDK has no constant of its own for it).
    pub const ERR_SVR_GROUP_ALREADY_MEMBER: i32 = 10013;
    /// Group already exists (TIM server code for a taken group ID).
    pub const ERR_SVR_GROUP_GROUPID_IN_USED: i32 = 10025;
}

/// A TIM error: the code and a description that says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {desc}")]
pub struct TimError {
    pub code: i32,
    pub desc: String,
}

impl TimError {
    pub fn new(code: i32, desc: impl Into<String>) -> TimError {
        TimError { code, desc: desc.into() }
    }

    /// Malformed JSON or a key of the wrong type (synchronous).
    pub fn json(desc: impl Into<String>) -> TimError {
        TimError::new(code::TIM_ERR_JSON, desc)
    }

    /// A parameter the API cannot take (synchronous).
    pub fn param(desc: impl Into<String>) -> TimError {
        TimError::new(code::TIM_ERR_PARAM, desc)
    }

    /// Whether the call was refused synchronously (its callback never fires).
    pub fn is_synchronous(&self) -> bool {
        self.code < 0
    }
}

impl From<ConvError> for TimError {
    fn from(e: ConvError) -> TimError {
        use code::*;
        let c = match &e {
            ConvError::InvalidParam(_) | ConvError::MessageIdTaken(_) => ERR_INVALID_PARAMETERS,
            ConvError::InvalidIdentifier(_) => ERR_SDK_COMM_INVALID_IDENTIFIER,
            ConvError::BodyTooLarge { .. } => ERR_SDK_MSG_BODY_SIZE_LIMIT,
            ConvError::ElementNotSendable(_) => ERR_INVALID_MSG_ELEM,
            ConvError::GroupNotFound(_) => ERR_SVR_GROUP_NOT_FOUND,
            ConvError::GroupExists(_) => ERR_SVR_GROUP_GROUPID_IN_USED,
            ConvError::NotMember { .. } | ConvError::PermissionDenied(_) => ERR_SVR_GROUP_PERMISSION_DENY,
            // The group code for a group; for a C2C message, the SDK's "not in the database".
            ConvError::MessageNotFound(ConvType::Group) => ERR_SVR_GROUP_REVOKE_MSG_NOT_FOUND,
            ConvError::MessageNotFound(_) => ERR_SDK_COMM_DATABASE_NOTFOUND,
            ConvError::RevokeWindowPassed { conv_type: ConvType::Group, .. } => ERR_SVR_GROUP_REVOKE_MSG_TIME_LIMIT,
            ConvError::RevokeWindowPassed { .. } => ERR_SVR_MSG_REVOKE_TIME_LIMIT,
            ConvError::NotRevocable(_) => ERR_SVR_GROUP_REVOKE_MSG_DENY,
            ConvError::NothingToCancel(_) => ERR_SDK_INVALID_CANCEL_MESSAGE,
            ConvError::InProgress => ERR_IN_PROGESS,
            ConvError::SendCancelled => ERR_SDK_SEND_MESSAGE_FAILED_WITH_CANCEL,
            ConvError::GroupRateLimited => ERR_SVR_GROUP_SEND_MSG_FREQ_LIMIT,
            ConvError::TooFrequent(_) => ERR_SDK_COMM_API_CALL_FREQUENCY_LIMIT,
            ConvError::MergeOverLimit => ERR_MERGER_MSG_LAYERS_OVER_LIMIT,
            ConvError::FileNotFound(_) => ERR_SDK_COMM_FILE_NOT_FOUND,
            ConvError::FileTooLarge { .. } | ConvError::ImageTooLarge { .. } => ERR_SDK_COMM_FILE_TOO_LARGE,
            ConvError::FileEmpty(_) => ERR_SDK_COMM_FILE_SIZE_EMPTY,
            ConvError::FileUnreadable(_) => ERR_SDK_COMM_FILE_OPEN_FAILED,
            ConvError::NotAnImage(_) => ERR_IMAGE_UPLOAD_FAILED_NOTIMAGE,
            ConvError::UploadFailed(_) => ERR_FILE_TRANS_UPLOAD_FAILED,
            ConvError::DownloadFailed(_) => ERR_FILE_TRANS_DOWNLOAD_FAILED,
            ConvError::HttpFailed(_) => ERR_HTTP_REQ_FAILED,
            ConvError::TransferCancelled => ERR_SVR_RES_SEND_CANCEL,
            ConvError::TransferTimedOut(_) => ERR_SVR_RES_TRANSFER_TIMEOUT,
            ConvError::TimedOut(_) | ConvError::Incomplete(_) => ERR_REQUEST_TIME_OUT,
            ConvError::AlreadyMember { .. } => ERR_SVR_GROUP_ALREADY_MEMBER,
            ConvError::GroupFull { .. } => ERR_SVR_GROUP_FULL_MEMBER_COUNT,
            ConvError::Forbidden(_) => ERR_SDK_INVALID_OPERATION,
            ConvError::Busy | ConvError::TooMany(_) => ERR_SDK_NET_REQ_COUNT_LIMIT,
            ConvError::Store(_) => ERR_DATABASE_OPERATE_FAILED,
            ConvError::ShuttingDown => ERR_SDK_COMM_INTERRUPT,
            ConvError::Internal(_) => ERR_SDK_INTERNAL_ERROR,
        };
        TimError::new(c, e.to_string())
    }
}

pub type TimResult<T> = Result<T, TimError>;
