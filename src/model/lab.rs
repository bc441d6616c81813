//! The lab and expectations (docs/intent.md §5, docs/verify.md), loaded and checked for
//! references; `natc verify` gives them their meaning.

use super::{At, Networks};
use crate::diag::{Code, Diagnostic};
use crate::intent::{self, Protocol};
pub use crate::plan::{Attachment, Expect, Lab, LabHost, LabInterface, LabLink, Outcome};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Gateway name → its interface names (declared and VTIs), from the raw intent so that a
/// gateway with an error of its own causes no follow-on lab errors.
pub type GatewayInterfaces = BTreeMap<String, BTreeSet<String>>;

pub fn gateway_interfaces(gateways: &[intent::S<intent::Gateway>]) -> GatewayInterfaces {
    gateways
        .iter()
        .map(|g| {
            let g = g.get_ref();
            let mut names: BTreeSet<String> = g.interfaces.iter().map(|i| i.get_ref().name.get_ref().clone()).collect();
            names.extend(
                g.tunnel.iter().filter_map(|t| t.get_ref().vti.as_ref().map(|v| v.get_ref().name.get_ref().clone())),
            );
            names.insert("lo".into());
            (g.name.get_ref().clone(), names)
        })
        .collect()
}

fn at(s: &intent::S<String>) -> At<String> {
    At::new(s.get_ref().clone(), s.span())
}

/// `gw.interface` must name an interface of a gateway in this intent; a plain name is a segment.
fn attachment(
    end: &intent::S<String>,
    gateways: &GatewayInterfaces,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<At<Attachment>> {
    let text = end.get_ref();
    let Some((gateway, interface)) = text.split_once('.') else {
        if !super::names::check_name(end, "lab segment", out) {
            return None;
        }
        return Some(At::new(Attachment::Segment(text.clone()), end.span()));
    };
    if gateways.get(gateway).is_some_and(|ifaces| ifaces.contains(interface)) && interface != "lo" {
        return Some(At::new(
            Attachment::GatewayInterface { gateway: gateway.into(), interface: interface.into() },
            end.span(),
        ));
    }
    out.push(
        Diagnostic::error(Code::UNKNOWN_LAB_NAME, format!("{what} `{text}` is not an interface of a gateway in this intent"))
            .label(super::address::inner(end.span(), text), "no such gateway interface")
            .help("write \"gateway.interface\", e.g. \"vm02.eth0\", naming a [[gateway]] and one of its [[gateway.interface]]; a name without a dot is a lab segment"),
    );
    None
}

pub fn resolve_lab(raw: &intent::Lab, gateways: &GatewayInterfaces, nets: &Networks, out: &mut Vec<Diagnostic>) -> Lab {
    let mut hosts = Vec::new();
    let mut names = super::names::UniqueNames::default();
    for h in &raw.host {
        let h = h.get_ref();
        if gateways.contains_key(h.name.get_ref()) {
            out.push(
                Diagnostic::error(
                    Code::DUPLICATE_NAME,
                    format!("lab host `{}` has the name of a gateway", h.name.get_ref()),
                )
                .label(h.name.span(), "also a [[gateway]] name")
                .help("hosts and gateways each become a network namespace; give the host another name"),
            );
        } else if super::names::check_name(&h.name, "lab host", out) {
            names.claim(h.name.get_ref(), h.name.span(), "lab host", out);
        }
        let Some(interfaces) = host_interfaces(h, gateways, out) else { continue };
        let mut routes = Vec::new();
        for r in &h.routes {
            let r = r.get_ref();
            match (nets.host_or_prefix(&r.to), nets.host(&r.via, "a lab route's `via`")) {
                (Ok(to), Ok(via)) => {
                    if check_next_hop(&via, &interfaces, h.name.get_ref(), out) {
                        routes.push((to, via));
                    }
                }
                (Err(d), _) | (_, Err(d)) => out.push(d),
            }
        }
        let gateway = h
            .gateway
            .as_ref()
            .and_then(|g| nets.host(g, "a lab host's `gateway`").map_err(|d| out.push(d)).ok())
            .filter(|via| check_next_hop(via, &interfaces, h.name.get_ref(), out));
        let forwarding = h.forwarding.as_ref().is_some_and(|f| *f.get_ref());
        hosts.push(LabHost { name: at(&h.name), interfaces, routes, gateway, forwarding });
    }
    let mut links = Vec::new();
    for l in &raw.link {
        let ends = l.get_ref().ends.get_ref();
        if ends.len() < 2 {
            out.push(
                Diagnostic::error(Code::INVALID_VALUE, "a lab link needs at least two ends")
                    .label(l.get_ref().ends.span(), "one end only")
                    .help(
                        "write ends = [\"gw-a.eth1\", \"gw-b.eth1\"]; a host joins a gateway interface with `attach`",
                    ),
            );
        }
        let ends: Vec<_> = ends.iter().filter_map(|e| attachment(e, gateways, "link end", out)).collect();
        links.push(LabLink { ends });
    }
    Lab { hosts, links }
}

/// `address` + `attach` (one interface, eth0) or `interfaces = [...]`, not both.
fn host_interfaces(
    h: &intent::LabHost,
    gateways: &GatewayInterfaces,
    out: &mut Vec<Diagnostic>,
) -> Option<Vec<LabInterface>> {
    let pairs: Vec<(&intent::S<String>, &intent::S<String>)> = match (&h.address, &h.attach, h.interfaces.is_empty()) {
        (Some(address), Some(attach), true) => vec![(address, attach)],
        (None, None, false) => h.interfaces.iter().map(|i| (&i.get_ref().address, &i.get_ref().attach)).collect(),
        (Some(_), Some(_), false) | (Some(_), None, false) | (None, Some(_), false) => {
            out.push(
                Diagnostic::error(Code::CONFLICTING_KEYS, format!("lab host `{}` has both `address`/`attach` and `interfaces`", h.name.get_ref()))
                    .label(h.name.span(), "this host")
                    .help("a host with one interface writes address and attach; a host with several lists them all under interfaces"),
            );
            return None;
        }
        (Some(one), None, true) | (None, Some(one), true) => {
            let (has, lacks) = if h.address.is_some() { ("address", "attach") } else { ("attach", "address") };
            out.push(
                Diagnostic::error(
                    Code::MISSING_DEPENDENCY,
                    format!("lab host `{}` has `{has}` but no `{lacks}`", h.name.get_ref()),
                )
                .label(one.span(), format!("needs `{lacks}` too"))
                .help("write both: address = \"192.168.100.1/24\", attach = \"gw.eth0\" (or a segment name)"),
            );
            return None;
        }
        (None, None, true) => {
            out.push(
                Diagnostic::error(Code::MISSING_KEY, format!("lab host `{}` has no interface", h.name.get_ref()))
                    .label(h.name.span(), "this host")
                    .help("add address = \"…/len\" and attach = \"gateway.interface\" (or a segment name)"),
            );
            return None;
        }
    };
    let mut interfaces = Vec::new();
    for (address, attach) in pairs {
        let parsed = super::address::interface_address(
            address.get_ref(),
            super::address::inner(address.span(), address.get_ref()),
        );
        let attach = attachment(attach, gateways, "`attach`", out);
        match (parsed, attach) {
            (Ok(a), Some(attach)) => interfaces.push(LabInterface { address: At::new(a, address.span()), attach }),
            (Err(d), _) => out.push(d),
            (Ok(_), None) => {}
        }
    }
    Some(interfaces)
}

/// The kernel refuses a route whose next hop is on none of the host's subnets; say so at the line.
fn check_next_hop(via: &At<Ipv4Addr>, interfaces: &[LabInterface], host: &str, out: &mut Vec<Diagnostic>) -> bool {
    let on_link = interfaces.iter().any(|i| i.address.value.contains(&via.value));
    if !on_link {
        let subnets: Vec<String> = interfaces.iter().map(|i| i.address.value.trunc().to_string()).collect();
        out.push(
            Diagnostic::error(
                Code::LAB_NEXT_HOP_OFF_LINK,
                format!("next hop {} is on none of lab host `{host}`'s subnets", via.value),
            )
            .label(via.span.clone(), "not directly reachable")
            .help(format!("a next hop must be a neighbour on {}; route via an address there", subnets.join(", "))),
        );
    }
    on_link
}

pub fn resolve_expects(
    raw: &[intent::S<intent::Expect>],
    lab: Option<&Lab>,
    nets: &Networks,
    out: &mut Vec<Diagnostic>,
) -> Vec<Expect> {
    let hosts: FxHashMap<&str, ()> =
        lab.map(|l| l.hosts.iter().map(|h| (h.name.value.as_str(), ())).collect()).unwrap_or_default();
    let mut names = super::names::UniqueNames::default();
    let mut expects = Vec::new();
    for e in raw {
        let e = e.get_ref();
        names.claim(e.name.get_ref(), e.name.span(), "expectation", out);
        let mut ok = true;
        for name in std::iter::once(&e.from).chain(e.arrives_at.as_ref()) {
            if !hosts.contains_key(name.get_ref().as_str()) {
                ok = false;
                out.push(
                    Diagnostic::error(Code::UNKNOWN_LAB_NAME, format!("no lab host named `{}`", name.get_ref()))
                        .label(name.span(), "not a [[lab.host]]")
                        .help("expectations name the lab hosts that send and receive; declare it under [[lab.host]]"),
                );
            }
        }
        let to = nets.host(&e.to, "an expectation's `to`").map_err(|d| out.push(d)).ok();
        let protocol = expect_protocol(e, out);
        let port = protocol.and_then(|p| expect_port(e, p, out));
        let outcome = expect_outcome(e, protocol, nets, out);
        if let (true, Some(to), Some(protocol), Some(port), Some(outcome)) = (ok, to, protocol, port, outcome) {
            expects.push(Expect { name: at(&e.name), from: at(&e.from), to, protocol, port, outcome });
        }
    }
    expects
}

/// icmp (the default), tcp or udp: what a probe can send.
fn expect_protocol(e: &intent::Expect, out: &mut Vec<Diagnostic>) -> Option<Protocol> {
    match e.protocol.as_ref().map(|p| (*p.get_ref(), p.span())) {
        None => Some(Protocol::Icmp),
        Some((p @ (Protocol::Icmp | Protocol::Tcp | Protocol::Udp), _)) => Some(p),
        Some((_, span)) => {
            out.push(
                Diagnostic::error(Code::INVALID_VALUE, "an expectation sends icmp, tcp or udp")
                    .label(span, "not a protocol a probe can send")
                    .help("write protocol = \"icmp\" (ping), \"tcp\" or \"udp\" with a port"),
            );
            None
        }
    }
}

/// `Some(None)`: icmp, no port. `None`: an error was reported.
fn expect_port(e: &intent::Expect, protocol: Protocol, out: &mut Vec<Diagnostic>) -> Option<Option<u16>> {
    let needs_port = protocol != Protocol::Icmp;
    match (&e.port, needs_port) {
        (None, false) => {
            if let Some(p) = &e.seen_port {
                out.push(
                    Diagnostic::error(Code::PORT_WITHOUT_PROTOCOL, "`seen_port` needs protocol tcp or udp")
                        .label(p.span(), "an icmp expectation has no port"),
                );
                return None;
            }
            Some(None)
        }
        (None, true) => {
            out.push(
                Diagnostic::error(Code::MISSING_KEY, format!("a {} expectation needs a `port`", protocol.as_str()))
                    .label(e.name.span(), "this expectation")
                    .help("add port = 22 (the destination port the sender connects to)"),
            );
            None
        }
        (Some(p), false) => {
            out.push(
                Diagnostic::error(Code::PORT_WITHOUT_PROTOCOL, "an icmp expectation has no port")
                    .label(p.span(), "a port here")
                    .help("write protocol = \"tcp\" or \"udp\", or remove the port"),
            );
            None
        }
        (Some(p), true) => probe_port(p, out).map(Some),
    }
}

fn probe_port(p: &intent::S<i64>, out: &mut Vec<Diagnostic>) -> Option<u16> {
    match u16::try_from(*p.get_ref()) {
        Ok(v) if v > 0 => Some(v),
        _ => {
            out.push(
                Diagnostic::error(Code::INVALID_PORT, "an expectation's port runs from 1 to 65535")
                    .label(p.span(), "this port"),
            );
            None
        }
    }
}

fn expect_outcome(
    e: &intent::Expect,
    protocol: Option<Protocol>,
    nets: &Networks,
    out: &mut Vec<Diagnostic>,
) -> Option<Outcome> {
    let blocked = e.blocked.as_ref().filter(|b| *b.get_ref());
    match (&e.arrives_at, blocked) {
        (Some(host), None) => {
            let addr = |v: &Option<intent::S<String>>, out: &mut Vec<Diagnostic>| {
                v.as_ref().and_then(|s| nets.host_or_prefix(s).map_err(|d| out.push(d)).ok())
            };
            let seen_source = addr(&e.seen_source, out);
            let seen_destination = addr(&e.seen_destination, out);
            let seen_port = match &e.seen_port {
                Some(p) if protocol != Some(Protocol::Icmp) => Some(At::new(probe_port(p, out)?, p.span())),
                _ => None,
            };
            Some(Outcome::Arrives { host: at(host), seen_source, seen_destination, seen_port })
        }
        (None, Some(b)) => {
            let seen = [&e.seen_source, &e.seen_destination].into_iter().flatten().map(|s| s.span());
            if let Some(span) = seen.chain(e.seen_port.iter().map(|p| p.span())).next() {
                out.push(
                    Diagnostic::error(Code::CONFLICTING_KEYS, "a blocked expectation has nothing to see")
                        .label(span, "seen_* describes an arrival")
                        .label(b.span(), "blocked")
                        .help("remove the seen_* keys, or expect arrives_at = \"host\" instead"),
                );
                return None;
            }
            Some(Outcome::Blocked { span: b.span() })
        }
        (Some(host), Some(b)) => {
            out.push(
                Diagnostic::error(Code::CONFLICTING_KEYS, "an expectation either arrives or is blocked")
                    .label(host.span(), "arrives here")
                    .label(b.span(), "and is blocked")
                    .help("keep one of arrives_at and blocked = true"),
            );
            None
        }
        (None, None) => {
            out.push(
                Diagnostic::error(
                    Code::MISSING_KEY,
                    format!("expectation `{}` says neither where it arrives nor that it is blocked", e.name.get_ref()),
                )
                .label(e.name.span(), "this expectation")
                .help("add arrives_at = \"host\" (with seen_source etc.) or blocked = true"),
            );
            None
        }
    }
}
