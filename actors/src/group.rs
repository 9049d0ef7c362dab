//! The minimal group module: what a group is, who may do what in it, and the commands the
//! group conversation actor accepts. Membership lives in the group's conversation log (a
//! member's state is its role plus its view), so a group and its messages are ordered by the
//! same actor.

use serde::{Deserialize, Serialize};

/// `TIMGroupType` numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GroupKind {
    Public = 0,
    #[default]
    Private = 1,
    ChatRoom = 2,
    BChatRoom = 3,
    AVChatRoom = 4,
    Community = 5,
}

impl GroupKind {
    pub fn from_number(n: u32) -> Option<GroupKind> {
        Some(match n {
            0 => GroupKind::Public,
            1 => GroupKind::Private,
            2 => GroupKind::ChatRoom,
            3 => GroupKind::BChatRoom,
            4 => GroupKind::AVChatRoom,
            5 => GroupKind::Community,
            _ => return None,
        })
    }

    /// Only meeting groups (ChatRoom) let new members read history from before they joined.
    pub fn history_before_join(self) -> bool {
        self == GroupKind::ChatRoom
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub id: String,
    pub name: String,
    pub kind: GroupKind,
    pub owner: String,
    pub created_at: u64,
    pub dismissed: bool,
}

/// A change to a group's membership, as the group actor receives it.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupCommand {
    Create { name: String, kind: GroupKind, members: Vec<String> },
    Join,
    Quit,
    Invite(Vec<String>),
    Kick(Vec<String>),
    Dismiss,
    SetAdmin { user: String, admin: bool },
}
