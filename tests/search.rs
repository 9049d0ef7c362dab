//! `TIMMsgSearchLocalMessages`: FTS5 trigram matching (CJK substrings too), AND/OR, senders,
//! types, one conversation or all, time windows, paging, and per-user visibility.

mod common;

use common::*;
use serde_json::json;
use timsg_actors::group::GroupKind;

async fn search(s: &std::sync::Arc<timsg::Session>, p: serde_json::Value) -> Res {
    call(s, "TIMMsgSearchLocalMessages", None, 0, &p.to_string()).await
}

#[tokio::test]
async fn keywords_conversations_and_visibility() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let carol = h.login("carol");
    send_text(&alice, "bob", 1, "the quick brown fox").await;
    send_text(&bob, "alice", 1, "a lazy brown dog").await;
    send_text(&carol, "bob", 1, "brown bread").await;
    send_text(&alice, "bob", 1, "我们明天去北京开会").await;
    let custom = json!({"message_elem_array": [{"elem_type": 3, "custom_elem_data": "brown custom payload"}]});
    call(&alice, "TIMMsgSendMessage", Some("bob"), 1, &custom.to_string()).await;

    // All conversations: total counts conversations; an item lists its message only if it has one.
    let r = search(&bob, json!({"msg_search_param_keyword_array": ["brown"]})).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    assert_eq!(r.json["msg_search_result_total_count"], 2);
    let items = r.json["msg_search_result_item_array"].as_array().unwrap();
    let by_conv: Vec<(String, u64, usize)> = items
        .iter()
        .map(|i| {
            (
                i["msg_search_result_item_conv_id"].as_str().unwrap().to_string(),
                i["msg_search_result_item_total_message_count"].as_u64().unwrap(),
                i["msg_search_result_item_message_array"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert!(by_conv.contains(&("alice".into(), 3, 0)), "{by_conv:?}");
    assert!(by_conv.contains(&("carol".into(), 1, 1)), "{by_conv:?}");

    // One conversation, AND, sender filter, type filter.
    let one = |extra: serde_json::Value| {
        let mut p = json!({"msg_search_param_conv_id": "alice", "msg_search_param_conv_type": 1});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let r = search(
        &bob,
        one(json!({"msg_search_param_keyword_array": ["brown", "fox"], "msg_search_param_keyword_list_match_type": 1})),
    )
    .await;
    assert_eq!(r.json["msg_search_result_total_count"], 1);
    let r = search(&bob, one(json!({"msg_search_param_keyword_array": ["fox", "dog"]}))).await;
    assert_eq!(r.json["msg_search_result_total_count"], 2, "OR is the default");
    let r = search(
        &bob,
        one(json!({"msg_search_param_keyword_array": ["brown"], "msg_search_param_send_indentifier_array": ["bob"]})),
    )
    .await;
    assert_eq!(
        texts(&r.json["msg_search_result_item_array"][0]["msg_search_result_item_message_array"]),
        ["a lazy brown dog"]
    );
    let r = search(
        &bob,
        one(json!({"msg_search_param_keyword_array": ["brown"], "msg_search_param_message_type_array": [3]})),
    )
    .await;
    assert_eq!(r.json["msg_search_result_total_count"], 1);
    // CJK substrings, including two characters (below the trigram length).
    for kw in ["北京开会", "北京"] {
        let r = search(&bob, json!({"msg_search_param_keyword_array": [kw]})).await;
        assert_eq!(r.json["msg_search_result_total_count"], 1, "{kw}");
    }
    // Carol cannot find what is not hers.
    let r = search(&carol, json!({"msg_search_param_keyword_array": ["fox"]})).await;
    assert_eq!(r.json["msg_search_result_total_count"], 0);
    // A deleted message is no longer found by the deleter, but still by the other side.
    let found = search(&bob, one(json!({"msg_search_param_keyword_array": ["fox"]}))).await;
    let fox = found.json["msg_search_result_item_array"][0]["msg_search_result_item_message_array"][0].clone();
    call(&bob, "TIMMsgDelete", Some("alice"), 1, &json!({"msg_delete_param_msg": fox}).to_string()).await;
    assert_eq!(
        search(&bob, one(json!({"msg_search_param_keyword_array": ["fox"]}))).await.json["msg_search_result_total_count"],
        0
    );
    let alice_view = json!({"msg_search_param_keyword_array": ["fox"], "msg_search_param_conv_id": "bob", "msg_search_param_conv_type": 1});
    assert_eq!(search(&alice, alice_view).await.json["msg_search_result_total_count"], 1);
}

#[tokio::test]
async fn paging_time_windows_and_limits() {
    let h = Harness::default();
    let alice = h.login("alice");
    alice.create_group("g", "g", GroupKind::Private, vec![]).await.unwrap();
    for i in 0..5 {
        h.clock.advance_ms(60_000);
        send_text(&alice, "g", 2, &format!("report {i}")).await;
    }
    let base = json!({"msg_search_param_keyword_array": ["report"], "msg_search_param_conv_id": "g", "msg_search_param_conv_type": 2, "msg_search_param_page_size": 2});
    let mut pages = Vec::new();
    for index in 0..3 {
        let mut p = base.clone();
        p["msg_search_param_page_index"] = json!(index);
        let r = search(&alice, p).await;
        assert_eq!(r.json["msg_search_result_total_count"], 5);
        pages.push(texts(&r.json["msg_search_result_item_array"][0]["msg_search_result_item_message_array"]));
    }
    assert_eq!(pages, vec![vec!["report 4", "report 3"], vec!["report 2", "report 1"], vec!["report 0"]]);
    // The last two minutes before the clock's now.
    let now = h.clock.now_secs();
    let mut p = base.clone();
    p["msg_search_param_search_time_position"] = json!(now);
    p["msg_search_param_search_time_period"] = json!(90);
    p["msg_search_param_page_size"] = json!(0);
    assert_eq!(search(&alice, p).await.json["msg_search_result_total_count"], 2);
    // The seed's sample (no conversation, two keywords, types) is accepted.
    let sample = r#"{"msg_search_param_keyword_array":["keyword1","keyword2"],"msg_search_param_message_type_array":[0,1],"msg_search_param_page_index":0,"msg_search_param_page_size":10}"#;
    assert_eq!(call(&alice, "TIMMsgSearchLocalMessages", None, 0, sample).await.code, 0);
    // Limits.
    let six = json!({"msg_search_param_keyword_array": ["a", "b", "c", "d", "e", "f"]});
    assert_eq!(search(&alice, six).await.code, -4);
    assert_eq!(search(&alice, json!({})).await.code, -4);
    assert_eq!(call(&alice, "TIMMsgSearchLocalMessages", None, 0, "[1]").await.code, -3);
    // A keyword is at most 256 bytes; longer is refused before the call is accepted (no
    // callback), a 10 MB one as fast as a 257-byte one.
    for len in [257, 10 << 20] {
        let p = json!({"msg_search_param_keyword_array": ["x".repeat(len)]}).to_string();
        let refused = timsg::dispatch::begin(
            &alice,
            &timsg::dispatch::ApiCall { api: "TIMMsgSearchLocalMessages", json: &p, ..Default::default() },
        );
        let e = refused.expect_err("a long keyword is refused synchronously");
        assert_eq!(e.code, -4, "{}", e.desc);
        assert!(e.desc.contains("at most 256"), "{}", e.desc);
    }
    let longest = json!({"msg_search_param_keyword_array": ["y".repeat(256)]});
    assert_eq!(search(&alice, longest).await.code, 0);
}

#[tokio::test]
async fn sender_first_and_text_first_find_the_same_messages() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let carol = h.login("carol");
    for (who, peer, text) in [
        (&bob, "alice", "Budget REVIEW on Friday"),
        (&bob, "alice", "the review of the budget"),
        (&bob, "alice", "budget only"),
        (&carol, "alice", "budget review, carol's take"),
        (&alice, "bob", "review the budget with me"),
        (&bob, "alice", "Привет, БЮДЖЕТ готов"),
    ] {
        send_text(who, peer, 1, text).await;
    }
    let texts_of = |r: &Res| -> Vec<String> {
        let mut out: Vec<String> = r.json["msg_search_result_item_array"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["msg_search_result_item_message_array"].as_array().unwrap().clone())
            .map(|m| m["message_elem_array"][0]["text_elem_content"].as_str().unwrap().to_string())
            .collect();
        out.sort();
        out
    };
    let in_conv = |extra: serde_json::Value| {
        let mut p = json!({"msg_search_param_conv_id": "bob", "msg_search_param_conv_type": 1});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    // With a sender (few messages): sender first. Without: text first over the conversation,
    // then keep bob's — the same messages, case folded alike.
    for (keywords, all) in [(json!(["budget", "review"]), 1), (json!(["budget", "friday"]), 0), (json!(["бюджет"]), 0)]
    {
        let base = json!({"msg_search_param_keyword_array": keywords, "msg_search_param_keyword_list_match_type": all});
        let mut with_sender = base.clone();
        with_sender["msg_search_param_send_identifier_array"] = json!(["bob"]);
        let by_sender = search(&alice, in_conv(with_sender)).await;
        assert_eq!(by_sender.code, 0, "{}", by_sender.desc);
        let by_text = search(&alice, in_conv(base)).await;
        let bobs: Vec<String> = texts_of(&by_text)
            .into_iter()
            .filter(|t| !t.starts_with("review the budget")) // alice's own
            .collect();
        assert_eq!(texts_of(&by_sender), bobs, "{keywords}");
        assert!(!bobs.is_empty(), "{keywords}");
    }
    // Across all of alice's conversations, carol's message is found by its sender alone.
    let r = search(
        &alice,
        json!({"msg_search_param_keyword_array": ["budget"], "msg_search_param_send_identifier_array": ["carol"]}),
    )
    .await;
    assert_eq!(r.json["msg_search_result_total_count"], 1, "{}", r.json);
}
