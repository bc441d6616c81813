//! The TOML contract (docs/intent.md §1–2, §5) as serde types. Every value a diagnostic may point
//! at is `Spanned`. No tagged/untagged/flatten enums here: `Spanned` breaks inside them, so
//! polymorphic values (ports, address lists, secrets) are kept as `toml::Value` and read in
//! the resolve pass.
//!
//! The lab and its expectations (§4) are in `lab_types.rs`.
//!
//! The same types give the JSON Schema (`natc schema`): `Spanned` has no schema, so every
//! field names the schema of its value with `#[schemars(with = …)]`, a plain type or one of
//! the value forms in `schema/forms.rs`. The doc comments on fields are what an editor shows on hover.

use crate::schema::forms;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub use super::lab_types::{Expect, Lab, LabHost, LabInterface, LabLink, LabRoute};
pub use crate::vocab::words::{Chain, Claim, DpdAction, Protocol, Verdict};

pub type S<T> = Spanned<T>;

/// A natc intent file: the NAT and VPN gateways of one site, and optionally a lab to prove them in.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "natc intent file", transform = forms::gateway_required)]
pub struct IntentFile {
    /// The intent file format version: 1.
    #[schemars(with = "forms::SchemaVersion")]
    pub natc: S<i64>,
    /// The intent's name, [a-z0-9-]+: used in table names, comments and file names.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<S<String>>,
    /// Named hosts and prefixes, referenced elsewhere as "@name".
    #[serde(default)]
    #[schemars(with = "forms::Networks")]
    pub networks: BTreeMap<S<String>, S<String>>,
    /// A NAT/VPN device; at least one.
    #[serde(default, rename = "gateway")]
    #[schemars(with = "Vec<Gateway>", length(min = 1))]
    pub gateways: Vec<S<Gateway>>,
    /// The hosts and wires around the gateways, for `natc verify` and `natc trace`.
    #[schemars(with = "Option<Lab>")]
    pub lab: Option<S<Lab>>,
    /// A packet expectation that `natc verify` and `natc trace` prove.
    #[serde(default)]
    #[schemars(with = "Vec<Expect>")]
    pub expect: Vec<S<Expect>>,
}

/// One NAT/VPN device: its interfaces, translations, filters, routes and tunnels.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// The gateway's name, [a-z0-9-]+, unique: the output directory and every rule comment carry it.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// The targets `natc build` writes when no --target is given.
    #[schemars(with = "Option<Vec<forms::Target>>")]
    pub targets: Option<S<Vec<S<String>>>>,
    /// Enable IPv4 forwarding where the target has such a knob (default true; false emits nothing).
    #[schemars(with = "Option<bool>")]
    pub forwarding: Option<S<bool>>,
    /// Count packets and bytes on every NAT and filter rule natc writes (default false):
    /// nftables writes `counter`; iptables and VyOS count every rule anyway; RTX refuses it.
    #[schemars(with = "Option<bool>")]
    pub counters: Option<S<bool>>,
    /// The firewalld release line to write for: "0.6" (CentOS 7), "0.9" or "1" (default).
    #[schemars(with = "Option<forms::FirewalldVersion>")]
    pub firewalld: Option<S<String>>,
    /// The VyOS version to write for (default "1.4").
    #[schemars(with = "Option<forms::VyosVersion>")]
    pub vyos: Option<S<String>>,
    /// The Yamaha RTX model to write for (default "RTX1210").
    #[schemars(with = "Option<forms::RtxModel>")]
    pub rtx: Option<S<String>>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<S<String>>,
    /// An interface of the device, by its own name (eth0, lan3, …).
    #[serde(default, rename = "interface")]
    #[schemars(with = "Vec<Interface>")]
    pub interfaces: Vec<S<Interface>>,
    /// An extra address the gateway must own (a loopback alias, say).
    #[serde(default, rename = "address")]
    #[schemars(with = "Vec<OwnedAddress>")]
    pub addresses: Vec<S<OwnedAddress>>,
    /// Destination NAT: traffic arriving for `destination` is delivered to `to`.
    #[serde(default)]
    #[schemars(with = "Vec<Dnat>")]
    pub dnat: Vec<S<Dnat>>,
    /// Source NAT: traffic leaving through `out_interface` gets the source `to`.
    #[serde(default)]
    #[schemars(with = "Vec<Snat>")]
    pub snat: Vec<S<Snat>>,
    /// A local network shown to the far side under another prefix (overlapping CIDRs).
    #[serde(default)]
    #[schemars(with = "Vec<Netmap>")]
    pub netmap: Vec<S<Netmap>>,
    /// A filter rule that lets traffic through (or to) the gateway.
    #[serde(default)]
    #[schemars(with = "Vec<Allow>")]
    pub allow: Vec<S<Allow>>,
    /// The default verdicts of the forward and input filters.
    #[schemars(with = "Option<Policy>")]
    pub policy: Option<S<Policy>>,
    /// A static route.
    #[serde(default)]
    #[schemars(with = "Vec<Route>")]
    pub route: Vec<S<Route>>,
    /// An IPsec site-to-site tunnel.
    #[serde(default)]
    #[schemars(with = "Vec<Tunnel>")]
    pub tunnel: Vec<S<Tunnel>>,
    /// BGP over the tunnels.
    #[schemars(with = "Option<Bgp>")]
    pub bgp: Option<S<Bgp>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    #[schemars(with = "Option<Vec<Accept>>")]
    pub accept: Option<S<Vec<S<Accept>>>>,
}

/// An interface of the gateway.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// The device's own interface name (eth0, eth0.10, lan3, …), unique on the gateway.
    #[schemars(with = "forms::InterfaceName")]
    pub name: S<String>,
    /// One "a.b.c.d/len" or a list of them.
    #[schemars(with = "Option<forms::InterfaceAddresses>")]
    pub address: Option<S<OneOrMany>>,
    /// Clamp the TCP MSS of connections leaving through this interface: a size
    /// (536–1460) or "auto" (the route's path MTU minus 40).
    #[schemars(with = "Option<forms::TcpMss>")]
    pub tcp_mss: Option<S<toml::Value>>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<S<String>>,
    /// Yamaha RTX only: the router's own NAT descriptors and filters on this interface that
    /// natc's `ip <if> nat descriptor` / `secure filter` lines must keep (docs/rtx.md,
    /// "Coexistence"). Each such line replaces the interface's whole list on the router.
    #[schemars(with = "Option<RtxKeep>")]
    pub rtx_keep: Option<S<RtxKeep>>,
}

/// The numbers an RTX already uses on one interface (from its `show config`), kept in the
/// lists natc writes there: descriptors after natc's, filters before natc's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RtxKeep {
    /// `ip <if> nat descriptor …`: the router's descriptor ids (1..2147483647).
    #[serde(default)]
    pub nat_descriptors: Vec<u32>,
    /// `ip <if> secure filter in …`: static filter numbers (1..21474836).
    #[serde(default)]
    pub filters_in: Vec<u32>,
    /// `ip <if> secure filter out …`: static filter numbers.
    #[serde(default)]
    pub filters_out: Vec<u32>,
    /// The dynamic filter numbers after `dynamic` in the in list.
    #[serde(default)]
    pub dynamic_in: Vec<u32>,
    /// The dynamic filter numbers after `dynamic` in the out list.
    #[serde(default)]
    pub dynamic_out: Vec<u32>,
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

/// An address the gateway must own on one of its interfaces.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnedAddress {
    /// The interface that gets the address ("lo" or a declared one).
    #[schemars(with = "forms::InterfaceName")]
    pub interface: S<String>,
    /// A host, "@name", or an address with its subnet length.
    #[schemars(with = "forms::OwnedAddressValue")]
    pub address: S<String>,
}

// The keys most items leave out are boxed here and in `Snat`, `Netmap` and `Allow`: an
// absent one costs 8 bytes instead of 24-48, which at 100k items is tens of MiB of the
// parse's peak (an intent holds each item until the model has it). (A plain comment: doc
// comments become the schema's descriptions.)
/// "Traffic arriving for `destination` is delivered to `to`."
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dnat {
    /// The rule's name, [a-z0-9-]+, unique among the gateway's rules; output comments carry it.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// The host or prefix the clients address (the virtual address).
    #[schemars(with = "forms::Address")]
    pub destination: S<String>,
    /// The real host, or a prefix as long as `destination` for a 1:1 block map.
    #[schemars(with = "forms::Address")]
    pub to: S<String>,
    /// Only traffic arriving on this interface.
    #[schemars(with = "Option<forms::InterfaceName>")]
    pub in_interface: Option<S<String>>,
    /// Only traffic from this host or prefix.
    #[schemars(with = "Option<forms::Address>")]
    pub source: Option<Box<S<String>>>,
    /// Only this protocol (default: all).
    #[schemars(with = "Option<Protocol>")]
    pub protocol: Option<S<Protocol>>,
    /// Only these destination ports (needs protocol tcp or udp).
    #[schemars(with = "Option<forms::Ports>")]
    pub port: Option<S<toml::Value>>,
    /// The new destination port: one port, or a range as wide as `port`.
    #[schemars(with = "Option<forms::PortOrRange>")]
    pub to_port: Option<S<toml::Value>>,
    /// How packets for `destination` reach the gateway (default "routed").
    #[schemars(with = "Option<Claim>")]
    pub claim: Option<Box<S<Claim>>>,
    /// Declares that `to` routes its replies back through this gateway (no SNAT needed).
    #[schemars(with = "Option<bool>")]
    pub return_route: Option<Box<S<bool>>>,
    /// Hairpin (NAT reflection): hosts on `to`'s own subnet reach the forward through
    /// `destination` too; their flows are masqueraded to the gateway's inside address.
    #[schemars(with = "Option<bool>")]
    pub hairpin: Option<Box<S<bool>>>,
    /// Log the connections this translation translates (default false): the kernel log,
    /// under `log_prefix`.
    #[schemars(with = "Option<bool>")]
    pub log: Option<Box<S<bool>>>,
    /// The log line's prefix (needs `log = true`): at most 29 printable ASCII characters,
    /// without `"`, `\`, `$` or `` ` ``.
    #[schemars(with = "Option<String>")]
    pub log_prefix: Option<Box<S<String>>>,
    /// At most this many log lines (needs `log = true`): "N/second", "N/minute", "N/hour" or
    /// "N/day", N from 1 to 10000, after a burst of 5 (docs/intent.md#logging).
    #[schemars(with = "Option<forms::LogRate>")]
    pub log_rate: Option<Box<S<String>>>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<Box<S<String>>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    #[schemars(with = "Option<Vec<Accept>>")]
    pub accept: Option<Box<S<Vec<S<Accept>>>>>,
}

/// "Traffic leaving through `out_interface` gets the source `to`."
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snat {
    /// The rule's name, [a-z0-9-]+, unique among the gateway's rules; output comments carry it.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// Only traffic leaving through this interface (strongly advised: N205 warns without it).
    #[schemars(with = "Option<forms::InterfaceName>")]
    pub out_interface: Option<S<String>>,
    /// Only traffic from this host or prefix.
    #[schemars(with = "Option<forms::Address>")]
    pub source: Option<S<String>>,
    /// Only traffic to this host or prefix.
    #[schemars(with = "Option<forms::Address>")]
    pub destination: Option<S<String>>,
    /// Only this protocol (default: all).
    #[schemars(with = "Option<Protocol>")]
    pub protocol: Option<S<Protocol>>,
    /// Only these destination ports (needs protocol tcp or udp).
    #[schemars(with = "Option<forms::Ports>")]
    pub port: Option<S<toml::Value>>,
    /// The new source: a host, "masquerade", or a prefix as long as `source` (1:1 block map).
    #[schemars(with = "forms::SnatTo")]
    pub to: S<String>,
    /// Leave traffic that enters an IPsec tunnel untranslated (the IPsec NAT exemption).
    #[schemars(with = "Option<bool>")]
    pub except_ipsec: Option<Box<S<bool>>>,
    /// Log the connections this translation translates (default false): the kernel log,
    /// under `log_prefix`.
    #[schemars(with = "Option<bool>")]
    pub log: Option<Box<S<bool>>>,
    /// The log line's prefix (needs `log = true`): at most 29 printable ASCII characters,
    /// without `"`, `\`, `$` or `` ` ``.
    #[schemars(with = "Option<String>")]
    pub log_prefix: Option<Box<S<String>>>,
    /// At most this many log lines (needs `log = true`): "N/second", "N/minute", "N/hour" or
    /// "N/day", N from 1 to 10000, after a burst of 5 (docs/intent.md#logging).
    #[schemars(with = "Option<forms::LogRate>")]
    pub log_rate: Option<Box<S<String>>>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<Box<S<String>>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    #[schemars(with = "Option<Vec<Accept>>")]
    pub accept: Option<Box<S<Vec<S<Accept>>>>>,
}

/// Twice-mapped networks: SNAT `local` -> `local_as` out of `interface` to `remote_as`, and
/// DNAT back, both 1:1 prefix maps.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Netmap {
    /// The rule's name, [a-z0-9-]+, unique among the gateway's rules; output comments carry it.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// The real local network.
    #[schemars(with = "forms::Address")]
    pub local: S<String>,
    /// How the far side sees `local` (a prefix of the same length).
    #[schemars(with = "forms::Address")]
    pub local_as: S<String>,
    /// The far side's virtual prefix, as the far gateway maps it.
    #[schemars(with = "forms::Address")]
    pub remote_as: S<String>,
    /// The interface or tunnel towards the far side.
    #[schemars(with = "forms::InterfaceName")]
    pub interface: S<String>,
    /// Log the connections this translation translates (default false): the kernel log,
    /// under `log_prefix`.
    #[schemars(with = "Option<bool>")]
    pub log: Option<Box<S<bool>>>,
    /// The log line's prefix (needs `log = true`): at most 29 printable ASCII characters,
    /// without `"`, `\`, `$` or `` ` ``.
    #[schemars(with = "Option<String>")]
    pub log_prefix: Option<Box<S<String>>>,
    /// At most this many log lines (needs `log = true`): "N/second", "N/minute", "N/hour" or
    /// "N/day", N from 1 to 10000, after a burst of 5 (docs/intent.md#logging).
    #[schemars(with = "Option<forms::LogRate>")]
    pub log_rate: Option<Box<S<String>>>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<Box<S<String>>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    #[schemars(with = "Option<Vec<Accept>>")]
    pub accept: Option<Box<S<Vec<S<Accept>>>>>,
}

/// The filters' default verdicts. With "drop", replies of allowed flows are still accepted.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Traffic through the gateway (default "accept").
    #[schemars(with = "Option<Verdict>")]
    pub forward: Option<S<Verdict>>,
    /// Traffic to the gateway itself (default "accept").
    #[schemars(with = "Option<Verdict>")]
    pub input: Option<S<Verdict>>,
    /// Log what the drop or reject policies drop or reject (default false): the kernel log, under `log_prefix`.
    #[schemars(with = "Option<bool>")]
    pub log: Option<S<bool>>,
    /// The log line's prefix (needs `log = true`): at most 29 printable ASCII characters,
    /// without `"` or `\\`.
    #[schemars(with = "Option<String>")]
    pub log_prefix: Option<S<String>>,
    /// At most this many log lines (needs `log = true`): "N/second", "N/minute", "N/hour" or
    /// "N/day", N from 1 to 10000, after a burst of 5 (docs/intent.md#logging).
    #[schemars(with = "Option<forms::LogRate>")]
    pub log_rate: Option<S<String>>,
}

/// A filter rule that lets matching traffic through.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// The rule's name, [a-z0-9-]+, unique among the gateway's rules; output comments carry it.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// Only traffic from this host or prefix.
    #[schemars(with = "Option<forms::Address>")]
    pub from: Option<S<String>>,
    /// Only traffic to this host or prefix: the real (post-DNAT) destination.
    #[schemars(with = "Option<forms::Address>")]
    pub to: Option<S<String>>,
    /// Only this protocol (default: all).
    #[schemars(with = "Option<Protocol>")]
    pub protocol: Option<S<Protocol>>,
    /// Only these destination ports (needs protocol tcp or udp).
    #[schemars(with = "Option<forms::Ports>")]
    pub port: Option<S<toml::Value>>,
    /// Only traffic arriving on this interface.
    #[schemars(with = "Option<forms::InterfaceName>")]
    pub in_interface: Option<S<String>>,
    /// Only traffic leaving through this interface (not with chain "input").
    #[schemars(with = "Option<forms::InterfaceName>")]
    pub out_interface: Option<S<String>>,
    /// "forward" (default: through the gateway) or "input" (to the gateway itself).
    #[schemars(with = "Option<Chain>")]
    pub chain: Option<S<Chain>>,
    /// Let the replies back in too (default true; RTX: a dynamic filter).
    #[schemars(with = "Option<bool>")]
    pub stateful: Option<S<bool>>,
    /// Log what this rule accepts (default false): the kernel log, under `log_prefix`.
    #[schemars(with = "Option<bool>")]
    pub log: Option<Box<S<bool>>>,
    /// The log line's prefix (needs `log = true`): at most 29 printable ASCII characters,
    /// without `"` or `\\`.
    #[schemars(with = "Option<String>")]
    pub log_prefix: Option<Box<S<String>>>,
    /// At most this many log lines (needs `log = true`): "N/second", "N/minute", "N/hour" or
    /// "N/day", N from 1 to 10000, after a burst of 5 (docs/intent.md#logging).
    #[schemars(with = "Option<forms::LogRate>")]
    pub log_rate: Option<Box<S<String>>>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<Box<S<String>>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    #[schemars(with = "Option<Vec<Accept>>")]
    pub accept: Option<Box<S<Vec<S<Accept>>>>>,
}

/// A static route, `via` a next hop or out of an `interface`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// An optional name, [a-z0-9-]+ (unnamed routes are named by position: route/1).
    #[schemars(with = "Option<forms::Name>")]
    pub name: Option<S<String>>,
    /// The destination host or prefix.
    #[schemars(with = "forms::Address")]
    pub to: S<String>,
    /// The next hop, on a connected subnet (or give `interface`).
    #[schemars(with = "Option<forms::Host>")]
    pub via: Option<S<String>>,
    /// The outgoing interface, for a point-to-point link or tunnel (or give `via`).
    #[schemars(with = "Option<forms::InterfaceName>")]
    pub interface: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    #[schemars(with = "Option<Vec<Accept>>")]
    pub accept: Option<S<Vec<S<Accept>>>>,
}

/// An IPsec site-to-site tunnel: route-based with `vti`, or policy-based with both
/// `local_networks` and `remote_networks`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    /// The tunnel's name, [a-z0-9-]+, unique among the gateway's tunnels.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// The peer's public address.
    #[schemars(with = "forms::Host")]
    pub remote: S<String>,
    /// Our IKE source address (may be behind NAT).
    #[schemars(with = "Option<forms::Host>")]
    pub local_address: Option<S<String>>,
    /// `{ env = "NAME" }` or `{ file = "path" }`; a plain string is refused (N111).
    #[schemars(with = "forms::Secret")]
    pub psk: S<toml::Value>,
    /// Phase 1 (default IKEv2, aes128, sha256, DH group 14, 28800 s).
    #[schemars(with = "Option<Ike>")]
    pub ike: Option<S<Ike>>,
    /// Phase 2 (default aes128, sha256, PFS on, 3600 s).
    #[schemars(with = "Option<Esp>")]
    pub esp: Option<S<Esp>>,
    /// Dead peer detection.
    #[schemars(with = "Option<Dpd>")]
    pub dpd: Option<S<Dpd>>,
    /// Our IKE identity: an IPv4 address, a DNS name or user@fqdn (default: `local_address`;
    /// without it, the address the IKE packets leave from).
    #[schemars(with = "Option<forms::IkeId>")]
    pub local_id: Option<S<String>>,
    /// The identity the peer must prove (default: `remote`). Behind 1:1 NAT (a cloud
    /// Elastic IP) the peer's private address.
    #[schemars(with = "Option<forms::IkeId>")]
    pub remote_id: Option<S<String>>,
    /// The far end, when it is a gateway of this intent: "<gateway>/<tunnel>". natc then
    /// checks the two ends against each other (docs/checks.md, N217–N228).
    #[schemars(with = "Option<forms::TunnelPeer>")]
    pub peer: Option<S<String>>,
    /// Clamp the TCP MSS of connections through the tunnel: a size (536–1460) or "auto"
    /// (the route's path MTU minus 40). What N214 asks for.
    #[schemars(with = "Option<forms::TcpMss>")]
    pub tcp_mss: Option<S<toml::Value>>,
    /// We sit behind NAT: use NAT traversal (UDP 4500).
    #[schemars(with = "Option<bool>")]
    pub nat_traversal: Option<S<bool>>,
    /// Route-based: the tunnel interface traffic is routed into.
    #[schemars(with = "Option<Vti>")]
    pub vti: Option<S<Vti>>,
    /// Policy-based: our traffic selectors, written with the post-NAT (virtual) prefixes.
    #[schemars(with = "Option<Vec<forms::Address>>")]
    pub local_networks: Option<S<Vec<S<String>>>>,
    /// Policy-based: the far side's traffic selectors, post-NAT.
    #[schemars(with = "Option<Vec<forms::Address>>")]
    pub remote_networks: Option<S<Vec<S<String>>>>,
    /// Free text.
    #[schemars(with = "Option<String>")]
    pub description: Option<S<String>>,
    /// Warnings this item accepts, each with its reason (docs/checks.md).
    #[schemars(with = "Option<Vec<Accept>>")]
    pub accept: Option<S<Vec<S<Accept>>>>,
}

/// IKE (phase 1) parameters.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ike {
    /// IKE version 1 or 2 (default 2).
    #[schemars(with = "Option<i64>", range(min = 1, max = 2))]
    pub version: Option<S<i64>>,
    /// The cipher, in the target's words (default "aes128").
    #[schemars(with = "Option<String>")]
    pub encryption: Option<S<String>>,
    /// The integrity algorithm, in the target's words (default "sha256").
    #[schemars(with = "Option<String>")]
    pub hash: Option<S<String>>,
    /// The Diffie-Hellman group (default 14).
    #[schemars(with = "Option<i64>", range(min = 1, max = 32))]
    pub dh_group: Option<S<i64>>,
    /// The IKE SA lifetime in seconds (default 28800).
    #[schemars(with = "Option<i64>", range(min = 30, max = 86400))]
    pub lifetime: Option<S<i64>>,
}

/// ESP (phase 2) parameters.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Esp {
    /// The cipher, in the target's words (default "aes128").
    #[schemars(with = "Option<String>")]
    pub encryption: Option<S<String>>,
    /// The integrity algorithm, in the target's words (default "sha256").
    #[schemars(with = "Option<String>")]
    pub hash: Option<S<String>>,
    /// Perfect forward secrecy (default true).
    #[schemars(with = "Option<bool>")]
    pub pfs: Option<S<bool>>,
    /// The ESP SA lifetime in seconds (default 3600).
    #[schemars(with = "Option<i64>", range(min = 30, max = 86400))]
    pub lifetime: Option<S<i64>>,
}

/// Dead peer detection.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dpd {
    /// What to do when the peer stops answering.
    #[schemars(with = "DpdAction")]
    pub action: S<DpdAction>,
    /// Seconds between probes (default 30).
    #[schemars(with = "Option<i64>", range(min = 2, max = 86400))]
    pub interval: Option<S<i64>>,
    /// Seconds without an answer before the peer is declared dead (default 120).
    #[schemars(with = "Option<i64>", range(min = 10, max = 86400))]
    pub timeout: Option<S<i64>>,
}

/// The tunnel interface of a route-based tunnel.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vti {
    /// The interface's name (vti0, tunnel1, …); it declares an interface of the gateway.
    #[schemars(with = "forms::InterfaceName")]
    pub name: S<String>,
    /// The interface's address with its subnet length (169.254.28.86/30).
    #[schemars(with = "forms::AddressWithLength")]
    pub address: S<String>,
    /// The interface MTU.
    #[schemars(with = "Option<i64>", range(min = 68, max = 9000))]
    pub mtu: Option<S<i64>>,
}

/// BGP on the gateway.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bgp {
    /// Our AS number.
    #[schemars(with = "i64", range(min = 1, max = 4_294_967_294_i64))]
    pub asn: S<i64>,
    /// The prefixes we announce.
    #[serde(default)]
    #[schemars(with = "Vec<forms::Address>")]
    pub networks: Vec<S<String>>,
    /// A BGP peer.
    #[serde(default)]
    #[schemars(with = "Vec<BgpNeighbor>")]
    pub neighbor: Vec<S<BgpNeighbor>>,
}

/// A BGP peer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BgpNeighbor {
    /// The peer's address.
    #[schemars(with = "forms::Host")]
    pub address: S<String>,
    /// The peer's AS number.
    #[schemars(with = "i64", range(min = 1, max = 4_294_967_294_i64))]
    pub remote_as: S<i64>,
    /// Hold time in seconds.
    #[schemars(with = "Option<i64>", range(min = 3, max = 65535))]
    pub holdtime: Option<S<i64>>,
    /// Keepalive interval in seconds.
    #[schemars(with = "Option<i64>", range(min = 1, max = 65535))]
    pub keepalive: Option<S<i64>>,
}

/// `{ code = "N2xx", reason = "…" }`: one warning an item knowingly lives with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The warning's code.
    #[schemars(with = "forms::AcceptCode")]
    pub code: S<String>,
    /// Why the warning is right here: what a reviewer reads (required, N215).
    #[schemars(with = "forms::Reason", required)]
    pub reason: Option<S<String>>,
}
