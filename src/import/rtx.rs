//! Yamaha RTX `show config` → intent, for the commands of a NAT edge: interface addresses,
//! static routes, NAT descriptors (masquerade with its outer address and static
//! masquerade entries), and `ip filter … pass` rules bound with `ip IF secure filter
//! in|out … [dynamic …]` (a bound list means forward = "drop": the RTX discards what no
//! filter passes). A pass filter is stateful when a dynamic filter of the same list covers
//! it (`filter N`, or the same source and protocol), as seed 004's `ip filter dynamic 108
//! 192.168.0.0/24 * udp` does. natc's `# gateway kind/name` line before a command names
//! the item. IPsec tunnels are rtx_ipsec.rs's. Everything else is reported.

use super::draft::{Block, Draft, Item, Kind, NatcOrigin, Value};
use std::collections::BTreeMap;

#[derive(Default)]
struct Descriptor {
    line: usize,
    kind: Option<String>,
    outer: Option<String>,
    inner: Option<String>,
    interface: Option<String>,
    origin: Option<String>,
    /// The `ip IF nat descriptor …` line that binds it.
    bound_at: usize,
    /// `masquerade static` entries: (line, inner address, protocol, port, origin).
    statics: Vec<(usize, String, String, String, Option<String>)>,
    /// `static` 1:1 entries: (line, outer, inner, the natc origins before it).
    one_to_one: Vec<(usize, String, String, Vec<String>)>,
}

/// Static masquerade entries of one dnat: line, inner address, protocol, ports, origin.
type Entry<'a> = (usize, &'a str, &'a str, Vec<&'a str>, Option<&'a str>);

struct Filter {
    line: usize,
    words: Vec<String>,
    raw: String,
    origin: Option<String>,
}

struct Dynamic {
    source: String,
    what: Vec<String>,
}

pub fn parse(text: &str, draft: &mut Draft) {
    let mut descriptors: BTreeMap<String, Descriptor> = BTreeMap::new();
    let mut filters: BTreeMap<String, Filter> = BTreeMap::new();
    let mut dynamics: BTreeMap<String, Dynamic> = BTreeMap::new();
    let mut bindings: Vec<(usize, String, String, Vec<String>)> = Vec::new();
    // natc's input = "drop" placeholders: `ip filter N reject 0.0.0.0 * * * *`.
    let mut placeholders: BTreeMap<String, usize> = BTreeMap::new();
    // natc's `# gateway kind/name` lines since the last command (a static entry has two).
    let mut origins: Vec<String> = Vec::new();
    // Every `#` line since the last command (a tunnel's description follows its origin).
    let mut comments: Vec<String> = Vec::new();
    let mut ipsec = super::rtx_ipsec::Ipsec::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            super::iptables::header(comment, draft);
            let c = comment.trim();
            if NatcOrigin::parse(c).is_some() {
                origins.push(c.to_string());
            }
            comments.push(c.to_string());
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        let mut w: Vec<String> = trimmed.split_whitespace().map(str::to_string).collect();
        let said = std::mem::take(&mut comments);
        let s: Vec<&str> = w.iter().map(String::as_str).collect();
        if ipsec.line(&s, raw, line, &said, draft) {
            origins.clear();
            continue;
        }
        // `ip tunnel nat descriptor …`, `ip tunnel secure filter …` in `tunnel select N`:
        // the interface tunnelN's, as natc names a tunnel's VTI.
        if let (Some(n), ["ip", "tunnel", ..]) = (&ipsec.selected, s.as_slice()) {
            w[1] = format!("tunnel{n}");
        }
        let s: Vec<&str> = w.iter().map(String::as_str).collect();
        let before = std::mem::take(&mut origins);
        let here = before.last().cloned();
        match s.as_slice() {
            ["ip", iface, "address", a] if !iface.starts_with("route") => {
                draft.interface(iface, line);
                let keys = draft.interface_keys.entry(iface.to_string()).or_default();
                super::draft::set_key(keys, "address", Value::Text(a.to_string()));
            }
            ["ip", "route", to, "gateway", via] => {
                let to = if *to == "default" { "0.0.0.0/0" } else { to };
                let keys = vec![("to", Value::Text(to.to_string())), ("via", Value::Address(via.to_string()))];
                draft.blocks.push(Block { header: "[[gateway.route]]", line, keys });
            }
            ["ip", "route", to, "gateway", "tunnel", n] if n.parse::<u32>().is_ok() => {
                let to = if *to == "default" { "0.0.0.0/0" } else { to };
                let keys = vec![("to", Value::Text(to.to_string())), ("interface", Value::Text(format!("tunnel{n}")))];
                draft.blocks.push(Block { header: "[[gateway.route]]", line, keys });
            }
            ["ip", iface, "nat", "descriptor", list @ ..] if !list.is_empty() => {
                for n in list {
                    let d = descriptors.entry(n.to_string()).or_default();
                    d.interface = Some(iface.to_string());
                    d.bound_at = line;
                }
                draft.interface(iface, line);
            }
            ["nat", "descriptor", "type", n, kind] => {
                let d = descriptors.entry(n.to_string()).or_default();
                (d.line, d.kind, d.origin) = (line, Some(kind.to_string()), here);
            }
            // A `nat` descriptor lists one range per static entry.
            ["nat", "descriptor", "address", "outer", n, a @ ..] if !a.is_empty() => {
                descriptors.entry(n.to_string()).or_default().outer = Some(a.join(" "))
            }
            ["nat", "descriptor", "address", "inner", n, a @ ..] if !a.is_empty() => {
                descriptors.entry(n.to_string()).or_default().inner = Some(a.join(" "))
            }
            ["nat", "descriptor", "masquerade", "static", n, _, inner, proto, port] => {
                let d = descriptors.entry(n.to_string()).or_default();
                d.statics.push((line, inner.to_string(), proto.to_string(), port.to_string(), here));
            }
            ["nat", "descriptor", "static", n, _, pair, count @ ..] if pair.contains('=') && count.len() <= 1 => {
                let (outer, inner) = pair.split_once('=').unwrap_or_default();
                // `A=B 256`: the 256 addresses from A map onto those from B, a /24 each.
                let block = |a: &str| match count.first() {
                    None => Some(a.to_string()),
                    Some(c) => count_prefix(a, c),
                };
                let (Some(outer), Some(inner)) = (block(outer), block(inner)) else {
                    draft.refuse(line, raw, "a static range that is not one prefix on each side");
                    continue;
                };
                let d = descriptors.entry(n.to_string()).or_default();
                d.one_to_one.push((line, outer, inner, before.clone()));
            }
            ["ip", "filter", "dynamic", n, src, _dst, what @ ..] if !what.is_empty() => {
                dynamics.insert(
                    n.to_string(),
                    Dynamic { source: src.to_string(), what: what.iter().map(|x| x.to_string()).collect() },
                );
            }
            // A list needs one filter: natc's in-list of an interface without input allows
            // under input = "drop" holds one that matches only the source 0.0.0.0.
            ["ip", "filter", n, "reject", "0.0.0.0", "*", "*", "*", "*"] => {
                placeholders.insert(n.to_string(), line);
            }
            ["ip", "filter", n, "pass", ..] => {
                filters.insert(n.to_string(), Filter { line, words: w.clone(), raw: raw.to_string(), origin: here });
            }
            ["ip", iface, "secure", "filter", dir @ ("in" | "out"), list @ ..] => {
                bindings.push((line, iface.to_string(), dir.to_string(), list.iter().map(|x| x.to_string()).collect()));
            }
            _ => draft.refuse(
                line,
                raw,
                "not an interface address, route, NAT descriptor or pass filter natc imports from an RTX",
            ),
        }
    }
    ipsec.selected = None;
    let tunnels = ipsec.finish(draft);
    let mut keep = Keep::default();
    for (n, d) in &descriptors {
        // Bound but not defined here, outside natc's numbers: the router's own descriptor
        // that natc's list keeps (rtx_keep).
        if d.kind.is_none() && d.statics.is_empty() && d.one_to_one.is_empty() && !natc_number(n, 1000..=1999) {
            let iface = d.interface.clone().unwrap_or_default();
            keep.add(&iface, "nat_descriptors", n, d.bound_at, draft);
            continue;
        }
        descriptor(d, draft);
    }

    let own = own_addresses(draft, &tunnels.vtis);
    let lists = Lists {
        filters: &filters,
        dynamics: &dynamics,
        placeholders: &placeholders,
        own: &own,
        tunnels: &tunnels.names,
    };
    for (line, iface, dir, list) in &bindings {
        binding(*line, iface, dir, list, &lists, &mut keep, draft);
    }
    // A bound list means forward = "drop" (the RTX discards what no filter passes),
    // unless it holds natc's filter that passes forwarded traffic for forward = "accept"
    // (natc's lists for input = "drop" alone carry one in each list).
    let passes_forwarded = |n: &String| {
        filters.get(n).and_then(|f| f.origin.as_deref()).and_then(NatcOrigin::parse).is_some_and(|o| {
            o.kind == "policy"
                && o.name == "forward"
                && o.part.is_some_and(|p| p.contains("forward = accept") || p == "everything leaving passes")
        })
    };
    if let Some((line, ..)) = bindings.iter().find(|(_, _, _, list)| !list.iter().any(passes_forwarded)) {
        draft.policy.forward = Some(("drop", *line));
    }
    for (iface, lists) in keep.0 {
        let fields: Vec<String> = lists
            .iter()
            .map(|(k, ns)| format!("{k} = [{}]", ns.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")))
            .collect();
        let keys = draft.interface_keys.entry(iface).or_default();
        super::draft::set_key(keys, "rtx_keep", Value::Raw(format!("{{ {} }}", fields.join(", "))));
    }
    // natc declares a VTI in its tunnel only, never as an interface.
    for (vti, _) in &tunnels.vtis {
        draft.interfaces.retain(|(name, _)| name != vti);
        draft.interface_keys.remove(vti);
    }
}

/// `192.168.10.0` and a count of 256 → `192.168.10.0/24`, when the count is a power of
/// two and the address its block's first.
fn count_prefix(address: &str, count: &str) -> Option<String> {
    let (a, n) = (address.parse::<std::net::Ipv4Addr>().ok()?, count.parse::<u64>().ok()?);
    if !n.is_power_of_two() || n > 1 << 32 || u64::from(u32::from(a)) % n != 0 {
        return None;
    }
    let len = 32 - n.trailing_zeros();
    Some(if len == 32 { a.to_string() } else { format!("{a}/{len}") })
}

/// `10.10.10.0/24` → `10.10.10.0-10.10.10.255`, as natc writes a `nat` descriptor's ranges.
fn prefix_range(prefix: &str) -> String {
    let Some((a, len)) = prefix.split_once('/') else { return prefix.to_string() };
    let (Ok(a), Ok(len)) = (a.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else { return prefix.to_string() };
    let last = u32::from(a) | u32::MAX.checked_shr(len).unwrap_or(0);
    format!("{a}-{}", std::net::Ipv4Addr::from(last))
}

/// A number in natc's own range (descriptors 1000-1999, filters 100000-199999): one natc
/// defines, so one missing here is not the router's own.
fn natc_number(n: &str, range: std::ops::RangeInclusive<u32>) -> bool {
    n.parse::<u32>().is_ok_and(|n| range.contains(&n))
}

/// The router's own numbers natc's lists keep, per interface, in rtx_keep's key order.
#[derive(Default)]
struct Keep(BTreeMap<String, Vec<(&'static str, Vec<u32>)>>);

impl Keep {
    fn add(&mut self, iface: &str, key: &'static str, n: &str, line: usize, draft: &mut Draft) {
        let Ok(n) = n.parse::<u32>() else {
            return draft.refuse(line, &format!("… {n}"), format!("{n} is not a number"));
        };
        const ORDER: [&str; 5] = ["nat_descriptors", "filters_in", "filters_out", "dynamic_in", "dynamic_out"];
        let lists = self.0.entry(iface.to_string()).or_default();
        match lists.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ns)) => ns.push(n),
            None => {
                lists.push((key, vec![n]));
                lists.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k));
            }
        }
    }
}

/// What a bound filter list refers to.
struct Lists<'a> {
    filters: &'a BTreeMap<String, Filter>,
    dynamics: &'a BTreeMap<String, Dynamic>,
    placeholders: &'a BTreeMap<String, usize>,
    /// The router's own addresses (natc's input filters name them as the destination):
    /// each interface address, its subnet's broadcast, 255.255.255.255 and 224.0.0.0/4.
    own: &'a std::collections::BTreeSet<String>,
    /// The imported tunnels' names: natc's filters for their IKE and ESP are theirs.
    tunnels: &'a [String],
}

fn own_addresses(draft: &Draft, vtis: &[(String, String)]) -> std::collections::BTreeSet<String> {
    let mut own: std::collections::BTreeSet<String> =
        ["255.255.255.255", "224.0.0.0/4"].into_iter().map(str::to_string).collect();
    let interfaces = draft.interface_keys.values().flat_map(|keys| keys.iter().filter(|(k, _)| *k == "address"));
    let vtis = vtis.iter().map(|(_, a)| Value::Text(a.clone()));
    for a in interfaces.map(|(_, v)| v.clone()).chain(vtis) {
        let Value::Text(a) = &a else { continue };
        let (ip, len) = a.split_once('/').unwrap_or((a, "32"));
        own.insert(ip.to_string());
        if let (Ok(ip), Ok(len)) = (ip.parse::<std::net::Ipv4Addr>(), len.parse::<u32>())
            && len < 31
        {
            own.insert(std::net::Ipv4Addr::from(u32::from(ip) | (u32::MAX >> len)).to_string());
        }
    }
    own
}

/// `192.168.0.0-192.168.0.255` → `192.168.0.0/24` when it is exactly one prefix.
fn range_prefix(range: &str) -> Option<String> {
    let (a, b) = range.split_once('-')?;
    let (a, b) = (a.parse::<std::net::Ipv4Addr>().ok()?, b.parse::<std::net::Ipv4Addr>().ok()?);
    let (a, b) = (u32::from(a), u32::from(b));
    if a == 0 && b == u32::MAX {
        return Some("0.0.0.0/0".into());
    }
    let size = b.checked_sub(a)?.checked_add(1)?;
    (size.is_power_of_two() && a % size == 0)
        .then(|| format!("{}/{}", std::net::Ipv4Addr::from(a), 32 - size.trailing_zeros()))
}

fn descriptor(d: &Descriptor, draft: &mut Draft) {
    let what = format!("nat descriptor type … {}", d.kind.as_deref().unwrap_or("?"));
    if d.kind.as_deref() == Some("nat") {
        return static_only(d, &what, draft);
    }
    if d.kind.as_deref() != Some("masquerade") {
        return draft.refuse(d.line.max(1), &what, "a NAT descriptor other than masquerade: not imported yet");
    }
    let Some(interface) = &d.interface else {
        return draft.refuse(d.line, &what, "a NAT descriptor no interface binds");
    };
    let mut item = Item::new(Kind::Snat, d.line);
    item.set("out_interface", Value::Text(interface.clone()));
    match d.inner.as_deref() {
        None | Some("auto") => {}
        Some(inner) => {
            match range_prefix(inner).or_else(|| inner.parse::<std::net::Ipv4Addr>().ok().map(|_| inner.to_string())) {
                Some(p) => item.set("source", Value::Address(p)),
                None => {
                    return draft.refuse(
                        d.line,
                        &format!("nat descriptor address inner … {inner}"),
                        "an inner range that is not one prefix",
                    );
                }
            }
        }
    }
    let to = match d.outer.as_deref() {
        None | Some("ipcp" | "primary") => Value::Text("masquerade".into()),
        Some(a) => Value::Address(a.to_string()),
    };
    // `outer primary`: the interface's own address, which a static entry is reached on.
    let primary = match d.outer.as_deref() {
        Some("primary") => {
            draft.interface_keys.get(interface).and_then(|k| k.iter().find(|(key, _)| *key == "address")).and_then(
                |(_, v)| match v {
                    Value::Text(a) => a.split('/').next().map(|a| Value::Address(a.to_string())),
                    _ => None,
                },
            )
        }
        _ => None,
    };
    let masquerade_to = to.clone();
    let to = primary.unwrap_or(to);
    one_to_one(d, interface, draft);
    // On an RTX the static entries come before the masquerade: so they do in the intent.
    item.set("to", masquerade_to);
    // natc labels the descriptor's line `(masquerade)`: the item is the snat itself.
    let origin = d.origin.as_deref().map(|o| match o.split_once(" (") {
        Some((head, rest)) => format!("{head}{}", rest.split_once(')').map_or("", |(_, tail)| tail)),
        None => o.to_string(),
    });
    draft.push(item, origin.as_deref());
    // natc writes one entry per port of a dnat's port list, each after the dnat's origin:
    // consecutive entries of one origin, address and protocol are one dnat again.
    let mut merged: Vec<Entry> = Vec::new();
    for (line, inner, proto, port, origin) in &d.statics {
        let plain = !port.contains('=');
        match merged.last_mut() {
            Some(last)
                if plain
                    && origin.is_some()
                    && last.4 == origin.as_deref()
                    && last.1 == inner
                    && last.2 == proto
                    && !last.3[0].contains('=') =>
            {
                last.3.push(port)
            }
            _ => merged.push((*line, inner, proto, vec![port.as_str()], origin.as_deref())),
        }
    }
    for (line, inner, proto, ports, origin) in merged {
        let Value::Address(outer) = &to else {
            draft.refuse(
                line,
                &format!("nat descriptor masquerade static … {inner} {proto} {}", ports.join(",")),
                "a static entry without an outer address",
            );
            continue;
        };
        let mut item = Item::new(Kind::Dnat, line);
        item.set("in_interface", Value::Text(interface.clone()));
        item.set("destination", Value::Address(outer.clone()));
        if let Ok(Some(p)) = super::iptables::protocol(proto) {
            item.set("protocol", p);
        }
        let port = match ports[0].split_once('=') {
            Some((outside, inside)) => {
                item.set("to_port", inside.parse().map(Value::Int).unwrap_or_else(|_| Value::Text(inside.to_string())));
                outside.to_string()
            }
            None => ports.join(","),
        };
        item.set("port", port.parse().map(Value::Int).unwrap_or_else(|_| Value::Text(port.clone())));
        item.set("to", Value::Address(inner.to_string()));
        draft.push(item, origin);
    }
}

/// The static entries of a descriptor on `interface`: each a dnat (outer → inner, in on
/// it) and an snat (inner → outer, out of it), as natc writes a pair of items.
fn one_to_one(d: &Descriptor, interface: &str, draft: &mut Draft) {
    for (line, outer, inner, origins) in &d.one_to_one {
        let named = |kind: &str| origins.iter().find(|o| NatcOrigin::parse(o).is_some_and(|n| n.kind == kind)).cloned();
        let mut dnat = Item::new(Kind::Dnat, *line);
        dnat.set("in_interface", Value::Text(interface.to_string()));
        dnat.set("destination", Value::Address(outer.clone()));
        dnat.set("to", Value::Address(inner.clone()));
        draft.push(dnat, named("dnat").as_deref());
        let mut snat = Item::new(Kind::Snat, *line);
        snat.set("out_interface", Value::Text(interface.to_string()));
        snat.set("source", Value::Address(inner.clone()));
        snat.set("to", Value::Address(outer.clone()));
        draft.push(snat, named("snat").as_deref());
    }
}

/// A descriptor of type `nat` holding static entries only, with its outer and inner
/// ranges pinned to theirs (so that no dynamic NAT happens), as natc writes one: its
/// entries. Any other `nat` descriptor translates dynamically, which natc has no item for.
fn static_only(d: &Descriptor, what: &str, draft: &mut Draft) {
    let Some(interface) = &d.interface else {
        return draft.refuse(d.line, what, "a NAT descriptor no interface binds");
    };
    let outer: Vec<String> = d.one_to_one.iter().map(|e| prefix_range(&e.1)).collect();
    let inner: Vec<String> = d.one_to_one.iter().map(|e| prefix_range(&e.2)).collect();
    let pinned = !d.one_to_one.is_empty()
        && d.statics.is_empty()
        && d.outer.as_deref() == Some(outer.join(" ").as_str())
        && d.inner.as_deref() == Some(inner.join(" ").as_str());
    if !pinned {
        return draft.refuse(
            d.line,
            what,
            "a NAT descriptor of type nat whose outer and inner ranges are not exactly its static entries': dynamic NAT, not imported",
        );
    }
    one_to_one(d, interface, draft);
}

fn binding(line: usize, iface: &str, dir: &str, list: &[String], lists: &Lists, keep: &mut Keep, draft: &mut Draft) {
    let (filters, dynamics) = (lists.filters, lists.dynamics);
    draft.interface(iface, line);
    let (statics, dynamic) = match list.iter().position(|x| x == "dynamic") {
        Some(at) => (&list[..at], &list[at + 1..]),
        None => (list, &list[list.len()..]),
    };
    for n in dynamic {
        if !dynamics.contains_key(n) {
            if natc_number(n, 100000..=199999) {
                draft.refuse_as(
                    crate::vocab::Code::IMPORT_REFERENCE,
                    line,
                    &format!("ip {iface} secure filter {dir} … dynamic … {n}"),
                    format!("dynamic filter {n} is not defined in this config"),
                );
            } else {
                keep.add(iface, if dir == "in" { "dynamic_in" } else { "dynamic_out" }, n, line, draft);
            }
        }
    }
    for n in statics {
        if let Some(at) = lists.placeholders.get(n)
            && dir == "in"
        {
            draft.policy.input = Some(("drop", *at));
            continue;
        }
        let Some(f) = filters.get(n) else {
            // Not defined here and outside natc's numbers: the router's own filter that
            // natc's list keeps (rtx_keep).
            if !natc_number(n, 100000..=199999) {
                keep.add(iface, if dir == "in" { "filters_in" } else { "filters_out" }, n, line, draft);
                continue;
            }
            draft.refuse_as(
                crate::vocab::Code::IMPORT_REFERENCE,
                line,
                &format!("ip {iface} secure filter {dir} … {n}"),
                format!("filter {n} is not a pass filter of this config"),
            );
            continue;
        };
        // natc's own lines for its policies are the policy's, and those for an imported
        // tunnel's IKE and ESP the tunnel's.
        let origin = f.origin.as_deref().and_then(NatcOrigin::parse);
        if origin
            .as_ref()
            .is_some_and(|o| o.kind == "policy" || (o.kind == "tunnel" && lists.tunnels.iter().any(|t| t == o.name)))
        {
            continue;
        }
        let w: Vec<&str> = f.words.iter().map(String::as_str).collect();
        let (src, dst, proto, dport) = (
            w.get(4).copied().unwrap_or("*"),
            w.get(5).copied().unwrap_or("*"),
            w.get(6).copied().unwrap_or("*"),
            w.get(8).copied().unwrap_or("*"),
        );
        let mut item = Item::new(Kind::Allow, f.line);
        let key = if dir == "out" { "out_interface" } else { "in_interface" };
        item.set(key, Value::Text(iface.to_string()));
        // A destination of the router's own addresses only, on an in-list: an input allow
        // (natc writes input = "drop" so); all of them is natc's whole set, not a `to`.
        let to_router = dst != "*" && dst.split(',').all(|a| lists.own.contains(a));
        let dst = if to_router {
            item.set("chain", Value::Text("input".into()));
            draft.policy.input.get_or_insert(("drop", f.line));
            if dst.split(',').count() == lists.own.len() { "*" } else { dst }
        } else {
            dst
        };
        if to_router && dir != "in" {
            draft.refuse(f.line, &f.raw, "a filter to the router's own addresses on an out list");
            continue;
        }
        if [src, dst].iter().any(|v| v.contains(',') || v.contains('-')) {
            draft.refuse(f.line, &f.raw, "an address list or range: natc's allows match one address or prefix");
            continue;
        }
        for (k, v) in [("from", src), ("to", dst)] {
            if v != "*" {
                item.set(k, Value::Address(v.to_string()));
            }
        }
        if proto != "*" {
            match super::iptables::protocol(proto) {
                Ok(Some(p)) => item.set("protocol", p),
                _ => {
                    draft.refuse_as(
                        crate::vocab::Code::IMPORT_NO_KEY,
                        f.line,
                        &f.raw,
                        format!("the protocol {proto} has no intent form"),
                    );
                    continue;
                }
            }
        }
        if dport != "*" {
            item.set("port", dport.parse().map(Value::Int).unwrap_or_else(|_| Value::Text(dport.to_string())));
        }
        let covered = dynamic.iter().filter_map(|d| dynamics.get(d)).any(|d| {
            d.what == ["filter", n.as_str()]
                || (d.source == src
                    && (d.what.first().map(String::as_str) == Some(proto)
                        || d.what.first().map(String::as_str) == Some("*")))
        });
        // An input allow is natc's plain one: the router's replies come back by the
        // input policy's own dynamic filters.
        if !to_router || covered {
            item.set("stateful", Value::Bool(covered));
        }
        draft.push(item, f.origin.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_drop_lists_and_kept_numbers() {
        let text = "ip lan1 address 192.168.0.1/24\nip lan3 address 198.51.100.2/30\nip lan3 nat descriptor 1797 1\nnat descriptor type 1797 masquerade\nip filter 171862 reject 0.0.0.0 * * * *\nip filter 127541 pass 192.168.0.0/24 192.168.0.1,198.51.100.2,192.168.0.255,198.51.100.3,255.255.255.255,224.0.0.0/4 udp * 53\nip filter 127542 pass 192.168.0.0/24 192.168.0.1 tcp * 22\nip filter 127543 pass 192.168.0.0/24 10.0.0.1,10.0.0.2 tcp * 22\nip lan3 secure filter in 171862 200003 dynamic 200097 150000\nip lan1 secure filter in 127541 127542 127543\n";
        let mut d = Draft::default();
        parse(text, &mut d);
        assert_eq!(d.policy.input, Some(("drop", 5)));
        let inputs: Vec<Option<&Value>> =
            d.items.iter().filter(|i| i.get("chain").is_some()).map(|i| i.get("to")).collect();
        assert_eq!(inputs, [None, Some(&Value::Address("192.168.0.1".into()))]);
        let keep = d.interface_keys["lan3"].iter().find(|(k, _)| *k == "rtx_keep").map(|(_, v)| v.clone());
        assert_eq!(
            keep,
            Some(Value::Raw("{ nat_descriptors = [1], filters_in = [200003], dynamic_in = [200097] }".into()))
        );
        // An address list that is not the router's, and a dynamic filter natc would have
        // defined, are reported.
        assert_eq!(d.unexpressed.iter().map(|u| u.line).collect::<Vec<_>>(), [9, 8]);
    }

    #[test]
    fn ranges_that_are_prefixes() {
        assert_eq!(range_prefix("192.168.0.0-192.168.0.255").as_deref(), Some("192.168.0.0/24"));
        assert_eq!(range_prefix("192.168.0.1-192.168.0.255"), None);
        assert_eq!(range_prefix("0.0.0.0-255.255.255.255").as_deref(), Some("0.0.0.0/0"));
        assert_eq!(range_prefix("1.1.1.1-1.1.1.0"), None);
    }
}
