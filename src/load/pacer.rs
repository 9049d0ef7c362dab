//! The open-loop pacer: a thread that hands the workers their operation slots on time.
//!
//! Workers used to sleep on tokio's timer until their slot. That timer ticks in whole
//! milliseconds and rounds a wake-up up to the next tick, so every operation started up to
//! 1 ms late and all those due in the same millisecond started together, in a burst. Latency
//! counts from the slot (so a stall of the runtime is never hidden), which put that lateness
//! and the bursts' queueing on the runtime's account: at 30,000 msg/s in memory the median
//! send measured 1.3 ms. A thread sleeping on the OS's high-resolution timer releases each
//! slot within tens of microseconds of its time.
//!
//! It wakes at most every [`TICK`], releasing every slot due by then. Waking for the next
//! slot each time (at 45,000 msg/s one is due every 22 µs; the OS stretches such short sleeps
//! to ~60 µs) took a tenth of the two cores this runs on, beside the runtime being measured:
//! at 45,000 msg/s in memory the send p99 measured 3.6-7.4 ms that way and 1.0-3.9 ms with
//! the tick. A slot may so start up to one tick late, and its latency still counts from its
//! own time: the runtime is charged with the wait (the median send measured 0.16-0.22 ms
//! before, 0.30-0.36 ms with the tick).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// The pacer sleeps at least this long between releases.
pub const TICK: Duration = Duration::from_micros(200);

/// Releases `rate` slots per second from `start`; a worker takes one with [`Pacer::slot`].
pub struct Pacer {
    slots: Arc<Semaphore>,
    stop: Arc<AtomicBool>,
    /// Times the thread woke to release slots.
    wakeups: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Pacer {
    /// Starts releasing slots: `total` of them, or until `deadline`. Then it releases
    /// `workers` more, so every waiting worker wakes up and sees that the run is over.
    pub fn start(start: Instant, rate: u64, total: u64, deadline: Option<Instant>, workers: usize) -> Pacer {
        let slots = Arc::new(Semaphore::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let wakeups = Arc::new(AtomicU64::new(0));
        let (sem, stopped, woke) = (slots.clone(), stop.clone(), wakeups.clone());
        let per_slot = 1.0 / rate.max(1) as f64;
        let thread = std::thread::Builder::new()
            .name("timsg-load-pacer".into())
            .spawn(move || {
                let mut released = 0u64;
                while released < total && !stopped.load(Ordering::Relaxed) {
                    woke.fetch_add(1, Ordering::Relaxed);
                    let now = Instant::now();
                    if deadline.is_some_and(|d| now >= d) {
                        break;
                    }
                    // Every slot whose time has come, in one go.
                    let due = (((now - start).as_secs_f64() / per_slot) as u64 + 1).min(total);
                    if due > released {
                        sem.add_permits((due - released) as usize);
                        released = due;
                    }
                    let next = start + Duration::from_secs_f64(released as f64 * per_slot);
                    std::thread::sleep(next.saturating_duration_since(Instant::now()).max(TICK));
                }
                sem.add_permits(workers);
            })
            .expect("the pacer thread starts");
        Pacer { slots, stop, wakeups, thread: Some(thread) }
    }

    /// Times the pacer has woken to release slots so far.
    pub fn wakeups(&self) -> u64 {
        self.wakeups.load(Ordering::Relaxed)
    }

    /// Waits for the next slot to be released.
    pub async fn slot(&self) {
        if let Ok(permit) = self.slots.acquire().await {
            permit.forget();
        }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_come_at_the_rate_and_stop_at_the_total() {
        let start = Instant::now();
        let pacer = Pacer::start(start, 2_000, 200, None, 1);
        let mut late = Duration::ZERO;
        for n in 0..200u32 {
            pacer.slot().await;
            let due = start + Duration::from_secs_f64(f64::from(n) / 2_000.0);
            assert!(Instant::now() + Duration::from_micros(1) >= due, "slot {n} came early");
            late = late.max(Instant::now().saturating_duration_since(due));
        }
        // 200 slots at 2,000/s take 100 ms; the run-over release lets one more worker through.
        assert!(start.elapsed() >= Duration::from_millis(99));
        pacer.slot().await;
        assert!(late < Duration::from_millis(50), "a slot came {late:?} late");
    }

    #[tokio::test]
    async fn at_a_high_rate_it_wakes_once_a_tick_not_once_a_slot() {
        // 100,000 slots a second for 50 ms: 5,000 slots, released in batches.
        let start = Instant::now();
        let pacer = Pacer::start(start, 100_000, 5_000, None, 1);
        for n in 0..5_000u32 {
            pacer.slot().await;
            let due = start + Duration::from_secs_f64(f64::from(n) / 100_000.0);
            assert!(Instant::now() + Duration::from_micros(1) >= due, "slot {n} came early");
        }
        // Waking once a slot would be 5,000 times (the OS stretches short sleeps to ~60 µs, so
        // about 800 in practice); once a tick, about 50 ms / TICK = 250.
        assert!(pacer.wakeups() < 500, "{} wakeups for 5,000 slots", pacer.wakeups());
    }

    #[tokio::test]
    async fn a_deadline_ends_the_release() {
        let start = Instant::now();
        let pacer = Pacer::start(start, 1_000, u64::MAX, Some(start + Duration::from_millis(30)), 2);
        let mut taken = 0;
        while start.elapsed() < Duration::from_millis(200) {
            match tokio::time::timeout(Duration::from_millis(100), pacer.slot()).await {
                Ok(()) => taken += 1,
                Err(_) => break,
            }
        }
        // About 30 slots in 30 ms, plus the two released for the workers at the end.
        assert!((20..=40).contains(&taken), "took {taken} slots");
    }
}
