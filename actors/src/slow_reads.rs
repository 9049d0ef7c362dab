//! The lane for expensive reads (local search, a login's catch-up scan): a few threads of
//! their own, at background priority, with a bounded queue. A search that takes a second
//! then holds up other searches only — never the executor that answers history reads and
//! sends, nor a conversation arbiter — and a flood of searches is refused (9507) instead of
//! queueing without end.

use std::thread::JoinHandle;

use crossbeam_channel::{Sender, TrySendError};
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::error::ConvError;

type Job = Box<dyn FnOnce() + Send>;

pub struct SlowReads {
    tx: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl SlowReads {
    /// Starts `threads` reader threads; at most `queue` reads wait for one.
    pub fn start(threads: usize, queue: usize) -> std::io::Result<SlowReads> {
        let (tx, rx) = crossbeam_channel::bounded::<Job>(queue.max(1));
        let threads = (0..threads.max(1))
            .map(|i| {
                let rx = rx.clone();
                std::thread::Builder::new().name(format!("timsg-slow-read-{i}")).spawn(move || {
                    crate::background::lower_current_thread_priority();
                    for job in rx {
                        job();
                    }
                })
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(SlowReads { tx: Mutex::new(Some(tx)), threads: Mutex::new(threads) })
    }

    /// Runs `read` on the lane and waits for its result. `Busy` if the queue is full,
    /// `ShuttingDown` once the lane stopped.
    pub async fn run<T: Send + 'static>(&self, read: impl FnOnce() -> T + Send + 'static) -> Result<T, ConvError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A read that panics drops `reply` (its caller gets an error below); the thread
            // goes on.
            if let Ok(out) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
                let _ = reply.send(out);
            }
        });
        // The sender is let go before the wait: a caller that is never polled again (its
        // runtime is the one shutting down) must not keep the threads from ending in `stop`.
        {
            let tx = self.tx.lock().clone().ok_or(ConvError::ShuttingDown)?;
            metrics::gauge!("timsg_slow_reads_queued").set(tx.len() as f64);
            match tx.try_send(job) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    metrics::counter!("timsg_slow_reads_refused_total").increment(1);
                    return Err(ConvError::Busy);
                }
                Err(TrySendError::Disconnected(_)) => return Err(ConvError::ShuttingDown),
            }
        }
        answer.await.map_err(|_| ConvError::Store("the read failed unexpectedly (see the log)".into()))
    }

    /// Lets the queued reads finish, then ends the threads.
    pub fn stop(&self) {
        self.tx.lock().take();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    // Two workers: the test's own thread blocks while the spawned calls run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_run_off_the_caller_and_a_full_queue_refuses() {
        let lane = std::sync::Arc::new(SlowReads::start(1, 1).unwrap());
        let caller = std::thread::current().id();
        assert_ne!(lane.run(move || std::thread::current().id()).await.unwrap(), caller);
        // Hold the one thread, fill the one queue slot: the next read is refused at once.
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let held = tokio::spawn({
            let lane = lane.clone();
            async move {
                lane.run(move || {
                    started_tx.send(()).unwrap();
                    hold_rx.recv().unwrap();
                })
                .await
            }
        });
        started_rx.recv().unwrap();
        let queued = tokio::spawn({
            let lane = lane.clone();
            async move { lane.run(|| 7).await }
        });
        while lane.tx.lock().as_ref().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        assert!(matches!(lane.run(|| 0).await, Err(ConvError::Busy)));
        hold_tx.send(()).unwrap();
        held.await.unwrap().unwrap();
        assert_eq!(queued.await.unwrap().unwrap(), 7);
        lane.stop();
        assert!(matches!(lane.run(|| 0).await, Err(ConvError::ShuttingDown)));
    }

    #[test]
    fn a_caller_never_polled_again_does_not_keep_stop_waiting() {
        let lane = std::sync::Arc::new(SlowReads::start(1, 4).unwrap());
        // Queued and answered, but its caller is not polled again (as a task on a runtime
        // that is itself shutting down the lane).
        let mut forgotten = Box::pin(lane.run(|| 1));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(forgotten.as_mut().poll(&mut cx).is_pending());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let stopping = lane.clone();
        std::thread::spawn(move || {
            stopping.stop();
            let _ = done_tx.send(());
        });
        assert!(done_rx.recv_timeout(std::time::Duration::from_secs(10)).is_ok(), "stop waited for the caller");
        drop(forgotten);
    }
}
