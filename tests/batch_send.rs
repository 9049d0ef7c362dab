//! `TIMMsgBatchSend` through the `BatchSendActor`: one result per receiver, partial failures.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn per_receiver_results() {
    let h = Harness::default();
    let alice = h.login("alice");
    let bob = h.login("bob");
    let mut bob_events = bob.take_events().unwrap();
    // The seed's sample, with one bad receiver added.
    let p = json!({
        "msg_batch_send_param_identifier_array": ["user2", "bob", "bad\tid"],
        "msg_batch_send_param_msg": {
            "message_client_time": 1551340614,
            "message_elem_array": [{"elem_type": 0, "text_elem_content": "this is batch send msg"}],
            "message_sender": "user1",
            "message_server_time": 1551340614
        }
    });
    let r = call(&alice, "TIMMsgBatchSend", None, 0, &p.to_string()).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let results = r.json.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["msg_batch_send_result_identifier"], "user2");
    assert_eq!(results[0]["msg_batch_send_result_code"], 0);
    assert_eq!(results[0]["msg_batch_send_result_msg"]["message_sender"], "alice", "the sender is the caller");
    assert_eq!(results[1]["msg_batch_send_result_code"], 0);
    assert_eq!(results[2]["msg_batch_send_result_code"], 7003);
    let _ = next_event(&mut bob_events).await;
    // Distinct messages per receiver.
    assert_ne!(
        results[0]["msg_batch_send_result_msg"]["message_msg_id"],
        results[1]["msg_batch_send_result_msg"]["message_msg_id"]
    );
}

#[tokio::test]
async fn receiver_limit_is_configurable() {
    let h = Harness::new(|c| c.batch_send_max = 3);
    let alice = h.login("alice");
    let p = |n: usize| {
        json!({
            "msg_batch_send_param_identifier_array": (0..n).map(|i| format!("u{i}")).collect::<Vec<_>>(),
            "msg_batch_send_param_msg": {"message_elem_array": [{"elem_type": 0, "text_elem_content": "hi"}]}
        })
        .to_string()
    };
    assert_eq!(call(&alice, "TIMMsgBatchSend", None, 0, &p(3)).await.code, 0);
    assert_eq!(call(&alice, "TIMMsgBatchSend", None, 0, &p(4)).await.code, -4);
    assert_eq!(call(&alice, "TIMMsgBatchSend", None, 0, &p(0)).await.code, -4);
}
