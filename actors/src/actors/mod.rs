//! The actors: one [`ConversationActor`] per active conversation, the [`SupervisorActor`] that
//! watches them, a [`BatchSendActor`] per batch send, and the [`DownloadManagerActor`].

pub mod batch_send;
pub mod command;
pub mod conversation;
pub mod download_manager;
pub mod load_failures;
pub mod supervisor;

pub use batch_send::{BatchRecipientResult, BatchSendActor, RunBatchSend};
pub use command::ConvCommand;
pub use conversation::{ConvOp, ConversationActor, ImportedMessage, Reply};
pub use download_manager::{DownloadManagerActor, DownloadStats};
pub use supervisor::{GetSupervisorStats, SupervisorActor, SupervisorStats};
