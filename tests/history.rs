//! `TIMMsgGetMsgList`: every anchor rule, direction and order, time windows, counts, and the
//! local view against the roaming view.

mod common;

use common::*;
use serde_json::json;
use timsg_actors::group::GroupKind;

async fn seed_group(h: &Harness) -> (std::sync::Arc<timsg::Session>, Vec<serde_json::Value>) {
    let alice = h.login("alice");
    alice.create_group("hist", "h", GroupKind::ChatRoom, vec![]).await.unwrap();
    let mut sent = Vec::new();
    for i in 1..=6 {
        h.clock.advance_ms(10_000);
        sent.push(send_text(&alice, "hist", 2, &format!("m{i}")).await);
    }
    (alice, sent)
}

#[tokio::test]
async fn anchors_directions_and_order() {
    let h = Harness::default();
    let (alice, sent) = seed_group(&h).await;
    let get = |p: serde_json::Value| {
        let alice = alice.clone();
        async move { texts(&call(&alice, "TIMMsgGetMsgList", Some("hist"), 2, &p.to_string()).await.json) }
    };
    // No anchor: from the newest, newest first.
    assert_eq!(get(json!({"msg_getmsglist_param_count": 3})).await, ["m6", "m5", "m4"]);
    // last_msg excluded, backward.
    let m4 = &sent[3];
    assert_eq!(get(json!({"msg_getmsglist_param_last_msg": m4, "msg_getmsglist_param_count": 2})).await, ["m3", "m2"]);
    // Forward from last_msg: newer ones, oldest first.
    assert_eq!(
        get(json!({"msg_getmsglist_param_last_msg": m4, "msg_getmsglist_param_is_forward": true, "msg_getmsglist_param_count": 5})).await,
        ["m5", "m6"]
    );
    // last_msg_seq (group) is included. Seq 1 is nothing here (ChatRoom create has no tip), m1 is seq 1.
    let seq3 = sent[2]["message_seq"].as_u64().unwrap();
    assert_eq!(
        get(json!({"msg_getmsglist_param_last_msg_seq": seq3, "msg_getmsglist_param_count": 2})).await,
        ["m3", "m2"]
    );
    assert_eq!(
        get(json!({"msg_getmsglist_param_last_msg_seq": seq3, "msg_getmsglist_param_is_forward": true, "msg_getmsglist_param_count": 2})).await,
        ["m3", "m4"]
    );
    // Both given: last_msg wins.
    assert_eq!(
        get(json!({"msg_getmsglist_param_last_msg": m4, "msg_getmsglist_param_last_msg_seq": seq3, "msg_getmsglist_param_count": 1})).await,
        ["m3"]
    );
    // The seed's sample: an empty last_msg means no anchor; forward without an anchor starts at the oldest.
    assert_eq!(
        get(json!({"msg_getmsglist_param_count": 100, "msg_getmsglist_param_is_forward": true, "msg_getmsglist_param_is_remble": false, "msg_getmsglist_param_last_msg": {}})).await,
        ["m1", "m2", "m3", "m4", "m5", "m6"]
    );
    // An anchor that does not exist.
    let r = call(
        &alice,
        "TIMMsgGetMsgList",
        Some("hist"),
        2,
        &json!({"msg_getmsglist_param_last_msg": {"message_msg_id": "nope"}}).to_string(),
    )
    .await;
    assert_eq!(r.code, 10030);
}

#[tokio::test]
async fn time_windows() {
    let h = Harness::default();
    let (alice, sent) = seed_group(&h).await;
    let t = |i: usize| sent[i]["message_server_time"].as_u64().unwrap();
    let get = |p: serde_json::Value| {
        let alice = alice.clone();
        async move { texts(&call(&alice, "TIMMsgGetMsgList", Some("hist"), 2, &p.to_string()).await.json) }
    };
    // Backward from time_begin, period seconds back.
    assert_eq!(
        get(json!({"msg_getmsglist_param_time_begin": t(3), "msg_getmsglist_param_time_period": 10})).await,
        ["m4", "m3"]
    );
    // Forward from time_begin.
    assert_eq!(
        get(json!({"msg_getmsglist_param_time_begin": t(1), "msg_getmsglist_param_time_period": 20, "msg_getmsglist_param_is_forward": true})).await,
        ["m2", "m3", "m4"]
    );
    // V7 spelling of the roaming flag and the seq array are accepted.
    let seq = |i: usize| sent[i]["message_seq"].as_u64().unwrap();
    assert_eq!(
        get(
            json!({"msg_getmsglist_param_message_seq_array": [seq(0), seq(5)], "msg_getmsglist_param_is_ramble": true})
        )
        .await,
        ["m1", "m6"]
    );
}

#[tokio::test]
async fn local_view_and_roaming_view_differ_after_a_local_delete() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let m1 = send_text(&alice, "bob", 1, "keep").await;
    let m2 = send_text(&alice, "bob", 1, "drop locally").await;
    let del = json!({"msg_delete_param_msg": m2, "msg_delete_param_is_remble": false});
    assert_eq!(call(&bob, "TIMMsgDelete", Some("alice"), 1, &del.to_string()).await.code, 0);
    let local = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_is_remble": false}"#).await;
    assert_eq!(texts(&local.json), ["keep"]);
    let roaming = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_is_remble": true}"#).await;
    assert_eq!(texts(&roaming.json), ["drop locally", "keep"]);
    // Alice's views are hers alone.
    assert_eq!(texts(&call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json).len(), 2);
    let _ = m1;
}

#[tokio::test]
async fn members_see_history_from_their_join_except_in_meeting_groups() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    alice.create_group("work", "w", GroupKind::Private, vec![]).await.unwrap();
    send_text(&alice, "work", 2, "before bob").await;
    alice.invite_to_group("work", vec!["bob".into()]).await.unwrap();
    send_text(&alice, "work", 2, "after bob").await;
    let seen = call(&bob, "TIMMsgGetMsgList", Some("work"), 2, r#"{"msg_getmsglist_param_is_remble": true}"#).await;
    let t = texts(&seen.json);
    assert_eq!(t.len(), 2, "the invite tip and the later message: {t:?}");
    assert_eq!(t[0], "after bob");
    assert_eq!(seen.json[1]["message_elem_array"][0]["elem_type"], 5);
}

/// A conversation activated again holds only a window of its newest messages; what needs
/// older ones loads them first: history past the window, a revoke and a read report at an
/// old message, an unread count from an old read point, finding and resending by an old ID.
#[tokio::test]
async fn a_reactivated_conversation_reaches_past_its_window() {
    use timsg::{ConvRef, HistoryAnchor, HistoryQuery, MessageTarget};
    let h = Harness::new(|c| {
        c.activation_window = 5;
        c.revoke_window = std::time::Duration::from_secs(3600);
    });
    let (alice, bob) = (h.login("alice"), h.login("bob"));
    let (to_bob, to_alice) = (ConvRef::c2c("bob"), ConvRef::c2c("alice"));
    let mut ids = Vec::new();
    for i in 1..=20 {
        h.clock.advance_ms(1000);
        ids.push(alice.send(&to_bob, text_content(&format!("m{i}"))).await.unwrap().message.id.to_string());
    }
    let key = alice.conv_key(&to_bob).unwrap();
    let engine = h.runtime.engine().clone();
    let reactivate = || async {
        assert!(engine.passivate(&key).await.unwrap(), "idle, so passivated");
    };
    let seqs = |page: Vec<timsg::MessageView>| page.iter().map(|m| m.message.seq).collect::<Vec<_>>();

    reactivate().await;
    let newest = bob.get_msg_list(&to_alice, HistoryQuery { count: 3, ..Default::default() }).await.unwrap();
    assert_eq!(seqs(newest), [20, 19, 18], "the newest page, from the window");
    let all = bob.get_msg_list(&to_alice, HistoryQuery { count: 100, ..Default::default() }).await.unwrap();
    assert_eq!(seqs(all), (1..=20).rev().collect::<Vec<_>>(), "all of it, older messages loaded");

    reactivate().await;
    let forward = HistoryQuery { count: 2, forward: true, anchor: HistoryAnchor::None, ..Default::default() };
    assert_eq!(seqs(bob.get_msg_list(&to_alice, forward).await.unwrap()), [1, 2]);

    reactivate().await;
    bob.report_readed(&to_alice, Some(MessageTarget::Seq(10))).await.unwrap();
    reactivate().await;
    assert_eq!(bob.unread_count(&to_alice).await.unwrap(), 10, "from an old read point");

    reactivate().await;
    alice.revoke(&to_bob, MessageTarget::Id(ids[1].as_str().into())).await.unwrap();
    reactivate().await;
    let found = bob.find_messages(&[ids[0].clone(), ids[1].clone()]).await.unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].message.status, timsg_actors::message::MessageStatus::Revoked);

    reactivate().await;
    // A resend with an old message's ID is that message, not a new one.
    let again = alice.send_message_with_id(&to_bob, text_content("m1"), Some(&ids[0])).unwrap();
    assert_eq!(again.outcome().await.unwrap().message.seq, 1);
    let next = alice.send(&to_bob, text_content("m21")).await.unwrap();
    assert_eq!(next.message.seq, 21);
}

fn text_content(t: &str) -> timsg::MessageContent {
    timsg::MessageContent::with_elements(vec![timsg::Element::text(t)])
}
