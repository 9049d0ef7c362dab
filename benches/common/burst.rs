//! The send-path workload the benches share: a burst of sends spread over conversations, all in
//! flight at once, awaited until durable.

use timsg::{ConvRef, MessageContent, Session};

/// Sends `n` messages round-robin over `convs` and waits for every outcome.
pub async fn send_burst(session: &Session, convs: &[ConvRef], content: &MessageContent, n: usize) {
    let pending: Vec<_> =
        (0..n).map(|i| session.send_message(&convs[i % convs.len()], content.clone()).unwrap()).collect();
    for p in pending {
        p.outcome().await.unwrap();
    }
}
