//! One user's view of a message as TIM JSON, serialized straight to the output.
//!
//! Every send answers with its message and every delivery carries it, so this is on the hot
//! path of the JSON dispatcher and the service. Building a `serde_json::Value` first (an
//! ordered map of two dozen freshly allocated keys) cost more than the send itself once the
//! send got fast: the dispatcher ran at 0.39 × the typed API. Here the keys are written in
//! order as they are; unmodelled keys from the message's extension follow, unless a modelled
//! key of the same name was written (the modelled value wins, as before).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use timsg_actors::element::Element;
use timsg_actors::message::MessageView;

use super::elem;

/// Serializes as the TIM Message object of `.0`.
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

/// Writes `key` and remembers it, so the extension cannot write it again.
struct Writer<'k, M> {
    map: M,
    written: Vec<&'k str>,
}

impl<'k, M: SerializeMap> Writer<'k, M> {
    fn put<V: Serialize + ?Sized>(&mut self, key: &'k str, value: &V) -> Result<(), M::Error> {
        self.written.push(key);
        self.map.serialize_entry(key, value)
    }
}

impl Serialize for ViewJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let m = &view.message;
        let c = &m.content;
        let mut w = Writer { map: s.serialize_map(None)?, written: Vec::with_capacity(28) };
        w.put("message_elem_array", &ElementsJson(&c.elements))?;
        w.put("message_conv_id", &*view.conv.id)?;
        w.put("message_conv_type", &view.conv.conv_type.number())?;
        w.put("message_sender", &*m.sender)?;
        w.put("message_priority", &c.priority)?;
        w.put("message_client_time", &if c.client_time == 0 { m.server_time } else { c.client_time })?;
        w.put("message_server_time", &m.server_time)?;
        w.put("message_is_from_self", &view.is_self)?;
        w.put("message_platform", &c.platform)?;
        w.put("message_is_read", &view.is_read)?;
        w.put("message_is_online_msg", &c.is_online)?;
        w.put("message_is_peer_read", &view.is_peer_read)?;
        w.put("message_need_read_receipt", &c.need_read_receipt)?;
        w.put("message_status", &m.status.number())?;
        w.put("message_unique_id", &unique_id(m.seq, m.rand, m.local_id))?;
        w.put("message_msg_id", &*m.id)?;
        w.put("message_rand", &m.rand)?;
        w.put("message_seq", &m.seq)?;
        w.put("message_custom_int", &view.custom.int)?;
        w.put("message_custom_str", &view.custom.text)?;
        w.put("message_cloud_custom_str", &c.cloud_custom_str)?;
        w.put("message_is_excluded_from_unread_count", &c.excluded_from_unread)?;
        w.put("message_excluded_from_last_message", &c.excluded_from_last_message)?;
        w.put("message_group_at_user_array", &c.at_users)?;
        if !c.target_members.is_empty() {
            w.put("message_target_group_member_array", &c.target_members)?;
        }
        if let Some(r) = &m.revoke {
            w.put("message_revoker_user_id", &*r.by)?;
            w.put("message_revoke_reason", &r.reason)?;
        }
        if let Some(Ok(Value::Object(extra))) = c.extension.as_deref().map(serde_json::from_str::<Value>) {
            for (k, v) in &extra {
                if !w.written.contains(&k.as_str()) {
                    w.map.serialize_entry(k, v)?;
                }
            }
        }
        w.map.end()
    }
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

    #[test]
    fn writes_the_message_keys_and_the_extension_keys_the_model_does_not_write() {
        let ext = r#"{"message_seq": 999, "message_offlie_push_config": {"x": 1}, "message_revoker_user_id": "kept"}"#;
        let v: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&ViewJson(&view(Some(ext)))).unwrap()).unwrap();
        assert_eq!(v["message_seq"], 7, "the modelled value wins");
        assert_eq!(v["message_offlie_push_config"], json!({"x": 1}));
        assert_eq!(v["message_revoker_user_id"], "kept", "not revoked, so the model wrote no revoker");
        assert_eq!(v["message_elem_array"][0]["text_elem_content"], "hi \"there\"");
        assert_eq!(v["message_conv_id"], "bob");
        assert_eq!(v["message_unique_id"], (7u64 << 32) | 9);
        assert_eq!(v["message_client_time"], 100, "no client time: the server time");
        let plain = serde_json::to_value(ViewJson(&view(None))).unwrap();
        assert_eq!(plain.as_object().unwrap().len(), 24);
    }
}
