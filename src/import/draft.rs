//! What an importer found: intent items with the line each came from, and the lines it
//! could not express. Every parser fills one `Draft`; `write.rs` turns it into TOML.

use crate::vocab::Code;
use std::collections::{BTreeMap, HashSet};

/// The kinds of intent item an imported line can become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Dnat,
    Snat,
    Netmap,
    Allow,
}

impl Kind {
    pub fn table(self) -> &'static str {
        match self {
            Kind::Dnat => "dnat",
            Kind::Snat => "snat",
            Kind::Netmap => "netmap",
            Kind::Allow => "allow",
        }
    }
}

/// A value of an item's key, as TOML writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A host or prefix: a candidate for `[networks]` when it repeats.
    Address(String),
    Text(String),
    Int(u32),
    Bool(bool),
    /// TOML written as is: an inline table or an array the importer built.
    Raw(String),
}

/// A table that is not a rule (`[[gateway.tunnel]]`, `[[gateway.route]]`, `[gateway.bgp]`),
/// with the line it came from.
#[derive(Debug, Clone)]
pub struct Block {
    pub header: &'static str,
    pub line: usize,
    pub keys: Vec<(&'static str, Value)>,
}

/// One intent item, from the source line `line` (1-based).
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: Kind,
    pub name: String,
    pub line: usize,
    pub keys: Vec<(&'static str, Value)>,
    pub description: Option<String>,
    /// The natc origin its comment named (`edge netmap/vpc-a (dnat)`): how fold.rs finds
    /// the parts of one netmap or hairpin.
    pub origin: Option<ItemOrigin>,
}

/// The kind, name and part of a natc comment's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOrigin {
    pub kind: String,
    pub name: String,
    pub part: Option<String>,
}

impl Item {
    pub fn new(kind: Kind, line: usize) -> Item {
        Item { kind, name: String::new(), line, keys: Vec::new(), description: None, origin: None }
    }

    pub fn set(&mut self, key: &'static str, value: Value) {
        match self.keys.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.keys.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// Set `key` in a key list, replacing an earlier value (a device setting set twice keeps
/// the later one, as the device does; TOML has no duplicate keys).
pub fn set_key(keys: &mut Vec<(&'static str, Value)>, key: &'static str, value: Value) {
    match keys.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => keys.push((key, value)),
    }
}

/// A line the intent cannot express, and why: the import report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpressed {
    pub line: usize,
    pub text: String,
    pub why: String,
    /// N401–N405 (src/vocab/codes.rs, IMPORT_CODES).
    pub code: Code,
}

/// The policy of a filter chain, with the line that set it.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub input: Option<(&'static str, usize)>,
    pub forward: Option<(&'static str, usize)>,
    pub log: Option<(Option<String>, usize)>,
    /// The policy log's `log_rate`, when its LOG rules are limited.
    pub log_rate: Option<String>,
}

/// Everything one configuration file said that natc can write as an intent.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The gateway's name when the source names it (natc's comments, a host name).
    pub gateway: Option<String>,
    /// The intent's name when the source is natc's own output.
    pub intent: Option<String>,
    pub description: Option<String>,
    /// Interfaces in order of first use, with that line.
    pub interfaces: Vec<(String, usize)>,
    pub policy: Policy,
    pub items: Vec<Item>,
    pub unexpressed: Vec<Unexpressed>,
    /// Keys of `[[gateway.interface]]` beyond its name (address, description, tcp_mss).
    pub interface_keys: BTreeMap<String, Vec<(&'static str, Value)>>,
    /// Routes, tunnels, BGP: written after the rules, in this order.
    pub blocks: Vec<Block>,
    /// Counters on the rules (nft `counter`): the gateway's `counters = true`.
    pub counters: bool,
    /// The item names taken so far (names are unique per gateway; a set keeps it linear).
    pub names: HashSet<String>,
    /// The target's profile natc's header names: the gateway key and its value
    /// (`firewalld = "0.6"`, `vyos = "1.5"`, `rtx = "RTX1200"`).
    pub profile: Option<(&'static str, String)>,
    /// Whatever else the writer should carry as a `#` note at the top (not a rule).
    pub notes: Vec<String>,
}

impl Draft {
    /// Report a line natc has no intent item for (N401).
    pub fn refuse(&mut self, line: usize, text: &str, why: impl Into<String>) {
        self.refuse_as(Code::IMPORT_NO_ITEM, line, text, why);
    }

    /// Report a line under the code that says what kind of gap it is (N402–N405).
    pub fn refuse_as(&mut self, code: Code, line: usize, text: &str, why: impl Into<String>) {
        self.unexpressed.push(Unexpressed { line, text: text.trim().to_string(), why: why.into(), code });
    }

    pub fn interface(&mut self, name: &str, line: usize) {
        if name != "lo" && !self.interfaces.iter().any(|(n, _)| n == name) {
            self.interfaces.push((name.to_string(), line));
        }
    }

    /// Add an item, naming it from `origin` (a natc comment or a device's own comment)
    /// or from its kind and line; names are made unique per gateway as natc requires.
    pub fn push(&mut self, mut item: Item, origin: Option<&str>) {
        let named = origin.map(|o| self.name_from(o, &mut item));
        let base = match named.flatten() {
            Some(name) => name,
            None => format!("{}-{}", item.kind.table(), item.line),
        };
        self.push_as(item, &base);
    }

    /// Add an item named `base` (made unique), its interfaces declared.
    pub fn push_as(&mut self, item: Item, base: &str) {
        let mut item = item;
        for key in ["in_interface", "out_interface", "interface"] {
            if let Some(Value::Text(name)) = item.get(key).cloned() {
                self.interface(&name, item.line);
            }
        }
        item.name = self.unique(base);
        self.items.push(item);
    }

    fn unique(&mut self, base: &str) -> String {
        let name = if self.names.contains(base) {
            (2..).map(|k| suffixed(base, &k.to_string())).find(|n| !self.names.contains(n)).unwrap_or_default()
        } else {
            base.to_string()
        };
        self.names.insert(name.clone());
        name
    }

    /// natc's comments are `GATEWAY KIND/NAME[ (PART)][: DESCRIPTION]`: the gateway and the
    /// item name come back from them (a part such as `(snat)` of a netmap becomes a name
    /// suffix). Any other comment is the item's description, and its words its name.
    fn name_from(&mut self, comment: &str, item: &mut Item) -> Option<String> {
        if let Some(origin) = NatcOrigin::parse(comment) {
            if self.gateway.is_none() {
                self.gateway = Some(origin.gateway.to_string());
            }
            item.description = origin.description.map(str::to_string);
            item.origin = Some(ItemOrigin {
                kind: origin.kind.to_string(),
                name: origin.name.to_string(),
                part: origin.part.map(str::to_string),
            });
            let name = match origin.part {
                Some(part) => suffixed(origin.name, &slug(part)),
                None => origin.name.to_string(),
            };
            return Some(name);
        }
        item.description = Some(comment.to_string());
        let name = slug(comment);
        (!name.is_empty()).then_some(name)
    }
}

/// `base-suffix`, cut so that the whole is a valid natc name (at most 40 characters).
fn suffixed(base: &str, suffix: &str) -> String {
    let keep = 40usize.saturating_sub(suffix.len() + 1);
    let base: String = base.chars().take(keep).collect();
    format!("{}-{suffix}", base.trim_end_matches('-'))
}

/// A natc name from free text: lowercase letters and digits, other runs become `-`,
/// at most 40 characters, never starting or ending with `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_matches('-').to_string()
}

/// The origin natc writes in each rule's comment.
#[derive(Debug, PartialEq, Eq)]
pub struct NatcOrigin<'a> {
    pub gateway: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub part: Option<&'a str>,
    pub description: Option<&'a str>,
}

impl<'a> NatcOrigin<'a> {
    const KINDS: [&'static str; 6] = ["dnat", "snat", "netmap", "allow", "policy", "tunnel"];

    pub fn parse(comment: &'a str) -> Option<NatcOrigin<'a>> {
        let (gateway, rest) = comment.split_once(' ')?;
        let (kind, rest) = rest.split_once('/')?;
        if !Self::KINDS.contains(&kind) || !is_name(gateway) {
            return None;
        }
        // NAME, then an optional ` (PART)` (which may hold `: `), then an optional `: DESCRIPTION`.
        let end = rest.find([' ', ':']).unwrap_or(rest.len());
        let (name, mut rest) = rest.split_at(end);
        let mut part = None;
        if let Some(inner) = rest.strip_prefix(" (") {
            let close = inner.find(')')?;
            part = Some(&inner[..close]);
            rest = &inner[close + 1..];
        }
        let description = match rest {
            "" => None,
            r => Some(r.strip_prefix(": ")?),
        };
        is_name(name).then_some(NatcOrigin { gateway, kind, name, part, description })
    }
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 40
        && !text.starts_with('-')
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// How often each address is used, for `[networks]`.
pub fn address_uses(items: &[Item]) -> BTreeMap<&str, usize> {
    let mut uses = BTreeMap::new();
    for item in items {
        for (_, value) in &item.keys {
            if let Value::Address(a) = value {
                *uses.entry(a.as_str()).or_insert(0) += 1;
            }
        }
    }
    uses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natc_origins_come_apart() {
        let o = NatcOrigin::parse("edge dnat/https-to-web: shop front: 8443").unwrap();
        assert_eq!(
            (o.gateway, o.kind, o.name, o.part, o.description),
            ("edge", "dnat", "https-to-web", None, Some("shop front: 8443"))
        );
        let o = NatcOrigin::parse("utm-a netmap/vpc-a (snat)").unwrap();
        assert_eq!((o.name, o.part), ("vpc-a", Some("snat")));
        assert!(NatcOrigin::parse("allow ssh from the office").is_none());
        assert!(NatcOrigin::parse("Edge dnat/x").is_none());
        let o = NatcOrigin::parse("gw policy/input (accept: traffic for the router itself)").unwrap();
        assert_eq!(
            (o.kind, o.name, o.part, o.description),
            ("policy", "input", Some("accept: traffic for the router itself"), None)
        );
    }

    #[test]
    fn names_are_unique_and_valid() {
        let mut d = Draft::default();
        d.push(Item::new(Kind::Allow, 3), Some("Allow SSH from the Office!"));
        d.push(Item::new(Kind::Allow, 4), Some("allow ssh from the office"));
        d.push(Item::new(Kind::Dnat, 5), None);
        let names: Vec<_> = d.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["allow-ssh-from-the-office", "allow-ssh-from-the-office-2", "dnat-5"]);
        assert_eq!(slug(&"x".repeat(80)).len(), 40);
        assert_eq!(suffixed(&"a".repeat(40), "hairpin").len(), 40);
    }
}
