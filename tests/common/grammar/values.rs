//! The value forms both device grammars read the same way: decimal numbers without
//! leading zeros, dotted-quad addresses and `address/length`.

use std::net::Ipv4Addr;

/// A decimal number of at most ten digits, without leading zeros.
pub fn number(s: &str) -> Option<u64> {
    (!s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0')))
        .then(|| s.parse().ok())
        .flatten()
}

/// Dotted quad only: no leading zeros, four parts (Rust's parser agrees).
pub fn ipv4(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

/// `a.b.c.d/len` with its parts.
pub fn with_length(s: &str) -> Option<(Ipv4Addr, u32)> {
    let (a, l) = s.split_once('/')?;
    Some((ipv4(a)?, number(l).filter(|l| *l <= 32)? as u32))
}

/// The bits of `a` below a prefix of length `len`.
pub fn host_bits(a: Ipv4Addr, len: u32) -> u32 {
    u32::from(a) & u32::MAX.checked_shr(len).unwrap_or(0)
}
