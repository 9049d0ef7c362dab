//! Background threads (the SQLite indexer, the checkpointer) run at a lower CPU priority, so
//! that on a busy machine the threads a send waits for — the conversation arbiters and the
//! journal writer — get the CPU first when they wake. A background thread still gets all
//! the CPU nobody else wants; if it falls behind, the writer's bounded hand-off to it fills
//! and sends slow down instead of its backlog growing.

/// How much lower: a nice value of 10 weighs about a tenth of a normal thread.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority (Linux: per thread; elsewhere: nothing). Failing
/// to is harmless and only logged.
pub fn lower_current_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority with PRIO_PROCESS and a thread ID
        // changes that thread's nice value only and reports failure through its result.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, BACKGROUND_NICE) };
        if result != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "cannot lower a background thread's priority");
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_calling_thread_and_only_it_is_lowered() {
        // SAFETY: as above; getpriority reads the nice value of the given thread.
        let nice_of = |tid: libc::pid_t| unsafe { libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t) };
        let here = unsafe { libc::gettid() };
        let before = nice_of(here);
        let lowered = std::thread::spawn(move || {
            super::lower_current_thread_priority();
            nice_of(unsafe { libc::gettid() })
        })
        .join()
        .unwrap();
        assert_eq!(lowered, (before + super::BACKGROUND_NICE).min(19));
        assert_eq!(nice_of(here), before);
    }
}
