//! Instructions a process retires in user space, counted by the CPU's performance counters
//! through `perf_event_open(2)`: one counter per thread of the process at the start of the
//! count (threads started later are not counted; timsg starts its threads before a run). A
//! machine without a performance monitoring unit (most virtual machines), or one that forbids
//! the call (`perf_event_paranoid` of 3, a seccomp filter), cannot count: the reason is
//! reported instead of a number.

use std::os::fd::{FromRawFd, OwnedFd};

/// `PERF_TYPE_HARDWARE`, `PERF_COUNT_HW_INSTRUCTIONS`.
const PERF_TYPE_HARDWARE: u32 = 0;
const PERF_COUNT_HW_INSTRUCTIONS: u64 = 1;
/// `PERF_ATTR_SIZE_VER0`: the first 64 bytes of `struct perf_event_attr` are all that is set.
const ATTR_SIZE: u32 = 64;
/// Bits of the attribute's flag word: `exclude_kernel`, `exclude_hv`.
const EXCLUDE_KERNEL: u64 = 1 << 5;
const EXCLUDE_HV: u64 = 1 << 6;

/// Counters of one process's threads, counting from when they were opened.
#[derive(Debug)]
pub struct InstructionCounter {
    counters: Vec<OwnedFd>,
}

impl InstructionCounter {
    /// Starts counting the instructions of every thread of process `pid` (`None`: this one),
    /// or says why it cannot.
    pub fn start(pid: Option<u32>) -> Result<InstructionCounter, String> {
        let root = pid.map_or_else(|| "/proc/self/task".to_string(), |p| format!("/proc/{p}/task"));
        let tids: Vec<i32> = std::fs::read_dir(&root)
            .map_err(|e| format!("{root}: {e}"))?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        let mut counters = Vec::with_capacity(tids.len());
        for tid in tids {
            match open_counter(tid) {
                Ok(fd) => counters.push(fd),
                // A thread that ended since the listing has nothing left to count.
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => return Err(format!("perf_event_open cannot count instructions here: {e}")),
            }
        }
        Ok(InstructionCounter { counters })
    }

    /// Instructions retired since the start, by the threads counted.
    pub fn read(&self) -> u64 {
        self.counters
            .iter()
            .map(|fd| {
                let mut value = 0u64;
                let buf = (&raw mut value).cast::<libc::c_void>();
                // SAFETY: reads 8 bytes into a u64 from a counter this struct owns.
                let n = unsafe { libc::read(std::os::fd::AsRawFd::as_raw_fd(fd), buf, 8) };
                if n == 8 { value } else { 0 }
            })
            .sum()
    }
}

/// One counting (not sampling) counter of `tid`'s user-space instructions, running at once.
fn open_counter(tid: i32) -> std::io::Result<OwnedFd> {
    let mut attr = [0u64; ATTR_SIZE as usize / 8];
    attr[0] = u64::from(PERF_TYPE_HARDWARE) | (u64::from(ATTR_SIZE) << 32);
    attr[1] = PERF_COUNT_HW_INSTRUCTIONS;
    attr[5] = EXCLUDE_KERNEL | EXCLUDE_HV;
    // SAFETY: the attribute is a valid, zero-padded `perf_event_attr` of the size it names.
    let fd = unsafe { libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), tid, -1i32, -1i32, 0u64) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a new descriptor the kernel gave this process, owned from here.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the machine can count, a loop's instructions are counted; where it cannot, the
    /// reason names the call.
    #[test]
    fn counts_or_says_why_not() {
        match InstructionCounter::start(None) {
            Ok(counter) => {
                let mut x = 0u64;
                for i in 0..1_000_000u64 {
                    x = std::hint::black_box(x.wrapping_add(i));
                }
                assert!(counter.read() >= 1_000_000, "{}", counter.read());
            }
            Err(why) => assert!(why.contains("perf_event_open"), "{why}"),
        }
    }
}
