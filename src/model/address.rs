//! Addresses as the intent writes them: `192.168.1.5`, `192.168.1.0/24`, or `@name`.

use super::At;
use crate::diag::{Code, Diagnostic, Span, did_you_mean};
use crate::intent::S;
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Mutex;

/// `[networks]`: name → prefix, each with the span of its value.
#[derive(Debug, Clone, Default)]
pub struct Networks {
    entries: BTreeMap<String, (At<Ipv4Net>, Span)>,
    /// Names whose value was wrong (already reported): uses say so instead of "unknown".
    broken: BTreeMap<String, Span>,
    /// Names some `@name` refers to (for the unused-network check, N213).
    used: Used,
}

/// The names referred to so far. Resolving reads `[networks]` through `&Networks` from many
/// places, so the record is kept behind a lock (which also keeps the model `Sync`).
#[derive(Debug, Default)]
struct Used(Mutex<BTreeSet<String>>);

impl Clone for Used {
    fn clone(&self) -> Self {
        Used(Mutex::new(self.names()))
    }
}

impl Used {
    fn names(&self) -> BTreeSet<String> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn mark(&self, name: &str) {
        if let Ok(mut set) = self.0.lock()
            && !set.contains(name)
        {
            set.insert(name.to_string());
        }
    }
}

impl Networks {
    /// Read `[networks]`; every bad entry is reported, good ones are kept.
    pub fn resolve(raw: &BTreeMap<S<String>, S<String>>, out: &mut Vec<Diagnostic>) -> Networks {
        let mut entries = BTreeMap::new();
        let mut broken = BTreeMap::new();
        for (key, value) in raw {
            if !valid_network_name(key.get_ref()) {
                out.push(
                    Diagnostic::error(Code::INVALID_NAME, format!("network name `{}` is not allowed", key.get_ref()))
                        .label(key.span(), "use letters, digits, `-` and `_`")
                        .help("network names are referenced as \"@name\"; write them as [a-z0-9_-]+"),
                );
                continue;
            }
            match parse_literal(value.get_ref(), inner(value.span(), value.get_ref())) {
                Ok(net) => {
                    entries.insert(key.get_ref().clone(), (At::new(net, value.span()), key.span()));
                }
                Err(d) => {
                    broken.insert(key.get_ref().clone(), key.span());
                    out.push(d);
                }
            }
        }
        Networks { entries, broken, used: Used::default() }
    }

    pub fn get(&self, name: &str) -> Option<&At<Ipv4Net>> {
        self.entries.get(name).map(|(net, _)| net)
    }

    /// Name, value and the span of the name, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &At<Ipv4Net>, &Span)> {
        self.entries.iter().map(|(k, (v, s))| (k.as_str(), v, s))
    }

    /// The entries no `@name` in the intent refers to, in name order.
    pub fn unused(&self) -> Vec<(&str, &At<Ipv4Net>, &Span)> {
        let used = self.used.names();
        self.iter().filter(|(name, _, _)| !used.contains(*name)).collect()
    }

    /// A host or prefix, literal or `@name`. The span of the result is where it was written.
    pub fn host_or_prefix(&self, raw: &S<String>) -> Result<At<Ipv4Net>, Diagnostic> {
        let text = raw.get_ref().trim();
        let span = inner(raw.span(), raw.get_ref());
        if let Some(name) = text.strip_prefix('@') {
            if name.is_empty() {
                return Err(Diagnostic::error(Code::UNKNOWN_NETWORK, "`@` needs a network name")
                    .label(span, "no name after @")
                    .help("write \"@name\" with a name defined under [networks]"));
            }
            if let Some(defined) = self.broken.get(name) {
                return Err(Diagnostic::error(
                    Code::UNKNOWN_NETWORK,
                    format!("network `@{name}` has an invalid value"),
                )
                .label(span, "used here")
                .label(defined.clone(), "defined here, with the error reported there")
                .help(format!("fix the value of `{name}` under [networks]")));
            }
            return match self.get(name) {
                Some(net) => {
                    self.used.mark(name);
                    Ok(At::new(net.value, raw.span()))
                }
                None => {
                    let d = Diagnostic::error(Code::UNKNOWN_NETWORK, format!("unknown network `@{name}`"))
                        .label(span, "not defined in [networks]");
                    let known: Vec<&str> = self.entries.keys().map(String::as_str).collect();
                    Err(match did_you_mean(name, known.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `@{s}`?")),
                        None if known.is_empty() => d.help(format!("add `{name} = \"…\"` under [networks]")),
                        None => d.help(format!("define it under [networks] (defined: {})", known.join(", "))),
                    })
                }
            };
        }
        parse_literal(text, span).map(|net| At::new(net, raw.span()))
    }

    /// A single host: a literal address, a /32, or an `@name` that is a host.
    pub fn host(&self, raw: &S<String>, what: &str) -> Result<At<Ipv4Addr>, Diagnostic> {
        let net = self.host_or_prefix(raw)?;
        if net.value.prefix_len() != 32 {
            return Err(Diagnostic::error(
                Code::INVALID_ADDRESS,
                format!("{what} must be a single address, not the prefix {}", net.value),
            )
            .label(inner(raw.span(), raw.get_ref()), "a prefix here")
            .help(format!("write one address, e.g. \"{}\"", first_host(net.value))));
        }
        Ok(At::new(net.value.addr(), net.span))
    }
}

/// An interface address: an address with its prefix length, host bits allowed (`192.168.82.4/26`).
pub fn interface_address(text: &str, span: Span) -> Result<Ipv4Net, Diagnostic> {
    check_family(text, span.clone())?;
    let Some((addr, len)) = text.split_once('/') else {
        return Err(Diagnostic::error(
            Code::INVALID_ADDRESS,
            format!("interface address `{text}` has no prefix length"),
        )
        .label(span, "needs /length")
        .help(format!("write the address with its subnet length, e.g. \"{text}/24\"")));
    };
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad_address(text, span.clone()))?;
    let len: u8 = len.parse().map_err(|_| bad_address(text, span.clone()))?;
    Ipv4Net::new(addr, len).map_err(|_| bad_address(text, span))
}

fn parse_literal(text: &str, span: Span) -> Result<Ipv4Net, Diagnostic> {
    let text = text.trim();
    check_family(text, span.clone())?;
    if !text.contains('/') {
        let addr: Ipv4Addr = text.parse().map_err(|_| bad_address(text, span))?;
        return Ok(Ipv4Net::from(addr));
    }
    let net: Ipv4Net = text.parse().map_err(|_| bad_address(text, span.clone()))?;
    if net.network() != net.addr() {
        return Err(Diagnostic::error(Code::HOST_BITS_SET, format!("prefix `{text}` has host bits set"))
            .label(span, format!("the network of this is {}", net.trunc()))
            .help(format!("write the network \"{}\", or the single host \"{}\"", net.trunc(), net.addr())));
    }
    Ok(net)
}

fn check_family(text: &str, span: Span) -> Result<(), Diagnostic> {
    if text.contains(':') {
        return Err(Diagnostic::error(
            Code::IPV6_UNSUPPORTED,
            format!("`{text}` is IPv6, which natc does not support yet"),
        )
        .label(span, "IPv6")
        .help("natc v1 translates IPv4 only; keep IPv6 in a separate configuration for now"));
    }
    Ok(())
}

fn bad_address(text: &str, span: Span) -> Diagnostic {
    Diagnostic::error(Code::INVALID_ADDRESS, format!("`{text}` is not an IPv4 address or prefix"))
        .label(span, "not an address")
        .help("write an address (192.168.1.5), a prefix (192.168.1.0/24) or a name from [networks] (\"@name\")")
}

fn first_host(net: Ipv4Net) -> Ipv4Addr {
    net.hosts().next().unwrap_or(net.addr())
}

fn valid_network_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The span of a one-line string's content, without its quotes, so labels sit under the text.
pub fn inner(span: Span, text: &str) -> Span {
    if span.end == span.start + text.len() + 2 { span.start + 1..span.start + 1 + text.len() } else { span }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_forms() {
        assert_eq!(parse_literal("10.0.0.1", 0..0).unwrap().to_string(), "10.0.0.1/32");
        assert_eq!(parse_literal("10.0.0.0/8", 0..0).unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_literal("10.0.0.1/8", 0..0).unwrap_err().code, Code::HOST_BITS_SET);
        assert_eq!(parse_literal("10.0.0.300", 0..0).unwrap_err().code, Code::INVALID_ADDRESS);
        assert_eq!(parse_literal("fd00::1", 0..0).unwrap_err().code, Code::IPV6_UNSUPPORTED);
        assert_eq!(interface_address("192.168.82.4/26", 0..0).unwrap().to_string(), "192.168.82.4/26");
        assert_eq!(interface_address("192.168.82.4", 0..0).unwrap_err().code, Code::INVALID_ADDRESS);
    }
}
