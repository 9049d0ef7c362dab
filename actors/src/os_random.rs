//! Values that must not be guessable — secret keys, the message-ID salt, capability tokens —
//! drawn from the operating system's random source.
//!
//! `fastrand` stays for what only needs to be spread (shard picks, growth points): it is seeded
//! from the clock and the thread, so one of its outputs, printed anywhere, lets the next be
//! rebuilt. Nothing secret may come from it.

/// Fills `buf` from the OS's random source.
///
/// # Panics
/// If the OS has no random source to give: the process cannot make a secret without one, and
/// a predictable fallback would be worse than stopping.
pub fn fill(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random source is unavailable");
}

pub fn u32() -> u32 {
    let mut b = [0u8; 4];
    fill(&mut b);
    u32::from_le_bytes(b)
}

/// `n` random bytes as lowercase hex.
pub fn hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    fill(&mut b);
    crate::media::blob::to_hex(&b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ_and_hex_has_the_asked_length() {
        let (a, b) = (super::hex(32), super::hex(32));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
