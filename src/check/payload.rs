//! N210: protocols that write IP addresses into their payload break through a translation
//! unless a protocol helper rewrites the payload too, and natc sets up no helper. Seed 003
//! found FTP and Oracle broken behind its DNAT. Known from the intent: a translation that
//! matches or produces such a port, or an allow for such a port whose flows pass a
//! translation (to a DNAT's real host, or out through a SNAT).

use super::facts::Facts;
use super::index::{PrefixIndex, overlap_opt};
use super::{Findings, show};
use crate::diag::{Code, Diagnostic, Span};
use crate::model::{At, Chain, Dnat, PortRange, PortSet, Protocol, Snat};

struct PayloadProtocol {
    port: u16,
    protocols: &'static [Protocol],
    name: &'static str,
    fix: &'static str,
}

const PAYLOAD: &[PayloadProtocol] = &[
    PayloadProtocol {
        port: 21,
        protocols: &[Protocol::Tcp],
        name: "FTP",
        fix: "use SFTP, or passive FTP with the server's masquerade address configured (pasv_address), or load the nf_nat_ftp helper with a ct helper rule",
    },
    PayloadProtocol {
        port: 5060,
        protocols: &[Protocol::Udp, Protocol::Tcp],
        name: "SIP",
        fix: "let the SIP devices know their public address (STUN, outbound proxy), or use an SBC; the nf_nat_sip helper is fragile",
    },
    PayloadProtocol {
        port: 1720,
        protocols: &[Protocol::Tcp],
        name: "H.323",
        fix: "use an H.323 gatekeeper/proxy, or load the nf_nat_h323 helper with a ct helper rule",
    },
    PayloadProtocol {
        port: 1521,
        protocols: &[Protocol::Tcp],
        name: "Oracle TNS",
        fix: "configure the listener for no redirects (shared servers, or USE_SHARED_SOCKET on Windows), or reach the database without translation",
    },
];

fn ports_hold(ports: &PortSet, port: u16) -> bool {
    ports.ranges.iter().any(|r| r.first <= port && port <= r.last)
}

fn protocol_fits(protocol: Option<Protocol>, p: &PayloadProtocol) -> bool {
    protocol.is_none_or(|x| p.protocols.contains(&x))
}

/// The payload protocol a (protocol, ports) match carries, if it names one of their ports.
fn carried(protocol: Option<Protocol>, ports: &[PortRange]) -> Option<&'static PayloadProtocol> {
    PAYLOAD.iter().find(|p| protocol_fits(protocol, p) && ports.iter().any(|r| r.first <= p.port && p.port <= r.last))
}

fn warning(p: &PayloadProtocol, span: Span, through: &str) -> Diagnostic {
    Diagnostic::warning(
        Code::PAYLOAD_ADDRESSES,
        format!("{} (port {}) carries IP addresses inside its payload, and passes {through}", p.name, p.port),
    )
    .label(span, format!("{} here", p.name))
    .help(format!(
        "the translation rewrites the headers only, so the addresses inside {} stay the real ones and its data connections fail (seed 003: FTP and Oracle broke); {}",
        p.name, p.fix
    ))
}

pub fn check(facts: &Facts, found: &mut Findings) {
    for d in &facts.gw.dnats {
        let protocol = d.protocol.as_ref().map(|p| p.value);
        let matched = d.ports.as_ref().and_then(|p| carried(protocol, &p.value.ranges).map(|x| (x, p.span.clone())));
        let produced = d.to_port.as_ref().and_then(|p| carried(protocol, &[p.value]).map(|x| (x, p.span.clone())));
        if let Some((p, span)) = matched.or(produced) {
            found.push(&d.origin, warning(p, span, &format!("DNAT `{}`", d.origin.name)));
        }
    }
    for s in &facts.gw.snats {
        let protocol = s.protocol.as_ref().map(|p| p.value);
        if let Some(ports) = &s.ports
            && let Some(p) = carried(protocol, &ports.value.ranges)
        {
            found.push(&s.origin, warning(p, ports.span.clone(), &format!("SNAT `{}`", s.origin.name)));
        }
    }
    allowed_through_translation(facts, found);
}

/// An allow for a payload port whose packets go to a DNAT's real host, or out through a SNAT.
fn allowed_through_translation(facts: &Facts, found: &mut Findings) {
    let mut real_hosts: PrefixIndex<&Dnat> = PrefixIndex::default();
    for d in &facts.gw.dnats {
        real_hosts.insert(d.to.value, d);
    }
    let mut snat_sources: PrefixIndex<&Snat> = PrefixIndex::default();
    let mut snat_any_source: Vec<&Snat> = Vec::new();
    for s in &facts.gw.snats {
        match &s.source {
            Some(src) => snat_sources.insert(src.value, s),
            None if snat_any_source.len() < 64 => snat_any_source.push(s),
            None => {}
        }
    }
    for a in facts.gw.allows.iter().filter(|a| a.chain == Chain::Forward) {
        let Some(ports) = &a.ports else { continue };
        let protocol = a.protocol.as_ref().map(|p| p.value);
        let Some(p) = carried(protocol, &ports.value.ranges) else { continue };
        let dnat_port_fits = |d: &Dnat| {
            let after: Option<PortSet> = d
                .to_port
                .as_ref()
                .map(|t| PortSet { ranges: vec![t.value] })
                .or_else(|| d.ports.as_ref().map(|x| x.value.clone()));
            protocol_fits(d.protocol.as_ref().map(|x| x.value), p) && after.is_none_or(|x| ports_hold(&x, p.port))
        };
        let to_dnat = match &a.to {
            Some(to) => real_hosts.overlapping(to.value).map(|(_, d)| *d).find(|d| dnat_port_fits(d)),
            None => facts.gw.dnats.iter().take(64).find(|d| dnat_port_fits(d)),
        };
        let snat_fits = |s: &Snat| {
            protocol_fits(s.protocol.as_ref().map(|x| x.value), p)
                && s.ports.as_ref().is_none_or(|x| ports_hold(&x.value, p.port))
                && (s.out_interface.is_none()
                    || a.out_interface.is_none()
                    || s.out_interface.as_ref().map(|o| &o.value) == a.out_interface.as_ref().map(|o| &o.value))
                && overlap_opt(s.destination.as_ref().map(|x| x.value), a.to.as_ref().map(|x| x.value))
        };
        let via_snat = || {
            let sourced = match &a.from {
                Some(from) => snat_sources.overlapping(from.value).map(|(_, s)| *s).find(|s| snat_fits(s)),
                None => facts.gw.snats.iter().take(64).find(|s| snat_fits(s)),
            };
            sourced.or_else(|| snat_any_source.iter().copied().find(|s| snat_fits(s)))
        };
        let through = match (to_dnat, to_dnat.is_none().then(via_snat).flatten()) {
            (Some(d), _) => format!("DNAT `{}` (this allow lets it through to {})", d.origin.name, show(d.to.value)),
            (None, Some(s)) => format!("SNAT `{}` (this allow lets it out)", s.origin.name),
            (None, None) => continue,
        };
        let span: Span = At::clone(ports).span;
        found.push(&a.origin, warning(p, span, &through));
    }
}
