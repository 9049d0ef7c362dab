//! The sweeper: a thread that removes stored media no committed message refers to, every
//! `blob_sweep_interval` while the engine runs (and once at open), so uploads that were never
//! sent — or sent in messages that were cancelled — do not fill the disk.
//!
//! A thread of its own, not a timer on an arbiter: a sweep lists the blob directory and reads
//! the store, blocking work that must not stall conversations.

use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};

/// The running sweeper; dropping it (or [`Sweeper::stop`]) ends the thread.
#[derive(Debug)]
pub struct Sweeper {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sweeper {
    /// Runs `sweep` now and then every `interval`, until stopped or until `sweep` returns
    /// false (the engine it sweeps for is gone).
    pub fn start(interval: Duration, mut sweep: impl FnMut() -> bool + Send + 'static) -> std::io::Result<Sweeper> {
        let (stop, stopped) = bounded::<()>(1);
        let thread = std::thread::Builder::new().name("timsg-sweeper".into()).spawn(move || {
            crate::background::lower_current_thread_priority();
            loop {
                if !sweep() {
                    return;
                }
                match stopped.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        })?;
        Ok(Sweeper { stop: Some(stop), thread: Some(thread) })
    }

    /// Stops the thread and waits for it (a sweep in progress finishes first).
    pub fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn sweeps_at_start_and_on_every_interval_until_stopped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let mut sweeper = Sweeper::start(Duration::from_millis(5), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            true
        })
        .unwrap();
        while runs.load(Ordering::SeqCst) < 3 {
            std::thread::yield_now();
        }
        sweeper.stop();
        let after = runs.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(runs.load(Ordering::SeqCst), after, "no sweep after stop");
    }
}
