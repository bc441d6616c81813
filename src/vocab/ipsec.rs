//! The IPsec words the intent gives a tunnel beyond its numbers: the IKE identities
//! (`local_id`, `remote_id`) and TCP MSS clamping (`tcp_mss`, also on an interface).
//! Parsed here, once, so every target renders the same value and the cross-end check
//! compares like with like.

use std::fmt;
use std::net::Ipv4Addr;

/// The MSS range `tcp_mss` takes: 536 is the IPv4 minimum every host must accept
/// (RFC 9293), 1460 what a 1500-byte Ethernet MTU leaves; above it there is nothing to clamp.
pub const MSS_MIN: u16 = 536;
pub const MSS_MAX: u16 = 1460;

/// An IKE identity (RFC 7296 §3.5), in the three forms every target natc writes can carry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IkeId {
    /// ID_IPV4_ADDR: "192.168.1.10".
    Address(Ipv4Addr),
    /// ID_FQDN: "vpn.example.com".
    Fqdn(String),
    /// ID_RFC822_ADDR: "vpn@example.com".
    UserFqdn(String),
}

impl IkeId {
    /// Reads an identity; the error says what the text is not.
    pub fn parse(text: &str) -> Result<IkeId, String> {
        if let Ok(a) = text.parse::<Ipv4Addr>() {
            return Ok(IkeId::Address(a));
        }
        if text.len() > 253 {
            return Err(format!("an IKE identity is at most 253 characters, this one has {}", text.len()));
        }
        match text.split_once('@') {
            Some((user, domain)) => {
                if user.is_empty() || !user.bytes().all(is_user_byte) {
                    return Err(format!(
                        "`{user}` before the `@` is not a user part (letters, digits and . _ + - only)"
                    ));
                }
                check_fqdn(domain)?;
                Ok(IkeId::UserFqdn(text.to_string()))
            }
            None => {
                if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    return Err(format!("`{text}` is not an IPv4 address"));
                }
                check_fqdn(text)?;
                Ok(IkeId::Fqdn(text.to_string()))
            }
        }
    }

    /// The identity's type in IKE's words (what strongSwan and the docs call it).
    pub fn kind(&self) -> &'static str {
        match self {
            IkeId::Address(_) => "address",
            IkeId::Fqdn(_) => "fqdn",
            IkeId::UserFqdn(_) => "user-fqdn",
        }
    }
}

impl fmt::Display for IkeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IkeId::Address(a) => write!(f, "{a}"),
            IkeId::Fqdn(s) | IkeId::UserFqdn(s) => f.write_str(s),
        }
    }
}

fn is_user_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-')
}

/// A DNS name: dot-separated labels of letters, digits and inner hyphens, each 1–63 long,
/// the last one with a letter (no top-level domain is all digits, RFC 3696 §2: so a
/// mistyped address such as "10.0.0" is not taken for a name). Nothing else, so the
/// identity is a bare word in every target's grammar.
fn check_fqdn(text: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let last_has_letter = text.rsplit('.').next().is_some_and(|l| l.bytes().any(|b| b.is_ascii_alphabetic()));
    if text.is_empty() || !text.split('.').all(label_ok) || !last_has_letter {
        return Err(format!(
            "`{text}` is not a DNS name (labels of letters, digits and inner hyphens, separated by dots, the last with a letter)"
        ));
    }
    Ok(())
}

/// TCP MSS clamping on SYNs: to the route's path MTU, or to a fixed size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpMss {
    /// Clamp to the path MTU minus 40 (nft `rt mtu`, iptables `--clamp-mss-to-pmtu`).
    Auto,
    /// Set the MSS to this value when it is larger (MSS_MIN..=MSS_MAX).
    Fixed(u16),
}

impl fmt::Display for TcpMss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpMss::Auto => f.write_str("auto"),
            TcpMss::Fixed(n) => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_of_each_form_are_read_and_others_refused() {
        assert_eq!(IkeId::parse("192.168.1.10"), Ok(IkeId::Address(Ipv4Addr::new(192, 168, 1, 10))));
        assert_eq!(IkeId::parse("vpn.example.com"), Ok(IkeId::Fqdn("vpn.example.com".into())));
        assert_eq!(IkeId::parse("utm-a"), Ok(IkeId::Fqdn("utm-a".into())));
        assert_eq!(IkeId::parse("ops+vpn@example.com"), Ok(IkeId::UserFqdn("ops+vpn@example.com".into())));
        for bad in [
            "",
            "192.168.1.300",
            "1.2.3",
            "a b",
            "-a.example",
            "a@",
            "@example.com",
            "a@b@c",
            "x\"y",
            "a..b",
            "host.example.",
            "a.b.123",
        ] {
            assert!(IkeId::parse(bad).is_err(), "{bad:?} was read as an identity");
        }
        assert!(IkeId::parse(&"a.".repeat(130)).is_err());
    }
}
