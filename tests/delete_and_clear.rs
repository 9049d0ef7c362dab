//! `TIMMsgDelete`, `TIMMsgListDelete` and `TIMMsgClearHistoryMessage`: per-user deletions of
//! the local or roaming view, their limits, and what the other user keeps.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn delete_roaming_and_whole_conversation() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let m1 = send_text(&alice, "bob", 1, "a").await;
    send_text(&alice, "bob", 1, "b").await;
    let del = json!({"msg_delete_param_msg": m1, "msg_delete_param_is_remble": true});
    assert_eq!(call(&bob, "TIMMsgDelete", Some("alice"), 1, &del.to_string()).await.code, 0);
    let roaming = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_is_remble": true}"#).await;
    assert_eq!(texts(&roaming.json), ["b"]);
    // The seed's sample: an empty message deletes the whole local view.
    let sample = r#"{"msg_delete_param_is_remble": false, "msg_delete_param_msg": {}}"#;
    assert_eq!(call(&bob, "TIMMsgDelete", Some("alice"), 1, sample).await.code, 0);
    assert_eq!(call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, "").await.json, json!([]));
    assert_eq!(
        texts(
            &call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_is_remble": true}"#).await.json
        ),
        ["b"]
    );
    // Unknown message: in a C2C conversation the SDK's "not in the database" (7011), not the
    // group code (10030, see tests/history.rs).
    let bad = json!({"msg_delete_param_msg": {"message_msg_id": "nope"}});
    assert_eq!(call(&bob, "TIMMsgDelete", Some("alice"), 1, &bad.to_string()).await.code, 7011);
    // Alice still has both.
    assert_eq!(texts(&call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json), ["b", "a"]);
}

#[tokio::test]
async fn list_delete_limits_and_effect() {
    let h = Harness::default();
    let alice = h.login("alice");
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send_text(&alice, "bob", 1, &format!("m{i}")).await);
    }
    let two = json!([sent[0], sent[2]]);
    let r = call(&alice, "TIMMsgListDelete", Some("bob"), 1, &two.to_string()).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    assert_eq!(
        texts(
            &call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, r#"{"msg_getmsglist_param_is_remble": true}"#).await.json
        ),
        ["m1"]
    );
    // Twice in one second: 7008.
    let one = json!([sent[1]]);
    assert_eq!(call(&alice, "TIMMsgListDelete", Some("bob"), 1, &one.to_string()).await.code, 7008);
    h.clock.advance_ms(1000);
    // More than 30: a parameter error, synchronously.
    let many: Vec<_> = (0..31).map(|_| sent[1].clone()).collect();
    assert_eq!(call(&alice, "TIMMsgListDelete", Some("bob"), 1, &json!(many).to_string()).await.code, -4);
    // One unknown message: nothing deleted.
    let mixed = json!([sent[1], {"message_msg_id": "nope"}]);
    assert_eq!(call(&alice, "TIMMsgListDelete", Some("bob"), 1, &mixed.to_string()).await.code, 7011);
    assert_eq!(texts(&call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json), ["m1"]);
}

#[tokio::test]
async fn clear_history_empties_both_views_for_the_caller_only() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    send_text(&alice, "bob", 1, "x").await;
    assert_eq!(call(&bob, "TIMMsgClearHistoryMessage", Some("alice"), 1, "").await.code, 0);
    for remble in [false, true] {
        let p = json!({"msg_getmsglist_param_is_remble": remble}).to_string();
        assert_eq!(call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, &p).await.json, json!([]));
    }
    send_text(&alice, "bob", 1, "y").await;
    assert_eq!(texts(&call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, "").await.json), ["y"]);
    assert_eq!(texts(&call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json), ["y", "x"]);
}
