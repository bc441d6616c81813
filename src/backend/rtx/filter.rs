//! IP filters (command reference §8.1). RTX applies a list per interface and direction; the first
//! filter that matches decides, and a packet that matches none is **discarded**. natc keeps
//! netfilter's meaning as follows (docs/rtx.md has the reasoning):
//!
//! - `forward = "accept"` and `input = "accept"`: no list is applied at all (an applied list
//!   would discard); allow items are then no-ops, as under netfilter, and appear as comments.
//! - `forward = "drop"`: the gateway must have exactly two forwarding interfaces; every
//!   forwarded packet then crosses the filtered one, W (the one with NAT), once: traffic
//!   leaving through W is decided by `ip W secure filter out`, traffic arriving through W
//!   by `ip W secure filter in`. Stateful allows add a dynamic filter (dynamic.rs) so
//!   replies come back through the opposite list. The out list first passes the router's
//!   own traffic (netfilter's OUTPUT is not filtered).
//! - `input = "accept"`: W's in list first passes traffic for the router itself.
//! - `input = "drop"`: every forwarding interface gets an in list that passes, for the
//!   router, only what the input allows name (and the tunnels' IKE, NAT-T and ESP from their
//!   peers), and an out list whose dynamic filters let the replies of the router's own tcp,
//!   udp and ping flows back in. Forward allows and the forward pass-through are cut to
//!   destinations that are not the router's (own.rs), so no forward filter opens the router.

use super::dynamic::{self, App, Dynamic};
use super::own::{self, Span};
use super::{Block, Ctx, FILTER_NUMBERS, IfClass, classify};
use crate::backend::numbering::{self, Request};
use crate::plan::{Filter, FilterChain};
use crate::vocab::{Origin, PortSet, Protocol, Verdict};
use ipnet::Ipv4Net;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

pub struct Filters {
    pub definitions: Vec<Block>,
    /// `{if} secure filter in|out …` per interface.
    pub applications: Vec<(String, Block)>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    In,
    Out,
}

/// One static filter, before numbering; several lists may name it.
struct Static {
    key: String,
    comments: Vec<String>,
    origin: Origin,
    body: String,
}

/// One `secure filter` line: its interface and direction, the static filters in the
/// order RTX tries them, then the dynamic ones.
struct List {
    iface: String,
    dir: Direction,
    heading: Vec<String>,
    statics: Vec<usize>,
    dynamics: Vec<usize>,
    seen: HashSet<(bool, usize)>,
    /// The interface's rtx_keep puts static filters of the router's own first (keep.rs).
    kept_first: bool,
}

impl List {
    fn push_static(&mut self, i: usize) {
        if self.seen.insert((false, i)) {
            self.statics.push(i);
        }
    }
    fn push_dynamic(&mut self, i: usize) {
        if self.seen.insert((true, i)) {
            self.dynamics.push(i);
        }
    }
}

/// Everything being built, with the statics and dynamics deduplicated by key.
#[derive(Default)]
struct Builder {
    statics: Vec<Static>,
    static_keys: HashMap<String, usize>,
    dynamics: Vec<Dynamic>,
    dynamic_keys: HashMap<String, usize>,
    lists: Vec<List>,
}

impl Builder {
    fn add_static(&mut self, s: Static) -> usize {
        if let Some(&i) = self.static_keys.get(&s.key) {
            return i;
        }
        self.static_keys.insert(s.key.clone(), self.statics.len());
        self.statics.push(s);
        self.statics.len() - 1
    }

    fn add_dynamic(&mut self, d: Dynamic) -> usize {
        if let Some(&i) = self.dynamic_keys.get(&d.key) {
            let merged = &mut self.dynamics[i];
            for o in d.origins {
                if !merged.origins.iter().any(|m| m.name == o.name && m.kind == o.kind) {
                    merged.origins.push(o);
                }
            }
            return i;
        }
        self.dynamic_keys.insert(d.key.clone(), self.dynamics.len());
        self.dynamics.push(d);
        self.dynamics.len() - 1
    }

    fn list(&mut self, iface: &str, dir: Direction, heading: Vec<String>) -> usize {
        if let Some(i) = self.lists.iter().position(|l| l.iface == iface && l.dir == dir) {
            return i;
        }
        self.lists.push(List {
            iface: iface.to_string(),
            dir,
            heading,
            statics: Vec::new(),
            dynamics: Vec::new(),
            seen: HashSet::new(),
            kept_first: false,
        });
        self.lists.len() - 1
    }
}

pub fn address(net: Option<Ipv4Net>) -> String {
    match net {
        None => "*".into(),
        Some(n) if n.prefix_len() == 32 => n.addr().to_string(),
        Some(n) => n.to_string(),
    }
}

/// `ip filter`'s protocol field: the mnemonics of the command reference (§8.1.10: icmp tcp
/// udp gre esp ah) or a decimal 0..255.
pub fn protocol(p: Option<Protocol>) -> Cow<'static, str> {
    match p {
        Some(Protocol::Any) | None => "*".into(),
        Some(p) => p.as_str(),
    }
}

/// Destination port lists of at most 10 items each (command reference §8.1.10).
fn port_chunks(ports: Option<&PortSet>) -> Vec<String> {
    let Some(ports) = ports else { return vec!["*".into()] };
    let items: Vec<String> = ports
        .ranges
        .iter()
        .map(|r| if r.is_single() { r.first.to_string() } else { format!("{}-{}", r.first, r.last) })
        .collect();
    items.chunks(10).map(|c| c.join(",")).collect()
}

fn empty() -> Filters {
    Filters { definitions: Vec::new(), applications: Vec::new(), notes: Vec::new() }
}

fn chain_name(c: FilterChain) -> &'static str {
    match c {
        FilterChain::Forward => "forward",
        FilterChain::Input => "input",
    }
}

pub fn name(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
    }
}

/// The destinations that are the router: its addresses, the subnet broadcasts of `ifaces`,
/// the limited broadcast and multicast (what netfilter's INPUT chain sees).
fn to_router(cx: &Ctx, ifaces: &[&String]) -> (Vec<String>, Vec<Ipv4Net>) {
    let own = cx.own_addresses();
    let mut text: Vec<String> = own.iter().map(|a| a.to_string()).collect();
    let mut nets: Vec<Ipv4Net> = own.iter().map(|a| Ipv4Net::from(*a)).collect();
    for i in ifaces {
        if let Some(p) = cx.primary_address(i).filter(|p| p.prefix_len() <= 30) {
            text.push(p.broadcast().to_string());
            nets.push(Ipv4Net::from(p.broadcast()));
        }
    }
    text.extend(["255.255.255.255".to_string(), "224.0.0.0/4".to_string()]);
    nets.extend([Ipv4Net::from(std::net::Ipv4Addr::BROADCAST), "224.0.0.0/4".parse().expect("multicast")]);
    (text, nets)
}

pub fn filters(cx: &mut Ctx, nat_interfaces: &[String]) -> Filters {
    let gw = cx.gw;
    let (forward, input) = (&gw.filters.forward, &gw.filters.input);
    for policy in [forward, input] {
        if policy.verdict == Verdict::Reject {
            cx.refuse(
                &policy.origin,
                "an RTX `reject` filter discards without a TCP reset or an ICMP answer, so it would be a drop",
                &format!("use {} = \"drop\" for the rtx target", policy.origin.name),
            );
            return empty();
        }
    }
    let (fwd_drop, in_drop) = (forward.verdict == Verdict::Drop, input.verdict == Verdict::Drop);
    let no_filter = |f: &Filter| Block {
        comments: crate::backend::describe::comment_block(
            gw,
            &f.origin,
            format!(
                "{}: no filter: the {} policy is accept, and an applied RTX list would discard what it does not pass",
                f.origin.describe(),
                chain_name(f.chain)
            ),
        ),
        lines: Vec::new(),
    };
    let mut out = empty();
    if !fwd_drop && !in_drop {
        out.definitions = gw.filters.rules.iter().map(no_filter).collect();
        return out;
    }
    let interfaces = cx.forwarding_interfaces();
    if interfaces.is_empty() {
        cx.refuse(
            if fwd_drop { &forward.origin } else { &input.origin },
            "RTX filters per interface, and this gateway declares no RTX interface to filter on",
            "declare the router's interfaces",
        );
        return empty();
    }
    // Under forward = drop: W, the filtered interface, and L, the other one.
    let wl = if fwd_drop {
        let [a, b] = interfaces.as_slice() else {
            cx.refuse(&forward.origin, &format!("natc filters forwarded traffic on one RTX interface, which is exact only with two forwarding interfaces (this gateway has {}: {})", interfaces.len(), interfaces.join(", ")),
                "use forward = \"accept\" for the rtx target, or split the gateway");
            return empty();
        };
        let named_out = gw.filters.in_chain(FilterChain::Forward).find_map(|f| f.matcher.out_interface.clone());
        let w = if nat_interfaces.contains(a) || (!nat_interfaces.contains(b) && named_out.as_ref() == Some(a)) {
            a
        } else {
            b
        };
        Some((w.clone(), if w == a { b.clone() } else { a.clone() }))
    } else {
        None
    };
    let own = cx.own_addresses();
    if own.is_empty() {
        cx.refuse(
            if fwd_drop { &forward.origin } else { &input.origin },
            "the lists must tell the router's own traffic apart, and the intent gives the router no address",
            "declare the interface addresses",
        );
        return empty();
    }
    let own_list: Vec<String> = own.iter().map(|a| a.to_string()).collect();
    let mut b = Builder::default();

    // The router's addresses (for input = drop: every interface's broadcast too).
    let router_ifaces: Vec<&String> = match (&wl, in_drop) {
        (Some((w, _)), false) => vec![w],
        _ => interfaces.iter().collect(),
    };
    let (router_text, router_nets) = to_router(cx, &router_ifaces);
    let router = own::merged(&router_nets);
    let not_router = own::field(&own::minus(None, &router), None);

    // Forward = drop: W's lists, with the allows, and the router's own traffic first.
    if let Some((w, l)) = &wl {
        let wo = b.list(
            w,
            Direction::Out,
            vec![
                format!("{w} out: forwarded traffic leaving {w} (from {l}); first match wins, in intent order;"),
                format!(
                    "no match is discarded ({} = drop); dynamic filters let replies back",
                    forward.origin.describe()
                ),
            ],
        );
        let wi = b.list(
            w,
            Direction::In,
            vec![
                format!("{w} in: traffic arriving on {w}, after NAT; first match wins, in intent order;"),
                if in_drop {
                    format!("for the router itself only what input allows name ({} = drop);", input.origin.describe())
                } else {
                    format!("the router's own addresses pass ({} = accept);", input.origin.describe())
                },
                format!(
                    "no match is discarded ({} = drop); dynamic filters let replies back",
                    forward.origin.describe()
                ),
            ],
        );
        let s = b.add_static(Static {
            key: "policy/forward/own-traffic".into(),
            comments: vec![format!(
                "{} (the router's own traffic: netfilter does not filter OUTPUT)",
                forward.origin.describe()
            )],
            origin: forward.origin.clone(),
            body: format!("pass {} * * * *", own_list.join(",")),
        });
        b.lists[wo].push_static(s);
        if !in_drop {
            let s = b.add_static(Static {
                key: "policy/input/to-router".into(),
                comments: vec![format!("{} (accept: traffic for the router itself)", input.origin.describe())],
                origin: input.origin.clone(),
                body: format!("pass * {} * * *", router_text.join(",")),
            });
            b.lists[wi].push_static(s);
        }
    }

    // Input = drop: an in and an out list on every forwarding interface.
    if in_drop {
        for i in &interfaces {
            let (is_w, is_l) = match &wl {
                Some((w, l)) => (w == i, l == i),
                None => (false, false),
            };
            let heading_in = if is_w {
                Vec::new() // made above
            } else {
                vec![
                    format!(
                        "{i} in: for the router itself only what input allows name ({} = drop);",
                        input.origin.describe()
                    ),
                    if is_l {
                        format!(
                            "forwarded traffic passes here and is decided on {}'s lists",
                            wl.as_ref().map_or("", |(w, _)| w.as_str())
                        )
                    } else {
                        format!("forwarded traffic passes ({} = accept)", forward.origin.describe())
                    },
                ]
            };
            let li = b.list(i, Direction::In, heading_in);
            // The tunnels' own IKE, NAT-T and ESP from their peers (as the Linux targets).
            if classify(i).is_some_and(|c| !matches!(c, IfClass::Tunnel(_))) {
                for t in gw.tunnel_input() {
                    let proto = t.matcher.protocol;
                    let ports = port_chunks(t.matcher.ports.as_ref()).join(",");
                    let body = match proto {
                        Some(Protocol::Udp) => {
                            format!("pass {} {} udp * {ports}", address(t.matcher.source), own_list.join(","))
                        }
                        _ => format!("pass {} {} {}", address(t.matcher.source), own_list.join(","), protocol(proto)),
                    };
                    let s = b.add_static(Static {
                        key: format!("{}/{}/{}", t.origin.kind.as_str(), t.origin.name, t.what),
                        comments: vec![t.comment()],
                        origin: t.origin.clone(),
                        body,
                    });
                    b.lists[li].push_static(s);
                }
            }
            // The input allows that can arrive here, cut to the router's destinations.
            for f in gw.filters.in_chain(FilterChain::Input) {
                if f.matcher.in_interface.as_ref().is_some_and(|n| n != i) {
                    continue;
                }
                if let Some(s) = input_allow(cx, &mut b, f, &router, &router_text) {
                    b.lists[li].push_static(s);
                }
            }
            if !is_w {
                let s = b.add_static(Static {
                    key: "policy/forward/not-to-router".into(),
                    comments: vec![format!(
                        "{} (forwarded traffic: every destination but the router's, {})",
                        forward.origin.describe(),
                        if fwd_drop { "decided on the filtered interface" } else { "forward = accept" }
                    )],
                    origin: forward.origin.clone(),
                    body: format!("pass * {not_router} * * *"),
                });
                b.lists[li].push_static(s);
                let lo = b.list(
                    i,
                    Direction::Out,
                    vec![
                        format!(
                            "{i} out: everything passes (forwarded traffic is decided {});",
                            if fwd_drop { "on the filtered interface" } else { "nowhere: forward = accept" }
                        ),
                        "dynamic filters let the replies of the router's own connections back in".to_string(),
                    ],
                );
                let s = b.add_static(Static {
                    key: "policy/forward/out".into(),
                    comments: vec![format!("{} (everything leaving passes)", forward.origin.describe())],
                    origin: forward.origin.clone(),
                    body: "pass * * * * *".into(),
                });
                b.lists[lo].push_static(s);
            }
        }
    }

    // The input allows under input = accept are no-ops.
    for f in gw.filters.in_chain(FilterChain::Input) {
        if !in_drop {
            out.definitions.push(no_filter(f));
        } else if let Some(n) = f.matcher.in_interface.as_ref().filter(|n| !interfaces.contains(n)) {
            cx.refuse(
                &f.origin,
                &format!("`{n}` is not a forwarding interface of this gateway, so no RTX list sees what arrives on it"),
                "name a lan or tunnel interface of this gateway",
            );
        }
    }
    // Forward allows: on W's lists; no-ops under forward = accept.
    let mut allows: Vec<dynamic::Allow> = Vec::new();
    for f in gw.filters.in_chain(FilterChain::Forward) {
        let Some((w, l)) = &wl else {
            out.definitions.push(no_filter(f));
            continue;
        };
        let Some(directions) = directions(cx, f, w, l) else { continue };
        let proto = f.matcher.protocol.filter(|p| *p != Protocol::Any);
        if f.stateful && !matches!(proto, Some(Protocol::Tcp | Protocol::Udp | Protocol::Icmp)) {
            cx.refuse(&f.origin, &format!("RTX dynamic filters let replies back in for tcp, udp and ping (icmp) flows, not for {}", match proto { None => "every protocol".into(), Some(p) => protocol(Some(p)) }),
                "split it into tcp, udp and icmp allows, or set stateful = false and allow the replies with an allow of their own");
            continue;
        }
        let src = address(f.matcher.source);
        // Under input = drop no forward filter may pass a destination of the router's on an
        // in list (nothing leaving through an interface is for the router).
        let dst = if in_drop && directions.contains(&Direction::In) {
            let rest = own::minus(f.matcher.destination, &router);
            if rest.is_empty() {
                out.definitions.push(Block {
                    comments: vec![format!("{}: no filter: every destination it names is the router's own, which a forward allow does not reach", f.origin.describe())],
                    lines: Vec::new(),
                });
                continue;
            }
            own::field(&rest, f.matcher.destination)
        } else {
            address(f.matcher.destination)
        };
        let chunks = port_chunks(f.matcher.ports.as_ref());
        let several = chunks.len() > 1;
        // `log = true`: `pass-log` ([CR] §8.1.10); RTX writes its own syslog line, no prefix.
        let action = if f.log.is_some() { "pass-log" } else { "pass" };
        if f.log.as_ref().is_some_and(|l| l.prefix.is_some()) {
            cx.refuse(&f.origin, "its log_prefix: an RTX filter's log line has no prefix of the user's (`pass-log` only switches the syslog line on)",
                "remove `log_prefix` for the rtx target (`log = true` alone is written as `pass-log`)");
        }
        let mut numbers = Vec::new();
        for (n, ports) in chunks.into_iter().enumerate() {
            let key = format!("allow/{}", f.origin.name) + &if several { format!("#{}", n + 1) } else { String::new() };
            let s = b.add_static(Static {
                key,
                comments: crate::backend::describe::comment_block(gw, &f.origin, f.origin.describe()),
                origin: f.origin.clone(),
                body: format!("{action} {src} {dst} {} * {ports}", protocol(proto)),
            });
            numbers.push(s);
            for dir in &directions {
                let li = b.list(w, *dir, Vec::new());
                b.lists[li].push_static(s);
            }
        }
        allows.push(dynamic::Allow { filter: f, statics: numbers, directions, src, dst });
    }

    // Dynamic filters: the allows' (application form where exact), then the router's own.
    let lists_of = |b: &Builder, w: &str, d: Direction| b.lists.iter().position(|l| l.iface == w && l.dir == d);
    if let Some((w, _)) = &wl {
        let too_long = b.lists.iter().any(|l| l.statics.len() > cx.limits.filters_per_list);
        for d in dynamic::for_allows(cx, &allows, too_long) {
            let dirs = d.directions.clone();
            let di = b.add_dynamic(d);
            for dir in dirs {
                if let Some(li) = lists_of(&b, w, dir) {
                    b.lists[li].push_dynamic(di);
                }
            }
        }
    }
    if in_drop {
        for app in [App::Tcp, App::Udp, App::Ping] {
            let di = b.add_dynamic(dynamic::own_flows(input, &own_list, app));
            for l in b.lists.iter_mut().filter(|l| l.dir == Direction::Out) {
                l.push_dynamic(di);
            }
        }
    }

    // A list natc applies has at least one filter (an empty `secure filter` line has no
    // stated meaning): where input = drop leaves one empty, a reject of the unspecified
    // source 0.0.0.0, which no reply carries and the list's end would discard anyway.
    // (Not where the interface's rtx_keep puts the router's own filters first: keep.rs.)
    let kept = |l: &List| {
        gw.interfaces
            .iter()
            .find(|i| i.name == l.iface)
            .and_then(|i| i.rtx_keep.as_ref())
            .is_some_and(|k| !(if l.dir == Direction::In { &k.filters_in } else { &k.filters_out }).is_empty())
    };
    for i in 0..b.lists.len() {
        b.lists[i].kept_first = kept(&b.lists[i]);
    }
    if b.lists.iter().any(|l| l.statics.is_empty() && !l.kept_first) {
        let s = b.add_static(Static {
            key: "policy/input/nothing".into(),
            comments: vec![format!(
                "{} (drop: a list needs one filter; this one matches only the source 0.0.0.0, which the list's end discards anyway)",
                input.origin.describe()
            )],
            origin: input.origin.clone(),
            body: "reject 0.0.0.0 * * * *".into(),
        });
        for l in b.lists.iter_mut().filter(|l| l.statics.is_empty() && !l.kept_first) {
            l.push_static(s);
        }
    }

    // Numbers, from the keys.
    let statics = numbering::assign(
        &b.statics.iter().map(|s| Request::unordered(s.key.clone())).collect::<Vec<_>>(),
        FILTER_NUMBERS,
    );
    let dynamics = numbering::assign(
        &b.dynamics.iter().map(|d| Request::unordered(d.key.clone())).collect::<Vec<_>>(),
        FILTER_NUMBERS,
    );
    let (Ok(statics), Ok(dynamics)) = (statics, dynamics) else {
        cx.refuse(&forward.origin, "natc's filter numbers are used up", "use fewer allows");
        return empty();
    };
    let mut defs: Vec<(u32, Block)> = b
        .statics
        .iter()
        .zip(&statics)
        .map(|(s, n)| (*n, Block { comments: s.comments.clone(), lines: vec![format!("ip filter {n} {}", s.body)] }))
        .collect();
    defs.sort_by_key(|(n, _)| *n);
    let mut dyn_defs: Vec<(u32, Block)> =
        b.dynamics.iter().zip(&dynamics).map(|(d, n)| (*n, d.block(*n, |i| statics[i]))).collect();
    dyn_defs.sort_by_key(|(n, _)| *n);
    out.definitions.extend(defs.into_iter().chain(dyn_defs).map(|(_, b)| b));

    for list in &b.lists {
        let all = list.statics.len() + list.dynamics.len();
        if all > cx.limits.filters_per_list {
            let origin = list
                .statics
                .iter()
                .map(|i| &b.statics[*i].origin)
                .chain(list.dynamics.iter().map(|i| &b.dynamics[*i].origins[0]))
                .nth(cx.limits.filters_per_list)
                .cloned()
                .unwrap_or_else(|| forward.origin.clone());
            cx.refuse(
                &origin,
                &format!(
                    "{} allows at most {} filters in one secure filter line, and {} {} needs {all}",
                    cx.limits.model,
                    cx.limits.filters_per_list,
                    list.iface,
                    name(list.dir),
                ),
                "merge allows (port lists, prefixes), or use a model with longer lists",
            );
            continue;
        }
        let st: Vec<String> = list.statics.iter().map(|i| statics[*i].to_string()).collect();
        let dy: Vec<String> = list.dynamics.iter().map(|i| dynamics[*i].to_string()).collect();
        let dynamic = if dy.is_empty() { String::new() } else { format!(" dynamic {}", dy.join(" ")) };
        out.applications.push((
            list.iface.clone(),
            Block {
                comments: list.heading.clone(),
                lines: vec![format!("{{if}} secure filter {} {}{dynamic}", name(list.dir), st.join(" "))],
            },
        ));
    }
    if let Some((w, _)) = &wl {
        out.notes.push(format!("forward = drop is enforced on {w}'s filter lists: traffic that enters and leaves through one interface is not filtered."));
    }
    if in_drop {
        out.notes.push("input = drop: replies to the router's own tcp, udp and ping flows come back by dynamic filters; other protocols it starts need an input allow.".into());
    }
    out
}

/// An input allow's static filter under `input = "drop"`: its destinations cut to the
/// router's (an allow without `to` names all of them). `None` when none is left.
fn input_allow(cx: &mut Ctx, b: &mut Builder, f: &Filter, router: &[Span], router_text: &[String]) -> Option<usize> {
    let key = format!("allow/{}", f.origin.name);
    if let Some(&i) = b.static_keys.get(&key) {
        return Some(i);
    }
    let proto = f.matcher.protocol.filter(|p| *p != Protocol::Any);
    let mine = own::within(f.matcher.destination, router);
    if mine.is_empty() {
        return None;
    }
    let ports = port_chunks(f.matcher.ports.as_ref());
    if ports.len() > 1 {
        cx.refuse(
            &f.origin,
            "more than 10 ports in one input allow: RTX takes at most 10 in one filter",
            "split the allow",
        );
        return None;
    }
    let action = if f.log.is_some() { "pass-log" } else { "pass" };
    Some(b.add_static(Static {
        key,
        comments: crate::backend::describe::comment_block(cx.gw, &f.origin, f.origin.describe()),
        origin: f.origin.clone(),
        body: format!(
            "{action} {} {} {} * {}",
            address(f.matcher.source),
            if f.matcher.destination.is_none() {
                router_text.join(",")
            } else {
                own::field(&mine, f.matcher.destination)
            },
            protocol(proto),
            ports[0]
        ),
    }))
}

/// Which of W's lists decide this allow (W: the filtered interface, L: the other one).
fn directions(cx: &mut Ctx, f: &Filter, w: &str, l: &str) -> Option<Vec<Direction>> {
    let (i, o) = (f.matcher.in_interface.as_deref(), f.matcher.out_interface.as_deref());
    if let Some(bad) = [i, o].into_iter().flatten().find(|n| *n != w && *n != l) {
        cx.refuse(
            &f.origin,
            &format!("`{bad}` is not one of the two forwarding interfaces ({l}, {w})"),
            "name lan or tunnel interfaces of this gateway",
        );
        return None;
    }
    if i.is_some() && i == o {
        cx.refuse(
            &f.origin,
            "traffic that enters and leaves through the same interface crosses no RTX list natc can dedicate to it",
            "drop in_interface or out_interface",
        );
        return None;
    }
    Some(match (i, o) {
        (None, None) => vec![Direction::Out, Direction::In],
        _ if o == Some(w) || i == Some(l) => vec![Direction::Out],
        _ => vec![Direction::In],
    })
}
