//! Identities: users, conversations and message IDs, and the rules that make them valid.
//!
//! A C2C conversation is the *unordered* pair of its two users, so both participants share one
//! actor and one log; each of them names it by the other's user ID. A group conversation is its
//! group ID. [`ConvKey`] is that shared identity; [`ConvRef`] is how one viewer names it.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A user ID. Cheap to clone: IDs are copied into every message and event.
pub type UserId = Arc<str>;

/// A message ID, opaque to clients.
pub type MsgId = Arc<str>;

/// Longest user ID the TIM rules allow, in bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 32;

/// Sender name the backend uses for messages it generates (group tips, reports).
pub const SYSTEM_SENDER: &str = "@TIM#SYSTEM";

/// Conversation type, with the TIM numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConvType {
    C2c,
    Group,
    System,
}

impl ConvType {
    /// The `TIMConvType` number.
    pub fn number(self) -> u32 {
        match self {
            ConvType::C2c => 1,
            ConvType::Group => 2,
            ConvType::System => 3,
        }
    }

    /// Parses a `TIMConvType` number; 0 (invalid) and unknown numbers give `None`.
    pub fn from_number(n: u32) -> Option<ConvType> {
        match n {
            1 => Some(ConvType::C2c),
            2 => Some(ConvType::Group),
            3 => Some(ConvType::System),
            _ => None,
        }
    }
}

/// Checks a user ID against the TIM identifier rule: 1 to 32 bytes of printable ASCII. Also
/// refused: IDs shaped like paths (a `/` or a backslash, `.` and `..`), which some embedders turn
/// into file names, and the system sender's `@TIM#` prefix, which would pass for the backend.
pub fn is_valid_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_IDENTIFIER_BYTES
        && id.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'/' && b != b'\\')
        && id != "."
        && id != ".."
        && !id.starts_with("@TIM#")
}

/// The shared identity of a conversation, independent of who looks at it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ConvKey {
    /// The two participants, smaller first. Both may be the same user (notes to self).
    C2c(UserId, UserId),
    Group(Arc<str>),
}

impl ConvKey {
    /// The C2C conversation between two users, whatever their order.
    pub fn c2c(a: &str, b: &str) -> ConvKey {
        if a <= b { ConvKey::C2c(a.into(), b.into()) } else { ConvKey::C2c(b.into(), a.into()) }
    }

    /// The C2C conversation between two users already named by shared strings: no copies.
    pub fn c2c_shared(a: &UserId, b: &UserId) -> ConvKey {
        if a <= b { ConvKey::C2c(a.clone(), b.clone()) } else { ConvKey::C2c(b.clone(), a.clone()) }
    }

    pub fn group(id: &str) -> ConvKey {
        ConvKey::Group(id.into())
    }

    pub fn conv_type(&self) -> ConvType {
        match self {
            ConvKey::C2c(..) => ConvType::C2c,
            ConvKey::Group(_) => ConvType::Group,
        }
    }

    /// The conversation as `viewer` names it: the peer for C2C, the group ID for groups.
    pub fn as_seen_by(&self, viewer: &str) -> ConvRef {
        match self {
            ConvKey::C2c(a, b) => {
                let peer = if &**a == viewer { b.clone() } else { a.clone() };
                ConvRef { conv_type: ConvType::C2c, id: peer }
            }
            ConvKey::Group(g) => ConvRef { conv_type: ConvType::Group, id: g.clone() },
        }
    }

    /// The stable text form used as the store key. User IDs are printable ASCII, so a newline
    /// can separate the pair without ambiguity.
    pub fn storage_key(&self) -> String {
        match self {
            ConvKey::C2c(a, b) => format!("c:{a}\n{b}"),
            ConvKey::Group(g) => format!("g:{g}"),
        }
    }

    /// Inverse of [`ConvKey::storage_key`].
    pub fn from_storage_key(key: &str) -> Option<ConvKey> {
        if let Some(rest) = key.strip_prefix("c:") {
            let (a, b) = rest.split_once('\n')?;
            Some(ConvKey::C2c(a.into(), b.into()))
        } else {
            key.strip_prefix("g:").map(|g| ConvKey::Group(g.into()))
        }
    }

    /// A stable hash used to spread conversations over arbiters.
    pub fn shard(&self, shards: usize) -> usize {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(self);
        (h % shards.max(1) as u64) as usize
    }

    /// The participants of a C2C conversation.
    pub fn c2c_pair(&self) -> Option<(&UserId, &UserId)> {
        match self {
            ConvKey::C2c(a, b) => Some((a, b)),
            ConvKey::Group(_) => None,
        }
    }
}

impl fmt::Display for ConvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvKey::C2c(a, b) => write!(f, "c2c({a},{b})"),
            ConvKey::Group(g) => write!(f, "group({g})"),
        }
    }
}

/// A conversation as one viewer names it: `(conv_type, conv_id)` in TIM terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConvRef {
    pub conv_type: ConvType,
    pub id: Arc<str>,
}

impl ConvRef {
    pub fn c2c(peer: &str) -> ConvRef {
        ConvRef { conv_type: ConvType::C2c, id: peer.into() }
    }

    pub fn group(id: &str) -> ConvRef {
        ConvRef { conv_type: ConvType::Group, id: id.into() }
    }

    /// The shared identity, given who is looking.
    pub fn key_for(&self, viewer: &str) -> Option<ConvKey> {
        match self.conv_type {
            ConvType::C2c => Some(ConvKey::c2c(viewer, &self.id)),
            ConvType::Group => Some(ConvKey::group(&self.id)),
            ConvType::System => None,
        }
    }

    /// [`ConvRef::key_for`] for a viewer named by a shared string: the key shares both names
    /// instead of copying them (a caller's every call makes one).
    pub fn key_for_user(&self, viewer: &UserId) -> Option<ConvKey> {
        match self.conv_type {
            ConvType::C2c => Some(ConvKey::c2c_shared(viewer, &self.id)),
            ConvType::Group => Some(ConvKey::Group(self.id.clone())),
            ConvType::System => None,
        }
    }
}

/// Makes message IDs: `<unix ms hex>-<process salt hex>-<counter hex>-<tag hex>`.
///
/// The salt is random per generator, so IDs made by two processes (or before and after a
/// restart) never collide, and the counter keeps IDs of one process unique without locking.
/// Time, salt and counter can be read off any ID a user receives, so the next IDs could be
/// guessed from them; the tag (32 bits of a keyed SipHash of the counter, the key drawn from
/// the OS's random source and never shown) makes a guess a one-in-four-billion shot. A member
/// sending with a guessed ID would otherwise make the send that drew it fail (see
/// `ConvError::MessageIdTaken`).
#[derive(Debug)]
pub struct MsgIdGenerator {
    salt: u32,
    counter: AtomicU64,
    tag_key: std::hash::RandomState,
}

impl Default for MsgIdGenerator {
    fn default() -> Self {
        // The salt is printed in every ID: it comes from the OS's random source, so it says
        // nothing about any other value this process draws (a key, a temp name).
        MsgIdGenerator::with_salt(crate::os_random::u32(), 0)
    }
}

impl MsgIdGenerator {
    fn with_salt(salt: u32, counter: u64) -> MsgIdGenerator {
        MsgIdGenerator { salt, counter: AtomicU64::new(counter), tag_key: std::hash::RandomState::new() }
    }

    pub fn next_id(&self, now_ms: u64) -> MsgId {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        // Written by hand into a stack buffer: one allocation (the `Arc`) instead of a
        // formatted `String` copied into one, on every send.
        let mut id = HexWriter::default();
        id.hex(now_ms, 1);
        id.byte(b'-');
        id.hex(u64::from(self.salt), 8);
        id.byte(b'-');
        id.hex(n, 1);
        id.byte(b'-');
        id.hex(u64::from(self.tag_key.hash_one(n) as u32), 8);
        id.as_str().into()
    }
}

/// The longest message ID: two 64-bit and two 32-bit numbers in hex, three dashes.
const MAX_ID_LEN: usize = 16 + 1 + 8 + 1 + 16 + 1 + 8;

/// A message ID being written.
struct HexWriter {
    buf: [u8; MAX_ID_LEN],
    len: usize,
}

impl Default for HexWriter {
    fn default() -> Self {
        HexWriter { buf: [0; MAX_ID_LEN], len: 0 }
    }
}

impl HexWriter {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `value` in lowercase hex, zero-padded to at least `min_digits`.
    fn hex(&mut self, value: u64, min_digits: u32) {
        let digits = (u64::BITS - value.leading_zeros()).div_ceil(4).max(min_digits);
        for i in (0..digits).rev() {
            self.byte(b"0123456789abcdef"[((value >> (4 * i)) & 0xf) as usize]);
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("hex digits and dashes are ascii")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2c_key_is_unordered_and_round_trips() {
        let k = ConvKey::c2c("bob", "alice");
        assert_eq!(k, ConvKey::c2c("alice", "bob"));
        assert_eq!(ConvKey::from_storage_key(&k.storage_key()), Some(k.clone()));
        assert_eq!(&*k.as_seen_by("alice").id, "bob");
        assert_eq!(&*k.as_seen_by("bob").id, "alice");
        let g = ConvKey::group("room:1");
        assert_eq!(ConvKey::from_storage_key(&g.storage_key()), Some(g));
    }

    #[test]
    fn a_key_made_of_shared_names_is_the_key_made_of_copies() {
        let (alice, bob): (UserId, UserId) = ("alice".into(), "bob".into());
        assert_eq!(ConvRef::c2c("bob").key_for_user(&alice), Some(ConvKey::c2c("alice", "bob")));
        assert_eq!(ConvRef::c2c("alice").key_for_user(&bob), Some(ConvKey::c2c("alice", "bob")));
        assert_eq!(ConvRef::group("g1").key_for_user(&alice), Some(ConvKey::group("g1")));
        assert_eq!(ConvRef { conv_type: ConvType::System, id: "x".into() }.key_for_user(&alice), None);
    }

    #[test]
    fn identifier_rule() {
        assert!(is_valid_identifier("user_1 x~"));
        assert!(!is_valid_identifier(""));
        assert!(!is_valid_identifier(&"a".repeat(33)));
        assert!(!is_valid_identifier("tab\tno"));
        assert!(!is_valid_identifier("名字"));
        for path_like in ["../../escape", "a/b", "a\\b", ".", ".."] {
            assert!(!is_valid_identifier(path_like), "{path_like}");
        }
        assert!(!is_valid_identifier("@TIM#SYSTEM"));
        assert!(is_valid_identifier("a.b@example.com"));
    }

    #[test]
    fn message_ids_are_unique() {
        let g = MsgIdGenerator::default();
        let a = g.next_id(1);
        let b = g.next_id(1);
        assert_ne!(a, b);
    }

    #[test]
    fn message_ids_read_time_salt_counter_and_tag_in_hex() {
        let (g, tag) = (MsgIdGenerator::with_salt(0xab, 0), |id: &str| id.rsplit('-').next().unwrap().to_string());
        let (a, b) = (g.next_id(0), g.next_id(0x19a_bcde_f012));
        assert!(a.starts_with("0-000000ab-0-") && a.len() == "0-000000ab-0-".len() + 8, "{a}");
        assert!(b.starts_with("19abcdef012-000000ab-1-") && b.len() == "19abcdef012-000000ab-1-".len() + 8, "{b}");
        let g = MsgIdGenerator::with_salt(u32::MAX, u64::MAX);
        let c = g.next_id(u64::MAX);
        assert!(c.starts_with("ffffffffffffffff-ffffffff-ffffffffffffffff-") && c.len() == 16 + 8 + 16 + 8 + 3, "{c}");
        assert!([&a, &b, &c].iter().all(|id| tag(id).bytes().all(|d| d.is_ascii_hexdigit())));
    }

    #[test]
    fn the_tag_is_not_known_from_the_rest_of_the_id() {
        // Two generators alike in salt and counter tag their IDs under keys of their own: the
        // same time, salt and counter give other tags (equal by chance once in 2^32 per pair).
        let (g, h) = (MsgIdGenerator::with_salt(7, 0), MsgIdGenerator::with_salt(7, 0));
        let differ = (0..4).filter(|_| g.next_id(1) != h.next_id(1)).count();
        assert_eq!(differ, 4);
    }
}
