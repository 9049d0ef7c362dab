//! The space the journal leaves for the database.
//!
//! A write takes room three times over: its journal frame, its pages in SQLite's WAL, then
//! the same pages in the database file. If the journal may fill the disk, the indexer cannot
//! apply what was acknowledged, and acknowledged messages stay unreadable until an operator
//! frees space. So the writer refuses new group commits while the disk's free space is below
//! a reserve: the journaled backlog can still reach SQLite, reads go on, and writes resume
//! by themselves once space is back.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a reading of the free space is trusted while there is plenty.
const TRUST_PLENTY: Duration = Duration::from_millis(100);

/// Free space counts as plenty above this many reserves: it is not looked at again for
/// [`TRUST_PLENTY`]. Below it, every group commit looks.
const PLENTY: u64 = 4;

/// Watches the free space of the file system a directory is on.
#[derive(Debug)]
pub struct DiskSpace {
    dir: PathBuf,
    reserve: u64,
    /// When free space was last read, and what it was.
    last: Option<(Instant, u64)>,
}

impl DiskSpace {
    /// Keeps `reserve` bytes free on the file system of `dir` (0: no reserve, nothing is read).
    pub fn new(dir: &Path, reserve: u64) -> DiskSpace {
        DiskSpace { dir: dir.to_path_buf(), reserve, last: None }
    }

    pub fn reserve(&self) -> u64 {
        self.reserve
    }

    /// The free bytes, if they are below the reserve plus `coming` (room already promised:
    /// the journal's backlog on its way into SQLite). A file system whose free space cannot be
    /// read counts as having room: the writes themselves then say what is wrong.
    pub fn short(&mut self, coming: u64) -> Option<u64> {
        let wanted = self.reserve.saturating_add(coming);
        let free = self.free(wanted)?;
        (free < wanted).then_some(free)
    }

    /// Whether the disk is getting tight: less than a few reserves free. Then every byte the
    /// store can give back (the WAL's) is wanted.
    pub fn tight(&mut self) -> bool {
        let plenty = self.reserve.saturating_mul(PLENTY);
        self.free(plenty).is_some_and(|free| free < plenty)
    }

    /// The free bytes, read again unless the last reading was recent and well above `wanted`;
    /// `None` without a reserve or when they cannot be read.
    fn free(&mut self, wanted: u64) -> Option<u64> {
        if self.reserve == 0 {
            return None;
        }
        let now = Instant::now();
        let trusted = self
            .last
            .filter(|(at, free)| *free >= wanted.saturating_mul(PLENTY) && now.duration_since(*at) < TRUST_PLENTY);
        match trusted {
            Some((_, free)) => Some(free),
            None => {
                let free = free_bytes(&self.dir)?;
                self.last = Some((now, free));
                Some(free)
            }
        }
    }
}

/// Bytes an unprivileged process may still write on the file system of `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a valid NUL-terminated string and `stats` is writable memory of the
    // type statvfs fills; it is read only when the call succeeds.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let stats = unsafe { stats.assume_init() };
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_read_and_compared_with_the_reserve() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).expect("statvfs works on a temp dir");
        assert!(free > 0);
        assert_eq!(DiskSpace::new(dir.path(), 0).short(u64::MAX), None, "no reserve, nothing is short");
        assert_eq!(DiskSpace::new(dir.path(), 1).short(0), None);
        assert!(DiskSpace::new(dir.path(), 1).short(u64::MAX).is_some(), "the room promised counts");
        assert!(!DiskSpace::new(dir.path(), 1).tight());
        assert!(DiskSpace::new(dir.path(), free).tight());
        let short = DiskSpace::new(dir.path(), u64::MAX).short(0).expect("nothing has u64::MAX free");
        assert!(short <= free + (1 << 30), "{short} vs {free}");
        assert_eq!(free_bytes(Path::new("/no/such/dir/here")), None);
    }
}
