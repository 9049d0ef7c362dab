//! Durability across restarts, and the supervisor restarting a crashed conversation with its
//! state reloaded from the store.

mod common;

use common::*;
use serde_json::json;
use timsg::{ConvRef, ReceiveOpt};
use timsg_actors::actors::ConvOp;
use timsg_actors::group::GroupKind;

#[tokio::test]
async fn reopening_the_data_directory_keeps_everything() {
    let mut h = Harness::default();
    let (history_before, custom_id);
    {
        let alice = h.login("alice");
        let bob = h.login("bob");
        alice.create_group("g", "G", GroupKind::Private, vec!["bob".into()]).await.unwrap();
        let m1 = send_text(&alice, "bob", 1, "one").await;
        send_text(&alice, "bob", 1, "two").await;
        send_text(&alice, "g", 2, "group msg").await;
        call(&bob, "TIMMsgReportReaded", Some("alice"), 1, &m1.to_string()).await;
        bob.set_c2c_receive_message_opt(&["carol".to_string()], ReceiveOpt::NotNotify).await.unwrap();
        bob.set_group_receive_message_opt("g", ReceiveOpt::NotReceive).await.unwrap();
        let mut tagged = m1.clone();
        tagged["message_custom_str"] = json!("kept");
        tagged["message_conv_id"] = json!("alice"); // bob names the conversation by his peer
        assert_eq!(call(&bob, "TIMMsgSetLocalCustomData", None, 0, &tagged.to_string()).await.code, 0);
        custom_id = m1["message_msg_id"].clone();
        let saved = json!({"message_elem_array": [{"elem_type": 0, "text_elem_content": "draft"}]});
        call(&bob, "TIMMsgSaveMsg", Some("alice"), 1, &saved.to_string()).await;
        history_before = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, "").await.json;
        assert_eq!(bob.unread_count(&ConvRef::c2c("alice")).await.unwrap(), 1);
    }
    h.reopen();
    let alice = h.login("alice");
    let bob = h.login("bob");
    assert_eq!(call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, "").await.json, history_before);
    assert_eq!(bob.unread_count(&ConvRef::c2c("alice")).await.unwrap(), 1);
    let opts = bob.get_c2c_receive_message_opt(&["carol".to_string()]).await.unwrap();
    assert_eq!(opts[0].1, ReceiveOpt::NotNotify);
    let found = call(&bob, "TIMMsgFindMessages", None, 0, &json!([custom_id]).to_string()).await.json;
    assert_eq!(found[0]["message_custom_str"], "kept", "{found}");
    // The group keeps its members and their options; seqs continue without a gap.
    let mut bob_events = bob.take_events().unwrap();
    drain(&mut bob_events);
    let next = send_text(&alice, "g", 2, "after restart").await;
    assert_eq!(next["message_seq"], 3);
    no_event(&mut bob_events);
    assert_eq!(send_text(&alice, "bob", 1, "three").await["message_seq"], 3);
}

#[tokio::test]
async fn a_panicking_conversation_is_restarted_with_its_state() {
    let h = Harness::default();
    let alice = h.login("alice");
    send_text(&alice, "bob", 1, "before").await;
    let key = alice.conv_key(&ConvRef::c2c("bob")).unwrap();
    let engine = h.runtime.engine().clone();
    engine.dispatch(&key, ConvOp::InjectPanic).await.unwrap();
    // The next call reaches a fresh actor that reloaded the log from the store.
    let next = send_text(&alice, "bob", 1, "after").await;
    assert_eq!(next["message_seq"], 2);
    assert_eq!(texts(&call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json), ["after", "before"]);
    let stats = engine.supervisor_stats().await;
    assert_eq!(stats.restarted, 1);
}

#[tokio::test]
async fn idle_conversations_are_passivated_and_come_back() {
    let h = Harness::new(|c| c.idle_passivation = std::time::Duration::from_millis(100));
    let alice = h.login("alice");
    for peer in ["p1", "p2", "p3"] {
        send_text(&alice, peer, 1, "hi").await;
    }
    let engine = h.runtime.engine().clone();
    assert_eq!(engine.active_conversations(), 3);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while engine.active_conversations() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(engine.active_conversations(), 0);
    assert_eq!(texts(&call(&alice, "TIMMsgGetMsgList", Some("p2"), 1, "").await.json), ["hi"]);
    let stats = engine.supervisor_stats().await;
    assert_eq!(stats.passivated, 3);
    assert_eq!(stats.activated, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_racing_a_passivation_are_carried_out_by_the_next_actor() {
    // Passivation is due as soon as a conversation is quiet for a millisecond: the pauses
    // between sends keep racing it, on 20 conversations at once.
    let h = Harness::new(|c| c.idle_passivation = std::time::Duration::from_millis(1));
    let alice = h.login("alice");
    let engine = h.runtime.engine().clone();
    let tasks: Vec<_> = (0..20)
        .map(|p| {
            let alice = alice.clone();
            tokio::spawn(async move {
                let peer = format!("peer{p}");
                let mut seqs = Vec::new();
                for i in 0..60u64 {
                    let m = send_text(&alice, &peer, 1, &format!("m{i}")).await;
                    seqs.push(m["message_seq"].as_u64().unwrap());
                    tokio::time::sleep(std::time::Duration::from_micros(700 + 97 * ((i * 7 + p) % 9))).await;
                }
                (peer, seqs)
            })
        })
        .collect();
    for t in tasks {
        let (peer, seqs) = t.await.unwrap();
        assert_eq!(seqs, (1..=60).collect::<Vec<u64>>(), "{peer}: every send succeeded once, in order");
        let history = call(&alice, "TIMMsgGetMsgList", Some(&peer), 1, r#"{"msg_getmsglist_param_count":100}"#).await;
        assert_eq!(texts(&history.json).len(), 60);
    }
    // Some conversation went and came back mid-run (how many depends on how busy the machine
    // is: an actor with a write in flight at its idle check looks again an idle period later).
    let stats = engine.supervisor_stats().await;
    assert!(stats.passivated > 0 && stats.activated > 20, "conversations were passivated between sends: {stats:?}");
}

#[tokio::test]
async fn an_idle_conversation_can_be_passivated_on_demand() {
    let h = Harness::default();
    let alice = h.login("alice");
    send_text(&alice, "bob", 1, "kept").await;
    let engine = h.runtime.engine().clone();
    let key = alice.conv_key(&ConvRef::c2c("bob")).unwrap();
    assert!(engine.passivate(&key).await.unwrap());
    assert_eq!(engine.active_conversations(), 0);
    assert!(!engine.passivate(&key).await.unwrap(), "nothing left to passivate");
    // The next call starts a fresh actor with the stored state.
    assert_eq!(texts(&call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json), ["kept"]);
    let stats = engine.supervisor_stats().await;
    assert_eq!((stats.activated, stats.passivated), (2, 1));
}
