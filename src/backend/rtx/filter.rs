//! IP filters (command reference §8.1). RTX applies a list per interface and direction; the first
//! filter that matches decides, and a packet that matches none is **discarded**. natc keeps
//! netfilter's meaning as follows (docs/rtx.md has the reasoning):
//!
//! - `forward = "accept"`: no list is applied at all (an applied list would discard);
//!   allow items are then no-ops, as under netfilter, and appear as comments.
//! - `forward = "drop"`: the gateway must have exactly two forwarding interfaces; every
//!   forwarded packet then crosses the filtered one, W (the one with NAT), once: traffic
//!   leaving through W is decided by `ip W secure filter out`, traffic arriving through W
//!   by `ip W secure filter in`. Stateful allows add a dynamic filter whose trigger is the
//!   allow's own static filter, so replies come back through the opposite list. The out
//!   list first passes the router's own traffic (netfilter's OUTPUT is not filtered), the
//!   in list first passes traffic for the router itself (`input = "accept"`).
//! - `input = "drop"` is refused: the replies to the router's own connections would need
//!   dynamic filters for every protocol.

use super::{Block, Ctx, FILTER_NUMBERS};
use crate::backend::numbering::{self, Request};
use crate::plan::{Filter, FilterChain};
use crate::vocab::{Origin, PortSet, Protocol, Verdict};
use ipnet::Ipv4Net;
use std::borrow::Cow;

pub struct Filters {
    pub definitions: Vec<Block>,
    /// `{if} secure filter in|out …` per interface.
    pub applications: Vec<(String, Block)>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    In,
    Out,
}

/// One static filter (and its dynamic twin when stateful), before numbering.
struct Entry {
    key: String,
    comment: String,
    origin: Origin,
    body: String,
    src: String,
    dst: String,
    stateful: bool,
    directions: Vec<Direction>,
}

fn address(net: Option<Ipv4Net>) -> String {
    match net {
        None => "*".into(),
        Some(n) if n.prefix_len() == 32 => n.addr().to_string(),
        Some(n) => n.to_string(),
    }
}

/// `ip filter`'s protocol field: the mnemonics of the command reference (§8.1.10: icmp tcp
/// udp gre esp ah) or a decimal 0..255.
fn protocol(p: Option<Protocol>) -> Cow<'static, str> {
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

pub fn filters(cx: &mut Ctx, nat_interfaces: &[String]) -> Filters {
    let gw = cx.gw;
    let (forward, input) = (&gw.filters.forward, &gw.filters.input);
    if input.verdict.closes() {
        cx.refuse(&input.origin, "RTX filters traffic per interface, and letting in the replies to the router's own connections would need dynamic filters for every protocol",
            "keep input = \"accept\" for the rtx target");
        return empty();
    }
    if forward.verdict == Verdict::Reject {
        cx.refuse(
            &forward.origin,
            "an RTX `reject` filter discards without a TCP reset or an ICMP answer, so it would be a drop",
            "use forward = \"drop\" for the rtx target",
        );
        return empty();
    }
    let mut out = empty();
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
    if forward.verdict == Verdict::Accept {
        out.definitions = gw.filters.rules.iter().map(no_filter).collect();
        return out;
    }
    let interfaces = cx.forwarding_interfaces();
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
    let l = if w == a { b } else { a };

    let own = cx.own_addresses();
    if own.is_empty() {
        cx.refuse(
            &forward.origin,
            "the out list must first pass the router's own traffic, and the intent gives the router no address",
            "declare the interface addresses",
        );
        return empty();
    }
    let own_list: Vec<String> = own.iter().map(|a| a.to_string()).collect();
    let mut to_router = own_list.clone();
    if let Some(p) = cx.primary_address(w).filter(|p| p.prefix_len() <= 30) {
        to_router.push(p.broadcast().to_string());
    }
    to_router.extend(["255.255.255.255".to_string(), "224.0.0.0/4".to_string()]);

    let mut entries = vec![
        Entry {
            key: "policy/forward/own-traffic".into(),
            comment: format!(
                "{} (the router's own traffic: netfilter does not filter OUTPUT)",
                forward.origin.describe()
            ),
            origin: forward.origin.clone(),
            body: format!("pass {} * * * *", own_list.join(",")),
            src: String::new(),
            dst: String::new(),
            stateful: false,
            directions: vec![Direction::Out],
        },
        Entry {
            key: "policy/input/to-router".into(),
            comment: format!("{} (accept: traffic for the router itself)", input.origin.describe()),
            origin: input.origin.clone(),
            body: format!("pass * {} * * *", to_router.join(",")),
            src: String::new(),
            dst: String::new(),
            stateful: false,
            directions: vec![Direction::In],
        },
    ];
    for f in &gw.filters.rules {
        if f.chain == FilterChain::Input {
            out.definitions.push(no_filter(f));
            continue;
        }
        let Some(directions) = directions(cx, f, w, l) else { continue };
        let proto = f.matcher.protocol.filter(|p| *p != Protocol::Any);
        if f.stateful && !matches!(proto, Some(Protocol::Tcp | Protocol::Udp)) {
            cx.refuse(&f.origin, &format!("RTX dynamic filters let replies back in for tcp and udp connections, not for {}", match proto { None => "every protocol".into(), Some(p) => protocol(Some(p)) }),
                "split it into tcp and udp allows, or set stateful = false and allow the replies with an allow of their own");
            continue;
        }
        let (src, dst) = (address(f.matcher.source), address(f.matcher.destination));
        let chunks = port_chunks(f.matcher.ports.as_ref());
        let several = chunks.len() > 1;
        // `log = true`: `pass-log` ([CR] §8.1.10); RTX writes its own syslog line, no prefix.
        let action = if f.log.is_some() { "pass-log" } else { "pass" };
        if f.log.as_ref().is_some_and(|l| l.prefix.is_some()) {
            cx.refuse(&f.origin, "its log_prefix: an RTX filter's log line has no prefix of the user's (`pass-log` only switches the syslog line on)",
                "remove `log_prefix` for the rtx target (`log = true` alone is written as `pass-log`)");
        }
        for (n, ports) in chunks.into_iter().enumerate() {
            let key = format!("allow/{}", f.origin.name) + &if several { format!("#{}", n + 1) } else { String::new() };
            entries.push(Entry {
                key,
                comment: f.origin.describe(),
                origin: f.origin.clone(),
                body: format!("{action} {src} {dst} {} * {ports}", protocol(proto)),
                src: src.clone(),
                dst: dst.clone(),
                stateful: f.stateful,
                directions: directions.clone(),
            });
        }
    }

    let statics = numbering::assign(
        &entries.iter().map(|e| Request::unordered(e.key.clone())).collect::<Vec<_>>(),
        FILTER_NUMBERS,
    );
    let dynamic_entries: Vec<&Entry> = entries.iter().filter(|e| e.stateful).collect();
    let dynamics = numbering::assign(
        &dynamic_entries.iter().map(|e| Request::unordered(e.key.clone())).collect::<Vec<_>>(),
        FILTER_NUMBERS,
    );
    let (Ok(statics), Ok(dynamics)) = (statics, dynamics) else {
        cx.refuse(&forward.origin, "natc's filter numbers are used up", "use fewer allows");
        return empty();
    };

    let mut defs: Vec<(u32, Block)> = Vec::new();
    let mut dyn_defs: Vec<(u32, Block)> = Vec::new();
    let mut lists = [(Direction::Out, Vec::new(), Vec::new()), (Direction::In, Vec::new(), Vec::new())];
    let mut dynamic_numbers = dynamics.into_iter();
    for (e, s) in entries.iter().zip(statics) {
        let comments = crate::backend::describe::comment_block(cx.gw, &e.origin, e.comment.clone());
        defs.push((s, Block { comments, lines: vec![format!("ip filter {s} {}", e.body)] }));
        let d = e.stateful.then(|| dynamic_numbers.next()).flatten();
        if let Some(d) = d {
            dyn_defs.push((
                d,
                Block {
                    comments: vec![format!("{} (replies)", e.comment)],
                    lines: vec![format!("ip filter dynamic {d} {} {} filter {s}", e.src, e.dst)],
                },
            ));
        }
        for (dir, st, dy) in lists.iter_mut() {
            if e.directions.contains(dir) {
                st.push((s, &e.origin));
                dy.extend(d.map(|d| (d, &e.origin)));
            }
        }
    }
    defs.sort_by_key(|(n, _)| *n);
    dyn_defs.sort_by_key(|(n, _)| *n);
    out.definitions.extend(defs.into_iter().chain(dyn_defs).map(|(_, b)| b));

    for (dir, st, dy) in &lists {
        let all: Vec<&(u32, &Origin)> = st.iter().chain(dy.iter()).collect();
        if let Some((_, origin)) = all.get(cx.limits.filters_per_list) {
            cx.refuse(
                origin,
                &format!(
                    "{} allows at most {} filters in one secure filter line, and {w} {} needs {}",
                    cx.limits.model,
                    cx.limits.filters_per_list,
                    name(*dir),
                    all.len()
                ),
                "merge allows (port lists, prefixes), or use a model with longer lists",
            );
            continue;
        }
        let numbers = |v: &Vec<(u32, &Origin)>| v.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>().join(" ");
        let dynamic = if dy.is_empty() { String::new() } else { format!(" dynamic {}", numbers(dy)) };
        let what = match dir {
            Direction::Out => format!("forwarded traffic leaving {w} (from {l})"),
            Direction::In => format!("traffic arriving on {w}, after NAT"),
        };
        out.applications.push((
            w.clone(),
            Block {
                comments: vec![
                    format!("{w} {}: {what}; first match wins, in intent order;", name(*dir)),
                    format!(
                        "no match is discarded ({} = drop); dynamic filters let replies back",
                        forward.origin.describe()
                    ),
                ],
                lines: vec![format!("{{if}} secure filter {} {}{dynamic}", name(*dir), numbers(st))],
            },
        ));
    }
    out.notes.push(format!("forward = drop is enforced on {w}'s filter lists: traffic that enters and leaves through one interface is not filtered."));
    out
}

fn name(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
    }
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
