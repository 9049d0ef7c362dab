//! The callback thread. Every C callback (call results, progress, listeners) runs on this one
//! thread, never on the caller's stack, in the order it was posted — so the callbacks of one
//! conversation arrive in order. `TIMUninit` waits for every accepted call's final callback.
//! A callback that makes a call whose callback is posted at once (`TIMLogout`, a refused
//! login) never waits on the queue its own thread drains: see `OWN_OVERFLOW`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};
use parking_lot::{Condvar, Mutex};

use super::cstr::to_c;

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

/// Calls still owed a final callback.
#[derive(Debug, Default)]
struct InFlight {
    count: Mutex<usize>,
    idle: Condvar,
}

/// A handle to post jobs on the callback thread.
#[derive(Clone)]
pub struct Poster {
    tx: Sender<Job>,
    inflight: Arc<InFlight>,
}

/// Marks one accepted call until its final callback has run.
pub struct CallInFlight(Arc<InFlight>);

impl Drop for CallInFlight {
    fn drop(&mut self) {
        let mut n = self.0.count.lock();
        *n -= 1;
        if *n == 0 {
            self.0.idle.notify_all();
        }
    }
}

thread_local! {
    /// Set on the callback thread.
    static ON_CALLBACK_THREAD: Cell<bool> = const { Cell::new(false) };
    /// Jobs the callback thread posted to itself while the queue was full (a callback that
    /// calls `TIMLogout`, say): it runs them after the job it is in, instead of waiting on
    /// the queue only it drains.
    static OWN_OVERFLOW: RefCell<VecDeque<Job>> = const { RefCell::new(VecDeque::new()) };
}

impl Poster {
    pub fn post(&self, job: impl FnOnce() + Send + 'static) {
        let job: Job = Box::new(job);
        if ON_CALLBACK_THREAD.get() {
            if let Err(TrySendError::Full(job)) = self.tx.try_send(job) {
                OWN_OVERFLOW.with(|o| o.borrow_mut().push_back(job));
            }
            return;
        }
        // Bounded: a stalled app callback slows producers down instead of growing memory.
        let _ = self.tx.send(job);
    }

    pub fn begin_call(&self) -> CallInFlight {
        *self.inflight.count.lock() += 1;
        CallInFlight(self.inflight.clone())
    }

    /// Posts a `TIMCommCallback` call.
    pub fn comm(
        &self,
        cb: CommCallback,
        code: i32,
        desc: String,
        json: String,
        ud: UserData,
        done: Option<CallInFlight>,
    ) {
        self.post(move || {
            invoke_comm(cb, code, &desc, &json, ud);
            drop(done);
        });
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

pub struct CallbackThread {
    poster: Mutex<Option<Poster>>,
    inflight: Arc<InFlight>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl CallbackThread {
    pub fn start() -> std::io::Result<CallbackThread> {
        let (tx, rx) = crossbeam_channel::bounded::<Job>(65536);
        let handle = std::thread::Builder::new().name("timsg-callbacks".into()).spawn(move || {
            ON_CALLBACK_THREAD.set(true);
            // An app callback that unwinds (a C++ exception) must not end the thread.
            let run = |job: Job| drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)));
            for job in rx {
                run(job);
                while let Some(own) = OWN_OVERFLOW.with(|o| o.borrow_mut().pop_front()) {
                    run(own);
                }
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

    /// Waits until every accepted call has had its final callback, at most `timeout`.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut n = self.inflight.count.lock();
        while *n > 0 {
            if self.inflight.idle.wait_until(&mut n, deadline).timed_out() {
                return false;
            }
        }
        true
    }

    /// Runs what is queued, then stops the thread.
    pub fn stop(&self) {
        self.poster.lock().take();
        if let Some(h) = self.handle.lock().take()
            && h.thread().id() != std::thread::current().id()
        {
            let _ = h.join();
        }
    }
}
