//! The forms of the intent's values, as JSON Schema (for `natc schema` and editors).
//!
//! The serde types keep addresses, ports and secrets as plain strings or `toml::Value`, and
//! `model/` reads them by hand. Each type here stands for one such form; its schema accepts
//! the text that the reading code accepts, as far as a regular expression can say it — no
//! looser, so that an editor flags what `natc check` would refuse, and no stricter, so that
//! it never flags a file natc builds. What needs more than the one value (a defined
//! `@name`, host bits, prefix lengths that must match, keys that exclude each other) is
//! left to `natc check`. tests/schema.rs compares both verdicts value by value.
//!
//! The patterns keep to the regex subset that every validator shares (no look-around, no
//! flags, `[0-9]` rather than `\d`), since editors run different engines.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

/// An octet as `std::net::Ipv4Addr` reads it (a host): 0–255, no leading zeros.
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
/// An octet as ipnet reads it (a prefix `a.b.c.d/len`): 0–255 in at most 3 digits, so
/// leading zeros pass there.
const NET_OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])";
/// ipnet's prefix length: 0–32 in at most 2 digits.
const NET_LEN: &str = "(?:3[0-2]|[0-2]?[0-9])";
/// An interface address's length, read by `u8::from_str`: an optional `+`, any zeros first.
const IF_LEN: &str = "\\+?0*(?:3[0-2]|[12]?[0-9])";
/// A `[networks]` name (model/address.rs `valid_network_name`).
const NETWORK_NAME: &str = "[a-z0-9_-]{1,64}";
/// A port number 1–65535 as `i64::from_str` reads it: an optional `+`, any zeros first.
const PORT_NUMBER: &str =
    "\\+?0*(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";

fn host() -> String {
    format!("{OCTET}(?:\\.{OCTET}){{3}}")
}

fn prefix(len: &str) -> String {
    format!("{NET_OCTET}(?:\\.{NET_OCTET}){{3}}/{len}")
}

/// A port or a range `a-b`, with the blanks the port reader trims.
fn port_item() -> String {
    format!("\\s*{PORT_NUMBER}\\s*(?:-\\s*{PORT_NUMBER}\\s*)?")
}

/// Matches `text` exactly, punctuation escaped.
fn exact(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("\\{c}") }).collect()
}

/// Matches `text` with ASCII letters in either case (`eq_ignore_ascii_case`), other
/// punctuation escaped.
fn any_case(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_ascii_alphabetic() => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            c => format!("\\{c}"),
        })
        .collect()
}

/// A string form: a type that exists only to name a schema in `definitions`.
macro_rules! string_form {
    ($(#[$doc:meta])* $name:ident, $description:expr, $pattern:expr, $examples:expr) => {
        $(#[$doc])*
        pub enum $name {}

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let examples: &[&str] = &$examples;
                json_schema!({
                    "type": "string",
                    "description": $description,
                    "pattern": format!("^(?:{})$", $pattern),
                    "examples": examples,
                })
            }
        }
    };
}

string_form!(
    /// Intent, gateway, item, lab host and segment names (model/names.rs `check_name`).
    Name,
    format!("[a-z0-9-]+, 1 to {} characters, not starting with `-`", crate::vocab::limits::MAX_NAME),
    format!("[a-z0-9][a-z0-9-]{{0,{}}}", crate::vocab::limits::MAX_NAME - 1),
    ["natgw", "to-vm03"]
);

string_form!(
    /// Interface names (model/names.rs `check_interface_name`).
    InterfaceName,
    format!(
        "the device's own interface name: letters, digits, `.`, `_`, `-`, at most {} characters",
        crate::vocab::limits::MAX_INTERFACE
    ),
    format!("[A-Za-z0-9][A-Za-z0-9._-]{{0,{}}}", crate::vocab::limits::MAX_INTERFACE - 1),
    ["eth0", "eth0.10", "lan3", "vti0", "lo"]
);

string_form!(
    /// What `Networks::host_or_prefix` reads.
    Address,
    "an IPv4 host (192.168.1.5), a prefix with zero host bits (192.168.1.0/24), or \"@name\" from [networks]",
    format!("\\s*(?:@{NETWORK_NAME}|{}|{})\\s*", host(), prefix(NET_LEN)),
    ["192.168.1.5", "192.168.1.0/24", "@onprem"]
);

string_form!(
    /// What `Networks::host` reads: a host_or_prefix that is a /32.
    Host,
    "one IPv4 address (192.168.1.5, or a /32), or \"@name\" of a host in [networks]",
    format!("\\s*(?:@{NETWORK_NAME}|{}|{})\\s*", host(), prefix("32")),
    ["192.168.0.1", "@peer"]
);

string_form!(
    /// A `[networks]` value: a literal host or prefix (model/address.rs `parse_literal`).
    NetworkLiteral,
    "an IPv4 host (192.168.1.5) or a prefix with zero host bits (192.168.1.0/24)",
    format!("\\s*(?:{}|{})\\s*", host(), prefix(NET_LEN)),
    ["192.168.72.0/24", "192.168.82.70"]
);

string_form!(
    /// model/address.rs `interface_address`: host bits allowed, nothing trimmed.
    AddressWithLength,
    "an IPv4 address with its subnet length, host bits allowed (192.168.82.4/26)",
    format!("{}/{IF_LEN}", host()),
    ["192.168.82.4/26", "169.254.28.86/30"]
);

string_form!(
    /// What `Ctx::owned_address` reads.
    OwnedAddressValue,
    "a host (a /32), \"@name\", or an address with its subnet length (192.168.82.70/26)",
    format!("\\s*(?:@{NETWORK_NAME}|{h}|{h}/{IF_LEN})\\s*", h = host()),
    ["192.168.82.70/32", "192.168.82.70"]
);

string_form!(
    /// `attach` and link ends (model/lab.rs `attachment`).
    Attachment,
    "\"gateway.interface\" (an interface of a [[gateway]] here), or a lab segment name",
    format!("[a-z0-9][a-z0-9-]{{0,{}}}(?:\\.[A-Za-z0-9][A-Za-z0-9._-]{{0,{}}})?", crate::vocab::limits::MAX_NAME - 1, crate::vocab::limits::MAX_INTERFACE - 1),
    ["vm02.eth0", "office-lan"]
);

string_form!(
    /// `targets` entries (vocab/targets.rs `TargetSpec::from_str`).
    Target,
    "iptables, nftables, firewalld[@0.6|0.9|1], vyos[@1.4|1.5], rtx[@MODEL] or strongswan",
    target_pattern(),
    ["nftables", "iptables", "firewalld", "vyos", "vyos@1.5", "rtx", "rtx@RTX830", "strongswan"]
);

fn target_pattern() -> String {
    use crate::vocab::targets::TargetKind;
    let alternatives: Vec<String> = TargetKind::ALL
        .iter()
        .map(|kind| match kind.profiles() {
            [] => kind.name().to_string(),
            profiles => {
                let profiles: Vec<String> = profiles.iter().map(|p| any_case(p)).collect();
                format!("{}(?:@(?:{}))?", kind.name(), profiles.join("|"))
            }
        })
        .collect();
    alternatives.join("|")
}

/// A choice among words: the words themselves for completion, and a pattern for the other
/// spellings natc also accepts (`ignore_case`: ASCII case ignored; `trimmed`: blanks around).
fn word_choice(description: &str, words: &[&str], ignore_case: bool, trimmed: bool) -> Schema {
    let alternatives: Vec<String> = words.iter().map(|w| if ignore_case { any_case(w) } else { exact(w) }).collect();
    let blank = if trimmed { "\\s*" } else { "" };
    json_schema!({
        "type": "string",
        "description": description,
        "anyOf": [
            { "enum": words },
            { "pattern": format!("^{blank}(?:{}){blank}$", alternatives.join("|")) },
        ],
    })
}

/// `firewalld = "…"`: a firewalld release line.
pub enum FirewalldVersion {}

impl JsonSchema for FirewalldVersion {
    fn schema_name() -> Cow<'static, str> {
        "FirewalldVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let words = crate::vocab::targets::FIREWALLD_VERSIONS;
        word_choice("the firewalld release line to write for: 0.6 (CentOS 7), 0.9, or 1 (default)", words, false, false)
    }
}

/// `vyos = "…"`: a VyOS version profile.
pub enum VyosVersion {}

impl JsonSchema for VyosVersion {
    fn schema_name() -> Cow<'static, str> {
        "VyosVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let words = crate::vocab::targets::VYOS_VERSIONS;
        word_choice("the VyOS version to write for (default 1.4)", words, true, false)
    }
}

/// `rtx = "…"`: an RTX model profile (any case).
pub enum RtxModel {}

impl JsonSchema for RtxModel {
    fn schema_name() -> Cow<'static, str> {
        "RtxModel".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let words = crate::vocab::targets::RTX_MODELS;
        word_choice("the Yamaha RTX model to write for (default RTX1210)", words, true, false)
    }
}

/// `accept.code`: a warning an item may accept (vocab/codes.rs `is_acceptable`), trimmed.
pub enum AcceptCode {}

impl JsonSchema for AcceptCode {
    fn schema_name() -> Cow<'static, str> {
        "AcceptCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<&str> = crate::vocab::CODES
            .iter()
            .filter(|(c, _)| crate::vocab::codes::is_acceptable(*c))
            .map(|(c, _)| c.0)
            .collect();
        word_choice(
            "the code of a warning this item knowingly lives with (docs/checks.md); N301 and N303 only on a [[gateway]]",
            &codes,
            false,
            true,
        )
    }
}

string_form!(
    /// `local_id` / `remote_id` (vocab/ipsec.rs `IkeId::parse`).
    IkeId,
    "an IKE identity: an IPv4 address (192.168.1.10), a DNS name (vpn.example.com) or user@fqdn; the last label of a name has a letter",
    {
        let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
        let last = "(?:[A-Za-z]|[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z])";
        let fqdn = format!("(?:{label}\\.)*{last}");
        format!("{}|{fqdn}|[A-Za-z0-9._+-]+@{fqdn}", host())
    },
    ["192.168.1.10", "vpn.example.com", "vpn@example.com"]
);

string_form!(
    /// `log_rate` (model/log.rs `rate`): no blanks, no leading zeros, the unit spelled out.
    LogRate,
    format!(
        "at most N log lines per second, minute, hour or day (N from 1 to {}), after a burst of {}",
        crate::vocab::LOG_RATE_MAX,
        crate::vocab::LOG_BURST
    ),
    "(?:10000|[1-9][0-9]{0,3})/(?:second|minute|hour|day)",
    ["10/minute", "1/second"]
);

string_form!(
    /// `peer` on a tunnel (model/tunnel.rs `peer`).
    TunnelPeer,
    "the far end of this tunnel in this intent: \"<gateway>/<tunnel>\"",
    format!(
        "[a-z0-9][a-z0-9-]{{0,{max}}}/[a-z0-9][a-z0-9-]{{0,{max}}}",
        max = crate::vocab::limits::MAX_NAME - 1
    ),
    ["utm-b/to-utm-a"]
);

/// `tcp_mss` on a tunnel or an interface (model/tunnel.rs `tcp_mss`).
pub enum TcpMss {}

impl JsonSchema for TcpMss {
    fn schema_name() -> Cow<'static, str> {
        "TcpMss".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "clamp the TCP MSS of SYNs: a size, or \"auto\" (the route's path MTU minus 40)",
            "anyOf": [
                { "type": "integer", "minimum": crate::vocab::ipsec::MSS_MIN, "maximum": crate::vocab::ipsec::MSS_MAX },
                { "enum": ["auto"] },
            ],
        })
    }
}

/// `natc = 1`.
pub enum SchemaVersion {}

impl JsonSchema for SchemaVersion {
    fn schema_name() -> Cow<'static, str> {
        "SchemaVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "description": "the intent file format version; this natc reads version 1",
            "enum": [crate::vocab::limits::SCHEMA_VERSION],
        })
    }
}

/// A port written as a number (expectations' `port`, `seen_port`).
pub enum Port {}

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": 65535 })
    }
}

/// One port or one range: `to_port`, and each item of a port list (model/ports.rs `parse_one`).
pub enum PortOrRange {}

impl JsonSchema for PortOrRange {
    fn schema_name() -> Cow<'static, str> {
        "PortOrRange".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "a port (22) or a range (\"8000-8099\")",
            "anyOf": [
                generator.subschema_for::<Port>(),
                { "type": "string", "pattern": format!("^{}$", port_item()) },
            ],
        })
    }
}

/// `port` on dnat, snat and allow (model/ports.rs `parse_port_set`).
pub enum Ports {}

impl JsonSchema for Ports {
    fn schema_name() -> Cow<'static, str> {
        "Ports".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "destination ports: 22, \"8000-8099\", \"80,443\", or a list [80, 443, \"8000-8099\"]; needs protocol tcp or udp",
            "anyOf": [
                generator.subschema_for::<Port>(),
                { "type": "string", "pattern": format!("^{item}(?:,{item})*$", item = port_item()) },
                { "type": "array", "minItems": 1, "items": generator.subschema_for::<PortOrRange>() },
            ],
        })
    }
}

/// `psk` (model/tunnel.rs `secret`): a reference, never the secret itself.
pub enum Secret {}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let reference = |key: &str, what: &str, pattern: &str| {
            json_schema!({
                "type": "object",
                "properties": { key: { "type": "string", "minLength": 1, "pattern": pattern, "description": what } },
                "required": [key],
                "additionalProperties": false,
            })
        };
        json_schema!({
            "description": "a reference to the pre-shared key, never the key itself: { env = \"NAME\" } or { file = \"path\" }",
            "anyOf": [
                reference("env", "the environment variable that holds the key at build time", "^[A-Za-z_][A-Za-z0-9_]*$"),
                // No C0/C1 controls, DEL, U+2028/9 or bidi/zero-width format characters (model/tunnel.rs).
                reference("file", "the file that holds the key", "^[^\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff]+$"),
            ],
        })
    }
}

/// `snat.to` (model/rules.rs `snat`): "masquerade" (trimmed) or an address.
pub enum SnatTo {}

impl JsonSchema for SnatTo {
    fn schema_name() -> Cow<'static, str> {
        "SnatTo".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"masquerade\" (the outgoing interface's address), a host, or a prefix as long as `source` (1:1 map)",
            "anyOf": [
                { "enum": ["masquerade"] },
                { "type": "string", "pattern": "^\\s*masquerade\\s*$" },
                generator.subschema_for::<Address>(),
            ],
        })
    }
}

/// `address` on `[[gateway.interface]]`: one or a list.
pub enum InterfaceAddresses {}

impl JsonSchema for InterfaceAddresses {
    fn schema_name() -> Cow<'static, str> {
        "InterfaceAddresses".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                generator.subschema_for::<AddressWithLength>(),
                { "type": "array", "items": generator.subschema_for::<AddressWithLength>() },
            ],
        })
    }
}

/// `[networks]`: names (model/address.rs `valid_network_name`) to literal hosts or prefixes.
pub enum Networks {}

impl JsonSchema for Networks {
    fn schema_name() -> Cow<'static, str> {
        "Networks".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "patternProperties": { format!("^{NETWORK_NAME}$"): generator.subschema_for::<NetworkLiteral>() },
            "additionalProperties": false,
        })
    }
}

/// An expectation's protocol (model/lab.rs `expect_protocol`): what a probe can send.
pub enum ProbeProtocol {}

impl JsonSchema for ProbeProtocol {
    fn schema_name() -> Cow<'static, str> {
        "ProbeProtocol".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "enum": ["icmp", "tcp", "udp"] })
    }
}

/// `reason` of an accept: required and not blank (check/accept.rs `has_reason`).
pub enum Reason {}

impl JsonSchema for Reason {
    fn schema_name() -> Cow<'static, str> {
        "Reason".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "\\S" })
    }
}

/// `[[gateway]]` is required and not empty (N007), though serde defaults it to empty so that
/// the resolve pass can say so with a located diagnostic.
pub fn gateway_required(schema: &mut Schema) {
    if let Some(required) = schema.get_mut("required").and_then(|r| r.as_array_mut())
        && !required.iter().any(|r| r == "gateway")
    {
        required.push("gateway".into());
    }
}
