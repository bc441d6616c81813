//! The intent's enumerated words (protocol, claim, verdict, chain, DPD action): read from
//! TOML by serde, carried unchanged through the model and the plan to every target.

use schemars::JsonSchema;
use serde::Deserialize;

/// tcp, udp, icmp, esp, or any (no protocol match).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
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

/// How packets for a DNAT destination reach the gateway: routed (someone routes them here),
/// loopback (the address goes on lo), or proxy-arp (answer ARP on in_interface).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Claim {
    #[default]
    Routed,
    Loopback,
    ProxyArp,
}

/// accept or drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    #[default]
    Accept,
    Drop,
}

/// forward (through the gateway) or input (to the gateway itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Chain {
    #[default]
    Forward,
    Input,
}

/// What to do when the peer stops answering: restart, clear or hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DpdAction {
    Restart,
    Clear,
    Hold,
}
