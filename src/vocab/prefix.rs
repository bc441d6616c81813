//! IPv4 prefix arithmetic shared by the indexes that look a prefix up at every length
//! (model's subnets and routes, numbering's overlaps).

use ipnet::Ipv4Net;

/// The prefix of length `len` that contains `net` (`len` at most 32; `net` itself past it).
pub fn truncate(net: Ipv4Net, len: u8) -> Ipv4Net {
    Ipv4Net::new(net.network(), len).map(|n| n.trunc()).unwrap_or(net)
}
