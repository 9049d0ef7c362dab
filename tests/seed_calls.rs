//! Every dispatcher API called with the seed reference's own sample parameters, on a store
//! where the samples make sense (users user1, user2, user3; a group "xxxxx").

mod common;

use common::*;
use timsg_actors::group::GroupKind;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/seed/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn seed_samples_through_the_dispatcher() {
    let h = Harness::default();
    let user1 = h.login("user1");
    user1.create_group("xxxxx", "sample group", GroupKind::Private, vec!["user2".into()]).await.unwrap();

    let r = call(&user1, "TIMMsgSendNewMsg", Some("user2"), 1, &fixture("TIMMsgSendNewMsg")).await;
    assert_eq!((r.code, r.json["message_status"].as_u64()), (0, Some(2)), "{}", r.desc);
    let sent = r.json;
    // The send sample misses a comma: TIM_ERR_JSON, and nothing is sent.
    assert_eq!(call(&user1, "TIMMsgSendMessage", Some("user2"), 1, &fixture("TIMMsgSendMessage")).await.code, -3);
    assert_eq!(call(&user1, "TIMMsgCancelSend", Some("test_win_03"), 1, "message_id_1").await.code, 8020);
    let r = call(&user1, "TIMMsgFindMessages", None, 0, &fixture("TIMMsgFindMessages")).await;
    assert_eq!((r.code, r.json.as_array().map(Vec::len)), (0, Some(0)));
    assert_eq!(call(&user1, "TIMMsgReportReaded", Some("user2"), 1, "").await.code, 0);
    assert_eq!(call(&user1, "TIMMsgMarkAllMessageAsRead", None, 0, "").await.code, 0);
    let r = call(&user1, "TIMMsgFindByMsgLocatorList", Some("user2"), 1, &fixture("TIMMsgFindByMsgLocatorList")).await;
    assert_eq!(r.code, 0);
    assert_eq!(call(&user1, "TIMMsgImportMsgList", Some("user2"), 1, &fixture("TIMMsgImportMsgList")).await.code, 0);
    let r = call(&user1, "TIMMsgGetMsgList", Some("Windows-02"), 1, &fixture("TIMMsgGetMsgList")).await;
    assert_eq!((r.code, r.json.as_array().map(Vec::len)), (0, Some(0)));
    let r = call(&user1, "TIMMsgGetMsgList", Some("user2"), 1, &fixture("TIMMsgGetMsgList")).await;
    assert_eq!(r.json.as_array().map(Vec::len), Some(2), "the sent and the imported message");
    assert_eq!(call(&user1, "TIMMsgDelete", Some("user2"), 1, &fixture("TIMMsgDelete")).await.code, 0);
    // The list-delete sample names messages by content only: no ID, no seq.
    assert_eq!(call(&user1, "TIMMsgListDelete", Some("user2"), 1, &fixture("TIMMsgListDelete")).await.code, -4);
    let one = serde_json::json!([sent]).to_string();
    assert_eq!(call(&user1, "TIMMsgListDelete", Some("user2"), 1, &one).await.code, 0);
    assert_eq!(call(&user1, "TIMMsgClearHistoryMessage", Some("user2"), 1, "").await.code, 0);
    let ids = r#"["user1","user2"]"#;
    assert_eq!(call_opt(&user1, "TIMMsgSetC2CReceiveMessageOpt", None, 0, ids, 0).await.code, 0);
    let r = call(&user1, "TIMMsgGetC2CReceiveMessageOpt", None, 0, ids).await;
    assert_eq!(r.json.as_array().map(Vec::len), Some(2));
    assert_eq!(call_opt(&user1, "TIMMsgSetGroupReceiveMessageOpt", Some("xxxxx"), 0, "", 0).await.code, 0);
    let r = call(&user1, "TIMMsgSearchLocalMessages", None, 0, &fixture("TIMMsgSearchLocalMessages")).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let r = call(&user1, "TIMMsgBatchSend", None, 0, &fixture("TIMMsgBatchSend")).await;
    assert_eq!(r.code, 0);
    let codes: Vec<i64> =
        r.json.as_array().unwrap().iter().map(|x| x["msg_batch_send_result_code"].as_i64().unwrap()).collect();
    assert_eq!(codes, vec![0, 0]);
    // SetLocalCustomData on a message found by GetMsgList, as the seed's sample does.
    let list = call(&user1, "TIMMsgGetMsgList", Some("user2"), 1, r#"{"msg_getmsglist_param_is_remble":true,"msg_getmsglist_param_is_forward":false,"msg_getmsglist_param_count":1}"#).await;
    let mut m = list.json[0].clone();
    m["message_custom_str"] = serde_json::json!("custom Str");
    assert_eq!(call(&user1, "TIMMsgSetLocalCustomData", None, 0, &m.to_string()).await.code, 0);
}

/// The default durability, fsync, works end to end.
#[tokio::test]
async fn fsync_durability() {
    let h = Harness::new(|c| c.durability = timsg::Durability::Fsync);
    let a = h.login("a");
    let sent = send_text(&a, "b", 1, "durable").await;
    assert_eq!(sent["message_status"], 2);
}
