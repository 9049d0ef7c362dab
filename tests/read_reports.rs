//! `TIMMsgReportReaded` and `TIMMsgMarkAllMessageAsRead`: read points, derived unread counts,
//! and read receipts to the C2C peer.

mod common;

use common::*;
use timsg::{ConvRef, Event};
use timsg_actors::group::GroupKind;

#[tokio::test]
async fn report_up_to_a_message_then_all_and_receipts() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut alice_events = alice.take_events().unwrap();
    let m1 = send_text(&alice, "bob", 1, "one").await;
    h.clock.advance_ms(1000);
    let _m2 = send_text(&alice, "bob", 1, "two").await;
    let _m3 = send_text(&alice, "bob", 1, "three").await;
    let peer = ConvRef::c2c("alice");
    assert_eq!(bob.unread_count(&peer).await.unwrap(), 3);

    let r = call(&bob, "TIMMsgReportReaded", Some("alice"), 1, &m1.to_string()).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    assert_eq!(bob.unread_count(&peer).await.unwrap(), 2);
    match next_event(&mut alice_events).await {
        Event::ReadReceipts(r) => {
            assert_eq!(&*r[0].conv.id, "bob");
            assert_eq!(r[0].time, m1["message_server_time"].as_u64().unwrap());
        }
        other => panic!("unexpected {other:?}"),
    }
    let mine = call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await;
    let peer_read: Vec<bool> =
        mine.json.as_array().unwrap().iter().map(|m| m["message_is_peer_read"].as_bool().unwrap()).collect();
    assert_eq!(peer_read, vec![false, false, true], "newest first; only the first is read by bob");

    // No message: up to the newest.
    assert_eq!(call(&bob, "TIMMsgReportReaded", Some("alice"), 1, "").await.code, 0);
    assert_eq!(bob.unread_count(&peer).await.unwrap(), 0);
    let seen = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, "").await;
    assert!(seen.json.as_array().unwrap().iter().all(|m| m["message_is_read"] == true));
}

#[tokio::test]
async fn empty_conv_id_and_mark_all() {
    let h = Harness::default();
    let alice = h.login("alice");
    let carol = h.login("carol");
    let bob = h.login("bob");
    alice.create_group("room", "r", GroupKind::Private, vec!["bob".into()]).await.unwrap();
    send_text(&alice, "bob", 1, "c2c").await;
    send_text(&carol, "bob", 1, "c2c too").await;
    send_text(&alice, "room", 2, "group").await;
    let (a, c, g) = (ConvRef::c2c("alice"), ConvRef::c2c("carol"), ConvRef::group("room"));
    assert_eq!(bob.unread_count(&g).await.unwrap(), 2, "the invite tip and the message");

    // Empty conv_id with conv_type 1: every C2C conversation, groups untouched.
    assert_eq!(call(&bob, "TIMMsgReportReaded", Some(""), 1, "").await.code, 0);
    assert_eq!(bob.unread_count(&a).await.unwrap() + bob.unread_count(&c).await.unwrap(), 0);
    assert_eq!(bob.unread_count(&g).await.unwrap(), 2);
    send_text(&alice, "bob", 1, "again").await;
    assert_eq!(call(&bob, "TIMMsgMarkAllMessageAsRead", None, 0, "").await.code, 0);
    for conv in [&a, &c, &g] {
        assert_eq!(bob.unread_count(conv).await.unwrap(), 0);
    }
    // Excluded messages never count.
    let excluded = serde_json::json!({"message_is_excluded_from_unread_count": true, "message_elem_array": [{"elem_type": 0, "text_elem_content": "quiet"}]});
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("bob"), 1, &excluded.to_string()).await.code, 0);
    assert_eq!(bob.unread_count(&a).await.unwrap(), 0);
    // Nor do targeted group messages, for anyone — their targets included.
    let targeted = serde_json::json!({"message_target_group_member_array": ["bob"], "message_elem_array": [{"elem_type": 0, "text_elem_content": "just you"}]});
    assert_eq!(call(&alice, "TIMMsgSendMessage", Some("room"), 2, &targeted.to_string()).await.code, 0);
    assert_eq!(bob.unread_count(&g).await.unwrap(), 0);
}
