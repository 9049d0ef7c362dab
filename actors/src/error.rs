//! What can go wrong inside the runtime, as the domain sees it. The mapping to TIM
//! `{code, desc}` lives at the boundary (`timsg::error`), never here.

use thiserror::Error;

use crate::ids::ConvType;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConvError {
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
    #[error("invalid user id {0:?}: 1 to 32 bytes of printable ascii, no path and no @TIM# prefix")]
    InvalidIdentifier(String),
    #[error("message body is {size} bytes, over the {limit} byte limit")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("element type {0} cannot be sent by a client")]
    ElementNotSendable(i32),
    #[error("group {0} does not exist or was dismissed")]
    GroupNotFound(String),
    #[error("group {0} already exists")]
    GroupExists(String),
    #[error("{user} is not a member of group {group}")]
    NotMember { user: String, group: String },
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The message is not in the conversation (of this type: the codes differ).
    #[error("message not found")]
    MessageNotFound(ConvType),
    #[error("the revoke window of {window_secs} s has passed")]
    RevokeWindowPassed { conv_type: ConvType, window_secs: u64 },
    #[error("message cannot be revoked: {0}")]
    NotRevocable(String),
    #[error("no message {0} is waiting to be sent")]
    NothingToCancel(String),
    #[error("a message with this id is already being sent")]
    InProgress,
    #[error("message id {0:?} belongs to another sender's message in this conversation")]
    MessageIdTaken(String),
    #[error("the send was cancelled")]
    SendCancelled,
    #[error("group send queue is full at the group's rate limit")]
    GroupRateLimited,
    #[error("api called too often: at most {0}")]
    TooFrequent(String),
    #[error("merged message nesting or size over the limit")]
    MergeOverLimit,
    #[error("file not found: {0}")]
    FileNotFound(String),
    #[error("file {path} is {size} bytes, over the {limit} byte limit")]
    FileTooLarge { path: String, size: u64, limit: u64 },
    #[error("image {path} is {width} x {height} pixels, over the {limit} pixel limit")]
    ImageTooLarge { path: String, width: u32, height: u32, limit: u64 },
    #[error("file is empty: {0}")]
    FileEmpty(String),
    #[error("cannot open file: {0}")]
    FileUnreadable(String),
    #[error("not a valid image: {0}")]
    NotAnImage(String),
    #[error("upload failed: {0}")]
    UploadFailed(String),
    #[error("download failed: {0}")]
    DownloadFailed(String),
    #[error("http request failed: {0}")]
    HttpFailed(String),
    #[error("the transfer was cancelled: the user logged out")]
    TransferCancelled,
    #[error("the transfer took longer than its deadline of {0} s")]
    TransferTimedOut(u64),
    #[error("group {group} is full: it takes {max} members at most")]
    GroupFull { group: String, max: u32 },
    #[error("{user} is already a member of group {group}")]
    AlreadyMember { user: String, group: String },
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("too many at once: {0}")]
    TooMany(String),
    #[error("no answer within {0} ms")]
    TimedOut(u64),
    #[error("the conversation is busy: its mailbox is full")]
    Busy,
    #[error("store failure: {0}")]
    Store(String),
    /// A read over all of a user's conversations could not ask every node of the cluster.
    #[error("the read could not reach every node: {0}")]
    Incomplete(String),
    #[error("the runtime is shutting down")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ConvResult<T> = Result<T, ConvError>;
