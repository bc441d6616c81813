//! Building and parsing the few packet shapes the probes need, as pure functions over byte
//! slices: raw sockets hand over whatever arrived, so every read is bounds-checked and a
//! malformed packet is `None`, never a panic. No sockets here, so all of it is unit-tested
//! without root.

use std::net::Ipv4Addr;

/// IP protocol numbers the observers and senders tell apart.
pub(super) const ICMP: u8 = 1;
pub(super) const TCP: u8 = 6;
pub(super) const UDP: u8 = 17;

const TOKEN_PREFIX: &[u8] = b"natc-probe-";
/// What a UDP echo server puts in front of the datagram it sends back, so that an observer
/// in the sender's namespace can tell the answer from a probe carrying the same token.
pub(super) const ANSWER_PREFIX: &[u8] = b"ok ";

/// The payload that identifies a probe through NAT, which rewrites addresses, ports and echo
/// ids but never payloads.
pub(super) fn token(key: u32) -> String {
    format!("natc-probe-{key}")
}

/// The key of a probe payload: exactly the token, with an optional trailing newline (the TCP
/// sender's line). Anything else (other traffic, an echo answer) has no key.
pub(super) fn probe_key(payload: &[u8]) -> Option<u32> {
    let digits = payload.strip_prefix(TOKEN_PREFIX)?;
    let digits = digits.strip_suffix(b"\n").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Whether a datagram is a UDP echo server's answer rather than a probe: observers skip them.
pub(super) fn is_answer(payload: &[u8]) -> bool {
    payload.strip_prefix(ANSWER_PREFIX).is_some_and(|rest| rest.starts_with(TOKEN_PREFIX))
}

/// Whether `payload` contains the token of `key` as a whole word (so key 1 is not found in
/// `natc-probe-12`); answers and quoted datagrams carry it after other bytes.
pub(super) fn contains_token(payload: &[u8], key: u32) -> bool {
    let token = token(key);
    let token = token.as_bytes();
    payload
        .windows(token.len())
        .enumerate()
        .any(|(i, w)| w == token && !payload.get(i + token.len()).is_some_and(u8::is_ascii_digit))
}

/// The Internet checksum (RFC 1071) that ICMP needs and the kernel does not fill in for raw
/// ICMP sockets.
pub(super) fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo request (type 8, code 0) with a valid checksum: the kernel adds the IPv4
/// header on a raw socket but leaves the ICMP message as given.
pub(super) fn echo_request(id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut message = vec![8, 0, 0, 0];
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(payload);
    let sum = checksum(&message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    message
}

/// An IPv4 datagram's addresses and transport bytes, as a raw socket or an ICMP error's
/// quote delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ipv4<'a> {
    pub protocol: u8,
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    /// The transport header and data, cut at the total length when the datagram is complete
    /// and at the end of the bytes when it is a truncated quote.
    pub payload: &'a [u8],
}

/// Parse an IPv4 header honouring IHL. Non-first fragments are `None`: they carry no
/// transport header to read ports or ICMP types from.
pub(super) fn parse_ipv4(packet: &[u8]) -> Option<Ipv4<'_>> {
    let first = *packet.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < 20 || packet.len() < header_len {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    let fragment_offset = u16::from_be_bytes([packet[6], packet[7]]) & 0x1fff;
    if total_len < header_len || fragment_offset != 0 {
        return None;
    }
    let address = |at: usize| Ipv4Addr::new(packet[at], packet[at + 1], packet[at + 2], packet[at + 3]);
    Some(Ipv4 {
        protocol: packet[9],
        source: address(12),
        destination: address(16),
        payload: &packet[header_len..total_len.min(packet.len())],
    })
}

/// The ICMP messages the probes care about; everything else is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Icmp<'a> {
    EchoRequest {
        id: u16,
        payload: &'a [u8],
    },
    EchoReply {
        id: u16,
        payload: &'a [u8],
    },
    /// Destination unreachable (3) or time exceeded (11), with the quoted original datagram.
    Error {
        kind: u8,
        code: u8,
        quoted: &'a [u8],
    },
    Other,
}

/// Parse an ICMP message (the checksum is not verified: the kernel already dropped bad ones).
pub(super) fn parse_icmp(message: &[u8]) -> Option<Icmp<'_>> {
    if message.len() < 8 {
        return None;
    }
    let id = u16::from_be_bytes([message[4], message[5]]);
    let rest = &message[8..];
    Some(match message[0] {
        8 => Icmp::EchoRequest { id, payload: rest },
        0 => Icmp::EchoReply { id, payload: rest },
        kind @ (3 | 11) => Icmp::Error { kind, code: message[1], quoted: rest },
        _ => Icmp::Other,
    })
}

/// The parts of a TCP header an observer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tcp {
    pub source_port: u16,
    pub destination_port: u16,
    /// SYN set and ACK clear: a connection attempt, not a SYN-ACK or data.
    pub syn_only: bool,
}

/// Parse a TCP header (only the fixed 20 bytes are needed).
pub(super) fn parse_tcp(segment: &[u8]) -> Option<Tcp> {
    if segment.len() < 20 {
        return None;
    }
    let flags = segment[13];
    Some(Tcp {
        source_port: u16::from_be_bytes([segment[0], segment[1]]),
        destination_port: u16::from_be_bytes([segment[2], segment[3]]),
        syn_only: flags & 0x02 != 0 && flags & 0x10 == 0,
    })
}

/// A UDP datagram's ports and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Udp<'a> {
    pub source_port: u16,
    pub destination_port: u16,
    pub payload: &'a [u8],
}

/// Parse a UDP header; the data is cut at the header's length field when that is shorter.
pub(super) fn parse_udp(datagram: &[u8]) -> Option<Udp<'_>> {
    if datagram.len() < 8 {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([datagram[4], datagram[5]]));
    if length < 8 {
        return None;
    }
    Some(Udp {
        source_port: u16::from_be_bytes([datagram[0], datagram[1]]),
        destination_port: u16::from_be_bytes([datagram[2], datagram[3]]),
        payload: &datagram[8..length.min(datagram.len())],
    })
}

/// Whether an ICMP error quotes our echo request: by token when the quote is long enough to
/// carry it (the kernel quotes up to 576 bytes), else by echo id.
pub(super) fn quotes_echo(quoted: &[u8], key: u32) -> bool {
    let Some(original) = parse_ipv4(quoted) else { return false };
    if original.protocol != ICMP {
        return false;
    }
    match parse_icmp(original.payload) {
        Some(Icmp::EchoRequest { id, payload }) => probe_key(payload).map_or(id == key as u16, |k| k == key),
        _ => false,
    }
}

/// Short human text for an ICMP error, as the report prints it.
pub(super) fn icmp_error_text(kind: u8, code: u8) -> String {
    match (kind, code) {
        (3, 0) => "net unreachable".into(),
        (3, 1) => "host unreachable".into(),
        (3, 3) => "port unreachable".into(),
        (3, 9 | 10 | 13) => "admin prohibited".into(),
        (11, _) => "ttl exceeded".into(),
        _ => format!("icmp {kind}/{code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal IPv4 header (IHL 5 unless `options` adds words) in front of `payload`.
    fn ipv4(protocol: u8, source: [u8; 4], destination: [u8; 4], options: usize, payload: &[u8]) -> Vec<u8> {
        let header_len = 20 + options * 4;
        let total = (header_len + payload.len()) as u16;
        let mut p = vec![0x40 | (header_len / 4) as u8, 0];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
        p.extend_from_slice(&source);
        p.extend_from_slice(&destination);
        p.resize(header_len, 1);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn checksum_matches_rfc1071_example_and_verifies_to_zero() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is its complement.
        assert_eq!(checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
        let message = echo_request(0x1234, 1, b"odd");
        assert_eq!(checksum(&message), 0, "a message with its checksum sums to all ones");
        assert_eq!(checksum(&[]), 0xffff);
    }

    #[test]
    fn echo_request_layout() {
        let m = echo_request(7, 1, b"natc-probe-7");
        assert_eq!(&m[..2], &[8, 0]);
        assert_eq!(&m[4..8], &[0, 7, 0, 1]);
        assert_eq!(&m[8..], b"natc-probe-7");
        assert_eq!(parse_icmp(&m), Some(Icmp::EchoRequest { id: 7, payload: b"natc-probe-7" }));
    }

    #[test]
    fn ipv4_honours_ihl_and_total_length() {
        let mut p = ipv4(UDP, [10, 0, 0, 1], [10, 0, 0, 2], 2, b"abcdefgh");
        p.extend_from_slice(b"ethernet padding");
        let ip = parse_ipv4(&p).expect("valid");
        assert_eq!(ip.protocol, UDP);
        assert_eq!(ip.source, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(ip.destination, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(ip.payload, b"abcdefgh");
        // A truncated quote keeps what is there.
        assert_eq!(parse_ipv4(&p[..30]).expect("truncated").payload, b"ab");
    }

    #[test]
    fn malformed_ipv4_is_none() {
        let good = ipv4(TCP, [1, 1, 1, 1], [2, 2, 2, 2], 0, &[0; 20]);
        assert!(parse_ipv4(&[]).is_none());
        assert!(parse_ipv4(&good[..19]).is_none(), "shorter than a header");
        let mut v6 = good.clone();
        v6[0] = 0x65;
        assert!(parse_ipv4(&v6).is_none(), "not version 4");
        let mut tiny_ihl = good.clone();
        tiny_ihl[0] = 0x44;
        assert!(parse_ipv4(&tiny_ihl).is_none(), "IHL below 5");
        let mut long_ihl = good.clone();
        long_ihl[0] = 0x4f;
        assert!(parse_ipv4(&long_ihl[..40]).is_none(), "IHL beyond the bytes");
        let mut short_total = good.clone();
        short_total[2..4].copy_from_slice(&10u16.to_be_bytes());
        assert!(parse_ipv4(&short_total).is_none(), "total length below the header");
        let mut fragment = good;
        fragment[6..8].copy_from_slice(&0x0010u16.to_be_bytes());
        assert!(parse_ipv4(&fragment).is_none(), "non-first fragment");
        for len in 0..60 {
            let _ = parse_ipv4(&vec![0x4f; len]);
        }
    }

    #[test]
    fn tcp_flags_and_short_segments() {
        let mut seg = [0u8; 20];
        seg[..4].copy_from_slice(&[0x9c, 0x41, 0, 80]);
        seg[13] = 0x02;
        assert_eq!(parse_tcp(&seg), Some(Tcp { source_port: 40001, destination_port: 80, syn_only: true }));
        seg[13] = 0x12;
        assert!(!parse_tcp(&seg).expect("syn-ack").syn_only);
        assert!(parse_tcp(&seg[..19]).is_none());
    }

    #[test]
    fn udp_length_field_is_bounded() {
        let mut d = vec![0x9c, 0x41, 0, 53, 0, 12, 0, 0];
        d.extend_from_slice(b"abcdEXTRA");
        let u = parse_udp(&d).expect("valid");
        assert_eq!((u.source_port, u.destination_port, u.payload), (40001, 53, &b"abcd"[..]));
        d[4..6].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(parse_udp(&d).expect("overlong length").payload, b"abcdEXTRA");
        d[4..6].copy_from_slice(&3u16.to_be_bytes());
        assert!(parse_udp(&d).is_none(), "length below the header");
        assert!(parse_udp(&d[..7]).is_none());
    }

    #[test]
    fn icmp_kinds_and_short_messages() {
        assert!(parse_icmp(&[8, 0, 0, 0, 0, 1, 0]).is_none());
        assert_eq!(parse_icmp(&[0, 0, 0, 0, 0, 1, 0, 1]), Some(Icmp::EchoReply { id: 1, payload: &[] }));
        assert_eq!(parse_icmp(&[5, 0, 0, 0, 0, 0, 0, 0]), Some(Icmp::Other));
        assert_eq!(parse_icmp(&[3, 13, 0, 0, 0, 0, 0, 0, 9]), Some(Icmp::Error { kind: 3, code: 13, quoted: &[9] }));
    }

    #[test]
    fn tokens() {
        assert_eq!(probe_key(token(42).as_bytes()), Some(42));
        assert_eq!(probe_key(b"natc-probe-42\n"), Some(42));
        for bad in [
            &b"natc-probe-"[..],
            b"natc-probe-4x",
            b"natc-probe--1",
            b"natc-probe-99999999999",
            b"ok natc-probe-1",
            b"",
        ] {
            assert_eq!(probe_key(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert!(is_answer(b"ok natc-probe-3"));
        assert!(!is_answer(b"natc-probe-3"));
        assert!(contains_token(b"ok natc-probe-3", 3));
        assert!(contains_token(b"natc-probe-3\n", 3));
        assert!(!contains_token(b"natc-probe-31", 3));
        assert!(!contains_token(b"natc-probe", 3));
    }

    #[test]
    fn errors_are_matched_to_their_echo() {
        let echo = echo_request(5, 1, b"natc-probe-5");
        let quote = ipv4(ICMP, [10, 0, 0, 1], [10, 0, 0, 9], 0, &echo);
        assert!(quotes_echo(&quote, 5));
        assert!(!quotes_echo(&quote, 6));
        // An 8-byte quote (RFC 792 minimum) is matched by id alone.
        assert!(quotes_echo(&quote[..28], 5));
        assert!(!quotes_echo(&quote[..28], 6));
        // Same id (key mod 65536) but a different token: not ours.
        assert!(!quotes_echo(&quote, 5 + 65536));
        assert!(!quotes_echo(&ipv4(UDP, [10, 0, 0, 1], [10, 0, 0, 9], 0, &echo), 5));
        assert!(!quotes_echo(&quote[..27], 5));
        assert_eq!(icmp_error_text(3, 10), "admin prohibited");
        assert_eq!(icmp_error_text(11, 0), "ttl exceeded");
        assert_eq!(icmp_error_text(3, 4), "icmp 3/4");
    }
}
