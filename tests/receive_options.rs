//! `TIMMsgSetC2CReceiveMessageOpt`, `TIMMsgGetC2CReceiveMessageOpt` and
//! `TIMMsgSetGroupReceiveMessageOpt`: Not_Receive stops delivery, Not_Notify delivers without
//! notification; limits on ids and call rate.

mod common;

use common::*;
use serde_json::json;
use timsg::Event;
use timsg_actors::group::GroupKind;

#[tokio::test]
async fn c2c_options_set_get_and_effect() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut bob_events = bob.take_events().unwrap();
    let ids = json!(["alice", "carol"]).to_string();
    // The seed's sample shape, opt 1 = Not_Receive.
    assert_eq!(call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, &ids, 1).await.code, 0);
    let got = call(&bob, "TIMMsgGetC2CReceiveMessageOpt", None, 0, &json!(["alice", "dave"]).to_string()).await.json;
    assert_eq!(
        got,
        json!([
            {"msg_recv_msg_opt_result_identifier": "alice", "msg_recv_msg_opt_result_opt": 1},
            {"msg_recv_msg_opt_result_identifier": "dave", "msg_recv_msg_opt_result_opt": 0}
        ])
    );
    send_text(&alice, "bob", 1, "muted").await;
    no_event(&mut bob_events);
    assert_eq!(call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, "").await.json, json!([]), "not in the local view");
    let roaming = call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_is_remble":true}"#).await;
    assert_eq!(texts(&roaming.json), ["muted"], "the server still has it");

    assert_eq!(
        call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, &json!(["alice"]).to_string(), 2).await.code,
        0
    );
    send_text(&alice, "bob", 1, "quiet").await;
    match next_event(&mut bob_events).await {
        Event::NewMessages { notify, messages } => {
            assert!(!notify, "Not_Notify delivers without notification");
            assert_eq!(messages.len(), 1);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn c2c_option_limits() {
    let h = Harness::default();
    let bob = h.login("bob");
    let many: Vec<String> = (0..31).map(|i| format!("u{i}")).collect();
    assert_eq!(call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, &json!(many).to_string(), 1).await.code, -4);
    // Refused before it is accepted (no callback), for both calls.
    for api in ["TIMMsgSetC2CReceiveMessageOpt", "TIMMsgGetC2CReceiveMessageOpt"] {
        let json = json!(many).to_string();
        let refused =
            timsg::dispatch::begin(&bob, &timsg::dispatch::ApiCall { api, json: &json, opt: 1, ..Default::default() });
        assert_eq!(refused.map(drop).map_err(|e| e.code), Err(-4), "{api}");
    }
    assert_eq!(call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, r#"["ok"]"#, 9).await.code, -4);
    assert_eq!(call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, r#"["bad\tid"]"#, 1).await.code, 7003);
    for _ in 0..5 {
        assert_eq!(call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, r#"["a"]"#, 0).await.code, 0);
    }
    assert_eq!(call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, r#"["a"]"#, 0).await.code, 7008);
    h.clock.advance_ms(1000);
    assert_eq!(call_opt(&bob, "TIMMsgSetC2CReceiveMessageOpt", None, 0, r#"["a"]"#, 0).await.code, 0);
}

#[tokio::test]
async fn group_option() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    alice.create_group("news", "n", GroupKind::Public, vec!["bob".into()]).await.unwrap();
    let mut bob_events = bob.take_events().unwrap();
    drain(&mut bob_events);
    assert_eq!(call_opt(&bob, "TIMMsgSetGroupReceiveMessageOpt", Some("news"), 0, "", 1).await.code, 0);
    send_text(&alice, "news", 2, "ignored").await;
    no_event(&mut bob_events);
    assert_eq!(call_opt(&bob, "TIMMsgSetGroupReceiveMessageOpt", Some("news"), 0, "", 0).await.code, 0);
    send_text(&alice, "news", 2, "heard").await;
    match next_event(&mut bob_events).await {
        Event::NewMessages { messages, notify } => {
            assert!(notify);
            assert_eq!(timsg::wire::view_to_json(&messages[0])["message_elem_array"][0]["text_elem_content"], "heard");
        }
        other => panic!("unexpected {other:?}"),
    }
    let carol = h.login("carol");
    assert_eq!(call_opt(&carol, "TIMMsgSetGroupReceiveMessageOpt", Some("news"), 0, "", 1).await.code, 10007);
    assert_eq!(call_opt(&carol, "TIMMsgSetGroupReceiveMessageOpt", Some("nope"), 0, "", 1).await.code, 10010);
}
