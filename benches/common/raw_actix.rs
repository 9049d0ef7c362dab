//! The raw actix baseline the benches share: plain actors on their own arbiters, in an actix
//! system on its own thread, driven from a tokio runtime outside it — the same layout the
//! runtime uses for its conversation actors, with none of its work.

#![allow(dead_code, reason = "each bench uses the part it measures against")]

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

pub struct RawActix {
    system: System,
    thread: JoinHandle<()>,
    pub arbiters: Vec<ArbiterHandle>,
    /// `actors` long-lived counters, spread over the arbiters round-robin.
    pub addrs: Vec<Addr<Counter>>,
}

impl RawActix {
    pub fn start(arbiters: usize, actors: usize) -> RawActix {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let sys = System::new();
            let arbiters: Vec<Arbiter> = (0..arbiters).map(|_| Arbiter::new()).collect();
            let handles: Vec<ArbiterHandle> = arbiters.iter().map(|a| a.handle()).collect();
            let addrs: Vec<Addr<Counter>> =
                (0..actors).map(|i| Counter::start_in_arbiter(&handles[i % handles.len()], |_| Counter(0))).collect();
            tx.send((System::current(), handles, addrs)).unwrap();
            sys.run().unwrap();
        });
        let (system, arbiters, addrs) = rx.recv().unwrap();
        RawActix { system, thread, arbiters, addrs }
    }

    /// `n` request/replies spread over the actors, all in flight at once.
    pub async fn round_trips(&self, n: usize) {
        let futs: Vec<_> = (0..n).map(|i| self.addrs[i % self.addrs.len()].send(Bump("hello".into()))).collect();
        for f in futs {
            f.await.unwrap();
        }
    }

    /// Starts a fresh actor on arbiter `i`, asks it once, and stops it.
    pub async fn start_ask_stop(&self, i: usize) {
        let addr = Counter::start_in_arbiter(&self.arbiters[i % self.arbiters.len()], |_| Counter(0));
        addr.send(Bump("hello".into())).await.unwrap();
        addr.send(Finish).await.unwrap();
    }

    pub fn stop(self) {
        self.system.stop();
        self.thread.join().unwrap();
    }
}
