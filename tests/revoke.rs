//! `TIMMsgRevoke`: who may revoke, the window, the event every member gets, and the revoked
//! message keeping its place in history with status 6.

mod common;

use common::*;
use timsg::Event;
use timsg_actors::group::GroupKind;

#[tokio::test]
async fn c2c_revoke_by_sender_within_the_window() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut bob_events = bob.take_events().unwrap();
    let sent = send_text(&alice, "bob", 1, "oops").await;
    let _ = next_event(&mut bob_events).await;

    // The peer may not revoke it.
    assert_eq!(call(&bob, "TIMMsgRevoke", Some("alice"), 1, &sent.to_string()).await.code, 10007);
    // The sender may, passing the message JSON the send callback returned.
    let r = call(&alice, "TIMMsgRevoke", Some("bob"), 1, &sent.to_string()).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    match next_event(&mut bob_events).await {
        Event::Revoked { locators, by, .. } => {
            assert_eq!(&*by, "alice");
            assert_eq!(locators[0].seq, 1);
            assert_eq!(&*locators[0].conv.id, "alice");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Twice: not revocable.
    assert_eq!(call(&alice, "TIMMsgRevoke", Some("bob"), 1, &sent.to_string()).await.code, 10032);
    // It keeps its place, status 6.
    let history = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, "").await;
    assert_eq!(history.json[0]["message_status"], 6);
    assert_eq!(history.json[0]["message_revoker_user_id"], "alice");
}

#[tokio::test]
async fn revoke_window_and_online_messages() {
    let h = Harness::default();
    let alice = h.login("alice");
    let sent = send_text(&alice, "bob", 1, "late").await;
    h.clock.advance_ms(121_000);
    assert_eq!(call(&alice, "TIMMsgRevoke", Some("bob"), 1, &sent.to_string()).await.code, 20016);

    let online = serde_json::json!({"message_is_online_msg": true, "message_elem_array": [{"elem_type": 0, "text_elem_content": "typing"}]});
    let r = call(&alice, "TIMMsgSendMessage", Some("bob"), 1, &online.to_string()).await;
    assert_eq!(r.code, 0);
    let r = call(&alice, "TIMMsgRevoke", Some("bob"), 1, &r.json.to_string()).await;
    assert_ne!(r.code, 0, "online messages are not stored, so cannot be revoked");
}

#[tokio::test]
async fn group_admin_revokes_a_members_message_others_cannot() {
    let h = Harness::default();
    let owner = h.login("owner");
    let admin = h.login("admin");
    let member = h.login("member");
    owner.create_group("grp", "g", GroupKind::Public, vec!["admin".into(), "member".into()]).await.unwrap();
    owner.set_group_admin("grp", "admin", true).await.unwrap();
    let m1 = send_text(&owner, "grp", 2, "by owner").await;
    let m2 = send_text(&member, "grp", 2, "by member").await;
    assert_eq!(call(&member, "TIMMsgRevoke", Some("grp"), 2, &m1.to_string()).await.code, 10007);
    assert_eq!(call(&admin, "TIMMsgRevoke", Some("grp"), 2, &m2.to_string()).await.code, 0);
    h.clock.advance_ms(121_000);
    assert_eq!(call(&owner, "TIMMsgRevoke", Some("grp"), 2, &m1.to_string()).await.code, 10031);
    let outsider = h.login("outsider");
    assert_eq!(call(&outsider, "TIMMsgRevoke", Some("grp"), 2, &m1.to_string()).await.code, 10007);
}
