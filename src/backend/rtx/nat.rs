//! NAT descriptors: one per interface that translates (command reference ch. 23). A descriptor is bound
//! to its interface; the network behind that interface is the outer side. natc's items map
//! onto it as follows, and everything else is refused (N301):
//!
//! - a masquerade, or a SNAT to one address (NAPT): type `masquerade`, `address outer`
//!   `primary` / the address, `address inner` the source range (or `auto`);
//! - a 1:1 map (host or prefix): `nat descriptor static`, which is two-way, so it needs both
//!   halves in the intent: a dnat V→R *and* a snat R→V on the same interface;
//! - a port forward on the masquerade address: `nat descriptor masquerade static`.

use super::{Block, Ctx, DESCRIPTOR_IDS, ENTRY_IDS, IfClass, classify};
use crate::backend::describe;
use crate::backend::numbering::{self, FirstNesting, Request};
use crate::plan::{GatewayPlan, PortStep, Step, Translation};
use crate::vocab::Protocol;
use ipnet::Ipv4Net;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

pub struct Nat {
    /// `{if} nat descriptor D` per interface; `{if}` becomes `ip lan3` or `ip tunnel`.
    pub bindings: Vec<(String, Block)>,
    pub definitions: Vec<Block>,
}

/// Interfaces named by a translation, in intent order.
pub fn interfaces_with_nat(gw: &GatewayPlan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let names = gw.snat.iter().filter_map(|t| t.matcher.out_interface.clone());
    for n in names.chain(gw.dnat.iter().filter_map(|t| t.matcher.in_interface.clone())) {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

enum Outer {
    Primary,
    Address(Ipv4Addr),
}

struct Masq<'a> {
    t: &'a Translation,
    outer: Outer,
    source: Option<Ipv4Net>,
}

/// One `nat descriptor static` entry and the two intent items that together say it.
struct StaticMap<'a> {
    outer: Ipv4Net,
    inner: Ipv4Net,
    dnat: Option<&'a Translation>,
    snat: Option<&'a Translation>,
}

struct Forward<'a> {
    t: &'a Translation,
    inner: Ipv4Addr,
    /// `tcp`, `udp`, `esp`, or a protocol number (gre and ah too: [CR] §23.8 lists no
    /// mnemonic for them, only numbers).
    protocol: String,
    /// (outer, inner) port per entry; `None` for a protocol without ports.
    ports: Vec<Option<(u16, u16)>>,
}

fn range(net: Ipv4Net) -> String {
    if net.prefix_len() == 32 { net.addr().to_string() } else { format!("{}-{}", net.network(), net.broadcast()) }
}

/// An address as people write it: a host without `/32`.
fn show(net: Ipv4Net) -> String {
    if net.prefix_len() == 32 { net.addr().to_string() } else { net.to_string() }
}

fn has_match_beyond_address(t: &Translation) -> bool {
    t.matcher.protocol.is_some_and(|p| p != Protocol::Any) || t.matcher.ports.is_some()
}

pub fn descriptors(cx: &mut Ctx) -> Nat {
    let gw = cx.gw;
    let usable = |t: &Translation, iface: &Option<String>, cx: &mut Ctx, side: &str| -> Option<String> {
        let Some(iface) = iface else {
            cx.refuse(
                &t.origin,
                &format!("RTX translates on an interface's NAT descriptor, and this item names no {side} interface"),
                &format!("add {side}_interface = \"lan2\" (the interface towards the outer network)"),
            );
            return None;
        };
        match classify(iface) {
            Some(IfClass::Lan | IfClass::Tunnel(_)) => Some(iface.clone()),
            None => {
                cx.refuse(
                    &t.origin,
                    &format!("`{iface}` is not an RTX interface, so no NAT descriptor can be bound to it"),
                    "translate on a LAN interface (lan1, lan1.1, vlan1, wan1) or a tunnel (tunnel1)",
                );
                None
            }
            _ => {
                cx.refuse(
                    &t.origin,
                    &format!("`{iface}` cannot carry an RTX NAT descriptor (LAN and tunnel interfaces only)"),
                    "translate on a LAN interface (lan1, lan1.1, vlan1, wan1) or a tunnel (tunnel1)",
                );
                None
            }
        }
    };
    // A hairpin's translations are refused once, for their DNAT (mod.rs, refuse_unsupported).
    let snats: Vec<(String, &Translation)> = gw
        .snat
        .iter()
        .filter(|t| !t.hairpin)
        .filter_map(|t| usable(t, &t.matcher.out_interface, cx, "out").map(|i| (i, t)))
        .collect();
    let dnats: Vec<(String, &Translation)> = gw
        .dnat
        .iter()
        .filter(|t| !t.hairpin)
        .filter_map(|t| usable(t, &t.matcher.in_interface, cx, "in").map(|i| (i, t)))
        .collect();

    let mut built = Vec::new();
    for iface in interfaces_with_nat(gw) {
        let s: Vec<&Translation> = snats.iter().filter(|(i, _)| *i == iface).map(|(_, t)| *t).collect();
        let d: Vec<&Translation> = dnats.iter().filter(|(i, _)| *i == iface).map(|(_, t)| *t).collect();
        if !s.is_empty() || !d.is_empty() {
            built.push(interface_descriptor(cx, &iface, &s, &d));
        }
    }

    let requests: Vec<Request> = built.iter().map(|b| Request::unordered(format!("nat/{}", b.iface))).collect();
    let ids = match numbering::assign(&requests, DESCRIPTOR_IDS) {
        Ok(ids) => ids,
        Err(_) => {
            if let Some(t) = gw.snat.first().or(gw.dnat.first()) {
                cx.refuse(&t.origin, "natc's NAT descriptor numbers are used up", "use fewer interfaces with NAT");
            }
            return Nat { bindings: Vec::new(), definitions: Vec::new() };
        }
    };
    let mut order: Vec<(u32, Built)> = ids.into_iter().zip(built).collect();
    order.sort_by_key(|(id, _)| *id);
    let mut nat = Nat { bindings: Vec::new(), definitions: Vec::new() };
    for (id, b) in order {
        render_descriptor(cx, id, b, &mut nat);
    }
    nat
}

/// The comments of a static entry: each translation's origin, and its item's description
/// once (a netmap's two halves share one entry and one description).
fn static_comments<'a>(gw: &GatewayPlan, translations: impl Iterator<Item = &'a Translation>) -> Vec<String> {
    let mut comments = Vec::new();
    let mut described: Vec<&crate::vocab::Origin> = Vec::new();
    for t in translations {
        if described.iter().any(|o| o.kind == t.origin.kind && o.name == t.origin.name) {
            comments.push(t.comment());
        } else {
            comments.extend(describe::comment_block(gw, &t.origin, t.comment()));
            described.push(&t.origin);
        }
    }
    comments
}

/// One numbered entry before numbering: (stable key, origin comments, the line's tail).
type Entry = (String, Vec<String>, String);

/// One interface's descriptor, before numbering: its header lines and entries.
struct Built {
    iface: String,
    comments: Vec<String>,
    kind: &'static str,
    outer: String,
    inner: String,
    /// (entry key, origin comments, line after `nat descriptor static D E `)
    statics: Vec<Entry>,
    /// (entry key, origin comment, line after `nat descriptor masquerade static D E `)
    forwards: Vec<Entry>,
}

fn interface_descriptor(cx: &mut Ctx, iface: &str, snats: &[&Translation], dnats: &[&Translation]) -> Built {
    let tunnel = matches!(classify(iface), Some(IfClass::Tunnel(_)));
    let mut masq: Option<Masq> = None;
    let mut forwards: Vec<Forward> = Vec::new();

    // (outer, inner) of every host dnat that could be one half of a static entry: one
    // look-up per snat instead of a scan of every dnat.
    let host_dnats: HashSet<(Ipv4Addr, Ipv4Addr)> = dnats
        .iter()
        .filter(|d| !has_match_beyond_address(d))
        .filter_map(|d| match (d.matcher.destination, &d.step) {
            (Some(v), Step::SetAddress(inner, None)) if v.prefix_len() == 32 => Some((v.addr(), *inner)),
            _ => None,
        })
        .collect();
    let host_dnat = |outer: Ipv4Addr, inner: Ipv4Addr| host_dnats.contains(&(outer, inner));
    let mut statics = Statics::default();
    for &s in snats {
        if s.matcher.destination.is_some() || has_match_beyond_address(s) {
            cx.refuse(
                &s.origin,
                "an RTX NAT descriptor chooses what to translate by inner source address only",
                "drop the destination, protocol and port match from this snat",
            );
            continue;
        }
        let source = s.matcher.source;
        let candidate = match &s.step {
            Step::Masquerade => {
                let outer = match cx.primary_address(iface) {
                    Some(a) if tunnel => Outer::Address(a.addr()),
                    _ => Outer::Primary,
                };
                Some(outer)
            }
            Step::SetAddress(a, _) if source.is_some_and(|n| n.prefix_len() == 32 && host_dnat(*a, n.addr())) => {
                let inner = source.unwrap_or_default();
                statics.add(Ipv4Net::from(*a), inner, None, Some(s));
                None
            }
            Step::SetAddress(a, _) => Some(Outer::Address(*a)),
            Step::ShiftIntoPrefix(p) => {
                match source {
                    Some(inner) => statics.add(*p, inner, None, Some(s)),
                    None => cx.refuse(&s.origin, "a 1:1 map needs its source", "add source"),
                }
                None
            }
            Step::NoNat => {
                cx.refuse(&s.origin, "an RTX NAT descriptor has no exemption entry", "remove the exemption");
                None
            }
        };
        if let Some(outer) = candidate {
            if let Some(first) = &masq {
                cx.refuse(
                    &s.origin,
                    &format!(
                        "an RTX descriptor masquerades to one address, and {} already masquerades on {iface}",
                        first.t.origin.describe()
                    ),
                    "merge the two into one snat (one source prefix), or masquerade on another interface",
                );
            } else {
                masq = Some(Masq { t: s, outer, source });
            }
        }
    }

    for &d in dnats {
        let what = classify_dnat(cx, d);
        match what {
            Some(DnatKind::Static(outer, inner)) => statics.add(outer, inner, Some(d), None),
            Some(DnatKind::Forward(f)) => forwards.push(f),
            None => {}
        }
    }

    let statics = statics.list;
    let outers = check_statics(cx, iface, snats, dnats, &statics);
    let masq_outer = masq.as_ref().and_then(|m| match m.outer {
        Outer::Primary => cx.primary_address(iface).map(|a| a.addr()),
        Outer::Address(a) => Some(a),
    });
    // (protocol, outer port) → the item that forwards it first.
    let mut seen: HashMap<(&str, Option<u16>), String> = HashMap::new();
    let mut forward_entries = Vec::new();
    for f in &forwards {
        let Some(m) = &masq else {
            cx.refuse(&f.t.origin, &format!("a port forward on RTX is a static IP-masquerade entry, and {iface} has no masquerade"),
                &format!("add a [[gateway.snat]] with out_interface = \"{iface}\" and to = \"masquerade\" (or the address) covering {}", f.inner));
            continue;
        };
        let v = f.t.matcher.destination.map(|n| n.addr());
        if v.is_none() || v != masq_outer {
            let outer = masq_outer.map_or_else(
                || format!("the primary address of {iface}, which the intent does not declare"),
                |a| a.to_string(),
            );
            cx.refuse(
                &f.t.origin,
                &format!("RTX forwards ports only on the masquerade address ({outer})"),
                "forward ports of the masquerade address, or map the whole address 1:1 (a dnat plus the reverse snat)",
            );
            continue;
        }
        if m.source.is_some_and(|src| !src.contains(&f.inner)) {
            cx.refuse(
                &f.t.origin,
                &format!(
                    "the RTX entry also translates the outbound packets of {}, which {} does not masquerade",
                    f.inner,
                    m.t.origin.describe()
                ),
                &format!("let the masquerade's source cover {}", f.inner),
            );
            continue;
        }
        if v.is_some_and(|v| outers.first_around(Ipv4Net::from(v)).is_some()) {
            cx.refuse(&f.t.origin, "its address is also a static NAT outer address", "remove one of the two mappings");
            continue;
        }
        let mut lines = Vec::new();
        for p in &f.ports {
            let outer_port = p.map(|(o, _)| o);
            if let Some(by) = seen.get(&(f.protocol.as_str(), outer_port)) {
                cx.refuse(
                    &f.t.origin,
                    &format!(
                        "{} {} is already forwarded by {by}, so this entry could never match",
                        f.protocol,
                        outer_port.map_or(String::new(), |p| p.to_string())
                    ),
                    "remove the shadowed port",
                );
                continue;
            }
            seen.insert((&f.protocol, outer_port), f.t.origin.describe());
            let port = match p {
                Some((o, i)) if o == i => format!(" {o}"),
                Some((o, i)) => format!(" {o}={i}"),
                None => String::new(),
            };
            let key = match outer_port {
                Some(o) if f.ports.len() > 1 => format!("{}/{o}", key_of(f.t)),
                _ => key_of(f.t),
            };
            let comments = describe::comment_block(cx.gw, &f.t.origin, f.t.comment());
            lines.push((key, comments, format!("{} {}{port}", f.inner, f.protocol)));
        }
        forward_entries.extend(lines);
    }

    let (kind, outer, inner, mut comments) = match &masq {
        Some(m) => (
            "masquerade",
            match m.outer {
                Outer::Primary => "primary".to_string(),
                Outer::Address(a) => a.to_string(),
            },
            m.source.map_or("auto".to_string(), range),
            describe::comment_block(cx.gw, &m.t.origin, format!("{} (masquerade)", m.t.comment())),
        ),
        None => (
            "nat",
            statics.iter().map(|s| range(s.outer)).collect::<Vec<_>>().join(" "),
            statics.iter().map(|s| range(s.inner)).collect::<Vec<_>>().join(" "),
            vec!["static NAT only: outer and inner pinned to the mapped ranges, so no dynamic NAT happens".into()],
        ),
    };
    comments.insert(0, format!("NAT descriptor on {iface}"));
    let static_entries = statics
        .iter()
        .map(|s| {
            let origins = static_comments(cx.gw, s.dnat.iter().chain(s.snat.iter()).copied());
            let key = s.dnat.or(s.snat).map(key_of).unwrap_or_default();
            let count = 1u64 << (32 - s.inner.prefix_len());
            let count = if count > 1 { format!(" {count}") } else { String::new() };
            (key, origins, format!("{}={}{count}", s.outer.network(), s.inner.network()))
        })
        .collect();
    Built { iface: iface.to_string(), comments, kind, outer, inner, statics: static_entries, forwards: forward_entries }
}

fn key_of(t: &Translation) -> String {
    format!("{}/{}", t.origin.kind.as_str(), t.origin.name)
}

/// The item an entry key (`dnat/web`, `dnat/web/443`) was made from.
fn origin_of(gw: &GatewayPlan, key: &str) -> Option<crate::vocab::Origin> {
    gw.dnat
        .iter()
        .chain(&gw.snat)
        .find(|t| key_of(t) == key || key.starts_with(&format!("{}/", key_of(t))))
        .map(|t| t.origin.clone())
}

/// The static entries of one descriptor in intent order, with an index by (outer, inner)
/// so that a dnat finds its snat half (or the other way round) in one look-up.
#[derive(Default)]
struct Statics<'a> {
    list: Vec<StaticMap<'a>>,
    by_pair: HashMap<(Ipv4Net, Ipv4Net), Vec<usize>>,
}

impl<'a> Statics<'a> {
    /// Completes the first entry of the same (outer, inner) that lacks this half, or adds one.
    fn add(&mut self, outer: Ipv4Net, inner: Ipv4Net, dnat: Option<&'a Translation>, snat: Option<&'a Translation>) {
        let same = self.by_pair.entry((outer, inner)).or_default();
        let list = &mut self.list;
        let free = same
            .iter()
            .copied()
            .find(|&i| (dnat.is_none() || list[i].dnat.is_none()) && (snat.is_none() || list[i].snat.is_none()));
        match free {
            Some(i) => {
                let s = &mut list[i];
                s.dnat = s.dnat.or(dnat);
                s.snat = s.snat.or(snat);
            }
            None => {
                same.push(list.len());
                list.push(StaticMap { outer, inner, dnat, snat });
            }
        }
    }
}

enum DnatKind<'a> {
    Static(Ipv4Net, Ipv4Net),
    Forward(Forward<'a>),
}

fn classify_dnat<'a>(cx: &mut Ctx, d: &'a Translation) -> Option<DnatKind<'a>> {
    let refuse = |cx: &mut Ctx, what: &str, help: &str| {
        cx.refuse(&d.origin, what, help);
        None
    };
    let destination = d.matcher.destination?;
    if d.matcher.source.is_some() {
        return refuse(
            cx,
            "an RTX NAT descriptor matches no source address, so the dnat would apply to every sender",
            "drop `source` (and the peer restriction of a netmap), or build this gateway for a Linux target",
        );
    }
    let protocol = d.matcher.protocol.filter(|p| *p != Protocol::Any);
    match (&d.step, protocol) {
        (Step::ShiftIntoPrefix(to), None) if d.matcher.ports.is_none() => Some(DnatKind::Static(destination, *to)),
        (Step::ShiftIntoPrefix(_), _) => refuse(
            cx,
            "RTX static NAT maps whole addresses, for every protocol and port",
            "drop protocol, port and to_port from the 1:1 map",
        ),
        (Step::SetAddress(..), _) if destination.prefix_len() != 32 => refuse(
            cx,
            "RTX maps addresses 1:1 (static NAT) or ports of the masquerade address; not a whole prefix onto one host",
            "write `to` as a prefix of the same length (1:1), or one dnat per address",
        ),
        (Step::SetAddress(to, None), None) => Some(DnatKind::Static(destination, Ipv4Net::from(*to))),
        (Step::SetAddress(to, _), Some(Protocol::Esp)) => {
            Some(DnatKind::Forward(Forward { t: d, inner: *to, protocol: "esp".into(), ports: vec![None] }))
        }
        (Step::SetAddress(to, _), Some(p @ (Protocol::Gre | Protocol::Ah | Protocol::Number(_)))) => {
            let protocol = p.iana().unwrap_or_default().to_string();
            Some(DnatKind::Forward(Forward { t: d, inner: *to, protocol, ports: vec![None] }))
        }
        (Step::SetAddress(to, port_step), Some(p @ (Protocol::Tcp | Protocol::Udp))) => {
            let Some(ports) = &d.matcher.ports else {
                return refuse(
                    cx,
                    "an RTX port forward (masquerade static) needs a port",
                    "list the ports to forward, or map the whole address 1:1",
                );
            };
            if ports.ranges.iter().any(|r| !r.is_single()) || matches!(port_step, Some(PortStep::Shift(_))) {
                return refuse(
                    cx,
                    "an RTX masquerade static entry forwards one port, not a port range",
                    "list the ports one by one (\"80,443\"), without a to_port range",
                );
            }
            let to_port = match port_step {
                Some(PortStep::Set(port)) => Some(*port),
                _ => None,
            };
            if to_port.is_some() && ports.ranges.len() > 1 {
                return refuse(
                    cx,
                    "several RTX entries onto one inner port would make the way back ambiguous",
                    "write one dnat per port",
                );
            }
            let protocol = if p == Protocol::Tcp { "tcp" } else { "udp" }.to_string();
            let ports = ports.ranges.iter().map(|r| Some((r.first, to_port.unwrap_or(r.first)))).collect();
            Some(DnatKind::Forward(Forward { t: d, inner: *to, protocol, ports }))
        }
        _ => refuse(
            cx,
            "natc writes RTX masquerade static entries for tcp or udp ports and for whole protocols other than icmp",
            "forward tcp/udp ports or another protocol, or map the whole address 1:1",
        ),
    }
}

/// A static entry is two-way, so it is exact only if the intent says both directions, and
/// nothing earlier in the intent catches either direction first (RTX: static wins).
///
/// Returns the statics' outer prefixes, indexed, for the port forwards' check.
fn check_statics(
    cx: &mut Ctx,
    iface: &str,
    snats: &[&Translation],
    dnats: &[&Translation],
    statics: &[StaticMap],
) -> FirstNesting {
    let mut snat_sources = FirstNesting::default();
    for (i, t) in snats.iter().enumerate() {
        snat_sources.record(t.matcher.source, i);
    }
    let mut dnat_destinations = FirstNesting::default();
    for (i, t) in dnats.iter().enumerate() {
        if let Some(v) = t.matcher.destination {
            dnat_destinations.record(Some(v), i);
        }
    }
    // The statics before the current one, by outer and by inner prefix.
    let (mut outers, mut inners) = (FirstNesting::default(), FirstNesting::default());
    for (n, s) in statics.iter().enumerate() {
        let (outer, inner) = (show(s.outer), show(s.inner));
        match (s.dnat, s.snat) {
            (Some(d), None) => cx.refuse(&d.origin,
                &format!("RTX static NAT is two-way: new connections from {inner} leaving {iface} would also get the source {outer}, which no snat says"),
                &format!("add a [[gateway.snat]] with source = \"{inner}\", to = \"{outer}\", out_interface = \"{iface}\", before any other snat on {iface}")),
            (None, Some(t)) => cx.refuse(&t.origin,
                &format!("RTX static NAT is two-way: packets for {outer} arriving on {iface} would also be delivered to {inner}, which no dnat says"),
                &format!("add a [[gateway.dnat]] with destination = \"{outer}\", to = \"{inner}\", in_interface = \"{iface}\"")),
            (Some(d), Some(t)) => {
                let first_snat = snat_sources.first(s.inner).map(|i| &snats[i]);
                if let Some(f) = first_snat.filter(|f| !std::ptr::eq(**f, t)) {
                    cx.refuse(&t.origin, &format!("{} comes first in the intent and also translates {inner}, but on RTX the static entry would win", f.origin.describe()),
                        &format!("move this snat before {}", f.origin.describe()));
                }
                let first_dnat = dnat_destinations.first(s.outer).map(|i| &dnats[i]);
                if let Some(f) = first_dnat.filter(|f| !std::ptr::eq(**f, d)) {
                    cx.refuse(&d.origin, &format!("{} comes first in the intent and also matches {outer}, but on RTX the static entry would win", f.origin.describe()),
                        &format!("move this dnat before {}", f.origin.describe()));
                }
            }
            (None, None) => {}
        }
        let earlier = outers.first(s.outer).into_iter().chain(inners.first(s.inner)).min();
        outers.record(Some(s.outer), n);
        inners.record(Some(s.inner), n);
        if let Some(e) = earlier.map(|i| &statics[i]) {
            let Some(t) = s.dnat.or(s.snat) else { continue };
            let by = e.dnat.or(e.snat).map(|x| x.origin.describe()).unwrap_or_default();
            cx.refuse(
                &t.origin,
                &format!("its static NAT range overlaps the one of {by}"),
                "make the two mappings disjoint",
            );
        }
    }
    outers
}

fn render_descriptor(cx: &mut Ctx, id: u32, b: Built, nat: &mut Nat) {
    nat.bindings.push((
        b.iface.clone(),
        Block {
            comments: vec![format!("NAT descriptor {id} translates on {}", b.iface)],
            lines: vec![format!("{{if}} nat descriptor {id}")],
        },
    ));
    nat.definitions.push(Block {
        comments: b.comments,
        lines: vec![
            format!("nat descriptor type {id} {}", b.kind),
            format!("nat descriptor address outer {id} {}", b.outer),
            format!("nat descriptor address inner {id} {}", b.inner),
        ],
    });
    for (entries, what) in [(b.statics, "static"), (b.forwards, "masquerade static")] {
        let requests: Vec<Request> = entries.iter().map(|(k, _, _)| Request::unordered(k.clone())).collect();
        let numbers = match numbering::assign(&requests, ENTRY_IDS) {
            Ok(numbers) => numbers,
            Err(full) => {
                // Numbering stops at the first entry that finds no free number: name it.
                if let Some(o) = origin_of(cx.gw, &full.key) {
                    cx.refuse(
                        &o,
                        &format!(
                            "NAT descriptor {id} on {} is full: natc numbers its {what} entries {}-{}, and this is the first of its {} entries that does not fit",
                            b.iface,
                            ENTRY_IDS.start(),
                            ENTRY_IDS.end(),
                            entries.len()
                        ),
                        "translate the rest on another interface, or merge host mappings into prefix maps (one entry per prefix)",
                    );
                }
                continue;
            }
        };
        let mut numbered: Vec<(u32, Entry)> = numbers.into_iter().zip(entries).collect();
        numbered.sort_by_key(|(n, _)| *n);
        for (n, (_, comments, line)) in numbered {
            nat.definitions.push(Block { comments, lines: vec![format!("nat descriptor {what} {id} {n} {line}")] });
        }
    }
}
