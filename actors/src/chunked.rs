//! An append-only vector stored in bounded chunks, so it never stops to move all it holds.
//!
//! A `Vec` doubles when full: at a million entries that one push copies them all, and the
//! memory store does it under its lock, stalling every conversation that writes meanwhile
//! (measured: 10–30 ms pauses at ~250,000 messages). A conversation's log is the other user:
//! a batch send gives 500 logs one message each, so their `Vec`s would all double in the same
//! call. Here each chunk grows like a `Vec` up to [`CHUNK`] entries and then stays put; a push
//! copies at most one chunk, and a small list (a conversation with three messages) costs no
//! more than a `Vec`.

/// Entries per chunk at most.
pub const CHUNK: usize = 4096;

#[derive(Debug)]
pub struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> Self {
        ChunkedVec { chunks: Vec::new(), len: 0 }
    }
}

impl<T> ChunkedVec<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(if self.chunks.is_empty() { 1 } else { CHUNK });
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    pub fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    /// The first index whose entry fails `pred`, for entries ordered so that every one
    /// passing it comes first (as `slice::partition_point`).
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        // Whole chunks first (by their last entry), then within the one chunk that splits.
        let full = self.chunks.partition_point(|c| c.last().is_some_and(&mut pred));
        match self.chunks.get(full) {
            Some(chunk) => full * CHUNK + chunk.partition_point(pred),
            None => self.len,
        }
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }

    /// Entries from `start` (inclusive) to `end` (exclusive), clamped to what is there.
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &T> + '_ {
        let end = end.min(self.len);
        (start.min(end)..end).filter_map(move |i| self.get(i))
    }
}

impl<T> std::ops::Index<usize> for ChunkedVec<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        &self.chunks[index / CHUNK][index % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for ChunkedVec<T> {
    fn index_mut(&mut self, index: usize) -> &mut T {
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }
}

impl<T> FromIterator<T> for ChunkedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> ChunkedVec<T> {
        let mut v = ChunkedVec::default();
        for value in iter {
            v.push(value);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_read_back_in_order_across_chunks() {
        let mut v = ChunkedVec::default();
        assert!(v.is_empty());
        let n = CHUNK * 2 + 17;
        for i in 0..n {
            v.push(i);
        }
        assert_eq!(v.len(), n);
        assert!(v.iter().copied().eq(0..n));
        assert_eq!(v.get(CHUNK), Some(&CHUNK));
        assert_eq!(v.get(n), None);
        *v.get_mut(CHUNK + 1).unwrap() = 0;
        assert_eq!(v.get(CHUNK + 1), Some(&0));
        assert!(v.range(CHUNK - 2, CHUNK + 1).copied().eq([CHUNK - 2, CHUNK - 1, CHUNK]));
        assert_eq!(v.range(n - 1, n + 10).count(), 1, "the range is clamped");
        assert_eq!(v.range(n + 5, n + 10).count(), 0);
    }

    #[test]
    fn partition_point_agrees_with_a_slice() {
        let n = CHUNK * 3 + 5;
        let v: ChunkedVec<usize> = (0..n).map(|i| i / 3).collect();
        let slice: Vec<usize> = (0..n).map(|i| i / 3).collect();
        for cut in [0, 1, CHUNK / 3, CHUNK / 3 + 1, CHUNK * 2 / 3, n / 3, n / 3 + 1, n] {
            assert_eq!(v.partition_point(|x| *x < cut), slice.partition_point(|x| *x < cut), "cut {cut}");
        }
        assert_eq!(ChunkedVec::<usize>::default().partition_point(|_| true), 0);
        assert_eq!(v.last(), slice.last());
        assert_eq!(v[CHUNK + 2], slice[CHUNK + 2]);
    }

    #[test]
    fn a_full_chunk_is_never_reallocated() {
        let mut v = ChunkedVec::default();
        for i in 0..CHUNK {
            v.push(i);
        }
        let first = v.get(0).unwrap() as *const usize;
        for i in 0..CHUNK * 3 {
            v.push(i);
        }
        assert_eq!(v.get(0).unwrap() as *const usize, first, "entries stay where they were written");
    }
}
