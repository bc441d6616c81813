//! The lab and expectations (INTENT.md §4), loaded and checked for references; the
//! `verify` and `trace` commands give them their meaning.

use super::{At, Networks};
use crate::diag::{Code, Diagnostic};
use crate::intent::{self, Protocol};
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, BTreeSet, HashSet};

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

/// `gateway.interface` must name an interface of a gateway in this intent.
fn check_gateway_end(end: &intent::S<String>, gateways: &GatewayInterfaces, what: &str, out: &mut Vec<Diagnostic>) {
    let text = end.get_ref();
    let known = text.split_once('.').and_then(|(g, i)| gateways.get(g).map(|ifaces| ifaces.contains(i)));
    if known != Some(true) {
        out.push(
            Diagnostic::error(Code::UNKNOWN_LAB_NAME, format!("{what} `{text}` is not an interface of a gateway in this intent"))
                .label(super::address::inner(end.span(), text), "no such gateway interface")
                .help("write \"gateway.interface\", e.g. \"vm02.eth0\", naming a [[gateway]] and one of its [[gateway.interface]]"),
        );
    }
}

#[derive(Debug, Clone)]
pub struct Lab {
    pub hosts: Vec<LabHost>,
    pub links: Vec<LabLink>,
}

#[derive(Debug, Clone)]
pub struct LabHost {
    pub name: At<String>,
    pub address: At<Ipv4Net>,
    pub attach: At<String>,
    pub routes: Vec<(At<Ipv4Net>, At<std::net::Ipv4Addr>)>,
    pub gateway: Option<At<std::net::Ipv4Addr>>,
}

#[derive(Debug, Clone)]
pub struct LabLink {
    pub ends: Vec<At<String>>,
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub name: At<String>,
    pub from: At<String>,
    pub to: At<Ipv4Net>,
    pub protocol: Option<Protocol>,
    pub port: Option<u16>,
    pub arrives_at: Option<At<String>>,
    pub blocked: bool,
    pub seen_source: Option<At<Ipv4Net>>,
    pub seen_destination: Option<At<Ipv4Net>>,
}

fn at(s: &intent::S<String>) -> At<String> {
    At::new(s.get_ref().clone(), s.span())
}

pub fn resolve_lab(raw: &intent::Lab, gateways: &GatewayInterfaces, nets: &Networks, out: &mut Vec<Diagnostic>) -> Lab {
    let mut hosts = Vec::new();
    let mut names = super::names::UniqueNames::default();
    for g in gateways.keys() {
        // Gateways and hosts share one namespace: each becomes a network namespace of that name.
        names.claim(g, 0..0, "lab host", &mut Vec::new());
    }
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
        } else {
            names.claim(h.name.get_ref(), h.name.span(), "lab host", out);
        }
        // A dotted attach names a gateway interface; a plain name is a lab segment.
        if h.attach.get_ref().contains('.') {
            check_gateway_end(&h.attach, gateways, "`attach`", out);
        }
        let address = match super::address::interface_address(
            h.address.get_ref(),
            super::address::inner(h.address.span(), h.address.get_ref()),
        ) {
            Ok(a) => At::new(a, h.address.span()),
            Err(d) => {
                out.push(d);
                continue;
            }
        };
        let mut routes = Vec::new();
        for r in &h.routes {
            let r = r.get_ref();
            match (nets.host_or_prefix(&r.to), nets.host(&r.via, "a lab route's `via`")) {
                (Ok(to), Ok(via)) => routes.push((to, via)),
                (Err(d), _) | (_, Err(d)) => out.push(d),
            }
        }
        let gateway =
            h.gateway.as_ref().and_then(|g| nets.host(g, "a lab host's `gateway`").map_err(|d| out.push(d)).ok());
        hosts.push(LabHost { name: at(&h.name), address, attach: at(&h.attach), routes, gateway });
    }
    for l in &raw.link {
        for end in l.get_ref().ends.get_ref() {
            check_gateway_end(end, gateways, "link end", out);
        }
    }
    let links =
        raw.link.iter().map(|l| LabLink { ends: l.get_ref().ends.get_ref().iter().map(at).collect() }).collect();
    Lab { hosts, links }
}

pub fn resolve_expects(
    raw: &[intent::S<intent::Expect>],
    lab: Option<&Lab>,
    nets: &Networks,
    out: &mut Vec<Diagnostic>,
) -> Vec<Expect> {
    let hosts: HashSet<&str> = lab.map(|l| l.hosts.iter().map(|h| h.name.value.as_str()).collect()).unwrap_or_default();
    let mut expects = Vec::new();
    for e in raw {
        let e = e.get_ref();
        for name in std::iter::once(&e.from).chain(e.arrives_at.as_ref()) {
            if !hosts.contains(name.get_ref().as_str()) {
                out.push(
                    Diagnostic::error(Code::UNKNOWN_LAB_NAME, format!("no lab host named `{}`", name.get_ref()))
                        .label(name.span(), "not a [[lab.host]]")
                        .help("expectations name the lab hosts that send and receive; declare it under [[lab.host]]"),
                );
            }
        }
        let addr = |v: &Option<intent::S<String>>, out: &mut Vec<Diagnostic>| {
            v.as_ref().and_then(|s| nets.host_or_prefix(s).map_err(|d| out.push(d)).ok())
        };
        let Ok(to) = nets.host_or_prefix(&e.to).map_err(|d| out.push(d)) else { continue };
        let port = match &e.port {
            Some(p) => match u16::try_from(*p.get_ref()) {
                Ok(v) if v > 0 => Some(v),
                _ => {
                    out.push(
                        Diagnostic::error(Code::INVALID_PORT, "an expectation's port runs from 1 to 65535")
                            .label(p.span(), "this port"),
                    );
                    None
                }
            },
            None => None,
        };
        expects.push(Expect {
            name: at(&e.name),
            from: at(&e.from),
            to,
            protocol: e.protocol.as_ref().map(|p| *p.get_ref()),
            port,
            arrives_at: e.arrives_at.as_ref().map(at),
            blocked: e.blocked.as_ref().is_some_and(|b| *b.get_ref()),
            seen_source: addr(&e.seen_source, out),
            seen_destination: addr(&e.seen_destination, out),
        });
    }
    expects
}
