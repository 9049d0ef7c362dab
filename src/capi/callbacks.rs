//! The callback thread. Every C callback (call results, progress, listeners) runs on this one
//! thread, never on the caller's stack, in the order it was posted — so the callbacks of one
//! conversation arrive in order.
//!
//! Every accepted call owes its app exactly one final callback: an [`OwedCallback`] is that
//! debt. It is paid with the call's result, or — if the call is dropped unanswered, or
//! `TIMUninit` runs out of patience — with `ERR_SDK_COMM_INTERRUPT` (7009); whichever comes
//! first, once. A callback that makes a call whose callback is posted at once (`TIMLogout`, a
//! refused login) never waits on the queue its own thread drains: see `OWN_OVERFLOW`.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Sender, TrySendError};
use parking_lot::{Condvar, Mutex};

use super::cstr::to_c;
use crate::error::code;

/// `TIMCommCallback`.
pub type CommCallback =
    Option<unsafe extern "C" fn(code: i32, desc: *const c_char, json_params: *const c_char, user_data: *const c_void)>;

/// The app's `user_data`, passed back untouched. The app owns what it points to.
#[derive(Debug, Clone, Copy)]
pub struct UserData(pub *const c_void);
// SAFETY: the pointer is never dereferenced here, only handed back to the app's callback, as
// the TIM API specifies.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

type Job = Box<dyn FnOnce() + Send>;

/// What the callback thread is handed.
enum Work {
    Run(Job),
    /// Everything posted before this has run: end the thread.
    Stop,
}

/// The description of the callback a call gets when it ends without its answer.
pub const INTERRUPTED: &str = "the call was interrupted: the SDK is closing (TIMUninit)";

/// The calls still owed a final callback.
#[derive(Default)]
struct Ledger {
    next_id: u64,
    /// Calls not answered yet, with where their answer goes.
    owed: HashMap<u64, (CommCallback, UserData)>,
    /// `owed` plus final callbacks posted that have not run yet.
    unsettled: usize,
}

#[derive(Default)]
struct InFlight {
    ledger: Mutex<Ledger>,
    settled: Condvar,
}

impl InFlight {
    fn one_settled(&self) {
        let mut ledger = self.ledger.lock();
        ledger.unsettled -= 1;
        if ledger.unsettled == 0 {
            self.settled.notify_all();
        }
    }
}

/// Counts a final callback as settled when it has run — or when it is dropped unrun because
/// the callback thread is gone, so nobody waits for it.
struct SettleOnDrop(Arc<InFlight>);

impl Drop for SettleOnDrop {
    fn drop(&mut self) {
        self.0.one_settled();
    }
}

/// A handle to post jobs on the callback thread.
#[derive(Clone)]
pub struct Poster {
    tx: Sender<Work>,
    inflight: Arc<InFlight>,
}

thread_local! {
    /// Set on the callback thread.
    static ON_CALLBACK_THREAD: Cell<bool> = const { Cell::new(false) };
    /// Jobs the callback thread posted to itself while the queue was full (a callback that
    /// calls `TIMLogout`, say): it runs them after the job it is in, instead of waiting on
    /// the queue only it drains.
    static OWN_OVERFLOW: RefCell<VecDeque<Job>> = const { RefCell::new(VecDeque::new()) };
}

/// Whether the calling thread is the callback thread (an app function called from a callback).
pub fn on_callback_thread() -> bool {
    ON_CALLBACK_THREAD.get()
}

impl Poster {
    /// Queues `job`; false if the callback thread has stopped (the job is dropped unrun).
    pub fn post(&self, job: impl FnOnce() + Send + 'static) -> bool {
        let job: Job = Box::new(job);
        if ON_CALLBACK_THREAD.get() {
            return match self.tx.try_send(Work::Run(job)) {
                Ok(()) => true,
                Err(TrySendError::Full(Work::Run(job))) => {
                    OWN_OVERFLOW.with(|o| o.borrow_mut().push_back(job));
                    true
                }
                Err(_) => false,
            };
        }
        // Bounded: a stalled app callback slows producers down instead of growing memory.
        self.tx.send(Work::Run(job)).is_ok()
    }

    /// Records an accepted call; its answer goes to `cb` with `ud`.
    pub fn begin_call(&self, cb: CommCallback, ud: UserData) -> OwedCallback {
        let mut ledger = self.inflight.ledger.lock();
        ledger.next_id += 1;
        let id = ledger.next_id;
        ledger.owed.insert(id, (cb, ud));
        ledger.unsettled += 1;
        OwedCallback { id, poster: self.clone(), paid: false }
    }

    /// Posts the final callback of call `id` unless it was settled already.
    fn pay(&self, id: u64, code: i32, desc: String, json: String) {
        let Some((cb, ud)) = self.inflight.ledger.lock().owed.remove(&id) else { return };
        self.post_final(cb, ud, code, desc, json);
    }

    fn post_final(&self, cb: CommCallback, ud: UserData, code: i32, desc: String, json: String) {
        let settle = SettleOnDrop(self.inflight.clone());
        self.post(move || {
            invoke_comm(cb, code, &desc, &json, ud);
            drop(settle);
        });
    }
}

/// One accepted call's final callback, still owed. Paying it posts the callback; dropping it
/// unpaid posts `ERR_SDK_COMM_INTERRUPT`.
pub struct OwedCallback {
    id: u64,
    poster: Poster,
    paid: bool,
}

impl OwedCallback {
    /// A callback before the final one (a download's progress), if the call is still owed.
    pub fn progress(&self, code: i32, desc: String, json: String) {
        let target = self.poster.inflight.ledger.lock().owed.get(&self.id).copied();
        if let Some((cb, ud)) = target {
            self.poster.post(move || invoke_comm(cb, code, &desc, &json, ud));
        }
    }

    /// Takes the call back: it was refused after all (`TIMUninit` began), no callback owed.
    pub fn withdraw(mut self) {
        self.paid = true;
        if self.poster.inflight.ledger.lock().owed.remove(&self.id).is_some() {
            self.poster.inflight.one_settled();
        }
    }

    /// The final callback, unless `TIMUninit` answered the call already.
    pub fn pay(mut self, code: i32, desc: String, json: String) {
        self.paid = true;
        self.poster.pay(self.id, code, desc, json);
    }
}

impl Drop for OwedCallback {
    fn drop(&mut self) {
        if !self.paid {
            self.poster.pay(self.id, code::ERR_SDK_COMM_INTERRUPT, INTERRUPTED.into(), String::new());
        }
    }
}

/// Calls a `TIMCommCallback` (if set).
pub fn invoke_comm(cb: CommCallback, code: i32, desc: &str, json: &str, ud: UserData) {
    if let Some(f) = cb {
        let (d, j) = (to_c(desc), to_c(json));
        // SAFETY: the app gave us this function pointer for exactly this call signature.
        unsafe { f(code, d.as_ptr(), j.as_ptr(), ud.0) };
    }
}

/// How `TIMUninit`'s wait for the owed callbacks ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// Calls answered with `ERR_SDK_COMM_INTERRUPT` because the wait ran out.
    pub interrupted: usize,
    /// Whether every final callback has run (false: an app callback is still running, or
    /// never returned, when the grace period ended).
    pub all_ran: bool,
}

pub struct CallbackThread {
    poster: Mutex<Option<Poster>>,
    inflight: Arc<InFlight>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl CallbackThread {
    pub fn start() -> std::io::Result<CallbackThread> {
        let (tx, rx) = crossbeam_channel::bounded::<Work>(65536);
        let handle = std::thread::Builder::new().name("timsg-callbacks".into()).spawn(move || {
            ON_CALLBACK_THREAD.set(true);
            // An app callback that unwinds (a C++ exception) must not end the thread.
            let run = |job: Job| drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)));
            let run_own = || {
                while let Some(own) = OWN_OVERFLOW.with(|o| o.borrow_mut().pop_front()) {
                    run(own);
                }
            };
            for work in rx {
                match work {
                    Work::Run(job) => run(job),
                    Work::Stop => {
                        run_own();
                        break;
                    }
                }
                run_own();
            }
        })?;
        let inflight = Arc::new(InFlight::default());
        Ok(CallbackThread {
            poster: Mutex::new(Some(Poster { tx, inflight: inflight.clone() })),
            inflight,
            handle: Mutex::new(Some(handle)),
        })
    }

    pub fn poster(&self) -> Option<Poster> {
        self.poster.lock().clone()
    }

    /// Waits until every accepted call's final callback has run, at most until `deadline`.
    /// Calls still unanswered then are answered with `ERR_SDK_COMM_INTERRUPT`, and their
    /// callbacks get until `grace_deadline` to run.
    pub fn settle(&self, deadline: Instant, grace_deadline: Instant) -> Settlement {
        if self.wait_settled(deadline) {
            return Settlement { interrupted: 0, all_ran: true };
        }
        let unpaid: Vec<_> = self.inflight.ledger.lock().owed.drain().map(|(_, target)| target).collect();
        let interrupted = unpaid.len();
        if let Some(poster) = self.poster() {
            for (cb, ud) in unpaid {
                poster.post_final(cb, ud, code::ERR_SDK_COMM_INTERRUPT, INTERRUPTED.into(), String::new());
            }
        } else {
            for _ in unpaid {
                self.inflight.one_settled();
            }
        }
        Settlement { interrupted, all_ran: self.wait_settled(grace_deadline) }
    }

    fn wait_settled(&self, deadline: Instant) -> bool {
        let mut ledger = self.inflight.ledger.lock();
        while ledger.unsettled > 0 {
            if self.inflight.settled.wait_until(&mut ledger, deadline).timed_out() {
                return ledger.unsettled == 0;
            }
        }
        true
    }

    /// Runs what is queued, then stops the thread; waits for it at most until `deadline` (an
    /// app callback that never returns must not hang the app's exit too).
    pub fn stop(&self, deadline: Instant) {
        if let Some(poster) = self.poster.lock().take() {
            let _ = poster.tx.send_deadline(Work::Stop, deadline);
        }
        let Some(handle) = self.handle.lock().take() else { return };
        if handle.thread().id() == std::thread::current().id() {
            return;
        }
        while !handle.is_finished() {
            if Instant::now() >= deadline {
                tracing::warn!("the callback thread is still in an app callback; it is left to finish alone");
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let _ = handle.join();
    }
}
