//! The hops a send takes in timsg's design, with none of its work: the floor under the
//! per-message cost of any send path that keeps one actor per conversation.
//!
//! A caller asks a conversation's actor (on one of the arbiters) to append a message, under a
//! deadline; the actor keeps the message in its log, hands it to the receiver's event stream
//! and answers; the receiver's task takes its stream's waiting messages (up to 64 a wake-up,
//! as the load generator's users do). That is a raw actix request/reply plus one delivery
//! through a channel to a task on another thread plus a timer per call — what a send must
//! cross, whatever it does besides (IDs, validation, storage, per-receiver views, events).
//! The instruction bench counts it beside the real send so that the difference is the work
//! itself, and the distance to a target can be split into what the design costs and what the
//! code costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::mpsc;

/// A message as the floor passes it around: shared, never copied.
pub struct FloorMessage {
    pub receiver: usize,
    pub text: Arc<str>,
}

/// A conversation reduced to its log.
struct LogActor {
    log: Vec<Arc<FloorMessage>>,
    streams: Arc<Vec<mpsc::UnboundedSender<Arc<FloorMessage>>>>,
}

impl Actor for LogActor {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "u64")]
struct Append(Arc<FloorMessage>);

impl Handler<Append> for LogActor {
    type Result = u64;
    fn handle(&mut self, Append(message): Append, _: &mut Context<Self>) -> u64 {
        self.log.push(message.clone());
        // A receiver whose task ended is not this floor's concern: the message is kept.
        let _ = self.streams[message.receiver].send(message);
        self.log.len() as u64
    }
}

/// The floor's arbiter threads' name (see [`crate::load::thread_cpu::group_of`]).
pub const FLOOR_ARBITER: &std::ffi::CStr = c"timsg-floor-arb";

/// Messages a receiver's task takes from its stream at one wake-up.
const PER_WAKE: usize = 64;

/// A caller's deadline per send, as the runtime's `call_deadline`.
const DEADLINE: Duration = Duration::from_secs(30);

pub struct SendHops {
    system: System,
    thread: JoinHandle<()>,
    logs: Vec<Addr<LogActor>>,
    /// Messages the receivers' tasks have taken.
    pub received: Arc<AtomicU64>,
    receivers: Vec<tokio::task::JoinHandle<()>>,
}

impl SendHops {
    /// `conversations` log actors spread over `arbiters` arbiters, and `users` receivers whose
    /// tasks run on the calling tokio runtime.
    pub fn start(arbiters: usize, conversations: usize, users: usize) -> Result<SendHops, String> {
        let received = Arc::new(AtomicU64::new(0));
        let mut senders = Vec::with_capacity(users);
        let mut receivers = Vec::with_capacity(users);
        for _ in 0..users.max(1) {
            let (tx, mut rx) = mpsc::unbounded_channel::<Arc<FloorMessage>>();
            senders.push(tx);
            let received = received.clone();
            receivers.push(tokio::spawn(async move {
                let mut batch = Vec::with_capacity(PER_WAKE);
                while rx.recv_many(&mut batch, PER_WAKE).await > 0 {
                    received.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    batch.clear();
                }
            }));
        }
        let streams = Arc::new(senders);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("send-hops".into())
            .spawn(move || {
                let sys = System::new();
                let arbiters: Vec<Arbiter> = (0..arbiters.max(1)).map(|_| Arbiter::new()).collect();
                let handles: Vec<ArbiterHandle> = arbiters.iter().map(|a| a.handle()).collect();
                for a in &handles {
                    // Named so that `timsg load` can tell the floor's arbiters' CPU from the rest.
                    a.spawn_fn(|| timsg_actors::engine::name_this_thread(FLOOR_ARBITER));
                }
                let logs: Vec<Addr<LogActor>> = (0..conversations.max(1))
                    .map(|i| {
                        let streams = streams.clone();
                        LogActor::start_in_arbiter(&handles[i % handles.len()], move |_| LogActor {
                            log: Vec::new(),
                            streams,
                        })
                    })
                    .collect();
                if tx.send((System::current(), logs)).is_ok() {
                    let _ = sys.run();
                }
            })
            .map_err(|e| format!("cannot start the send-hops floor: {e}"))?;
        let (system, logs) = rx.recv().map_err(|_| "the send-hops floor did not start".to_string())?;
        Ok(SendHops { system, thread, logs, received, receivers })
    }

    /// `n` sends, `in_flight` at a time in a closed loop, to random conversations and
    /// receivers; returns once every send is answered and every message received.
    pub async fn closed_loop(&self, n: u64, in_flight: usize) -> Result<(), String> {
        let users = self.receivers.len();
        let issued = Arc::new(AtomicU64::new(0));
        let logs = Arc::new(self.logs.clone());
        let target = self.received.load(Ordering::Relaxed) + n;
        let workers: Vec<_> = (0..in_flight.max(1))
            .map(|w| {
                let (issued, logs) = (issued.clone(), logs.clone());
                tokio::spawn(async move {
                    let text: Arc<str> = "hello".into();
                    let mut rng = fastrand::Rng::with_seed(w as u64);
                    while issued.fetch_add(1, Ordering::Relaxed) < n {
                        let message = Arc::new(FloorMessage { receiver: rng.usize(..users), text: text.clone() });
                        let log = &logs[rng.usize(..logs.len())];
                        match tokio::time::timeout(DEADLINE, log.send(Append(message))).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => return Err(format!("send-hops floor: a send went unanswered ({e})")),
                            Err(_) => return Err("send-hops floor: a send passed its deadline".to_string()),
                        }
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for w in workers {
            w.await.map_err(|e| e.to_string())??;
        }
        let began = std::time::Instant::now();
        while self.received.load(Ordering::Relaxed) < target {
            if began.elapsed() > DEADLINE {
                return Err("send-hops floor: messages answered but never received".into());
            }
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    pub fn stop(self) {
        self.system.stop();
        let _ = self.thread.join();
        for r in self.receivers {
            r.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn every_send_is_answered_and_received_once() {
        let hops = SendHops::start(2, 50, 20).unwrap();
        hops.closed_loop(1_000, 16).await.unwrap();
        assert_eq!(hops.received.load(Ordering::Relaxed), 1_000);
        hops.closed_loop(500, 16).await.unwrap();
        assert_eq!(hops.received.load(Ordering::Relaxed), 1_500);
        hops.stop();
    }
}
