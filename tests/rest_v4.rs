//! The TIM server REST API v4 over real HTTP (`/v4/openim/sendmsg`, `batchsendmsg`): requests
//! and replies as the REST API documents them, always HTTP 200, and the cross-check — what a
//! bot sends over REST is what a C SDK user sees on its WebSocket and in its history.

mod common;

use common::service::*;
use serde_json::{Value, json};

/// `POST /v4/<command>` as the admin (or `identifier`), with its UserSig in the query string.
async fn rest(s: &TestService, command: &str, query: &str, body: &str) -> (u16, Value) {
    let url = s.url(&format!("/v4/{command}?{query}&random=99&contenttype=json"));
    let resp = reqwest::Client::new().post(url).body(body.to_string()).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, json_of(resp).await)
}

fn admin_query() -> String {
    format!("sdkappid={APP}&identifier=administrator&usersig={}", sig("administrator"))
}

async fn admin(s: &TestService, command: &str, body: Value) -> Value {
    let (status, r) = rest(s, command, &admin_query(), &body.to_string()).await;
    assert_eq!(status, 200, "{r}");
    r
}

fn text_msg(from: Option<&str>, to: Value, random: u32, text: &str) -> Value {
    let mut m = json!({"To_Account": to, "MsgRandom": random, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]});
    if let Some(f) = from {
        m["From_Account"] = f.into();
    }
    m
}

async fn history(s: &TestService, user: &str, peer: &str) -> Vec<Value> {
    let (_, r) = post(
        s,
        user,
        "TIMMsgGetMsgList",
        json!({"conv_id": peer, "conv_type": 1, "param": {"msg_getmsglist_param_count": 20}}),
    )
    .await;
    assert_eq!(r["code"], 0, "{r}");
    r["json_params"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendmsg_reaches_the_receiver_as_a_c_sdk_message() {
    let s = TestService::start();
    let mut bob = connect(&s, "bob", None).await;
    let r = admin(&s, "openim/sendmsg", text_msg(Some("alice"), json!("bob"), 7, "from the bot")).await;
    assert_eq!(
        (r["ActionStatus"].as_str(), r["ErrorCode"].as_i64(), r["ErrorInfo"].as_str()),
        (Some("OK"), Some(0), Some(""))
    );
    let time = r["MsgTime"].as_u64().unwrap();
    // On bob's WebSocket and in his history, as a C SDK user sees it: from alice, seq 1.
    assert_eq!(next_texts(&mut bob).await.1, ["from the bot"]);
    let seen = history(&s, "bob", "alice").await;
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0]["message_sender"].as_str(), seen[0]["message_seq"].as_u64()), (Some("alice"), Some(1)));
    assert_eq!(seen[0]["message_server_time"].as_u64(), Some(time));
    let rand = seen[0]["message_rand"].as_u64().unwrap();
    assert_eq!(r["MsgKey"], format!("1_{rand}_{time}"), "<seq>_<random>_<time>");
    // The same MsgRandom (and MsgSeq) from the same sender is the same message: not stored twice.
    let again = admin(&s, "openim/sendmsg", text_msg(Some("alice"), json!("bob"), 7, "from the bot")).await;
    assert_eq!(again["MsgKey"], r["MsgKey"]);
    assert_eq!(history(&s, "bob", "alice").await.len(), 1);
    // Without From_Account the admin sends; CloudCustomData, face, location and custom elements
    // come through; MsgLifeTime 0 is online only (not stored).
    let mut rich = text_msg(None, json!("bob"), 8, "hello");
    rich["CloudCustomData"] = "cc".into();
    rich["OfflinePushInfo"] = json!({"PushFlag": 0, "Desc": "ignored here"});
    rich["MsgBody"].as_array_mut().unwrap().extend([
        json!({"MsgType": "TIMFaceElem", "MsgContent": {"Index": 1, "Data": "wink"}}),
        json!({"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"order\":1}", "Desc": "an order"}}),
    ]);
    assert_eq!(admin(&s, "openim/sendmsg", rich).await["ErrorCode"], 0);
    let from_admin = history(&s, "bob", "administrator").await;
    assert_eq!(from_admin[0]["message_cloud_custom_str"], "cc");
    let elems = &from_admin[0]["message_elem_array"];
    assert_eq!(
        (elems[1]["elem_type"].as_i64(), elems[2]["custom_elem_data"].as_str()),
        (Some(6), Some("{\"order\":1}"))
    );
    let mut online = text_msg(Some("carol"), json!("bob"), 9, "now or never");
    online["MsgLifeTime"] = 0.into();
    assert_eq!(admin(&s, "openim/sendmsg", online).await["ErrorCode"], 0);
    assert!(history(&s, "bob", "carol").await.is_empty(), "online-only messages are not stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batchsendmsg_fans_out_and_reports_failures() {
    let s = TestService::start();
    let r = admin(&s, "openim/batchsendmsg", text_msg(Some("bot"), json!(["u1", "u2", "u3"]), 5, "news")).await;
    assert_eq!((r["ActionStatus"].as_str(), r["ErrorCode"].as_i64()), (Some("OK"), Some(0)), "{r}");
    assert!(r["MsgKey"].as_str().unwrap().starts_with("1_"), "{r}");
    assert!(r.get("ErrorList").is_none(), "{r}");
    for u in ["u1", "u2", "u3"] {
        let h = history(&s, u, "bot").await;
        assert_eq!(h[0]["message_elem_array"][0]["text_elem_content"], "news", "{u}");
    }
    let many: Vec<String> = (0..501).map(|i| format!("r{i}")).collect();
    let r = admin(&s, "openim/batchsendmsg", text_msg(None, json!(many), 6, "x")).await;
    assert_eq!((r["ActionStatus"].as_str(), r["ErrorCode"].as_i64()), (Some("FAIL"), Some(90011)), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_protocol_refuses_with_its_codes_and_always_http_200() {
    let s = TestService::start();
    let body = text_msg(None, json!("bob"), 1, "x").to_string();
    let code = |r: &Value| (r["ActionStatus"].as_str().map(str::to_string), r["ErrorCode"].as_i64());
    let fail = |c: i64| (Some("FAIL".to_string()), Some(c));
    let cases: Vec<(String, &str, i64)> = vec![
        (format!("identifier=administrator&usersig={}", sig("administrator")), "openim/sendmsg", 60012),
        (format!("sdkappid=1&identifier=administrator&usersig={}", sig("administrator")), "openim/sendmsg", 70014),
        (format!("sdkappid={APP}&identifier=alice&usersig={}", sig("alice")), "openim/sendmsg", 60010),
        (format!("sdkappid={APP}&identifier=administrator&usersig=garbage"), "openim/sendmsg", 70003),
        (format!("sdkappid={APP}&identifier=administrator&usersig={}", sig("alice")), "openim/sendmsg", 70013),
        (format!("sdkappid={APP}&identifier=administrator"), "openim/sendmsg", 70002),
        (admin_query(), "openim/no_such_command", 60009),
    ];
    for (query, command, want) in cases {
        let (status, r) = rest(&s, command, &query, &body).await;
        assert_eq!((status, code(&r)), (200, fail(want)), "{query} {command}: {r}");
    }
    let bodies = [
        ("{not json", 90001),
        (r#"{"To_Account":"bob","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#, 90005),
        (r#"{"MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#, 90003),
        (r#"{"To_Account":"bob","MsgRandom":1,"MsgBody":{"MsgType":"TIMTextElem"}}"#, 90007),
        (r#"{"To_Account":"bob","MsgRandom":1,"MsgBody":[{"MsgType":"TIMNoSuchElem","MsgContent":{}}]}"#, 90002),
        (
            r#"{"To_Account":"bob","MsgRandom":1,"MsgLifeTime":604801,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90026,
        ),
        (
            r#"{"To_Account":"bob","MsgRandom":1,"SyncOtherMachine":"yes","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90031,
        ),
        (
            r#"{"To_Account":"../x","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90003,
        ),
        (
            r#"{"From_Account":"@TIM#SYSTEM","To_Account":"bob","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
            90008,
        ),
    ];
    for (body, want) in bodies {
        let (status, r) = rest(&s, "openim/sendmsg", &admin_query(), body).await;
        assert_eq!((status, code(&r)), (200, fail(want)), "{body}: {r}");
    }
    let long = text_msg(None, json!("bob"), 2, &"x".repeat(13 * 1024));
    let r = admin(&s, "openim/sendmsg", long).await;
    assert_eq!(code(&r), fail(80002), "{r}");
    assert!(history(&s, "bob", "administrator").await.is_empty(), "nothing refused was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_recall_read_and_unread_through_rest_match_the_c_api() {
    let s = TestService::start();
    let mut bob = connect(&s, "bob", None).await;
    // Sent with the C API's call (over /v1), listed by admin_getroammsg.
    for i in 1..=5 {
        send_text(&s, "alice", "bob", &format!("c api {i}")).await;
    }
    let page = |max: u64, last: Option<&str>| {
        let mut b = json!({"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": max, "MinTime": 0, "MaxTime": now() + 60});
        if let Some(k) = last {
            b["LastMsgKey"] = k.into();
        }
        b
    };
    let first = admin(&s, "openim/admin_getroammsg", page(3, None)).await;
    assert_eq!(
        (first["ErrorCode"].as_i64(), first["Complete"].as_i64(), first["MsgCnt"].as_i64()),
        (Some(0), Some(0), Some(3)),
        "{first}"
    );
    let texts = |r: &Value| -> Vec<String> {
        r["MsgList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts(&first), ["c api 3", "c api 4", "c api 5"], "the newest, oldest first");
    let m = &first["MsgList"][0];
    assert_eq!(
        (m["From_Account"].as_str(), m["To_Account"].as_str(), m["MsgSeq"].as_i64(), m["MsgFlagBits"].as_i64()),
        (Some("alice"), Some("bob"), Some(3), Some(0))
    );
    assert_eq!(first["LastMsgKey"], m["MsgKey"]);
    let rest = admin(&s, "openim/admin_getroammsg", page(3, first["LastMsgKey"].as_str())).await;
    assert_eq!(
        (rest["Complete"].as_i64(), texts(&rest)),
        (Some(1), vec!["c api 1".to_string(), "c api 2".to_string()]),
        "{rest}"
    );
    let none = admin(
        &s,
        "openim/admin_getroammsg",
        json!({"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 5, "MinTime": 0, "MaxTime": 1}),
    )
    .await;
    assert_eq!((none["Complete"].as_i64(), none["MsgCnt"].as_i64()), (Some(1), Some(0)), "{none}");

    // Unread: bob has read nothing of alice's five; reading up to now clears them.
    let unread = admin(
        &s,
        "openim/get_c2c_unread_msg_num",
        json!({"To_Account": "bob", "Peer_Account": ["alice", "nobody", "../x"]}),
    )
    .await;
    assert_eq!(
        unread["C2CUnreadMsgNumList"],
        json!([{"Peer_Account": "alice", "C2CUnreadMsgNum": 5}, {"Peer_Account": "nobody", "C2CUnreadMsgNum": 0}]),
        "{unread}"
    );
    assert_eq!(unread["ErrorList"][0]["ErrorCode"], 70107, "{unread}");
    assert_eq!(admin(&s, "openim/get_c2c_unread_msg_num", json!({"To_Account": "bob"})).await["AllC2CUnreadMsgNum"], 5);
    assert_eq!(
        admin(&s, "openim/admin_set_msg_read", json!({"Report_Account": "bob", "Peer_Account": "alice"})).await["ErrorCode"],
        0
    );
    assert_eq!(admin(&s, "openim/get_c2c_unread_msg_num", json!({"To_Account": "bob"})).await["AllC2CUnreadMsgNum"], 0);

    // Recall by MsgKey, however old: bob hears a revoke, and the message is flagged recalled.
    let key = m["MsgKey"].as_str().unwrap().to_string();
    let r = admin(&s, "openim/admin_msgwithdraw", json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key}))
        .await;
    assert_eq!(r["ErrorCode"], 0, "{r}");
    loop {
        let e = next_event(&mut bob).await;
        if e["event"] == "MsgRevoke" {
            break;
        }
    }
    let after = admin(&s, "openim/admin_getroammsg", page(5, None)).await;
    let recalled = after["MsgList"].as_array().unwrap().iter().find(|x| x["MsgKey"] == key).expect("still listed");
    assert_eq!(recalled["MsgFlagBits"], 8, "{after}");
    let again =
        admin(&s, "openim/admin_msgwithdraw", json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key}))
            .await;
    assert_eq!(again["ErrorCode"], 20023, "{again}");
    for (bad, want) in [("nonsense", 90054), ("99_1_1", 20022)] {
        let r =
            admin(&s, "openim/admin_msgwithdraw", json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": bad}))
                .await;
        assert_eq!(r["ErrorCode"], want, "{bad}: {r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_state_and_the_openapi_description_of_every_command() {
    let s = TestService::start();
    let _bob = connect(&s, "bob", None).await;
    for command in ["openim/querystate", "openim/query_online_status"] {
        let r = admin(&s, command, json!({"To_Account": ["bob", "carol", "../x"]})).await;
        assert_eq!(r["ErrorCode"], 0, "{r}");
        assert_eq!(
            r["QueryResult"],
            json!([{"To_Account": "bob", "Status": "Online", "State": "Online"}, {"To_Account": "carol", "Status": "Offline", "State": "Offline"}]),
            "{command}: {r}"
        );
        assert_eq!(r["ErrorList"][0]["ErrorCode"], 70107, "{r}");
    }
    let doc = json_of(reqwest::get(s.url("/v1/openapi.json")).await.unwrap()).await;
    let paths = doc["paths"].as_object().unwrap();
    let documented: Vec<&String> = paths.keys().filter(|p| p.starts_with("/v4/")).collect();
    assert_eq!(documented.len(), timsg::service::rest_v4::COMMANDS.len());
    for path in documented {
        // Served: an empty body as the admin gets the command's own complaint, not 60009.
        let (status, r) = rest(&s, path.trim_start_matches("/v4/"), &admin_query(), "{}").await;
        assert_eq!(status, 200);
        assert!(r["ErrorCode"] != 60009 && r["ActionStatus"].is_string(), "{path}: {r}");
        assert_eq!(
            paths[path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/RestReply"
        );
    }
}
