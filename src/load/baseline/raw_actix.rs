//! The raw actix baseline of the benches and of `timsg load` in memory: plain actors on their
//! own arbiters, in an actix system on its own thread, driven from a tokio runtime outside it —
//! the same layout the runtime uses for its conversation actors, with none of its work.

use std::sync::Arc;
use std::thread::JoinHandle;

use actix::prelude::*;

/// An actor that does next to nothing per message.
pub struct Counter(u64);

impl Actor for Counter {
    type Context = Context<Self>;
}

#[derive(Message)]
#[rtype(result = "u64")]
pub struct Bump(pub Arc<str>);

impl Handler<Bump> for Counter {
    type Result = u64;
    fn handle(&mut self, msg: Bump, _: &mut Context<Self>) -> u64 {
        self.0 += msg.0.len() as u64;
        self.0
    }
}

/// Stops the actor after answering.
#[derive(Message)]
#[rtype(result = "u64")]
pub struct Finish;

impl Handler<Finish> for Counter {
    type Result = u64;
    fn handle(&mut self, _: Finish, ctx: &mut Context<Self>) -> u64 {
        ctx.stop();
        self.0
    }
}

fn unanswered(e: MailboxError) -> String {
    format!("raw actix baseline: a request went unanswered ({e})")
}

pub struct RawActix {
    system: System,
    thread: JoinHandle<()>,
    pub arbiters: Vec<ArbiterHandle>,
    /// `actors` long-lived counters, spread over the arbiters round-robin.
    pub addrs: Vec<Addr<Counter>>,
}

impl RawActix {
    /// Starts the system with `arbiters` arbiters and `actors` counters on them.
    pub fn start(arbiters: usize, actors: usize) -> Result<RawActix, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("raw-actix".into())
            .spawn(move || {
                let sys = System::new();
                let arbiters: Vec<Arbiter> = (0..arbiters.max(1)).map(|_| Arbiter::new()).collect();
                let handles: Vec<ArbiterHandle> = arbiters.iter().map(|a| a.handle()).collect();
                let addrs: Vec<Addr<Counter>> = (0..actors)
                    .map(|i| Counter::start_in_arbiter(&handles[i % handles.len()], |_| Counter(0)))
                    .collect();
                if tx.send((System::current(), handles, addrs)).is_ok() {
                    let _ = sys.run();
                }
            })
            .map_err(|e| format!("cannot start the raw actix baseline: {e}"))?;
        let (system, arbiters, addrs) = rx.recv().map_err(|_| "the raw actix baseline did not start".to_string())?;
        Ok(RawActix { system, thread, arbiters, addrs })
    }

    /// `n` request/replies spread over the actors, all in flight at once; an unanswered one is
    /// an error, so a baseline is never measured on requests that went nowhere.
    pub async fn round_trips(&self, n: usize) -> Result<(), String> {
        let futs: Vec<_> = (0..n).map(|i| self.addrs[i % self.addrs.len()].send(Bump("hello".into()))).collect();
        for f in futs {
            f.await.map_err(unanswered)?;
        }
        Ok(())
    }

    /// `n` request/replies, `in_flight` at a time, each worker sending its next as soon as its
    /// last is answered (the load generator's closed loop). Returns how long they took.
    pub async fn closed_loop(&self, n: u64, in_flight: usize) -> Result<std::time::Duration, String> {
        if self.addrs.is_empty() {
            return Err("the raw actix baseline has no actors to ask".into());
        }
        let issued = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let addrs = Arc::new(self.addrs.clone());
        let started = std::time::Instant::now();
        let workers: Vec<_> = (0..in_flight.max(1))
            .map(|w| {
                let (issued, addrs) = (issued.clone(), addrs.clone());
                tokio::spawn(async move {
                    let text: Arc<str> = "hello".into();
                    let mut rng = fastrand::Rng::with_seed(w as u64);
                    while issued.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                        addrs[rng.usize(..addrs.len())].send(Bump(text.clone())).await.map_err(unanswered)?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for w in workers {
            w.await.map_err(|e| e.to_string())??;
        }
        Ok(started.elapsed())
    }

    /// Starts a fresh actor on arbiter `i`, asks it once, and stops it.
    pub async fn start_ask_stop(&self, i: usize) -> Result<(), String> {
        let addr = Counter::start_in_arbiter(&self.arbiters[i % self.arbiters.len()], |_| Counter(0));
        addr.send(Bump("hello".into())).await.map_err(unanswered)?;
        addr.send(Finish).await.map(drop).map_err(unanswered)
    }

    pub fn stop(self) {
        self.system.stop();
        let _ = self.thread.join();
    }
}
