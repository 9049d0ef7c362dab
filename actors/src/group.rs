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

/// `TIMGroupAddOption` numbers: how a stranger may join a group that takes applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupAddOption {
    /// Nobody joins by asking.
    Forbid = 0,
    /// Joining needs an admin's approval.
    Auth = 1,
    /// Anyone may join.
    Any = 2,
}

impl GroupAddOption {
    pub fn from_number(n: u32) -> Option<GroupAddOption> {
        Some(match n {
            0 => GroupAddOption::Forbid,
            1 => GroupAddOption::Auth,
            2 => GroupAddOption::Any,
            _ => return None,
        })
    }

    /// The option a group of `kind` gets when its creator names none, as the TIM server sets
    /// it: public groups need approval; the others have no application step.
    pub fn default_for(kind: GroupKind) -> GroupAddOption {
        match kind {
            GroupKind::Public => GroupAddOption::Auth,
            GroupKind::Private => GroupAddOption::Forbid,
            _ => GroupAddOption::Any,
        }
    }
}

/// Whether a stranger may join a group of `kind` by asking, as the TIM server decides: work
/// (Private) groups only by invitation; public groups and communities by their add option;
/// meeting groups (ChatRoom, BChatRoom) and live-stream groups (AVChatRoom) freely. `Err`
/// says why not. timsg has no approval queue, so an add option of `Auth` refuses too, saying
/// so: a member can invite the user instead.
pub fn join_policy(kind: GroupKind, add_option: GroupAddOption) -> Result<(), &'static str> {
    match (kind, add_option) {
        (GroupKind::Private, _) => Err("a work group takes members by invitation only"),
        (GroupKind::ChatRoom | GroupKind::BChatRoom | GroupKind::AVChatRoom, _) => Ok(()),
        (_, GroupAddOption::Any) => Ok(()),
        (_, GroupAddOption::Forbid) => Err("the group takes no applications to join"),
        (_, GroupAddOption::Auth) => {
            Err("joining the group needs an admin's approval, which timsg does not offer; ask a member to invite you")
        }
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
    /// Groups stored before add options existed read as their kind's default.
    #[serde(default)]
    pub add_option: Option<GroupAddOption>,
    /// Groups stored before profiles existed have an empty one.
    #[serde(default)]
    pub profile: GroupProfile,
}

/// What a group says about itself beyond its name, and its member bound.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupProfile {
    pub introduction: String,
    pub notification: String,
    pub face_url: String,
    /// Members the group takes at most; 0 = no bound.
    pub max_members: u32,
}

impl GroupInfo {
    pub fn add_option(&self) -> GroupAddOption {
        self.add_option.unwrap_or(GroupAddOption::default_for(self.kind))
    }
}

/// A group as its actor knows it now: for the REST API's group queries.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSnapshot {
    pub info: GroupInfo,
    /// Active members, by user ID.
    pub members: Vec<GroupMember>,
    /// The seq the next message will take.
    pub next_seq: u64,
    /// When the newest message was sent (s; 0 for none).
    pub last_msg_time: u64,
}

/// One active member of a [`GroupSnapshot`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMember {
    pub user: crate::ids::UserId,
    pub role: crate::member::Role,
    /// When it joined (s).
    pub join_time: u64,
    pub recv_opt: crate::member::ReceiveOpt,
    /// The last seq it read.
    pub read_seq: u64,
}

/// A change to a group's membership, as the group actor receives it.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupCommand {
    Create {
        name: String,
        kind: GroupKind,
        add_option: GroupAddOption,
        profile: GroupProfile,
        members: Vec<String>,
    },
    Join,
    Quit,
    Invite(Vec<String>),
    Kick(Vec<String>),
    Dismiss,
    SetAdmin {
        user: String,
        admin: bool,
    },
    /// A system notice to the members named (all when empty): a GroupReport of its own type
    /// to each, stored in no conversation.
    Notify {
        content: String,
        to: Vec<String>,
    },
}

#[cfg(test)]
mod join_tests {
    use super::*;

    #[test]
    fn who_may_join_depends_on_kind_and_add_option() {
        use GroupAddOption::*;
        use GroupKind::*;
        for opt in [Forbid, Auth, Any] {
            assert!(join_policy(Private, opt).is_err());
            assert!(join_policy(ChatRoom, opt).is_ok());
            assert!(join_policy(AVChatRoom, opt).is_ok());
        }
        assert!(join_policy(Public, Any).is_ok());
        assert!(join_policy(Public, Forbid).is_err());
        assert!(join_policy(Public, Auth).unwrap_err().contains("approval"));
        assert!(join_policy(Community, Any).is_ok());
        assert_eq!(GroupAddOption::default_for(Public), Auth);
        assert_eq!(GroupAddOption::from_number(2), Some(Any));
        assert_eq!(GroupAddOption::from_number(3), None);
    }
}
