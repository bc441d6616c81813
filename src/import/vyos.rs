//! VyOS `show configuration commands` → intent, in the 1.4/1.5 syntax and the 1.1–1.3 one
//! (seed 004's box: `peer <address>`, `ipsec-interfaces`, `nat-traversal enable`,
//! `outbound-interface eth0`, `system gateway-address`, `protocols bgp <asn> …`). Lines are
//! grouped by the object they set (a NAT rule, a filter rule, a peer, an IKE/ESP group) in
//! one pass; the objects become items, tunnels, routes and BGP at the end. Settings that
//! natc writes on its own (`ipsec-interfaces`, `mode tunnel`, `compression disable`) are
//! taken as said; pre-shared secrets are never copied: the tunnel refers to an environment
//! variable instead.

use super::draft::{Block, Draft, Item, Kind, NatcOrigin, Value, set_key, slug};
use super::tokens::words;
use std::collections::BTreeMap;

/// Key → value lines of one object, each with its line.
#[derive(Default)]
struct Object {
    line: usize,
    keys: Vec<(String, String, usize)>,
}

impl Object {
    fn add(&mut self, key: &[String], value: &str, line: usize) {
        if self.line == 0 {
            self.line = line;
        }
        self.keys.push((key.join(" "), value.to_string(), line));
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.keys.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v.as_str())
    }
    fn all(&self, key: &str) -> Vec<&str> {
        self.keys.iter().filter(|(k, _, _)| k == key).map(|(_, v, _)| v.as_str()).collect()
    }
}

#[derive(Default)]
struct Config {
    nat: BTreeMap<(String, u32), Object>,
    filter: BTreeMap<(String, u32), Object>,
    peers: Vec<(String, Object)>,
    ike: BTreeMap<String, Object>,
    esp: BTreeMap<String, Object>,
    vti: BTreeMap<String, Object>,
    nat_traversal: bool,
    routes: Vec<Block>,
    bgp: Option<(u32, usize)>,
    bgp_networks: Vec<String>,
    neighbors: Vec<(String, Object)>,
    /// natc's secret placeholders (`@@natc-secret:env:NAME@@`) by peer: the reference
    /// the intent had, given back.
    psk_refs: BTreeMap<String, String>,
    /// VyOS 1.1–1.3 rulesets (`firewall name X …`) and their interface bindings.
    rulesets: BTreeMap<String, super::vyos_firewall::Ruleset>,
    bindings: Vec<super::vyos_firewall::Binding>,
    /// `ip enable-proxy-arp` interfaces, with their lines.
    proxy_arp: Vec<(String, usize, String)>,
}

/// `@@natc-secret:env:NAME@@` → `{ env = "NAME" }` (a file likewise); any other text is a
/// secret itself, never copied.
fn secret_ref(value: &str) -> Option<String> {
    let inner = value.strip_prefix("@@natc-secret:")?.strip_suffix("@@")?;
    let (kind, name) = inner.split_once(':')?;
    matches!(kind, "env" | "file").then(|| format!("{{ {kind} = {} }}", super::write::quote(name)))
}

fn object<'a>(list: &'a mut Vec<(String, Object)>, name: &str) -> &'a mut Object {
    match list.iter().position(|(n, _)| n == name) {
        Some(at) => &mut list[at].1,
        None => {
            list.push((name.to_string(), Object::default()));
            let last = list.len() - 1;
            &mut list[last].1
        }
    }
}

pub fn parse(text: &str, draft: &mut Draft) {
    let mut c = Config::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        // `!` lines are comments in the configurations AWS and others hand out; `configure`,
        // `commit`, `save`, `exit` state nothing.
        if trimmed.starts_with('!') || matches!(trimmed, "configure" | "commit" | "save" | "exit" | "end") {
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            if let Some(comment) = trimmed.strip_prefix('#') {
                super::iptables::header(comment, draft);
            }
            continue;
        }
        let Some(w) = words(trimmed) else {
            draft.refuse(line, raw, "a quote that is not closed");
            continue;
        };
        if w.first().map(String::as_str) != Some("set") {
            draft.refuse(line, raw, "not a `set` command");
            continue;
        }
        if let Err(why) = set(&mut c, &w[1..], line, draft) {
            draft.refuse(line, raw, why);
        }
    }
    assemble(c, draft);
}

fn set(c: &mut Config, p: &[String], line: usize, draft: &mut Draft) -> Result<(), String> {
    let s: Vec<&str> = p.iter().map(String::as_str).collect();
    let last = |n: usize| p[n..].to_vec();
    match s.as_slice() {
        ["interfaces", "vti", _, "address" | "description" | "mtu", _]
        | ["interfaces", "vti", _, "ip", "adjust-mss", _] => {
            let (name, rest) = (s[2], &s[3..]);
            let (key, value) = rest.split_at(rest.len() - 1);
            c.vti.entry(name.to_string()).or_default().add(
                &key.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
                value[0],
                line,
            );
        }
        [
            "interfaces",
            "ethernet" | "bonding" | "loopback" | "bridge" | "pppoe" | "wireguard" | "dummy" | "tunnel",
            name,
            rest @ ..,
        ] => {
            // `ethernet eth1 vif 20 …` is the interface eth1.20.
            let vif = match rest {
                ["vif", n, ..] => Some(format!("{name}.{n}")),
                _ => None,
            };
            let rest = if vif.is_some() { &rest[2..] } else { rest };
            let name: &str = vif.as_deref().unwrap_or(name);
            let keys = draft.interface_keys.entry(name.to_string()).or_default();
            match rest {
                ["address", a] if *a != "dhcp" => {
                    let list = match keys.iter().position(|(k, _)| *k == "address") {
                        Some(at) => match &keys[at].1 {
                            Value::Raw(r) => format!("{}, {}]", r.trim_end_matches(']'), super::write::quote(a)),
                            _ => unreachable_free(a),
                        },
                        None => format!("[{}]", super::write::quote(a)),
                    };
                    keys.retain(|(k, _)| *k != "address");
                    keys.push(("address", Value::Raw(list)));
                }
                ["description", d] => set_key(keys, "description", Value::Text(d.to_string())),
                ["ip", "adjust-mss", n] => set_key(keys, "tcp_mss", mss(n)?),
                ["hw-id", _] => {}
                ["firewall", direction @ ("in" | "out" | "local"), "name", ruleset] => {
                    c.bindings.push(super::vyos_firewall::Binding {
                        interface: name.to_string(),
                        direction: direction.to_string(),
                        ruleset: ruleset.to_string(),
                        line,
                    })
                }
                ["ip", "enable-proxy-arp"] => c.proxy_arp.push((name.to_string(), line, p.join(" "))),
                _ => return Err("an interface setting natc does not write".into()),
            }
            if name == "lo" {
                // The gateway's own extra addresses: `[[gateway.address]]` on lo.
                if let Some(Value::Raw(list)) = keys.iter().find(|(k, _)| *k == "address").map(|(_, v)| v.clone()) {
                    keys.clear();
                    let address = list
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .rsplit(", ")
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let keys = vec![("interface", Value::Text("lo".into())), ("address", Value::Raw(address))];
                    c.routes.push(Block { header: "[[gateway.address]]", line, keys });
                }
            } else {
                draft.interface(name, line);
            }
        }
        ["system", "gateway-address", via] => c.routes.push(route("0.0.0.0/0", "via", via, line)),
        ["protocols", "static", "route", to, "next-hop", via] => c.routes.push(route(to, "via", via, line)),
        ["protocols", "static", "route", to, "interface", dev]
        | ["protocols", "static", "interface-route", to, "next-hop-interface", dev] => {
            c.routes.push(route(to, "interface", dev, line))
        }
        ["vpn", "ipsec", "ipsec-interfaces", "interface", _]
        | ["vpn", "ipsec", "interface", _]
        | ["vpn", "ipsec", "options", "disable-route-autoinstall"] => {}
        ["vpn", "ipsec", "nat-networks", "allowed-network", "0.0.0.0/0"] => {}
        ["vpn", "ipsec", "nat-traversal", "enable"] => c.nat_traversal = true,
        ["vpn", "ipsec", "ike-group", g, rest @ ..]
            if matches!(
                rest,
                ["lifetime", _]
                    | ["key-exchange", _]
                    | ["proposal", "1", "dh-group" | "encryption" | "hash", _]
                    | ["dead-peer-detection", "action" | "interval" | "timeout", _]
            ) =>
        {
            c.ike.entry(g.to_string()).or_default().add(&last(4)[..rest.len() - 1], rest[rest.len() - 1], line)
        }
        ["vpn", "ipsec", "esp-group", _, "mode", "tunnel"]
        | ["vpn", "ipsec", "esp-group", _, "compression", "disable"] => {}
        ["vpn", "ipsec", "esp-group", g, rest @ ..]
            if matches!(rest, ["lifetime", _] | ["pfs", _] | ["proposal", "1", "encryption" | "hash", _]) =>
        {
            c.esp.entry(g.to_string()).or_default().add(&last(4)[..rest.len() - 1], rest[rest.len() - 1], line)
        }
        ["vpn", "ipsec", "authentication", "psk", name, "secret", value] if secret_ref(value).is_some() => {
            c.psk_refs.insert(name.to_string(), secret_ref(value).unwrap_or_default());
        }
        ["vpn", "ipsec", "authentication", "psk", _, "id" | "secret", _] => {
            draft.notes.push(format!("line {line}: pre-shared secrets and ids are not copied; each tunnel's psk names an environment variable"));
        }
        ["vpn", "ipsec", "site-to-site", "peer", peer, rest @ ..] if !rest.is_empty() => {
            let o = object(&mut c.peers, peer);
            match rest {
                ["authentication", "pre-shared-secret", _] => {
                    draft.notes.push(format!("line {line}: the pre-shared secret is not copied; the tunnel's psk names an environment variable"));
                    o.add(&["psk".to_string()], "", line);
                }
                [flag] => o.add(&[flag.to_string()], "", line),
                _ => o.add(&last(5)[..rest.len() - 1], rest[rest.len() - 1], line),
            }
        }
        ["protocols", "bgp", "system-as", asn] => c.bgp = Some((asn.parse().map_err(|_| "not an AS number")?, line)),
        ["protocols", "bgp", asn, rest @ ..] if asn.parse::<u32>().is_ok() && !rest.is_empty() => {
            c.bgp = Some((asn.parse().unwrap_or_default(), c.bgp.map_or(line, |b| b.1)));
            bgp(c, rest, line)?;
        }
        ["protocols", "bgp", rest @ ..] => bgp(c, rest, line)?,
        ["nat", dir @ ("source" | "destination"), "rule", n, rest @ ..] if !rest.is_empty() => {
            let n = n.parse::<u32>().map_err(|_| "a rule number that is not a number")?;
            let (key, value) = rest.split_at(rest.len() - 1);
            let key: Vec<String> = key.iter().filter(|k| **k != "name").map(|k| k.to_string()).collect();
            c.nat.entry((dir.to_string(), n)).or_default().add(&key, value[0], line);
        }
        ["firewall", "name", rest @ ..] => super::vyos_firewall::set(&mut c.rulesets, rest, line)?,
        ["firewall", "ipv4", chain @ ("input" | "forward"), "filter", "default-action", action] => {
            let v = match *action {
                "drop" => "drop",
                "accept" => return Ok(()),
                _ => return Err("a default action other than drop or accept".into()),
            };
            if *chain == "input" {
                draft.policy.input = Some((v, line));
            } else {
                draft.policy.forward = Some((v, line));
            }
        }
        ["firewall", "ipv4", chain @ ("input" | "forward"), "filter", "rule", n, rest @ ..] if !rest.is_empty() => {
            let n = n.parse::<u32>().map_err(|_| "a rule number that is not a number")?;
            let (key, value) = rest.split_at(rest.len() - 1);
            let key: Vec<String> = key.iter().filter(|k| **k != "name").map(|k| k.to_string()).collect();
            c.filter.entry((chain.to_string(), n)).or_default().add(&key, value[0], line);
        }
        _ => return Err("not a NAT, filter, VPN, route, BGP or interface setting natc writes".into()),
    }
    Ok(())
}

/// Never reached: an address list is always Raw. Kept total so nothing panics.
fn unreachable_free(a: &str) -> String {
    format!("[{}]", super::write::quote(a))
}

fn mss(n: &str) -> Result<Value, String> {
    match n {
        "clamp-mss-to-pmtu" => Ok(Value::Text("auto".into())),
        n => n.parse().map(Value::Int).map_err(|_| format!("adjust-mss {n}")),
    }
}

fn route(to: &str, key: &'static str, value: &str, line: usize) -> Block {
    let target = if key == "via" { Value::Address(value.to_string()) } else { Value::Text(value.to_string()) };
    Block { header: "[[gateway.route]]", line, keys: vec![("to", Value::Text(to.to_string())), (key, target)] }
}

fn bgp(c: &mut Config, rest: &[&str], line: usize) -> Result<(), String> {
    match rest {
        ["network", p] | ["address-family", "ipv4-unicast", "network", p] => {
            if !c.bgp_networks.iter().any(|n| n == p) {
                c.bgp_networks.push(p.to_string());
            }
        }
        ["neighbor", a, "address-family", "ipv4-unicast"] => {
            object(&mut c.neighbors, a);
        }
        ["neighbor", a, "remote-as", n] => object(&mut c.neighbors, a).add(&["remote_as".into()], n, line),
        ["neighbor", a, "timers", t @ ("holdtime" | "keepalive"), n] => {
            object(&mut c.neighbors, a).add(&[t.to_string()], n, line)
        }
        _ => return Err("a BGP setting natc does not write".into()),
    }
    Ok(())
}

/// A number for an inline table, or the text quoted when it is not one (natc's reader
/// then reports it at its place instead of the import dropping it).
fn number(v: Option<&str>) -> Option<String> {
    v.map(|v| match v.parse::<u32>() {
        Ok(n) => n.to_string(),
        Err(_) => super::write::quote(v),
    })
}

fn num(v: Option<&str>) -> Option<u32> {
    v.and_then(|v| v.parse().ok())
}

fn inline(pairs: &[(&str, Option<String>)]) -> Option<Value> {
    let parts: Vec<String> = pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} = {v}"))).collect();
    (!parts.is_empty()).then(|| Value::Raw(format!("{{ {} }}", parts.join(", "))))
}

fn assemble(mut c: Config, draft: &mut Draft) {
    for ((dir, _), o) in &c.nat {
        nat_rule(dir, o, draft);
    }
    for ((chain, _), o) in &c.filter {
        filter_rule(chain, o, draft);
    }
    // The interfaces the old box has (a VTI a peer binds included), for the 1.1–1.3
    // rulesets' catch-alls.
    let mut interfaces: Vec<String> = draft.interfaces.iter().map(|(n, _)| n.clone()).collect();
    interfaces.extend(c.peers.iter().filter_map(|(_, p)| p.get("vti bind")).map(str::to_string));
    interfaces.dedup();
    super::vyos_firewall::assemble(&c.rulesets, &c.bindings, &interfaces, draft);
    proxy_arp(&mut c, draft);
    draft.blocks.append(&mut c.routes);
    for (peer, o) in &c.peers {
        tunnel(&c, peer, o, draft);
    }
    // A VTI no peer binds is an interface natc writes only for a tunnel.
    for (name, o) in &c.vti {
        if !c.peers.iter().any(|(_, p)| p.get("vti bind") == Some(name.as_str())) {
            for (key, value, line) in &o.keys {
                draft.refuse(
                    *line,
                    &format!("set interfaces vti {name} {key} {value}"),
                    "a VTI that no site-to-site peer binds",
                );
            }
        }
    }
    if let Some((asn, line)) = c.bgp {
        let networks: Vec<String> = c.bgp_networks.iter().map(|n| super::write::quote(n)).collect();
        let mut keys = vec![("asn", Value::Int(asn))];
        if !networks.is_empty() {
            keys.push(("networks", Value::Raw(format!("[{}]", networks.join(", ")))));
        }
        draft.blocks.push(Block { header: "[gateway.bgp]", line, keys });
        for (address, n) in &c.neighbors {
            let mut keys = vec![("address", Value::Text(address.clone()))];
            for (key, name) in [("remote_as", "remote_as"), ("holdtime", "holdtime"), ("keepalive", "keepalive")] {
                if let Some(v) = num(n.get(key)) {
                    keys.push((name, Value::Int(v)));
                }
            }
            draft.blocks.push(Block { header: "[[gateway.bgp.neighbor]]", line: n.line.max(line), keys });
        }
    }
}

/// natc answers ARP for a dnat's address (`claim = "proxy-arp"`) with proxy ARP on its
/// in_interface and a host route towards the real host: both come back as that claim.
fn proxy_arp(c: &mut Config, draft: &mut Draft) {
    for (interface, line, text) in std::mem::take(&mut c.proxy_arp) {
        let mut claimed = false;
        for item in draft.items.iter_mut().filter(|i| i.kind == Kind::Dnat) {
            let on = item.get("in_interface") == Some(&Value::Text(interface.clone()));
            let Some(Value::Address(destination)) = item.get("destination").cloned() else { continue };
            if !on || destination.contains('/') {
                continue;
            }
            // natc's signature of the claim: the host route of the virtual address.
            let host = format!("{destination}/32");
            let route = |r: &Block| {
                r.keys.first() == Some(&("to", Value::Text(host.clone())))
                    && r.keys.iter().any(|(k, _)| *k == "interface")
            };
            if !c.routes.iter().any(route) {
                continue;
            }
            c.routes.retain(|r| !route(r));
            item.set("claim", Value::Text("proxy-arp".into()));
            claimed = true;
        }
        if !claimed {
            draft.refuse(
                line,
                &format!("set {text}"),
                "proxy ARP on an interface no dnat arrives on: natc enables it only for a dnat's claim",
            );
        }
    }
}

fn nat_rule(dir: &str, o: &Object, draft: &mut Draft) {
    let dnat = dir == "destination";
    let mut item = Item::new(if dnat { Kind::Dnat } else { Kind::Snat }, o.line);
    for (key, value, line) in &o.keys {
        let k = match key.as_str() {
            "inbound-interface" if dnat => "in_interface",
            "outbound-interface" if !dnat => "out_interface",
            "source address" => "source",
            "destination address" => "destination",
            "destination port" => "port",
            "protocol" => "protocol",
            "translation address" => "to",
            "translation port" => "to_port",
            "description" | "log" => continue,
            _ => {
                return draft.refuse_as(
                    crate::vocab::Code::IMPORT_NO_KEY,
                    *line,
                    &format!("set nat {dir} rule … {key} {value}"),
                    format!("the nat rule's `{key}` has no intent form: the whole rule is not imported"),
                );
            }
        };
        let v = match k {
            "protocol" => match super::iptables::protocol(value) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(why) => return draft.refuse(*line, &format!("set nat {dir} rule … protocol {value}"), why),
            },
            "in_interface" | "out_interface" => Value::Text(value.clone()),
            "port" | "to_port" => value.parse().map(Value::Int).unwrap_or_else(|_| Value::Text(value.clone())),
            "to" if value == "masquerade" => Value::Text(value.clone()),
            _ => Value::Address(value.clone()),
        };
        item.set(k, v);
    }
    if o.get("log").is_some() {
        item.set("log", Value::Bool(true));
    }
    draft.push(item, o.get("description"));
}

fn filter_rule(chain: &str, o: &Object, draft: &mut Draft) {
    let states = o.all("state");
    // natc's reply rule (and loopback on input) is implied by the drop policy.
    let implied = o.get("action") == Some("accept")
        && ((states.len() == 2 && states.contains(&"established") && states.contains(&"related") && o.keys.len() <= 4)
            || (chain == "input" && o.get("inbound-interface") == Some("lo") && o.keys.len() <= 3));
    let drop = if chain == "input" { draft.policy.input.is_some() } else { draft.policy.forward.is_some() };
    if implied && drop {
        return;
    }
    let mut item = Item::new(Kind::Allow, o.line);
    for (key, value, line) in &o.keys {
        let (k, v) = match key.as_str() {
            "action" if value == "accept" => continue,
            "description" => continue,
            "source address" => ("from", Value::Address(value.clone())),
            "destination address" => ("to", Value::Address(value.clone())),
            "destination port" => {
                ("port", value.parse().map(Value::Int).unwrap_or_else(|_| Value::Text(value.clone())))
            }
            "protocol" => match super::iptables::protocol(value) {
                Ok(Some(p)) => ("protocol", p),
                Ok(None) => continue,
                Err(why) => {
                    return draft.refuse(
                        *line,
                        &format!("set firewall ipv4 {chain} filter rule … protocol {value}"),
                        why,
                    );
                }
            },
            "inbound-interface" => ("in_interface", Value::Text(value.clone())),
            "outbound-interface" => ("out_interface", Value::Text(value.clone())),
            _ => {
                return draft.refuse_as(
                    crate::vocab::Code::IMPORT_NO_KEY,
                    *line,
                    &format!("set firewall ipv4 {chain} filter rule … {key} {value}"),
                    format!("the filter rule's `{key} {value}` has no intent form: the whole rule is not imported"),
                );
            }
        };
        item.set(k, v);
    }
    if chain == "input" {
        item.set("chain", Value::Text("input".into()));
    }
    draft.push(item, o.get("description"));
}

fn tunnel(c: &Config, peer: &str, o: &Object, draft: &mut Draft) {
    let description = o.get("description");
    let name = match description.map(|d| (d, NatcOrigin::parse(d))) {
        Some((_, Some(origin))) => origin.name.to_string(),
        Some((d, None)) if !slug(d).is_empty() => slug(d),
        _ => format!("peer-{}", slug(peer)),
    };
    let remote = o.get("remote-address").unwrap_or(peer);
    let q = |v: &str| super::write::quote(v);
    let mut keys: Vec<(&'static str, Value)> =
        vec![("name", Value::Text(name.clone())), ("remote", Value::Text(remote.to_string()))];
    // `any`: the address the IKE packets leave from, which is natc's default.
    if let Some(a) = o.get("local-address").filter(|a| *a != "any") {
        keys.push(("local_address", Value::Text(a.to_string())));
    }
    let env = format!("{}_PSK", name.to_uppercase().replace('-', "_"));
    let psk = c.psk_refs.get(peer).cloned().unwrap_or_else(|| format!("{{ env = {} }}", q(&env)));
    keys.push(("psk", Value::Raw(psk)));
    if let Some(ike) = o.get("ike-group").and_then(|g| c.ike.get(g)) {
        let version = if ike.get("key-exchange") == Some("ikev2") { "2" } else { "1" };
        let v = inline(&[
            ("version", Some(version.to_string())),
            ("encryption", ike.get("proposal 1 encryption").map(q)),
            ("hash", ike.get("proposal 1 hash").map(q)),
            ("dh_group", number(ike.get("proposal 1 dh-group"))),
            ("lifetime", number(ike.get("lifetime"))),
        ]);
        keys.extend(v.map(|v| ("ike", v)));
        let dpd = inline(&[
            // VyOS 1.4 calls natc's `hold` `trap`.
            ("action", ike.get("dead-peer-detection action").map(|a| q(if a == "trap" { "hold" } else { a }))),
            ("interval", number(ike.get("dead-peer-detection interval"))),
            ("timeout", number(ike.get("dead-peer-detection timeout"))),
        ]);
        keys.extend(dpd.map(|v| ("dpd", v)));
    }
    let esp_group = o.get("vti esp-group").or(o.get("default-esp-group")).or(o.get("tunnel 1 esp-group"));
    if let Some(esp) = esp_group.and_then(|g| c.esp.get(g)) {
        let pfs = esp.get("pfs").map(|p| (p != "disable").to_string());
        let v = inline(&[
            ("encryption", esp.get("proposal 1 encryption").map(q)),
            ("hash", esp.get("proposal 1 hash").map(q)),
            ("pfs", pfs),
            ("lifetime", number(esp.get("lifetime"))),
        ]);
        keys.extend(v.map(|v| ("esp", v)));
    }
    if c.nat_traversal || o.get("force-udp-encapsulation").is_some() {
        keys.push(("nat_traversal", Value::Bool(true)));
    }
    if let Some(id) = o.get("authentication remote-id").filter(|id| *id != remote) {
        keys.push(("remote_id", Value::Text(id.to_string())));
    }
    if let Some(id) = o.get("authentication local-id").filter(|id| Some(*id) != o.get("local-address")) {
        keys.push(("local_id", Value::Text(id.to_string())));
    }
    if let Some(bind) = o.get("vti bind") {
        let vti = c.vti.get(bind);
        let get = |k: &str| vti.and_then(|v| v.get(k));
        let v = inline(&[("name", Some(q(bind))), ("address", get("address").map(q)), ("mtu", number(get("mtu")))]);
        keys.extend(v.map(|v| ("vti", v)));
        if let Some(m) = get("ip adjust-mss") {
            match mss(m) {
                Ok(v) => keys.push(("tcp_mss", v)),
                Err(why) => draft.refuse(
                    vti.map_or(o.line, |v| v.line),
                    &format!("set interfaces vti {bind} ip adjust-mss {m}"),
                    why,
                ),
            }
        }
    }
    let locals: Vec<String> = o
        .keys
        .iter()
        .filter(|(k, _, _)| k.starts_with("tunnel ") && k.ends_with(" local prefix"))
        .map(|(_, v, _)| q(v))
        .collect();
    let remotes: Vec<String> = o
        .keys
        .iter()
        .filter(|(k, _, _)| k.starts_with("tunnel ") && k.ends_with(" remote prefix"))
        .map(|(_, v, _)| q(v))
        .collect();
    if !locals.is_empty() {
        keys.push(("local_networks", Value::Raw(format!("[{}]", locals.join(", ")))));
        keys.push(("remote_networks", Value::Raw(format!("[{}]", remotes.join(", ")))));
    }
    // Settings of the peer that natc writes on its own, or has no key for: reported.
    for (key, value, line) in &o.keys {
        let known = matches!(
            key.as_str(),
            "description"
                | "remote-address"
                | "local-address"
                | "psk"
                | "ike-group"
                | "vti esp-group"
                | "vti bind"
                | "default-esp-group"
                | "force-udp-encapsulation"
                | "connection-type"
                | "authentication mode"
                | "authentication remote-id"
                | "authentication local-id"
        ) || (key.starts_with("tunnel ") && (key.ends_with(" prefix") || key.ends_with(" esp-group")));
        if !known {
            draft.refuse(
                *line,
                &format!("set vpn ipsec site-to-site peer {peer} {key} {value}"),
                "a peer setting natc does not write",
            );
        }
    }
    draft.blocks.push(Block { header: "[[gateway.tunnel]]", line: o.line, keys });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_nat_and_unknown_lines() {
        let mut d = Draft::default();
        parse(
            "set nat source rule 10 outbound-interface eth0\nset nat source rule 10 source address 10.0.0.0/24\nset nat source rule 10 translation address masquerade\nset system host-name x\nshow x\n",
            &mut d,
        );
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].get("out_interface"), Some(&Value::Text("eth0".into())));
        assert_eq!(d.unexpressed.iter().map(|u| u.line).collect::<Vec<_>>(), [4, 5]);
    }
}
