//! The TOML contract (INTENT.md §1–2, §4) as serde types. Every value a diagnostic may point
//! at is `Spanned`. No tagged/untagged/flatten enums here: `Spanned` breaks inside them, so
//! polymorphic values (ports, address lists, secrets) are kept as `toml::Value` and read in
//! the resolve pass.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentFile {
    pub natc: S<i64>,
    pub name: S<String>,
    pub description: Option<S<String>>,
    #[serde(default)]
    pub networks: BTreeMap<S<String>, S<String>>,
    #[serde(default, rename = "gateway")]
    pub gateways: Vec<S<Gateway>>,
    pub lab: Option<S<Lab>>,
    #[serde(default)]
    pub expect: Vec<S<Expect>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    pub name: S<String>,
    pub targets: Option<S<Vec<S<String>>>>,
    pub forwarding: Option<S<bool>>,
    pub vyos: Option<S<String>>,
    pub rtx: Option<S<String>>,
    pub description: Option<S<String>>,
    #[serde(default, rename = "interface")]
    pub interfaces: Vec<S<Interface>>,
    #[serde(default, rename = "address")]
    pub addresses: Vec<S<OwnedAddress>>,
    #[serde(default)]
    pub dnat: Vec<S<Dnat>>,
    #[serde(default)]
    pub snat: Vec<S<Snat>>,
    #[serde(default)]
    pub netmap: Vec<S<Netmap>>,
    #[serde(default)]
    pub allow: Vec<S<Allow>>,
    pub policy: Option<S<Policy>>,
    #[serde(default)]
    pub route: Vec<S<Route>>,
    #[serde(default)]
    pub tunnel: Vec<S<Tunnel>>,
    pub bgp: Option<S<Bgp>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    pub accept: Option<S<Vec<S<Accept>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: S<String>,
    /// One "a.b.c.d/len" or a list of them.
    pub address: Option<S<OneOrMany>>,
    pub description: Option<S<String>>,
}

/// One string, or a list of strings each with its own span. A hand-written visitor, because
/// `Spanned` does not survive serde's untagged enums.
#[derive(Debug)]
pub enum OneOrMany {
    One(String),
    Many(Vec<S<String>>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<S<String>>()? {
                    items.push(item);
                }
                Ok(OneOrMany::Many(items))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnedAddress {
    pub interface: S<String>,
    pub address: S<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Any,
}

impl Protocol {
    /// The word the intent file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Esp => "esp",
            Protocol::Any => "any",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Claim {
    #[default]
    Routed,
    Loopback,
    ProxyArp,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dnat {
    pub name: S<String>,
    pub destination: S<String>,
    pub to: S<String>,
    pub in_interface: Option<S<String>>,
    pub source: Option<S<String>>,
    pub protocol: Option<S<Protocol>>,
    pub port: Option<S<toml::Value>>,
    pub to_port: Option<S<toml::Value>>,
    pub claim: Option<S<Claim>>,
    /// Declares that `to` routes its replies back through this gateway (no SNAT needed).
    pub return_route: Option<S<bool>>,
    pub description: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    pub accept: Option<S<Vec<S<Accept>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snat {
    pub name: S<String>,
    pub out_interface: Option<S<String>>,
    pub source: Option<S<String>>,
    pub destination: Option<S<String>>,
    pub protocol: Option<S<Protocol>>,
    pub port: Option<S<toml::Value>>,
    pub to: S<String>,
    pub except_ipsec: Option<S<bool>>,
    pub description: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    pub accept: Option<S<Vec<S<Accept>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Netmap {
    pub name: S<String>,
    pub local: S<String>,
    pub local_as: S<String>,
    pub remote_as: S<String>,
    pub interface: S<String>,
    pub description: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    pub accept: Option<S<Vec<S<Accept>>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    #[default]
    Accept,
    Drop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub forward: Option<S<Verdict>>,
    pub input: Option<S<Verdict>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Chain {
    #[default]
    Forward,
    Input,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    pub name: S<String>,
    pub from: Option<S<String>>,
    pub to: Option<S<String>>,
    pub protocol: Option<S<Protocol>>,
    pub port: Option<S<toml::Value>>,
    pub in_interface: Option<S<String>>,
    pub out_interface: Option<S<String>>,
    pub chain: Option<S<Chain>>,
    pub stateful: Option<S<bool>>,
    pub description: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    pub accept: Option<S<Vec<S<Accept>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub name: Option<S<String>>,
    pub to: S<String>,
    pub via: Option<S<String>>,
    pub interface: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    pub accept: Option<S<Vec<S<Accept>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    pub name: S<String>,
    pub remote: S<String>,
    pub local_address: Option<S<String>>,
    /// `{ env = "NAME" }` or `{ file = "path" }`; a plain string is refused (N111).
    pub psk: S<toml::Value>,
    pub ike: Option<S<Ike>>,
    pub esp: Option<S<Esp>>,
    pub dpd: Option<S<Dpd>>,
    pub nat_traversal: Option<S<bool>>,
    pub vti: Option<S<Vti>>,
    pub local_networks: Option<S<Vec<S<String>>>>,
    pub remote_networks: Option<S<Vec<S<String>>>>,
    pub description: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    pub accept: Option<S<Vec<S<Accept>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ike {
    pub version: Option<S<i64>>,
    pub encryption: Option<S<String>>,
    pub hash: Option<S<String>>,
    pub dh_group: Option<S<i64>>,
    pub lifetime: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Esp {
    pub encryption: Option<S<String>>,
    pub hash: Option<S<String>>,
    pub pfs: Option<S<bool>>,
    pub lifetime: Option<S<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DpdAction {
    Restart,
    Clear,
    Hold,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dpd {
    pub action: S<DpdAction>,
    pub interval: Option<S<i64>>,
    pub timeout: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vti {
    pub name: S<String>,
    pub address: S<String>,
    pub mtu: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bgp {
    pub asn: S<i64>,
    #[serde(default)]
    pub networks: Vec<S<String>>,
    #[serde(default)]
    pub neighbor: Vec<S<BgpNeighbor>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpNeighbor {
    pub address: S<String>,
    pub remote_as: S<i64>,
    pub holdtime: Option<S<i64>>,
    pub keepalive: Option<S<i64>>,
}

/// `{ code = "N2xx", reason = "…" }`: one warning an item knowingly lives with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    pub code: S<String>,
    pub reason: Option<S<String>>,
}

/// The lab around the gateways (INTENT.md §4, docs/verify.md): hosts, segments, links.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    #[serde(default)]
    pub host: Vec<S<LabHost>>,
    #[serde(default)]
    pub link: Vec<S<LabLink>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabHost {
    pub name: S<String>,
    /// With `attach`: the host's one interface, eth0. Hosts with several use `interfaces`.
    pub address: Option<S<String>>,
    pub attach: Option<S<String>>,
    #[serde(default)]
    pub interfaces: Vec<S<LabInterface>>,
    #[serde(default)]
    pub routes: Vec<S<LabRoute>>,
    pub gateway: Option<S<String>>,
    /// A router in the lab (a cloud's implicit router, an ISP): forwards between its interfaces.
    pub forwarding: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabInterface {
    pub address: S<String>,
    pub attach: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabRoute {
    pub to: S<String>,
    pub via: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabLink {
    pub ends: S<Vec<S<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub name: S<String>,
    pub from: S<String>,
    pub to: S<String>,
    pub protocol: Option<S<Protocol>>,
    pub port: Option<S<i64>>,
    pub arrives_at: Option<S<String>>,
    pub blocked: Option<S<bool>>,
    pub seen_source: Option<S<String>>,
    pub seen_destination: Option<S<String>>,
    /// The destination port the receiver sees (a DNAT with `to_port`); default `port`.
    pub seen_port: Option<S<i64>>,
}
