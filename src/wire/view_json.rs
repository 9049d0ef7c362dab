//! One user's view of a message as TIM JSON, written straight to text.
//!
//! Every send answers with its message and every delivery carries it, so this is on the hot
//! path of the JSON dispatcher, the C ABI's listeners and the service. Building a
//! `serde_json::Value` first (an ordered map of two dozen freshly allocated keys) cost more
//! than the send itself once the send got fast. Going through a serializer still escaped every
//! key byte by byte on every message — two dozen keys a view, a view in each reply and in each
//! delivered event: a tenth of the service's instructions a message. Here the keys are written
//! as the literals they are; string values are copied as they are unless they hold something
//! JSON escapes (then serde_json escapes them); numbers, elements and extension values go
//! through serde_json. Unmodelled keys from the message's extension follow, unless a modelled
//! key of the same name was written (the modelled value wins).

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::Value;
use timsg_actors::element::Element;
use timsg_actors::message::MessageView;

use super::elem;

/// Writes the TIM Message object of `.0` (see [`ViewJson::write_json`]).
pub struct ViewJson<'a>(pub &'a MessageView);

/// A message's elements as TIM JSON.
struct ElementsJson<'a>(&'a [Element]);

impl Serialize for ElementsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
            seq.serialize_element(&elem::from_domain(e))?;
        }
        seq.end()
    }
}

/// `message_unique_id`: seq in the high half, rand in the low half (local-only messages use
/// their local position instead of a seq), so it is unique within a conversation.
pub fn unique_id(seq: u64, rand: u64, local_id: u64) -> u64 {
    let high = if seq != 0 { seq } else { local_id | (1 << 31) };
    (high << 32) | (rand & 0xffff_ffff)
}

/// `value` through serde_json, into a buffer (which cannot fail to take it).
fn write_value<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if let Err(e) = serde_json::to_writer(&mut *out, value) {
        // Only a value whose own serializer fails lands here (none of the modelled ones can):
        // it is written as null rather than leaving half an object.
        tracing::error!(error = %e, "a message field does not serialize; written as null");
        out.extend_from_slice(b"null");
    }
}

/// `s` as a JSON string, as serde_json writes it: copied as it is when nothing in it needs
/// escaping (quotes, backslashes, control characters), which is the usual ID, name or text.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        write_value(out, s);
    }
}

fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// The keys every view writes, in order (the optional ones are in [`ViewJson::wrote`]).
const ALWAYS_WRITTEN: [&str; 24] = [
    "message_elem_array",
    "message_conv_id",
    "message_conv_type",
    "message_sender",
    "message_priority",
    "message_client_time",
    "message_server_time",
    "message_is_from_self",
    "message_platform",
    "message_is_read",
    "message_is_online_msg",
    "message_is_peer_read",
    "message_need_read_receipt",
    "message_status",
    "message_unique_id",
    "message_msg_id",
    "message_rand",
    "message_seq",
    "message_custom_int",
    "message_custom_str",
    "message_cloud_custom_str",
    "message_is_excluded_from_unread_count",
    "message_excluded_from_last_message",
    "message_group_at_user_array",
];

impl ViewJson<'_> {
    /// Appends the message object to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let view = self.0;
        let m = &view.message;
        let c = &m.content;
        // Each key as it is written, with the separator before it: the keys need no escaping.
        macro_rules! key {
            ($name:literal) => {
                out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes())
            };
        }
        out.extend_from_slice(b"{\"message_elem_array\":");
        write_value(out, &ElementsJson(&c.elements));
        key!("message_conv_id");
        write_str(out, &view.conv.id);
        key!("message_conv_type");
        write_value(out, &view.conv.conv_type.number());
        key!("message_sender");
        write_str(out, &m.sender);
        key!("message_priority");
        write_value(out, &c.priority);
        key!("message_client_time");
        write_value(out, &if c.client_time == 0 { m.server_time } else { c.client_time });
        key!("message_server_time");
        write_value(out, &m.server_time);
        key!("message_is_from_self");
        write_bool(out, view.is_self);
        key!("message_platform");
        write_value(out, &c.platform);
        key!("message_is_read");
        write_bool(out, view.is_read);
        key!("message_is_online_msg");
        write_bool(out, c.is_online);
        key!("message_is_peer_read");
        write_bool(out, view.is_peer_read);
        key!("message_need_read_receipt");
        write_bool(out, c.need_read_receipt);
        key!("message_status");
        write_value(out, &m.status.number());
        key!("message_unique_id");
        write_value(out, &unique_id(m.seq, m.rand, m.local_id));
        key!("message_msg_id");
        write_str(out, &m.id);
        key!("message_rand");
        write_value(out, &m.rand);
        key!("message_seq");
        write_value(out, &m.seq);
        key!("message_custom_int");
        write_value(out, &view.custom.int);
        key!("message_custom_str");
        write_str(out, &view.custom.text);
        key!("message_cloud_custom_str");
        write_str(out, &c.cloud_custom_str);
        key!("message_is_excluded_from_unread_count");
        write_bool(out, c.excluded_from_unread);
        key!("message_excluded_from_last_message");
        write_bool(out, c.excluded_from_last_message);
        key!("message_group_at_user_array");
        write_value(out, &c.at_users);
        if !c.target_members.is_empty() {
            key!("message_target_group_member_array");
            write_value(out, &c.target_members);
        }
        if let Some(r) = &m.revoke {
            key!("message_revoker_user_id");
            write_str(out, &r.by);
            key!("message_revoke_reason");
            write_str(out, &r.reason);
        }
        if let Some(Ok(Value::Object(extra))) = c.extension.as_deref().map(serde_json::from_str::<Value>) {
            for (k, v) in &extra {
                if !self.wrote(k) {
                    out.push(b',');
                    write_str(out, k);
                    out.push(b':');
                    write_value(out, v);
                }
            }
        }
        out.push(b'}');
    }

    /// Whether [`write_json`](Self::write_json) writes `key` for this view.
    fn wrote(&self, key: &str) -> bool {
        let m = &self.0.message;
        ALWAYS_WRITTEN.contains(&key)
            || (key == "message_target_group_member_array" && !m.content.target_members.is_empty())
            || (matches!(key, "message_revoker_user_id" | "message_revoke_reason") && m.revoke.is_some())
    }

    /// The message object as a string.
    pub fn to_json_string(&self) -> String {
        let mut out = Vec::with_capacity(640);
        self.write_json(&mut out);
        into_string(out)
    }
}

/// Views as a JSON array.
pub fn views_json<'v>(views: impl IntoIterator<Item = &'v MessageView>) -> String {
    let mut out = Vec::with_capacity(640);
    out.push(b'[');
    for (i, view) in views.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        ViewJson(view).write_json(&mut out);
    }
    out.push(b']');
    into_string(out)
}

/// What the writers above made: UTF-8 from `&str`s and serde_json's output.
fn into_string(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use timsg_actors::element::Element;
    use timsg_actors::ids::ConvRef;
    use timsg_actors::message::{LocalCustomData, MessageContent, MessageStatus, MessageView, StoredMessage};

    use super::ViewJson;

    fn view(extension: Option<&str>) -> MessageView {
        let mut content = MessageContent::with_elements(vec![Element::text("hi \"there\"")]);
        content.extension = extension.map(Arc::from);
        MessageView {
            conv: ConvRef::c2c("bob"),
            message: Arc::new(StoredMessage {
                id: "m-1".into(),
                sender: "alice".into(),
                seq: 7,
                local_id: 0,
                rand: 9,
                server_time: 100,
                status: MessageStatus::SendSucc,
                revoke: None,
                content: Arc::new(content),
            }),
            is_self: true,
            is_read: false,
            is_peer_read: false,
            custom: LocalCustomData::default(),
        }
    }

    fn parsed(view: &MessageView) -> serde_json::Value {
        serde_json::from_str(&ViewJson(view).to_json_string()).unwrap()
    }

    #[test]
    fn writes_the_message_keys_and_the_extension_keys_the_model_does_not_write() {
        let ext = r#"{"message_seq": 999, "message_offlie_push_config": {"x": 1}, "message_revoker_user_id": "kept"}"#;
        let v = parsed(&view(Some(ext)));
        assert_eq!(v["message_seq"], 7, "the modelled value wins");
        assert_eq!(v["message_offlie_push_config"], json!({"x": 1}));
        assert_eq!(v["message_revoker_user_id"], "kept", "not revoked, so the model wrote no revoker");
        assert_eq!(v["message_elem_array"][0]["text_elem_content"], "hi \"there\"");
        assert_eq!(v["message_conv_id"], "bob");
        assert_eq!(v["message_unique_id"], (7u64 << 32) | 9);
        assert_eq!(v["message_client_time"], 100, "no client time: the server time");
        let plain = ViewJson(&view(None)).to_json_string();
        assert_eq!(parsed(&view(None)).as_object().unwrap().len(), super::ALWAYS_WRITTEN.len());
        let at: Vec<usize> = super::ALWAYS_WRITTEN
            .iter()
            .map(|k| {
                let quoted = format!("\"{k}\":");
                assert_eq!(plain.matches(&quoted).count(), 1, "{k} once");
                plain.find(&quoted).unwrap()
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "in the order of the list: {plain}");
    }

    #[test]
    fn strings_come_out_as_serde_json_writes_them() {
        for s in ["", "plain id-1", "quote \" and \\ back", "tab\tnew\nline\u{1}\u{1f}", "\u{7f} é 🙂 </script>"] {
            let mut out = Vec::new();
            super::write_str(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn names_that_need_escaping_stay_valid_json_and_arrays_join_views() {
        let mut odd = view(None);
        odd.conv = ConvRef::c2c("b\"o\\b\n");
        odd.custom = LocalCustomData { int: 3, text: "a\u{0}b".into() };
        let v = parsed(&odd);
        assert_eq!(v["message_conv_id"], "b\"o\\b\n");
        assert_eq!(v["message_custom_str"], "a\u{0}b");
        let both: serde_json::Value = serde_json::from_str(&super::views_json([&odd, &view(None)])).unwrap();
        assert_eq!(both.as_array().unwrap().len(), 2);
        assert_eq!(both[1]["message_conv_id"], "bob");
        assert_eq!(super::views_json([]), "[]");
    }
}
