//! The journal: the store's write-ahead log of group commits, in append-only segment files.
//!
//! A group commit is durable once its frame is in the journal (and, with `fsync`, synced):
//! one sequential append and one `fdatasync`, instead of a SQLite transaction that writes a
//! random B-tree page per index per message and syncs the WAL beside a checkpoint. The
//! [indexer](super::indexer) then applies the frames to SQLite in large transactions of its
//! own; SQLite records the last batch it holds, so after a crash [`replay`] hands over what
//! the database does not have yet.
//!
//! A segment is named by the number of its first batch (20 digits, so names sort as numbers)
//! and holds frames `[payload length: u32][CRC-32 of batch and payload: u32][batch: u64]
//! [payload]`, little-endian; the payload is the batch's ops as JSON. Batches are numbered
//! from 1 without gaps. A crash can leave the last frame torn; a frame that does not check is
//! tolerated only there (and cut off). Anywhere else it is damage, and the store refuses to
//! open rather than skip acknowledged writes.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The journal's directory inside the data directory.
pub const JOURNAL_DIR: &str = "journal";

/// A segment is closed and a new one started once it holds this much.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

const HEADER_BYTES: usize = 16;
const SEGMENT_SUFFIX: &str = ".journal";

/// Largest payload a frame header may claim; anything larger is damage, not a batch.
const MAX_PAYLOAD: usize = 1 << 30;

/// The appending end, owned by the store writer.
#[derive(Debug)]
pub struct JournalWriter {
    dir: PathBuf,
    file: File,
    /// First batch of the segment being written.
    segment: u64,
    len: u64,
    segment_limit: u64,
    sync: bool,
    buf: Vec<u8>,
    /// A failed append left bytes after `len` that could not be cut off yet.
    torn: bool,
}

impl JournalWriter {
    /// Starts a new segment in `dir` whose first batch will be `next_batch`. With `sync`, every
    /// append is on disk when it returns.
    pub fn create(dir: &Path, next_batch: u64, sync: bool, segment_limit: u64) -> io::Result<JournalWriter> {
        std::fs::create_dir_all(dir)?;
        let file = open_segment(dir, next_batch, sync)?;
        Ok(JournalWriter {
            dir: dir.to_path_buf(),
            file,
            segment: next_batch,
            len: 0,
            segment_limit,
            sync,
            buf: Vec::new(),
            torn: false,
        })
    }

    /// The buffer a batch's payload is written into (cleared), to hand back to [`append`].
    ///
    /// [`append`]: JournalWriter::append
    pub fn payload_buffer(&mut self) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        buf.resize(HEADER_BYTES, 0);
        buf
    }

    /// Appends batch `batch` (its payload written after the header room of
    /// [`payload_buffer`](JournalWriter::payload_buffer)) and returns the segment it went to.
    /// On failure the segment is cut back to where it was, so a retry does not follow a torn frame.
    pub fn append(&mut self, batch: u64, mut frame: Vec<u8>) -> io::Result<u64> {
        self.cut_torn_tail()?;
        if self.len >= self.segment_limit {
            self.rotate(batch)?;
        }
        let payload_len = frame.len() - HEADER_BYTES;
        let payload_len32 = u32::try_from(payload_len)
            .map_err(|_| io::Error::other("a batch larger than 4 GiB cannot be journaled"))?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&batch.to_le_bytes());
        crc.update(&frame[HEADER_BYTES..]);
        frame[0..4].copy_from_slice(&payload_len32.to_le_bytes());
        frame[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
        frame[8..16].copy_from_slice(&batch.to_le_bytes());
        let written = self.file.write_all(&frame).and_then(|()| if self.sync { self.file.sync_data() } else { Ok(()) });
        let result = match written {
            Ok(()) => {
                self.len += frame.len() as u64;
                Ok(self.segment)
            }
            Err(e) => {
                // The part written must go before anything else is appended: replay stops at a
                // torn frame, so a frame written after one would be lost.
                self.torn = self.file.set_len(self.len).is_err();
                Err(e)
            }
        };
        self.buf = frame;
        result
    }

    /// Fails the append of `batch` as a full disk or an I/O error would, after writing half of
    /// its frame (a fault-injection point; see `crate::faults`): what follows must cope with
    /// the torn bytes the failure leaves to clean up.
    pub fn append_torn(&mut self, batch: u64, frame: Vec<u8>) -> io::Result<u64> {
        self.cut_torn_tail()?;
        let half = frame.len() / 2;
        let written = self.file.write_all(&frame[..half]);
        self.torn = self.file.set_len(self.len).is_err();
        self.buf = frame;
        written?;
        Err(io::Error::other(format!("injected failure: the disk refused the rest of batch {batch}")))
    }

    /// Removes what a failed append left after the last whole frame; until that works, no
    /// append is made.
    fn cut_torn_tail(&mut self) -> io::Result<()> {
        if self.torn {
            self.file.set_len(self.len)?;
            self.torn = false;
        }
        Ok(())
    }

    /// Gives back the room of segments SQLite holds whole, for a disk running short: closes
    /// the segment being written (if it holds anything), so it too can go once `indexed` (the
    /// last batch in SQLite) reaches its end, and deletes every older segment if it has.
    pub fn release_applied(&mut self, next_batch: u64, indexed: u64) -> io::Result<()> {
        if self.len > 0 && !self.torn {
            self.rotate(next_batch)?;
        }
        if indexed + 1 >= self.segment {
            remove_segments_before(&self.dir, self.segment)?;
        }
        Ok(())
    }

    fn rotate(&mut self, next_batch: u64) -> io::Result<()> {
        let file = open_segment(&self.dir, next_batch, self.sync)?;
        self.file = file;
        self.segment = next_batch;
        self.len = 0;
        Ok(())
    }
}

fn segment_path(dir: &Path, first_batch: u64) -> PathBuf {
    dir.join(format!("{first_batch:020}{SEGMENT_SUFFIX}"))
}

fn open_segment(dir: &Path, first_batch: u64, sync: bool) -> io::Result<File> {
    let file = OpenOptions::new().create(true).append(true).open(segment_path(dir, first_batch))?;
    if sync {
        // The new file's directory entry must survive a crash too.
        File::open(dir)?.sync_all()?;
    }
    Ok(file)
}

/// The journal's segments, oldest first: (first batch, path).
pub fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let first = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            out.push((first, path));
        }
    }
    out.sort_unstable_by_key(|(first, _)| *first);
    Ok(out)
}

/// Deletes every segment that starts before `segment` (all their batches are in SQLite). The
/// writer and the indexer may both do it; a segment the other deleted first is not an error.
pub fn remove_segments_before(dir: &Path, segment: u64) -> io::Result<()> {
    for (first, path) in segments(dir)? {
        if first < segment {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// One batch read back.
#[derive(Debug, PartialEq)]
pub struct Frame {
    pub batch: u64,
    pub payload: Vec<u8>,
}

/// A segment's frames up to the first that does not check, and the length they fill.
fn read_segment(path: &Path) -> io::Result<(Vec<Frame>, u64)> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let mut frames = Vec::new();
    let mut at = 0usize;
    while let Some(header) = bytes.get(at..at + HEADER_BYTES) {
        let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        let batch = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
        let Some(payload) =
            (len <= MAX_PAYLOAD).then(|| bytes.get(at + HEADER_BYTES..at + HEADER_BYTES + len)).flatten()
        else {
            break;
        };
        let mut check = crc32fast::Hasher::new();
        check.update(&batch.to_le_bytes());
        check.update(payload);
        if check.finalize() != crc {
            break;
        }
        frames.push(Frame { batch, payload: payload.to_vec() });
        at += HEADER_BYTES + len;
    }
    Ok((frames, at as u64))
}

/// Why the journal cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("journal: {0}")]
    Io(#[from] io::Error),
    #[error(
        "journal segment {path} is damaged at byte {offset}, before its end: not replaying past acknowledged writes"
    )]
    Damaged { path: String, offset: u64 },
    #[error("journal batch {found} follows batch {expected_after}: batches are missing")]
    Gap { found: u64, expected_after: u64 },
    #[error("applying the journal up to batch {batch}: {reason}")]
    Apply { batch: u64, reason: String },
}

/// Hands every batch after `applied` to `apply`, in order, and returns the last batch number
/// seen (`applied` if none is newer). A torn last frame is cut off; damage anywhere else, or
/// a gap in the numbering, is an error.
pub fn replay(
    dir: &Path,
    applied: u64,
    mut apply: impl FnMut(Frame) -> Result<(), String>,
) -> Result<u64, ReplayError> {
    let segments = segments(dir)?;
    let mut last = applied;
    let count = segments.len();
    for (i, (_, path)) in segments.into_iter().enumerate() {
        let (frames, valid) = read_segment(&path)?;
        let size = std::fs::metadata(&path)?.len();
        if valid < size {
            if i + 1 < count {
                return Err(ReplayError::Damaged { path: path.display().to_string(), offset: valid });
            }
            tracing::warn!(path = %path.display(), cut = size - valid, "journal ends in a torn frame; cutting it off");
            OpenOptions::new().write(true).open(&path)?.set_len(valid)?;
        }
        for frame in frames {
            if frame.batch <= applied {
                continue;
            }
            if frame.batch != last + 1 && last != 0 {
                return Err(ReplayError::Gap { found: frame.batch, expected_after: last });
            }
            let batch = frame.batch;
            apply(frame).map_err(|reason| ReplayError::Apply { batch, reason })?;
            last = batch;
        }
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(w: &mut JournalWriter, batch: u64, payload: &[u8]) -> u64 {
        let mut buf = w.payload_buffer();
        buf.extend_from_slice(payload);
        w.append(batch, buf).unwrap()
    }

    /// The (batch, payload) pairs replayed after `after`, and the last batch.
    type Replayed = (Vec<(u64, Vec<u8>)>, u64);

    fn replayed(dir: &Path, after: u64) -> Result<Replayed, ReplayError> {
        let mut seen = Vec::new();
        let last = replay(dir, after, |f| {
            seen.push((f.batch, f.payload));
            Ok(())
        })?;
        Ok((seen, last))
    }

    #[test]
    fn a_failed_append_leaves_nothing_that_hides_the_next_frame() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = JournalWriter::create(dir.path(), 1, true, 1 << 20).unwrap();
        append(&mut w, 1, b"first");
        let mut torn = w.payload_buffer();
        torn.extend_from_slice(b"never whole");
        assert!(w.append_torn(2, torn).is_err());
        // The failed batch's number is taken again by the next commit, as the writer does.
        append(&mut w, 2, b"second");
        let (seen, last) = replayed(dir.path(), 0).unwrap();
        assert_eq!(seen, [(1, b"first".to_vec()), (2, b"second".to_vec())]);
        assert_eq!(last, 2);
    }

    #[test]
    fn batches_come_back_in_order_across_segments_and_old_segments_go() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = JournalWriter::create(dir.path(), 1, true, 40).unwrap();
        let mut segment_of = Vec::new();
        for b in 1..=6u64 {
            segment_of.push(append(&mut w, b, format!("batch {b}").as_bytes()));
        }
        // 16 + 7 bytes a frame: a segment closes after its second frame.
        assert_eq!(segment_of, vec![1, 1, 3, 3, 5, 5]);
        assert_eq!(segments(dir.path()).unwrap().len(), 3);
        let (seen, last) = replayed(dir.path(), 0).unwrap();
        assert_eq!(last, 6);
        assert_eq!(seen.iter().map(|(b, _)| *b).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(seen[3].1, b"batch 4");
        let (seen, last) = replayed(dir.path(), 4).unwrap();
        assert_eq!((seen.len(), last), (2, 6));
        remove_segments_before(dir.path(), 5).unwrap();
        assert_eq!(segments(dir.path()).unwrap().iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![5]);
        assert_eq!(replayed(dir.path(), 4).unwrap().1, 6);
    }

    #[test]
    fn a_torn_last_frame_is_cut_off_and_appending_goes_on_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = JournalWriter::create(dir.path(), 1, false, SEGMENT_BYTES).unwrap();
        append(&mut w, 1, b"one");
        append(&mut w, 2, b"two");
        drop(w);
        let (_, path) = segments(dir.path()).unwrap().pop().unwrap();
        let full = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(full - 2).unwrap();
        let (seen, last) = replayed(dir.path(), 0).unwrap();
        assert_eq!((seen.len(), last), (1, 1));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), (HEADER_BYTES + 3) as u64);
        let mut w = JournalWriter::create(dir.path(), 2, false, SEGMENT_BYTES).unwrap();
        append(&mut w, 2, b"two again");
        let (seen, last) = replayed(dir.path(), 0).unwrap();
        assert_eq!(last, 2);
        assert_eq!(seen[1].1, b"two again");
    }

    #[test]
    fn damage_before_the_end_or_a_missing_batch_refuses_to_replay() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = JournalWriter::create(dir.path(), 1, false, 30).unwrap();
        for b in 1..=4u64 {
            append(&mut w, b, b"0123456789");
        }
        drop(w);
        let all = segments(dir.path()).unwrap();
        assert_eq!(all.len(), 2);
        // A flipped byte in the first segment's second frame: not a torn tail.
        let mut bytes = std::fs::read(&all[0].1).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&all[0].1, &bytes).unwrap();
        assert!(matches!(replayed(dir.path(), 0), Err(ReplayError::Damaged { .. })));
        // Undamaged, but batch 2 is gone: batch 3 cannot follow batch 1.
        bytes[last] ^= 0xff;
        bytes.truncate(HEADER_BYTES + 10);
        std::fs::write(&all[0].1, &bytes).unwrap();
        let err = replayed(dir.path(), 0).unwrap_err();
        assert!(matches!(err, ReplayError::Gap { found: 3, expected_after: 1 }), "{err}");
    }
}
