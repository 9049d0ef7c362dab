//! The actors: one [`ConversationActor`] per active conversation, the [`SupervisorActor`] that
//! watches them, and a [`BatchSendActor`] per batch send.

pub mod batch_send;
pub mod conversation;
pub mod supervisor;

pub use batch_send::{BatchRecipientResult, BatchSendActor, RunBatchSend};
pub use conversation::{ConvCommand, ConvOp, ConversationActor, Reply};
pub use supervisor::{GetSupervisorStats, SupervisorActor, SupervisorStats};
