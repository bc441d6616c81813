//! The intent's enumerated words (protocol, claim, verdict, chain, DPD action): read from
//! TOML by serde, carried unchanged through the model and the plan to every target.

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::borrow::Cow;

/// A protocol word (tcp, udp, icmp, esp, gre, ah, or any: no protocol match) or an IP
/// protocol number 0-255. A number that has a word is read as that word (`6` is tcp, so its
/// ports may be matched), so one protocol has one value and every comparison is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Gre,
    Ah,
    /// A protocol without a word here: never 1, 6, 17, 47, 50 or 51 (`Protocol::number`).
    Number(u8),
    Any,
}

/// The words, as serde's "unknown variant" message lists them (the order of `WORDS`).
const NAMES: &[&str] = &["tcp", "udp", "icmp", "esp", "gre", "ah", "any"];

/// The words, with their IANA numbers (`any` has none).
const WORDS: &[(&str, Protocol, Option<u8>)] = &[
    ("tcp", Protocol::Tcp, Some(6)),
    ("udp", Protocol::Udp, Some(17)),
    ("icmp", Protocol::Icmp, Some(1)),
    ("esp", Protocol::Esp, Some(50)),
    ("gre", Protocol::Gre, Some(47)),
    ("ah", Protocol::Ah, Some(51)),
    ("any", Protocol::Any, None),
];

impl Protocol {
    /// The words the intent file accepts, in the order the schema lists them.
    pub fn words() -> impl Iterator<Item = &'static str> {
        NAMES.iter().copied()
    }

    /// The protocol of an IP protocol number: its word where it has one.
    pub fn number(n: u8) -> Protocol {
        WORDS.iter().find(|w| w.2 == Some(n)).map_or(Protocol::Number(n), |w| w.1)
    }

    /// The word, for a protocol that has one.
    pub fn word(self) -> Option<&'static str> {
        WORDS.iter().find(|w| w.1 == self).map(|w| w.0)
    }

    /// The IANA protocol number (none for `any`).
    pub fn iana(self) -> Option<u8> {
        match self {
            Protocol::Number(n) => Some(n),
            p => WORDS.iter().find(|w| w.1 == p).and_then(|w| w.2),
        }
    }

    /// The intent's spelling: the word, or the number.
    pub fn as_str(self) -> Cow<'static, str> {
        match self.word() {
            Some(w) => Cow::Borrowed(w),
            None => Cow::Owned(self.iana().map(|n| n.to_string()).unwrap_or_default()),
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// A word (serde's "unknown variant" message, which intent/load.rs turns into a located
/// N0xx with a suggestion) or an integer 0-255.
impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        const EXPECTED: &str = "a protocol word or a protocol number 0-255";
        impl de::Visitor<'_> for Visitor {
            type Value = Protocol;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Protocol, E> {
                WORDS.iter().find(|w| w.0 == v).map(|w| w.1).ok_or_else(|| E::unknown_variant(v, NAMES))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Protocol, E> {
                u8::try_from(v)
                    .map(Protocol::number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &EXPECTED))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Protocol, E> {
                u8::try_from(v)
                    .map(Protocol::number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &EXPECTED))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `natc check`'s reading, exactly: one of the words, or an integer 0-255.
impl JsonSchema for Protocol {
    fn schema_name() -> Cow<'static, str> {
        "Protocol".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let words: Vec<&str> = Protocol::words().collect();
        schemars::json_schema!({
            "description": "tcp, udp, icmp, esp, gre, ah, any (no protocol match), or an IP protocol number 0-255 (a number with a word is that word: 6 is tcp)",
            "anyOf": [
                { "type": "string", "enum": words },
                { "type": "integer", "minimum": 0, "maximum": 255 },
            ],
        })
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

/// accept, drop, or reject (drop, and tell the sender: a TCP reset, or ICMP port unreachable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    #[default]
    Accept,
    Drop,
    Reject,
}

impl Verdict {
    /// Does the policy close the chain (drop or reject what no allow accepts)? Everything
    /// that follows from a closed chain (replies accepted, loopback on input, stateless
    /// rules refused on Linux) holds for both.
    pub fn closes(self) -> bool {
        matches!(self, Verdict::Drop | Verdict::Reject)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(toml: &str) -> Result<Protocol, String> {
        #[derive(Deserialize)]
        struct T {
            p: Protocol,
        }
        toml::from_str::<T>(toml).map(|t| t.p).map_err(|e| e.message().to_string())
    }

    #[test]
    fn words_and_numbers_are_one_value() {
        assert_eq!(NAMES, WORDS.iter().map(|w| w.0).collect::<Vec<_>>().as_slice());
        assert_eq!(read("p = \"gre\""), Ok(Protocol::Gre));
        assert_eq!(read("p = 6"), Ok(Protocol::Tcp));
        assert_eq!(read("p = 51"), Ok(Protocol::Ah));
        assert_eq!(read("p = 132"), Ok(Protocol::Number(132)));
        assert_eq!(read("p = 0"), Ok(Protocol::Number(0)));
        assert!(read("p = 256").is_err());
        assert!(read("p = -1").is_err());
        assert!(read("p = \"132\"").unwrap_err().starts_with("unknown variant `132`"));
        assert!(read("p = 6.0").is_err());
        for n in 0..=255u8 {
            let p = Protocol::number(n);
            assert_eq!(p.iana(), Some(n));
            assert_eq!(matches!(p, Protocol::Number(_)), p.word().is_none());
        }
    }
}
