//! The `[lab]` and `[[expect]]` tables (docs/intent.md §5, docs/verify.md) as serde types, with
//! the same conventions as `types.rs`: spanned values, `#[schemars(with = …)]` for the schema.

use super::types::{Protocol, S};
use crate::schema::forms;
use schemars::JsonSchema;
use serde::Deserialize;

/// The lab around the gateways (docs/intent.md §5, docs/verify.md): hosts, segments, links.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    /// A lab host: one network namespace.
    #[serde(default)]
    #[schemars(with = "Vec<LabHost>")]
    pub host: Vec<S<LabHost>>,
    /// A wire joining gateway interfaces and segments (gateway to gateway).
    #[serde(default)]
    #[schemars(with = "Vec<LabLink>")]
    pub link: Vec<S<LabLink>>,
}

/// A host in the lab: `address` + `attach`, or `interfaces`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabHost {
    /// The host's name, [a-z0-9-]+, unique and unlike any gateway's.
    #[schemars(with = "forms::Name")]
    pub name: S<String>,
    /// With `attach`: the host's one interface, eth0. Hosts with several use `interfaces`.
    #[schemars(with = "Option<forms::AddressWithLength>")]
    pub address: Option<S<String>>,
    /// With `address`: what eth0 is wired to, "gateway.interface" or a segment name.
    #[schemars(with = "Option<forms::Attachment>")]
    pub attach: Option<S<String>>,
    /// The host's interfaces eth0, eth1, … in this order (instead of `address` + `attach`).
    #[serde(default)]
    #[schemars(with = "Vec<LabInterface>")]
    pub interfaces: Vec<S<LabInterface>>,
    /// Static routes of the host.
    #[serde(default)]
    #[schemars(with = "Vec<LabRoute>")]
    pub routes: Vec<S<LabRoute>>,
    /// The host's default gateway, on one of its subnets.
    #[schemars(with = "Option<forms::Host>")]
    pub gateway: Option<S<String>>,
    /// A router in the lab (a cloud's implicit router, an ISP): forwards between its interfaces.
    #[schemars(with = "Option<bool>")]
    pub forwarding: Option<S<bool>>,
}

/// One interface of a lab host.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabInterface {
    /// The address with its subnet length.
    #[schemars(with = "forms::AddressWithLength")]
    pub address: S<String>,
    /// What it is wired to: "gateway.interface" or a segment name.
    #[schemars(with = "forms::Attachment")]
    pub attach: S<String>,
}

/// A static route of a lab host.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabRoute {
    /// The destination host or prefix.
    #[schemars(with = "forms::Address")]
    pub to: S<String>,
    /// The next hop, on one of the host's subnets.
    #[schemars(with = "forms::Host")]
    pub via: S<String>,
}

/// A wire joining gateway interfaces and segments into one layer-2 segment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabLink {
    /// At least two ends: "gateway.interface" or segment names.
    #[schemars(with = "Vec<forms::Attachment>", length(min = 2))]
    pub ends: S<Vec<S<String>>>,
}

/// A packet that `natc verify` sends in the lab and `natc trace` simulates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// What the expectation says, in words; unique.
    #[schemars(with = "String")]
    pub name: S<String>,
    /// The lab host that sends.
    #[schemars(with = "forms::Name")]
    pub from: S<String>,
    /// The destination address the sender uses.
    #[schemars(with = "forms::Host")]
    pub to: S<String>,
    /// icmp (default), tcp or udp.
    #[schemars(with = "Option<forms::ProbeProtocol>")]
    pub protocol: Option<S<Protocol>>,
    /// The destination port (tcp and udp only, and required there).
    #[schemars(with = "Option<forms::Port>")]
    pub port: Option<S<i64>>,
    /// The lab host that receives the packet (or give blocked = true).
    #[schemars(with = "Option<forms::Name>")]
    pub arrives_at: Option<S<String>>,
    /// No lab host receives it and no reply comes back (or give arrives_at).
    #[schemars(with = "Option<bool>")]
    pub blocked: Option<S<bool>>,
    /// The source address the receiver sees.
    #[schemars(with = "Option<forms::Address>")]
    pub seen_source: Option<S<String>>,
    /// The destination address the receiver sees.
    #[schemars(with = "Option<forms::Address>")]
    pub seen_destination: Option<S<String>>,
    /// The destination port the receiver sees (a DNAT with `to_port`); default `port`.
    #[schemars(with = "Option<forms::Port>")]
    pub seen_port: Option<S<i64>>,
}
