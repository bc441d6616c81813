//! Structure-aware generation: whole intents with gateways, interfaces, networks,
//! translations, filters, routes, owned addresses, tunnels, BGP, a lab and expectations.
//! Most values are drawn coherently (a DNAT's `to` lies in a subnet of the gateway, a lab
//! host sits on a gateway's segment) so that most intents get past the checks and reach
//! every target; a per-case hostility replaces some values with boundary and hostile ones.

use super::pools::{self, *};
use super::rng::Rng;
use super::toml_doc::{Doc, Table, Value};

/// A subnet of one generated gateway interface: 10.<net>.<sub>.0/24, the gateway at .1.
#[derive(Debug, Clone)]
struct Segment {
    gateway: String,
    interface: String,
    net: u8,
    sub: u8,
}

impl Segment {
    fn host(&self, last: u8) -> String {
        format!("10.{}.{}.{last}", self.net, self.sub)
    }

    fn prefix(&self) -> String {
        format!("10.{}.{}.0/24", self.net, self.sub)
    }
}

pub struct Gen<'r> {
    rng: &'r mut Rng,
    /// Per mille of values replaced by boundary or hostile ones.
    hostile: u32,
    segments: Vec<Segment>,
    networks: Vec<String>,
    doc: Doc,
}

/// One generated intent as a document (kept, so that a related intent can be derived for diff).
pub fn intent(rng: &mut Rng) -> Doc {
    // An intent has about a hundred values: half the intents get none replaced, so that
    // they reach the targets; the others from a few to many.
    let hostile = *rng.pick(&[0, 0, 0, 0, 3, 10, 30, 100, 300]);
    let mut g = Gen { rng, hostile, segments: Vec::new(), networks: Vec::new(), doc: Doc::default() };
    g.build();
    g.doc
}

/// A related intent: one table dropped, or one value replaced (natc diff's OLD → NEW).
pub fn related(rng: &mut Rng, doc: &Doc) -> Doc {
    let mut new = doc.clone();
    if new.tables.is_empty() {
        return new;
    }
    let i = rng.below(new.tables.len());
    let table = &mut new.tables[i];
    if table.header.contains('.') && rng.chance(50) {
        new.tables.remove(i);
    } else if !table.entries.is_empty() {
        let e = rng.below(table.entries.len());
        let mut g = Gen { rng, hostile: 50, segments: Vec::new(), networks: Vec::new(), doc: Doc::default() };
        let replacement = match &table.entries[e].1 {
            Value::Int(_) => Value::Int(g.int(1, 65535)),
            Value::Bool(b) => Value::Bool(!b),
            _ => {
                let arg = format!("changed-{}", g.rng.below(100));
                g.text(arg)
            }
        };
        table.entries[e].1 = replacement;
    }
    new
}

impl Gen<'_> {
    fn build(&mut self) {
        let schema = if self.roll() { Value::Int(*self.rng.pick(pools::BOUNDARY_INTS)) } else { Value::Int(1) };
        self.doc.top.push(("natc".into(), schema));
        let name = self.name();
        self.doc.top.push(("name".into(), name));
        if self.rng.chance(50) {
            let d = self.free_text();
            self.doc.top.push(("description".into(), d));
        }
        self.networks_table();
        let gateways = self.rng.range(1, 3);
        for g in 0..gateways {
            self.gateway(g);
        }
        if self.rng.chance(45) {
            self.lab();
        }
    }

    /// True when this value should be a boundary or hostile one.
    fn roll(&mut self) -> bool {
        self.hostile > 0 && self.rng.below(1000) < self.hostile as usize
    }

    fn hostile_string(&mut self) -> String {
        if self.rng.chance(2) {
            return self.rng.pick(&pools::former_defects()).clone();
        }
        self.rng.pick(pools::hostile_strings()).clone()
    }

    /// `valid`, or sometimes a hostile string.
    fn text(&mut self, valid: String) -> Value {
        if self.roll() { Value::Str(self.hostile_string()) } else { Value::Str(valid) }
    }

    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if self.roll() {
            return *self.rng.pick(pools::BOUNDARY_INTS);
        }
        lo + (self.rng.next_u64() % (hi - lo + 1) as u64) as i64
    }

    fn name(&mut self) -> Value {
        let base = self.rng.pick(NAMES).to_string();
        let n = self.rng.below(1000);
        self.text(format!("{base}-{n}"))
    }

    /// Descriptions and reasons take any visible text, so a hostile string there mostly keeps
    /// the intent valid and reaches every target's comments: a quarter of them are hostile,
    /// whatever the case's hostility, and most of those lose the characters natc refuses in
    /// free text (N122: control, separator and format characters), so that they get through.
    fn free_text(&mut self) -> Value {
        let valid = self.rng.pick(&["office LAN", "segment A", "Internet (ISP)", "AWS VPC", "é ü 日本"]).to_string();
        if !self.rng.chance(25) {
            return Value::Str(valid);
        }
        let hostile = self.hostile_string();
        if self.rng.chance(20) { Value::Str(hostile) } else { Value::Str(visible(&hostile)) }
    }

    fn address(&mut self, valid: String) -> Value {
        if self.roll() {
            if self.rng.chance(50) {
                return Value::Str(self.rng.pick(BOUNDARY_ADDRESSES).to_string());
            }
            return Value::Str(self.hostile_string());
        }
        Value::Str(valid)
    }

    fn segment(&mut self) -> Option<Segment> {
        (!self.segments.is_empty()).then(|| self.rng.pick(&self.segments).clone())
    }

    /// A host somewhere: in a generated segment, or on the far side (a public test range).
    fn some_host(&mut self) -> String {
        match self.segment() {
            Some(s) if self.rng.chance(70) => s.host(self.rng.range(2, 254) as u8),
            _ => format!("198.51.100.{}", self.rng.range(1, 254)),
        }
    }

    fn some_prefix(&mut self) -> String {
        match self.segment() {
            Some(s) if self.rng.chance(60) => s.prefix(),
            _ => format!("172.{}.0.0/{}", self.rng.range(16, 31), self.rng.pick(&[16, 20, 24])),
        }
    }

    fn host_or_prefix(&mut self) -> Value {
        if !self.networks.is_empty() && self.rng.chance(25) {
            return Value::Str(format!("@{}", self.rng.pick(&self.networks.clone())));
        }
        let v = if self.rng.chance(60) { self.some_host() } else { self.some_prefix() };
        self.address(v)
    }

    fn networks_table(&mut self) {
        if !self.rng.chance(60) {
            return;
        }
        let mut t = Table::new("networks", false);
        for i in 0..self.rng.range(1, 4) {
            let key = if self.roll() { self.hostile_string() } else { format!("net{i}") };
            let v = if self.rng.chance(50) {
                format!("10.{}.{}.0/24", self.rng.range(0, 3), self.rng.range(0, 4))
            } else {
                format!("203.0.113.{}", self.rng.range(1, 254))
            };
            let v = self.address(v);
            t.set(&key, v);
            self.networks.push(key);
        }
        self.doc.tables.push(t);
    }

    fn interface_names(&mut self, family: usize) -> &'static [&'static str] {
        if self.roll() {
            return BOUNDARY_IFACES;
        }
        [LINUX_IFACES, VYOS_IFACES, RTX_IFACES][family]
    }

    fn gateway(&mut self, g: usize) {
        // 0 Linux, 1 VyOS (and Linux), 2 RTX (and Linux), 3 any targets at all (mostly
        // refused somewhere: VyOS and RTX name interfaces differently).
        let family = *self.rng.pick(&[0, 0, 1, 1, 2, 2, 3]);
        let mut t = Table::new("gateway", true);
        let name = self.name();
        let gw_name = match &name {
            Value::Str(s) => s.clone(),
            _ => String::new(),
        };
        t.set("name", name);
        let targets = self.targets(family);
        t.set("targets", targets);
        if self.rng.chance(30) {
            t.set("forwarding", Value::Bool(self.rng.chance(80)));
        }
        if family == 1 && self.rng.chance(50) {
            let arg = self.rng.pick(&["1.4", "1.5"]).to_string();
            let v = self.text(arg);
            t.set("vyos", v);
        }
        if family == 2 && self.rng.chance(50) {
            let arg = self.rng.pick(&["RTX830", "RTX1200", "rtx1210", "RTX5000"]).to_string();
            let v = self.text(arg);
            t.set("rtx", v);
        }
        if family == 0 && self.rng.chance(30) {
            let arg = self.rng.pick(&["0.6", "0.9", "1"]).to_string();
            let v = self.text(arg);
            t.set("firewalld", v);
        }
        // RTX has no counters (N301): there only as hostility.
        if family != 2 && self.rng.chance(20) || self.roll() {
            t.set("counters", Value::Bool(self.rng.chance(70)));
        }
        if self.rng.chance(30) {
            let d = self.free_text();
            t.set("description", d);
        }
        if self.rng.chance(10) {
            let a = self.accepts(true);
            t.set("accept", a);
        }
        self.doc.tables.push(t);
        let family = if family == 3 { 2 } else { family };
        let names = self.interface_names(family);
        let count = self.rng.range(1, 4).min(names.len());
        let first = self.rng.below(names.len() - count + 1);
        let mut own = Vec::new();
        for (i, ifname) in names[first..first + count].iter().enumerate() {
            // Sometimes a gateway shares the previous gateway's last segment (a wire between them).
            let shared = (i == 0 && g > 0 && self.rng.chance(40)).then(|| self.segments.last().cloned()).flatten();
            let last = if shared.is_some() { 2 } else { 1 };
            let seg = match shared {
                Some(s) => Segment { gateway: gw_name.clone(), interface: ifname.to_string(), ..s },
                None => Segment { gateway: gw_name.clone(), interface: ifname.to_string(), net: g as u8, sub: i as u8 },
            };
            let mut it = Table::new("gateway.interface", true);
            let n = self.text(ifname.to_string());
            it.set("name", n);
            let addr = self.address(format!("{}/24", seg.host(last)));
            // RTX takes one address per interface (N301).
            if family != 2 && self.rng.chance(15) {
                let extra = Value::Str(format!("{}/24", seg.host(last + 100)));
                it.set("address", Value::Array(vec![addr, extra]));
            } else if !self.rng.chance(5) {
                it.set("address", addr);
            }
            if self.rng.chance(40) {
                let d = self.free_text();
                it.set("description", d);
            }
            if self.rng.chance(10) {
                let mss = self.tcp_mss();
                it.set("tcp_mss", mss);
            }
            if family == 2 && self.rng.chance(15) {
                let keep = self.rtx_keep();
                it.set("rtx_keep", keep);
            }
            self.doc.tables.push(it);
            own.push(seg.clone());
            self.segments.push(seg);
        }
        self.rules(&own, family);
    }

    fn targets(&mut self, family: usize) -> Value {
        if self.roll() {
            return Value::Array(vec![Value::Str(self.rng.pick(BOUNDARY_TARGETS).to_string())]);
        }
        let choices: &[&str] = match family {
            0 => &["iptables", "nftables", "firewalld"],
            1 => &["vyos", "vyos@1.4", "vyos@1.5", "vyos", "nftables"],
            2 => &["rtx", "rtx@RTX830", "rtx@RTX1210", "rtx@rtx1200", "rtx@RTX3510", "iptables"],
            _ => TARGETS,
        };
        let n = self.rng.range(1, 3);
        let mut picked: Vec<Value> = Vec::new();
        for _ in 0..n {
            let v = Value::Str(self.rng.pick(choices).to_string());
            if !picked.contains(&v) {
                picked.push(v);
            }
        }
        Value::Array(picked)
    }

    fn rules(&mut self, own: &[Segment], family: usize) {
        let ifname = |s: &Segment| s.interface.clone();
        let pick_iface = |g: &mut Gen, own: &[Segment]| {
            let s = g.rng.pick(own).clone();
            g.text(ifname(&s))
        };
        for i in 0..self.rng.range(0, 3) {
            let mut t = Table::new("gateway.dnat", true);
            let n = self.text(format!("dnat-{i}"));
            t.set("name", n);
            let in_seg = self.rng.pick(own).clone();
            let dest = match self.rng.below(3) {
                0 => format!("198.51.100.{}", self.rng.range(1, 254)),
                1 => in_seg.host(self.rng.range(200, 254) as u8),
                _ => format!("203.0.113.{}", self.rng.range(1, 254)),
            };
            let dest = self.address(dest);
            t.set("destination", dest);
            let to_seg = self.rng.pick(own).clone();
            let arg = to_seg.host(self.rng.range(2, 199) as u8);
            let to = self.address(arg);
            t.set("to", to);
            // RTX translates on an interface's NAT descriptor: it needs in_interface.
            if family == 2 || self.rng.chance(60) {
                let v = self.text(ifname(&in_seg));
                t.set("in_interface", v);
            }
            if self.rng.chance(15) {
                let v = self.host_or_prefix();
                t.set("source", v);
            }
            self.protocol_and_ports(&mut t, true);
            if self.rng.chance(25) {
                let arg = self.rng.pick(&["routed", "loopback", "proxy-arp"]).to_string();
                let v = self.text(arg);
                t.set("claim", v);
            }
            if self.rng.chance(20) {
                t.set("return_route", Value::Bool(self.rng.chance(70)));
            }
            // A hairpin reflects every inside client: with `source` it is refused (N115).
            if self.rng.chance(10) && (!t.has("source") || self.roll()) {
                t.set("hairpin", Value::Bool(true));
            }
            self.logging(&mut t, family);
            self.common(&mut t);
            self.doc.tables.push(t);
        }
        for i in 0..self.rng.range(0, 2) {
            let mut t = Table::new("gateway.snat", true);
            let n = self.text(format!("snat-{i}"));
            t.set("name", n);
            let out = self.rng.pick(own).clone();
            if self.rng.chance(85) {
                let v = self.text(ifname(&out));
                t.set("out_interface", v);
            }
            if self.rng.chance(70) {
                let arg = self.some_prefix();
                let v = self.address(arg);
                t.set("source", v);
            }
            if self.rng.chance(15) {
                let v = self.host_or_prefix();
                t.set("destination", v);
            }
            self.protocol_and_ports(&mut t, false);
            let to = if self.rng.chance(50) { "masquerade".to_string() } else { out.host(1) };
            let to = self.address(to);
            t.set("to", to);
            if self.rng.chance(15) {
                t.set("except_ipsec", Value::Bool(true));
            }
            self.logging(&mut t, family);
            self.common(&mut t);
            self.doc.tables.push(t);
        }
        if self.rng.chance(20) {
            let mut t = Table::new("gateway.netmap", true);
            let n = self.text("netmap-0".into());
            t.set("name", n);
            let local = self.rng.pick(own).clone();
            let v = self.address(local.prefix());
            t.set("local", v);
            let arg = format!("100.64.{}.0/24", self.rng.range(0, 255));
            let v = self.address(arg);
            t.set("local_as", v);
            let arg = format!("100.65.{}.0/24", self.rng.range(0, 255));
            let v = self.address(arg);
            t.set("remote_as", v);
            let v = pick_iface(self, own);
            t.set("interface", v);
            self.logging(&mut t, family);
            self.common(&mut t);
            self.doc.tables.push(t);
        }
        for i in 0..self.rng.range(0, 3) {
            let mut t = Table::new("gateway.allow", true);
            let n = self.text(format!("allow-{i}"));
            t.set("name", n);
            if self.rng.chance(60) {
                let v = self.host_or_prefix();
                t.set("from", v);
            }
            if self.rng.chance(60) {
                let v = self.host_or_prefix();
                t.set("to", v);
            }
            self.protocol_and_ports(&mut t, false);
            let input = self.rng.chance(30);
            if self.rng.chance(50) {
                let v = pick_iface(self, own);
                t.set("in_interface", v);
            }
            if !input && self.rng.chance(40) || self.roll() {
                let v = pick_iface(self, own);
                t.set("out_interface", v);
            }
            if input || self.rng.chance(10) {
                let v = self.text(if input { "input" } else { "forward" }.into());
                t.set("chain", v);
            }
            if self.rng.chance(20) {
                t.set("stateful", Value::Bool(self.rng.chance(60)));
            }
            self.logging(&mut t, family);
            self.common(&mut t);
            self.doc.tables.push(t);
        }
        if self.rng.chance(35) {
            let mut t = Table::new("gateway.policy", false);
            let mut closes = false;
            for key in ["forward", "input"] {
                if self.rng.chance(70) {
                    let verdicts: &[&str] =
                        if family == 0 { &["accept", "drop", "reject"] } else { &["accept", "drop"] };
                    let arg = self.rng.pick(verdicts).to_string();
                    closes |= arg != "accept";
                    let v = self.text(arg);
                    t.set(key, v);
                }
            }
            // A policy log needs a policy that drops or rejects (N115).
            if closes || self.roll() {
                self.logging(&mut t, family);
            }
            self.doc.tables.push(t);
        }
        for i in 0..self.rng.range(0, 2) {
            let mut t = Table::new("gateway.route", true);
            if self.rng.chance(40) {
                let n = self.text(format!("route-{i}"));
                t.set("name", n);
            }
            let to = if self.rng.chance(40) {
                "0.0.0.0/0".to_string()
            } else {
                format!("172.{}.0.0/16", self.rng.range(16, 31))
            };
            let to = self.address(to);
            t.set("to", to);
            let seg = self.rng.pick(own).clone();
            if self.rng.chance(80) {
                let v = self.address(seg.host(254));
                t.set("via", v);
            } else {
                let v = self.text(ifname(&seg));
                t.set("interface", v);
            }
            if self.rng.chance(10) {
                let a = self.accepts(false);
                t.set("accept", a);
            }
            self.doc.tables.push(t);
        }
        if self.rng.chance(30) {
            let mut t = Table::new("gateway.address", true);
            let v = if self.rng.chance(50) { self.text("lo".into()) } else { pick_iface(self, own) };
            t.set("interface", v);
            let arg = format!("192.0.2.{}", self.rng.range(1, 254));
            let v = self.address(arg);
            t.set("address", v);
            self.doc.tables.push(t);
        }
        // Tunnels and BGP are for VyOS and RTX; elsewhere they are rare (and refused, N301).
        let tunnels = if family == 0 { usize::from(self.rng.chance(5)) } else { self.rng.range(0, 2) };
        let mut vtis = Vec::new();
        for i in 0..tunnels {
            vtis.extend(self.tunnel(i, own));
        }
        if family != 0 && self.rng.chance(30) {
            self.bgp(&vtis);
        }
    }

    fn protocol_and_ports(&mut self, t: &mut Table, dnat: bool) {
        if !self.rng.chance(60) {
            return;
        }
        let protocol = if self.roll() {
            self.rng.pick(BOUNDARY_PROTOCOLS).to_string()
        } else {
            self.rng.pick(PROTOCOLS).to_string()
        };
        let ported = protocol == "tcp" || protocol == "udp";
        t.set("protocol", Value::Str(protocol));
        if !(self.roll() || ported && self.rng.chance(80)) {
            return;
        }
        let (port, width) = self.port();
        t.set("port", port);
        if dnat && self.rng.chance(40) {
            let v = if width > 0 && self.rng.chance(50) {
                let lo = self.rng.range(1024, 60000) as i64;
                Value::Str(format!("{lo}-{}", lo + width))
            } else {
                Value::Int(self.int(1, 65535))
            };
            t.set("to_port", v);
        }
    }

    /// A port value and the width of its range (0 for one port or a list).
    fn port(&mut self) -> (Value, i64) {
        if self.roll() {
            return match self.rng.below(4) {
                0 => (Value::Str(self.rng.pick(BOUNDARY_PORTS).to_string()), 0),
                3 => (Value::Float(*self.rng.pick(&[22.5, f64::NAN, f64::INFINITY, -0.0])), 0),
                1 => (Value::Int(*self.rng.pick(BOUNDARY_INTS)), 0),
                _ => (Value::Array(vec![Value::Int(22), Value::Str(self.hostile_string())]), 0),
            };
        }
        match self.rng.below(5) {
            0 => (Value::Int(self.rng.range(1, 65535) as i64), 0),
            1 => (Value::Str(self.rng.pick(&["22", "80", "443", "53"]).to_string()), 0),
            2 => {
                let lo = self.rng.range(1, 60000) as i64;
                let w = self.rng.range(0, 100) as i64;
                (Value::Str(format!("{lo}-{}", lo + w)), w)
            }
            3 => (Value::Str("80,443".into()), 0),
            _ => (Value::Array(vec![Value::Int(22), Value::Str("8000-8010".into())]), 0),
        }
    }

    /// Free text and accepts: the parts every rule table shares.
    fn common(&mut self, t: &mut Table) {
        if self.rng.chance(30) {
            let d = self.free_text();
            t.set("description", d);
        }
        if self.rng.chance(10) {
            let a = self.accepts(false);
            t.set("accept", a);
        }
    }

    /// `log`, and with it sometimes `log_prefix` and `log_rate`. Rates are for Linux
    /// gateways (VyOS and RTX refuse them, N301); the rates iptables cannot express (under
    /// 5/day) and the out-of-range ones come as hostility.
    fn logging(&mut self, t: &mut Table, family: usize) {
        if !self.rng.chance(15) {
            return;
        }
        // `log = false` with a prefix or rate is refused (N115): only as hostility.
        let log = !self.roll();
        t.set("log", Value::Bool(log));
        if self.rng.chance(50) {
            let arg = self.rng.pick(&["natc-", "DNAT web: ", "x"]).to_string();
            let v = self.text(arg);
            t.set("log_prefix", v);
        }
        if family == 0 && self.rng.chance(40) || self.roll() {
            let arg = if self.roll() {
                self.rng.pick(&["1/day", "4/day", "0/second", "10001/minute", "5/fortnight"])
            } else {
                self.rng.pick(&["10/second", "1/minute", "100/hour", "5/day"])
            };
            let v = self.text(arg.to_string());
            t.set("log_rate", v);
        }
    }

    /// A TCP MSS clamp: a size (536-1460, boundary ones as hostility) or "auto".
    fn tcp_mss(&mut self) -> Value {
        if self.rng.chance(40) {
            return self.text("auto".into());
        }
        Value::Int(self.int(536, 1460))
    }

    /// RTX `rtx_keep`: numbers the router already uses on an interface.
    fn rtx_keep(&mut self) -> Value {
        let mut keep = Vec::new();
        for key in ["nat_descriptors", "filters_in", "filters_out", "dynamic_in", "dynamic_out"] {
            if self.rng.chance(40) {
                let n = self.int(1, 2_000_000);
                keep.push((key.to_string(), Value::Array(vec![Value::Int(n)])));
            }
        }
        Value::Inline(keep)
    }

    fn accepts(&mut self, gateway: bool) -> Value {
        let codes = if gateway { pools::GATEWAY_CODES } else { pools::CODES };
        let code = if self.roll() { self.hostile_string() } else { self.rng.pick(codes).to_string() };
        let mut entry = vec![("code".to_string(), Value::Str(code))];
        if !self.roll() {
            let r = self.free_text();
            entry.push(("reason".to_string(), r));
        }
        Value::Array(vec![Value::Inline(entry)])
    }

    /// A tunnel; returns its VTI's far end (for a BGP neighbour) when it is route-based.
    fn tunnel(&mut self, i: usize, own: &[Segment]) -> Option<String> {
        let mut t = Table::new("gateway.tunnel", true);
        let n = self.text(format!("tunnel-{i}"));
        t.set("name", n);
        let arg = format!("203.0.113.{}", self.rng.range(1, 254));
        let v = self.address(arg);
        t.set("remote", v);
        if self.rng.chance(40) {
            let seg = self.rng.pick(own).clone();
            let v = self.address(seg.host(1));
            t.set("local_address", v);
        }
        let psk = match self.rng.below(10) {
            0 if self.hostile > 0 => Value::Str("literal-key".into()),
            1 if self.hostile > 0 => Value::Inline(vec![("vault".into(), Value::Str("x".into()))]),
            2..=4 => Value::Inline(vec![("file".into(), self.text(format!("keys/t{i}.psk")))]),
            _ => Value::Inline(vec![("env".into(), self.text(format!("TUNNEL{i}_PSK")))]),
        };
        t.set("psk", psk);
        if self.rng.chance(40) {
            let mut ike = vec![("version".to_string(), Value::Int(self.int(1, 2)))];
            if self.rng.chance(50) {
                let arg = self.rng.pick(&["aes128", "aes256", "3des"]).to_string();
                ike.push(("encryption".into(), self.text(arg)));
                let arg = self.rng.pick(&["sha1", "sha256", "md5"]).to_string();
                ike.push(("hash".into(), self.text(arg)));
            }
            // The groups every target has; others (1, 7, …) are refused by some (N301).
            let group = if self.roll() { self.int(1, 32) } else { *self.rng.pick(&[2, 14, 19, 20]) };
            ike.push(("dh_group".into(), Value::Int(group)));
            ike.push(("lifetime".into(), Value::Int(self.int(30, 86400))));
            t.set("ike", Value::Inline(ike));
        }
        if self.rng.chance(30) {
            let esp = vec![
                ("encryption".to_string(), self.text("aes128".into())),
                ("pfs".to_string(), Value::Bool(self.rng.chance(50))),
                ("lifetime".to_string(), Value::Int(self.int(30, 86400))),
            ];
            t.set("esp", Value::Inline(esp));
        }
        if self.rng.chance(30) {
            let arg = self.rng.pick(&["restart", "clear", "hold"]).to_string();
            let action = self.text(arg);
            let dpd = vec![
                ("action".to_string(), action),
                ("interval".to_string(), Value::Int(self.int(2, 86400))),
                ("timeout".to_string(), Value::Int(self.int(10, 86400))),
            ];
            t.set("dpd", Value::Inline(dpd));
        }
        if self.rng.chance(30) {
            t.set("nat_traversal", Value::Bool(true));
        }
        if self.rng.chance(25) {
            let arg = self.rng.pick(&["198.51.100.7", "gw.example.net", "vpn@example.net"]).to_string();
            let v = self.text(arg);
            t.set("local_id", v);
        }
        if self.rng.chance(25) {
            let arg = self.rng.pick(&["10.9.0.4", "peer.example.net", "ops@example.net"]).to_string();
            let v = self.text(arg);
            t.set("remote_id", v);
        }
        if self.rng.chance(20) {
            let mss = self.tcp_mss();
            t.set("tcp_mss", mss);
        }
        if self.roll() {
            // The far end as "<gateway>/<tunnel>": mostly one that does not exist (N2xx).
            let arg = format!("{}/tunnel-{}", self.rng.pick(NAMES), self.rng.below(2));
            let v = self.text(arg);
            t.set("peer", v);
        }
        let mut far_end = None;
        if self.rng.chance(60) {
            let third = 4 * i as u8;
            let vti = vec![
                ("name".to_string(), self.text(format!("vti{i}"))),
                ("address".to_string(), self.address(format!("169.254.10.{}/30", third + 2))),
                ("mtu".to_string(), Value::Int(self.int(1300, 1500))),
            ];
            t.set("vti", Value::Inline(vti));
            far_end = Some(format!("169.254.10.{}", third + 1));
        } else {
            let arg = self.rng.pick(own).prefix();
            let local = self.address(arg);
            let arg = format!("172.{}.0.0/16", self.rng.range(16, 31));
            let remote = self.address(arg);
            t.set("local_networks", Value::Array(vec![local]));
            t.set("remote_networks", Value::Array(vec![remote]));
        }
        self.common(&mut t);
        self.doc.tables.push(t);
        far_end
    }

    fn bgp(&mut self, neighbours: &[String]) {
        let mut t = Table::new("gateway.bgp", false);
        t.set("asn", Value::Int(self.int(1, 4_294_967_294)));
        let nets = self.address("0.0.0.0/0".into());
        t.set("networks", Value::Array(vec![nets]));
        self.doc.tables.push(t);
        for address in neighbours {
            let mut n = Table::new("gateway.bgp.neighbor", true);
            let a = self.address(address.clone());
            n.set("address", a);
            n.set("remote_as", Value::Int(self.int(1, 4_294_967_294)));
            if self.rng.chance(50) {
                n.set("holdtime", Value::Int(self.int(3, 65535)));
                n.set("keepalive", Value::Int(self.int(1, 65535)));
            }
            self.doc.tables.push(n);
        }
    }

    /// Hosts on the gateways' segments and expectations between them.
    fn lab(&mut self) {
        let mut hosts: Vec<(String, Segment, String)> = Vec::new();
        let segments = self.segments.clone();
        for (i, seg) in segments.iter().enumerate().take(4) {
            let name = format!("h{i}");
            let mut t = Table::new("lab.host", true);
            let n = self.text(name.clone());
            t.set("name", n);
            let address = seg.host(10 + i as u8);
            let a = self.address(format!("{address}/24"));
            t.set("address", a);
            let attach = self.text(format!("{}.{}", seg.gateway, seg.interface));
            t.set("attach", attach);
            if self.rng.chance(70) {
                let gw = self.address(seg.host(1));
                t.set("gateway", gw);
            }
            if self.rng.chance(15) {
                let to = self.host_or_prefix();
                let via = self.address(seg.host(1));
                t.set("routes", Value::Array(vec![Value::Inline(vec![("to".into(), to), ("via".into(), via)])]));
            }
            self.doc.tables.push(t);
            hosts.push((name, seg.clone(), address));
        }
        if hosts.is_empty() {
            return;
        }
        for i in 0..self.rng.range(1, 3) {
            let (from, _, _) = self.rng.pick(&hosts).clone();
            let (to_host, _, to_addr) = self.rng.pick(&hosts).clone();
            let mut t = Table::new("expect", true);
            // Expectation names are free text too (trace and verify print them in columns).
            let name = if self.rng.chance(25) { self.hostile_string() } else { format!("expectation {i}") };
            t.set("name", Value::Str(name));
            let v = self.text(from);
            t.set("from", v);
            let to = if self.rng.chance(70) { to_addr.clone() } else { self.some_host() };
            let to = self.address(to);
            t.set("to", to);
            let protocol = self.rng.pick(&["icmp", "tcp", "udp"]).to_string();
            if protocol != "icmp" || self.roll() {
                t.set("port", Value::Int(self.int(1, 65535)));
            }
            let v = self.text(protocol);
            t.set("protocol", v);
            if self.rng.chance(75) {
                let v = self.text(to_host);
                t.set("arrives_at", v);
                if self.rng.chance(40) {
                    let arg = self.some_host();
                    let v = self.address(arg);
                    t.set("seen_source", v);
                }
                if self.rng.chance(30) {
                    let v = self.address(to_addr);
                    t.set("seen_destination", v);
                }
            } else {
                t.set("blocked", Value::Bool(true));
            }
            self.doc.tables.push(t);
        }
    }
}

/// `text` without the characters natc refuses in free text (model/text.rs, N122): control
/// characters, U+2028/2029 and the format characters (Unicode category Cf) that hide or
/// reorder text.
fn visible(text: &str) -> String {
    let format = |c: char| {
        matches!(c as u32, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
            | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB)
    };
    text.chars().filter(|&c| !c.is_control() && c != '\u{2028}' && c != '\u{2029}' && !format(c)).collect()
}
