//! Intents that change a little at a time, for the round-trip property of tests/change.rs:
//! a small state per target (a VyOS gateway, an RTX830) that renders as TOML, and edits
//! that each add, remove, rename or change one thing. A deterministic generator picks
//! the edits, so a failure is reproduced by its seed and step.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write;

/// xorshift64*: deterministic, no crate needed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A name from `pool` that `taken` does not have yet.
fn fresh<V>(rng: &mut Rng, pool: &[&str], taken: &BTreeMap<String, V>) -> Option<String> {
    let free: Vec<&str> = pool.iter().copied().filter(|n| !taken.contains_key(*n)).collect();
    (!free.is_empty()).then(|| free[rng.below(free.len())].to_string())
}

/// Some key of `map`.
fn some_key<V>(rng: &mut Rng, map: &BTreeMap<String, V>) -> Option<String> {
    (!map.is_empty()).then(|| map.keys().nth(rng.below(map.len())).cloned()).flatten()
}

/// TOML written table by table (every value already in TOML syntax).
#[derive(Default)]
struct Toml(String);

impl Toml {
    fn fields(&mut self, fields: &[(&str, String)]) {
        for (key, value) in fields {
            let _ = writeln!(self.0, "{key} = {value}");
        }
    }

    fn table(&mut self, header: &str, fields: &[(&str, String)]) {
        let _ = writeln!(self.0, "\n{header}");
        self.fields(fields);
    }
}

/// A TOML string.
fn q(value: impl std::fmt::Display) -> String {
    format!("\"{value}\"")
}

/// A TOML number or boolean.
fn n(value: impl std::fmt::Display) -> String {
    value.to_string()
}

/// A TOML list of strings.
fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    format!("[{}]", items.into_iter().map(q).collect::<Vec<_>>().join(", "))
}

// ------------------------------------------------------------------------------ VyOS

#[derive(Debug, Clone)]
pub struct VyosDnat {
    port: u16,
    host: u8,
    protocol: &'static str,
}

#[derive(Debug, Clone)]
pub struct VyosTunnel {
    remote: u8,
    /// `vtiN` (route-based) or a policy-based tunnel on 10.0.0.0/24.
    vti: Option<u8>,
    ike_version: u8,
    encryption: &'static str,
    dh_group: u8,
    dpd_interval: u16,
    remote_networks: Vec<u8>,
}

/// One VyOS gateway: eth0 (192.0.2.1/24, the outside) and eth1 (10.0.N.1/24, the inside).
#[derive(Debug, Clone)]
pub struct Vyos {
    lan: Vec<u8>,
    wan_description: u8,
    owned_address: Option<u8>,
    masquerade: bool,
    dnats: BTreeMap<String, VyosDnat>,
    forward_drop: bool,
    allows: BTreeMap<String, (u16, &'static str)>,
    routes: BTreeMap<u8, u8>,
    tunnels: BTreeMap<String, VyosTunnel>,
    bgp: Option<u32>,
}

const VYOS_RULES: &[&str] = &["web", "mail", "ssh", "dns", "game", "vpn-in"];
const TUNNELS: &[&str] = &["aws-1", "aws-2", "branch", "dc"];

impl Vyos {
    pub fn base() -> Vyos {
        Vyos {
            lan: vec![0],
            wan_description: 0,
            owned_address: None,
            masquerade: true,
            dnats: BTreeMap::from([("web".into(), VyosDnat { port: 443, host: 10, protocol: "tcp" })]),
            forward_drop: false,
            allows: BTreeMap::new(),
            routes: BTreeMap::from([(1, 254)]),
            tunnels: BTreeMap::new(),
            bgp: None,
        }
    }

    pub fn toml(&self) -> String {
        let mut t = Toml::default();
        t.fields(&[("natc", n(1)), ("name", q("change-vyos"))]);
        t.table("[[gateway]]", &[("name", q("gw")), ("targets", list(["vyos"]))]);
        t.table(
            "[[gateway.interface]]",
            &[
                ("name", q("eth0")),
                ("address", q("192.0.2.1/24")),
                ("description", q(format!("outside {}", self.wan_description))),
            ],
        );
        let lan = list(self.lan.iter().map(|n| format!("10.0.{n}.1/24")));
        t.table("[[gateway.interface]]", &[("name", q("eth1")), ("address", lan)]);
        if let Some(a) = self.owned_address {
            t.table("[[gateway.address]]", &[("interface", q("eth0")), ("address", q(format!("192.0.2.{a}/24")))]);
        }
        for (name, d) in &self.dnats {
            t.table(
                "[[gateway.dnat]]",
                &[
                    ("name", q(name)),
                    ("destination", q("192.0.2.1")),
                    ("protocol", q(d.protocol)),
                    ("port", n(d.port)),
                    ("to", q(format!("10.0.0.{}", d.host))),
                    ("in_interface", q("eth0")),
                    ("return_route", n(true)),
                ],
            );
        }
        if self.masquerade {
            t.table(
                "[[gateway.snat]]",
                &[
                    ("name", q("masq")),
                    ("source", q("10.0.0.0/24")),
                    ("out_interface", q("eth0")),
                    ("to", q("masquerade")),
                ],
            );
        }
        if self.forward_drop {
            t.table("[gateway.policy]", &[("forward", q("drop"))]);
        }
        for (name, (port, protocol)) in &self.allows {
            t.table(
                "[[gateway.allow]]",
                &[
                    ("name", q(name)),
                    ("from", q("10.0.0.0/24")),
                    ("protocol", q(protocol)),
                    ("port", n(port)),
                    ("out_interface", q("eth0")),
                ],
            );
        }
        for (net, hop) in &self.routes {
            t.table(
                "[[gateway.route]]",
                &[("to", q(format!("172.16.{net}.0/24"))), ("via", q(format!("192.0.2.{hop}")))],
            );
        }
        for (name, tunnel) in &self.tunnels {
            let (v, enc, dh, dpd) = (tunnel.ike_version, tunnel.encryption, tunnel.dh_group, tunnel.dpd_interval);
            let mut fields = vec![
                ("name", q(name)),
                ("remote", q(format!("203.0.113.{}", tunnel.remote))),
                ("local_address", q("192.0.2.1")),
                ("psk", format!("{{ env = \"PSK_{}\" }}", name.replace('-', "_").to_uppercase())),
                ("ike", format!("{{ version = {v}, encryption = \"{enc}\", hash = \"sha256\", dh_group = {dh} }}")),
                ("esp", format!("{{ encryption = \"{enc}\", hash = \"sha256\" }}")),
                ("dpd", format!("{{ action = \"restart\", interval = {dpd}, timeout = {} }}", dpd * 3)),
            ];
            match tunnel.vti {
                Some(vti) => {
                    fields.push(("vti", format!("{{ name = \"vti{vti}\", address = \"169.254.{vti}.1/30\" }}")))
                }
                None => {
                    fields.push(("local_networks", list(["10.0.0.0/24"])));
                    fields.push((
                        "remote_networks",
                        list(tunnel.remote_networks.iter().map(|r| format!("172.20.{r}.0/24"))),
                    ));
                }
            }
            t.table("[[gateway.tunnel]]", &fields);
        }
        if let Some(asn) = self.bgp {
            t.table("[gateway.bgp]", &[("asn", n(asn)), ("networks", list(["10.0.0.0/24"]))]);
            for vti in self.tunnels.values().filter_map(|tunnel| tunnel.vti) {
                t.table(
                    "[[gateway.bgp.neighbor]]",
                    &[
                        ("address", q(format!("169.254.{vti}.2"))),
                        ("remote_as", n(64512)),
                        ("holdtime", n(30)),
                        ("keepalive", n(10)),
                    ],
                );
            }
        }
        t.0
    }

    /// One edit; its description. A quarter of the edits change a tunnel (the other
    /// kinds are uniform), as tunnels have the most settings.
    pub fn edit(&mut self, rng: &mut Rng) -> String {
        loop {
            let kind = if !self.tunnels.is_empty() && rng.chance(25) { 13 } else { rng.below(16) };
            if let Some(what) = self.try_edit(rng, kind) {
                return what;
            }
        }
    }

    fn free_vti(&self, rng: &mut Rng) -> Option<u8> {
        let used: Vec<u8> = self.tunnels.values().filter_map(|t| t.vti).collect();
        let free: Vec<u8> = (0..5).filter(|n| !used.contains(n)).collect();
        (!free.is_empty()).then(|| free[rng.below(free.len())])
    }

    fn try_edit(&mut self, rng: &mut Rng, kind: usize) -> Option<String> {
        Some(match kind {
            0 => {
                let name = fresh(rng, VYOS_RULES, &self.dnats)?;
                let used: Vec<u16> = self.dnats.values().map(|d| d.port).collect();
                let port = rng.pick(&[80u16, 443, 2222, 8080, 25, 5060]);
                if used.contains(&port) {
                    return None;
                }
                let dnat = VyosDnat { port, host: rng.pick(&[10, 11, 12, 20]), protocol: rng.pick(&["tcp", "udp"]) };
                self.dnats.insert(name.clone(), dnat);
                format!("add dnat {name}")
            }
            1 => {
                let name = some_key(rng, &self.dnats)?;
                self.dnats.remove(&name);
                format!("remove dnat {name}")
            }
            2 => {
                let name = some_key(rng, &self.dnats)?;
                let port = rng.pick(&[81u16, 444, 2223, 8081, 26]);
                if self.dnats.values().any(|d| d.port == port) {
                    return None;
                }
                self.dnats.get_mut(&name)?.port = port;
                format!("dnat {name}: port {port}")
            }
            3 => {
                let name = some_key(rng, &self.dnats)?;
                let host = rng.pick(&[10u8, 13, 14, 30]);
                self.dnats.get_mut(&name)?.host = host;
                format!("dnat {name}: to 10.0.0.{host}")
            }
            4 => {
                let name = some_key(rng, &self.dnats)?;
                let new = fresh(rng, VYOS_RULES, &self.dnats)?;
                let d = self.dnats.remove(&name)?;
                self.dnats.insert(new.clone(), d);
                format!("rename dnat {name} to {new}")
            }
            5 => {
                self.forward_drop = !self.forward_drop;
                format!("forward drop = {}", self.forward_drop)
            }
            6 => {
                let name = fresh(rng, &["out-web", "out-dns", "out-ntp", "out-smtp"], &self.allows)?;
                self.allows.insert(name.clone(), (rng.pick(&[443, 53, 123, 25]), rng.pick(&["tcp", "udp"])));
                format!("add allow {name}")
            }
            7 => {
                let name = some_key(rng, &self.allows)?;
                self.allows.remove(&name);
                format!("remove allow {name}")
            }
            8 => {
                let n = rng.pick(&[0u8, 1, 2, 3]);
                if let Some(i) = self.lan.iter().position(|x| *x == n) {
                    if n == 0 {
                        return None; // 10.0.0.0/24 holds the hosts
                    }
                    self.lan.remove(i);
                    format!("eth1 loses 10.0.{n}.1/24")
                } else {
                    self.lan.push(n);
                    format!("eth1 gets 10.0.{n}.1/24")
                }
            }
            9 => {
                self.owned_address = match self.owned_address {
                    Some(_) => None,
                    None => Some(rng.pick(&[5, 6])),
                };
                format!("owned address {:?}", self.owned_address)
            }
            10 => {
                let net = rng.pick(&[1u8, 2, 3]);
                match self.routes.get(&net) {
                    Some(_) if rng.chance(50) => {
                        self.routes.remove(&net);
                        format!("remove route 172.16.{net}.0/24")
                    }
                    _ => {
                        let hop = rng.pick(&[253u8, 254]);
                        self.routes.insert(net, hop);
                        format!("route 172.16.{net}.0/24 via .{hop}")
                    }
                }
            }
            11 => {
                let name = fresh(rng, TUNNELS, &self.tunnels)?;
                let vti = if rng.chance(70) { Some(self.free_vti(rng)?) } else { None };
                let tunnel = VyosTunnel {
                    remote: rng.pick(&[51, 62, 73]),
                    vti,
                    ike_version: rng.pick(&[1, 2]),
                    encryption: rng.pick(&["aes128", "aes256"]),
                    dh_group: rng.pick(&[14, 2]),
                    dpd_interval: rng.pick(&[10, 15]),
                    remote_networks: vec![rng.pick(&[1, 2])],
                };
                self.tunnels.insert(name.clone(), tunnel);
                format!("add tunnel {name}")
            }
            12 => {
                let name = some_key(rng, &self.tunnels)?;
                self.tunnels.remove(&name);
                format!("remove tunnel {name}")
            }
            13 => {
                let name = some_key(rng, &self.tunnels)?;
                let vti = self.free_vti(rng);
                let t = self.tunnels.get_mut(&name)?;
                match rng.below(6) {
                    0 => t.ike_version = 3 - t.ike_version,
                    1 => t.encryption = if t.encryption == "aes128" { "aes256" } else { "aes128" },
                    2 => t.dpd_interval = if t.dpd_interval == 10 { 20 } else { 10 },
                    3 => t.remote = t.remote.wrapping_add(1),
                    4 if t.vti.is_some() => t.vti = Some(vti?),
                    4 => return None,
                    _ if t.vti.is_none() => {
                        let n = rng.pick(&[1u8, 2, 3]);
                        match t.remote_networks.iter().position(|x| *x == n) {
                            Some(i) if t.remote_networks.len() > 1 => {
                                t.remote_networks.remove(i);
                            }
                            Some(_) => return None,
                            None => t.remote_networks.push(n),
                        }
                    }
                    _ => return None,
                }
                format!("change tunnel {name}")
            }
            14 => {
                self.bgp = match self.bgp {
                    Some(65000) => Some(65001),
                    Some(_) => None,
                    None => Some(65000),
                };
                format!("bgp {:?}", self.bgp)
            }
            _ => {
                if rng.chance(50) {
                    self.wan_description = (self.wan_description + 1) % 3;
                    "eth0 description".into()
                } else {
                    self.masquerade = !self.masquerade;
                    format!("masquerade {}", self.masquerade)
                }
            }
        })
    }
}

// ------------------------------------------------------------------------------- RTX

#[derive(Debug, Clone)]
pub struct RtxTunnel {
    number: u8,
    remote: u8,
    ike_version: u8,
    encryption: &'static str,
    hash: &'static str,
    dh_group: u8,
    dpd_interval: u16,
    nat_traversal: bool,
    route: bool,
}

/// An RTX830: lan1 (the office), lan2 (the Internet, masquerade), port forwards, a 1:1
/// host, filters under forward = drop, and IPsec tunnels (then forward = accept: RTX
/// filters a drop policy on exactly two forwarding interfaces).
#[derive(Debug, Clone)]
pub struct Rtx {
    one_to_one: Option<u8>,
    forwards: BTreeMap<String, (u16, u8, Option<u16>)>,
    forward_drop: bool,
    allows: BTreeMap<String, (u16, &'static str)>,
    tunnels: BTreeMap<String, RtxTunnel>,
    /// The office shown as 10.10.10.0/24 inside tunnel1 (static NAT on the tunnel).
    tunnel_nat: bool,
    default_route: u8,
}

const FORWARDS: &[&str] = &["web", "mail", "ssh", "rdp", "sip"];

impl Rtx {
    pub fn base() -> Rtx {
        Rtx {
            one_to_one: None,
            forwards: BTreeMap::from([("web".into(), (443, 20, None))]),
            forward_drop: true,
            allows: BTreeMap::from([("out-web".into(), (443, "tcp"))]),
            tunnels: BTreeMap::new(),
            tunnel_nat: false,
            default_route: 1,
        }
    }

    pub fn toml(&self) -> String {
        let mut t = Toml::default();
        t.fields(&[("natc", n(1)), ("name", q("change-rtx"))]);
        t.table("[[gateway]]", &[("name", q("office")), ("targets", list(["rtx"])), ("rtx", q("RTX830"))]);
        t.table("[[gateway.interface]]", &[("name", q("lan1")), ("address", q("192.168.10.1/24"))]);
        t.table("[[gateway.interface]]", &[("name", q("lan2")), ("address", q("203.0.113.2/29"))]);
        if let Some(a) = self.one_to_one {
            let outer = q(format!("203.0.113.{a}"));
            t.table(
                "[[gateway.snat]]",
                &[
                    ("name", q("host-out")),
                    ("source", q("192.168.10.10")),
                    ("to", outer.clone()),
                    ("out_interface", q("lan2")),
                ],
            );
            t.table(
                "[[gateway.dnat]]",
                &[
                    ("name", q("host-in")),
                    ("destination", outer),
                    ("to", q("192.168.10.10")),
                    ("in_interface", q("lan2")),
                    ("claim", q("proxy-arp")),
                ],
            );
        }
        t.table(
            "[[gateway.snat]]",
            &[
                ("name", q("masq")),
                ("source", q("192.168.10.0/24")),
                ("to", q("masquerade")),
                ("out_interface", q("lan2")),
            ],
        );
        for (name, (port, host, to_port)) in &self.forwards {
            let mut fields = vec![
                ("name", q(name)),
                ("destination", q("203.0.113.2")),
                ("protocol", q("tcp")),
                ("port", n(port)),
                ("to", q(format!("192.168.10.{host}"))),
                ("in_interface", q("lan2")),
            ];
            fields.extend(to_port.map(|p| ("to_port", n(p))));
            t.table("[[gateway.dnat]]", &fields);
        }
        if self.tunnel_nat && self.tunnels.values().any(|tunnel| tunnel.number == 1) {
            t.table(
                "[[gateway.snat]]",
                &[
                    ("name", q("office-as-10")),
                    ("source", q("192.168.10.0/24")),
                    ("to", q("10.10.10.0/24")),
                    ("out_interface", q("tunnel1")),
                ],
            );
            t.table(
                "[[gateway.dnat]]",
                &[
                    ("name", q("office-from-cloud")),
                    ("destination", q("10.10.10.0/24")),
                    ("to", q("192.168.10.0/24")),
                    ("in_interface", q("tunnel1")),
                    ("return_route", n(true)),
                ],
            );
        }
        if self.forward_drop && self.tunnels.is_empty() {
            t.table("[gateway.policy]", &[("forward", q("drop"))]);
            for (name, (port, protocol)) in &self.allows {
                t.table(
                    "[[gateway.allow]]",
                    &[
                        ("name", q(name)),
                        ("from", q("192.168.10.0/24")),
                        ("protocol", q(protocol)),
                        ("port", n(port)),
                        ("out_interface", q("lan2")),
                    ],
                );
            }
            for (name, (port, host, to_port)) in &self.forwards {
                t.table(
                    "[[gateway.allow]]",
                    &[
                        ("name", q(format!("in-{name}"))),
                        ("to", q(format!("192.168.10.{host}"))),
                        ("protocol", q("tcp")),
                        ("port", n(to_port.unwrap_or(*port))),
                        ("in_interface", q("lan2")),
                    ],
                );
            }
        }
        for (name, tunnel) in &self.tunnels {
            let (num, v, enc, hash, dh) =
                (tunnel.number, tunnel.ike_version, tunnel.encryption, tunnel.hash, tunnel.dh_group);
            let dpd = tunnel.dpd_interval;
            t.table(
                "[[gateway.tunnel]]",
                &[
                    ("name", q(name)),
                    ("remote", q(format!("198.51.100.{}", tunnel.remote))),
                    ("local_address", q("203.0.113.2")),
                    ("psk", format!("{{ env = \"PSK_{num}\" }}")),
                    (
                        "ike",
                        format!(
                            "{{ version = {v}, encryption = \"{enc}\", hash = \"{hash}\", dh_group = {dh}, lifetime = 28800 }}"
                        ),
                    ),
                    ("esp", format!("{{ encryption = \"{enc}\", hash = \"{hash}\", pfs = true, lifetime = 3600 }}")),
                    ("dpd", format!("{{ action = \"restart\", interval = {dpd}, timeout = {} }}", dpd * 3)),
                    ("nat_traversal", n(tunnel.nat_traversal)),
                    ("vti", format!("{{ name = \"tunnel{num}\", address = \"169.254.{num}.2/30\" }}")),
                ],
            );
            if tunnel.route {
                t.table(
                    "[[gateway.route]]",
                    &[("to", q(format!("172.16.{num}.0/24"))), ("interface", q(format!("tunnel{num}")))],
                );
            }
        }
        t.table(
            "[[gateway.route]]",
            &[("to", q("0.0.0.0/0")), ("via", q(format!("203.0.113.{}", self.default_route)))],
        );
        t.0
    }

    /// One edit; its description (a quarter change a tunnel, as for VyOS).
    pub fn edit(&mut self, rng: &mut Rng) -> String {
        loop {
            let kind = if !self.tunnels.is_empty() && rng.chance(25) { 10 } else { rng.below(13) };
            if let Some(what) = self.try_edit(rng, kind) {
                return what;
            }
        }
    }

    fn try_edit(&mut self, rng: &mut Rng, kind: usize) -> Option<String> {
        Some(match kind {
            0 => {
                let name = fresh(rng, FORWARDS, &self.forwards)?;
                let port = rng.pick(&[80u16, 25, 22, 3389, 5060, 8443]);
                if self.forwards.values().any(|f| f.0 == port) {
                    return None;
                }
                let to_port = if rng.chance(30) { Some(rng.pick(&[8080u16, 2200])) } else { None };
                self.forwards.insert(name.clone(), (port, rng.pick(&[20, 21, 22]), to_port));
                format!("add forward {name}")
            }
            1 => {
                let name = some_key(rng, &self.forwards)?;
                self.forwards.remove(&name);
                format!("remove forward {name}")
            }
            2 => {
                let name = some_key(rng, &self.forwards)?;
                let host = rng.pick(&[23u8, 24, 20]);
                self.forwards.get_mut(&name)?.1 = host;
                format!("forward {name} to .{host}")
            }
            3 => {
                let name = some_key(rng, &self.forwards)?;
                let new = fresh(rng, FORWARDS, &self.forwards)?;
                let f = self.forwards.remove(&name)?;
                self.forwards.insert(new.clone(), f);
                format!("rename forward {name} to {new}")
            }
            4 => {
                self.one_to_one = match self.one_to_one {
                    None => Some(rng.pick(&[3, 4])),
                    Some(3) if rng.chance(50) => Some(4),
                    _ => None,
                };
                format!("1:1 {:?}", self.one_to_one)
            }
            5 => {
                self.forward_drop = !self.forward_drop;
                format!("forward drop = {}", self.forward_drop)
            }
            6 => {
                let name = fresh(rng, &["out-web", "out-dns", "out-ntp", "out-mail"], &self.allows)?;
                self.allows.insert(name.clone(), (rng.pick(&[443, 53, 123, 587]), rng.pick(&["tcp", "udp"])));
                format!("add allow {name}")
            }
            7 => {
                let name = some_key(rng, &self.allows)?;
                if rng.chance(50) {
                    self.allows.remove(&name);
                    format!("remove allow {name}")
                } else {
                    let port = rng.pick(&[8443u16, 993, 465]);
                    self.allows.get_mut(&name)?.0 = port;
                    format!("allow {name}: port {port}")
                }
            }
            8 => {
                let name = fresh(rng, &["cloud-a", "cloud-b", "dc"], &self.tunnels)?;
                let used: Vec<u8> = self.tunnels.values().map(|t| t.number).collect();
                let number = rng.pick(&[1u8, 2, 3]);
                if used.contains(&number) {
                    return None;
                }
                let tunnel = RtxTunnel {
                    number,
                    remote: rng.pick(&[10, 20]),
                    ike_version: rng.pick(&[1, 2]),
                    encryption: rng.pick(&["aes128", "aes256"]),
                    hash: rng.pick(&["sha1", "sha256"]),
                    dh_group: rng.pick(&[2, 14]),
                    dpd_interval: rng.pick(&[10, 15]),
                    nat_traversal: rng.chance(50),
                    route: rng.chance(70),
                };
                self.tunnels.insert(name.clone(), tunnel);
                format!("add tunnel {name}")
            }
            9 => {
                let name = some_key(rng, &self.tunnels)?;
                self.tunnels.remove(&name);
                format!("remove tunnel {name}")
            }
            10 => {
                let name = some_key(rng, &self.tunnels)?;
                let t = self.tunnels.get_mut(&name)?;
                match rng.below(7) {
                    0 => t.ike_version = 3 - t.ike_version,
                    1 => t.encryption = if t.encryption == "aes128" { "aes256" } else { "aes128" },
                    2 => t.hash = if t.hash == "sha1" { "sha256" } else { "sha1" },
                    3 => t.dh_group = if t.dh_group == 2 { 14 } else { 2 },
                    4 => t.nat_traversal = !t.nat_traversal,
                    5 => t.route = !t.route,
                    _ => t.dpd_interval = if t.dpd_interval == 10 { 20 } else { 10 },
                }
                format!("change tunnel {name}")
            }
            11 => {
                self.tunnel_nat = !self.tunnel_nat;
                format!("tunnel nat {}", self.tunnel_nat)
            }
            _ => {
                self.default_route = if self.default_route == 1 { 6 } else { 1 };
                format!("default route via .{}", self.default_route)
            }
        })
    }
}
