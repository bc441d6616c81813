//! A model of a Yamaha RTX configuration, independent of natc's change-script code: a map
//! from each setting's identity to its line, as Yamaha's command reference (§1.5) describes the router.
//!
//! - The identity of a command is its words up to its key parameters (the table below:
//!   `ip filter N`, `nat descriptor static D E`, `ipsec ike hash G`, `ip IF secure filter
//!   in`, …); for `ip tunnel …`, `ipsec tunnel` and `tunnel encapsulation` also the tunnel
//!   chosen by the last `tunnel select N` (they are refused without one).
//! - Entering a command replaces the setting with its identity (entering the same line
//!   again is refused: the script must be minimal); `no <identity>` removes it and
//!   `tunnel disable N` removes `tunnel enable N` (both refused when there is nothing).
//! - After every line of a change script the configuration must be whole: every NAT
//!   descriptor bound to an interface has its type, a descriptor's other settings come
//!   with its type, every filter a list or dynamic filter names exists, an `ipsec tunnel`
//!   has its SA policy, whose gateway has a pre-shared key and a remote address, an
//!   enabled tunnel has its `ipsec tunnel`, and a route into a tunnel has it enabled; a
//!   port forward or static NAT entry sits on a descriptor type that has them, and no two
//!   entries of a descriptor claim the same port or overlapping addresses. So nothing is
//!   bound before it is defined, nothing is deleted while in use, and an entry that moves
//!   to another number never collides with itself.

#![allow(dead_code)]

use std::collections::BTreeMap;

/// Command words and how many parameters after them belong to the identity.
const COMMANDS: &[(&str, usize)] = &[
    ("ip filter dynamic", 1),
    ("ip filter", 1),
    ("ip route", 1),
    ("nat descriptor type", 1),
    ("nat descriptor address outer", 1),
    ("nat descriptor address inner", 1),
    ("nat descriptor static", 2),
    ("nat descriptor masquerade static", 2),
    ("ipsec sa policy", 1),
    ("ipsec ike version", 1),
    ("ipsec ike encryption", 1),
    ("ipsec ike hash", 1),
    ("ipsec ike group", 1),
    ("ipsec ike pfs", 1),
    ("ipsec ike duration ike-sa", 1),
    ("ipsec ike duration isakmp-sa", 1),
    ("ipsec ike duration child-sa", 1),
    ("ipsec ike duration ipsec-sa", 1),
    ("ipsec ike keepalive use", 1),
    ("ipsec ike local address", 1),
    ("ipsec ike remote address", 1),
    ("ipsec ike local name", 1),
    ("ipsec ike remote name", 1),
    ("ipsec ike nat-traversal", 1),
    ("ipsec ike pre-shared-key", 1),
    ("ipsec auto refresh", 0),
    ("tunnel enable", 1),
    ("tunnel encapsulation", 0),
    ("ipsec tunnel", 0),
];

/// Per-interface commands: `ip <interface> …`.
const INTERFACE_COMMANDS: &[&str] =
    &["address", "nat descriptor", "secure filter in", "secure filter out", "tcp mss limit"];

/// (tunnel for per-tunnel commands, identity words).
pub type Identity = (Option<String>, String);

fn identity(words: &[&str], tunnel: Option<&str>) -> Result<Identity, String> {
    let text = words.join(" ");
    let per_tunnel = |key: String| -> Result<Identity, String> {
        match tunnel {
            Some(t) => Ok((Some(t.to_string()), key)),
            None => Err(format!("`{text}` needs `tunnel select N` first")),
        }
    };
    if let ["ip", interface, rest @ ..] = words
        && *interface != "filter"
        && *interface != "route"
    {
        let rest = rest.join(" ");
        let command = INTERFACE_COMMANDS
            .iter()
            .find(|c| rest == **c || rest.starts_with(&format!("{c} ")))
            .ok_or_else(|| format!("the model does not know `{text}`"))?;
        let key = format!("ip {interface} {command}");
        return if *interface == "tunnel" { per_tunnel(key) } else { Ok((None, key)) };
    }
    let (command, params) = COMMANDS
        .iter()
        .filter(|(c, _)| text == *c || text.starts_with(&format!("{c} ")))
        .max_by_key(|(c, _)| c.len())
        .ok_or_else(|| format!("the model does not know `{text}`"))?;
    let n = command.split(' ').count() + params;
    if words.len() < n {
        return Err(format!("`{text}` lacks its key parameters"));
    }
    let key = words[..n].join(" ");
    if matches!(*command, "tunnel encapsulation" | "ipsec tunnel") { per_tunnel(key) } else { Ok((None, key)) }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Router {
    pub settings: BTreeMap<Identity, String>,
    selected: Option<String>,
}

impl Router {
    /// The configuration an `rtx.conf` enters.
    pub fn of_file(text: &str) -> Result<Router, String> {
        let mut router = Router::default();
        for line in text.lines() {
            router.enter(line, false)?;
        }
        router.selected = None;
        Ok(router)
    }

    /// A whole rtx.conf as natc writes it: `of_file`, where no setting is entered twice
    /// (a second line with the same identity would silently replace the first).
    pub fn of_config(text: &str) -> Result<Router, String> {
        let mut router = Router::default();
        for line in text.lines() {
            let before = router.settings.len();
            router.enter(line, false)?;
            let trimmed = line.trim();
            let setting = !trimmed.is_empty() && !trimmed.starts_with('#') && !trimmed.starts_with("tunnel select ");
            if setting && router.settings.len() == before {
                return Err(format!("`{trimmed}` enters a setting an earlier line already entered"));
            }
        }
        router.selected = None;
        Ok(router)
    }

    /// Enters one line; with `strict`, a line that changes nothing is an error.
    pub fn enter(&mut self, line: &str, strict: bool) -> Result<(), String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [] => Ok(()),
            [first, ..] if first.starts_with('#') => Ok(()),
            ["tunnel", "select", "none"] => {
                self.selected = None;
                Ok(())
            }
            ["tunnel", "select", n] => {
                self.selected = Some(n.to_string());
                Ok(())
            }
            ["tunnel", "disable", n] => self.remove(&(None, format!("tunnel enable {n}")), line),
            ["no", ref rest @ ..] => {
                let id = identity(rest, self.selected.as_deref())?;
                if id.1 != rest.join(" ") {
                    return Err(format!("`{line}` carries more than the setting's identity"));
                }
                self.remove(&id, line)
            }
            _ => {
                let id = identity(&words, self.selected.as_deref())?;
                let text = words.join(" ");
                if self.settings.insert(id, text.clone()).as_deref() == Some(text.as_str()) && strict {
                    return Err(format!("`{line}` changes nothing (the script is not minimal)"));
                }
                Ok(())
            }
        }
    }

    fn remove(&mut self, id: &Identity, line: &str) -> Result<(), String> {
        self.settings.remove(id).map(|_| ()).ok_or_else(|| format!("`{line}`: there is no such setting to remove"))
    }

    fn has(&self, key: &str) -> bool {
        self.settings.contains_key(&(None, key.to_string()))
    }

    fn get(&self, tunnel: Option<&str>, key: &str) -> Option<&String> {
        self.settings.get(&(tunnel.map(str::to_string), key.to_string()))
    }

    /// What is used and not there.
    pub fn broken(&self) -> Vec<String> {
        let mut out = Vec::new();
        for ((tunnel, key), line) in &self.settings {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut need = |what: String, why: &str| {
                if !self.has(&what) {
                    out.push(format!("`{line}` ({}) {why} `{what}`", tunnel.as_deref().unwrap_or("global")));
                }
            };
            if key.ends_with(" nat descriptor") && key.starts_with("ip ") {
                for d in words.iter().skip(4).filter(|w| **w != "reverse") {
                    need(format!("nat descriptor type {d}"), "binds a descriptor without");
                }
            } else if key.starts_with("nat descriptor ") && !key.starts_with("nat descriptor type ") {
                let d = key.split(' ').find(|w| w.bytes().all(|b| b.is_ascii_digit())).unwrap_or_default();
                need(format!("nat descriptor type {d}"), "belongs to a descriptor without");
                let kind = self.get(None, &format!("nat descriptor type {d}")).and_then(|t| t.split(' ').nth(4));
                let allowed: &[&str] = if key.starts_with("nat descriptor masquerade ") {
                    &["masquerade", "nat-masquerade"]
                } else if key.starts_with("nat descriptor static ") {
                    &["nat", "masquerade", "nat-masquerade"]
                } else {
                    &[]
                };
                if let Some(kind) = kind.filter(|k| !allowed.is_empty() && !allowed.contains(k)) {
                    out.push(format!("`{line}` does not work on descriptor {d} of type {kind}"));
                }
            } else if key.starts_with("ip ") && key.contains(" secure filter ") {
                let mut dynamic = false;
                for w in words.iter().skip(5) {
                    if *w == "dynamic" {
                        dynamic = true;
                    } else if dynamic {
                        need(format!("ip filter dynamic {w}"), "lists a filter without");
                    } else {
                        need(format!("ip filter {w}"), "lists a filter without");
                    }
                }
            } else if key.starts_with("ip filter dynamic ") {
                let mut listing = false;
                for w in words.iter().skip(6) {
                    if matches!(*w, "filter" | "in" | "out") {
                        listing = true;
                    } else if listing && w.bytes().all(|b| b.is_ascii_digit()) {
                        need(format!("ip filter {w}"), "is triggered by a filter without");
                    } else {
                        listing = false;
                    }
                }
            } else if key == "ipsec tunnel" {
                need(format!("ipsec sa policy {}", words.get(2).unwrap_or(&"?")), "uses an SA policy without");
            } else if key.starts_with("ipsec sa policy ") {
                let g = words.get(4).unwrap_or(&"?");
                need(format!("ipsec ike pre-shared-key {g}"), "uses a gateway without");
                need(format!("ipsec ike remote address {g}"), "uses a gateway without");
            } else if let Some(n) = key.strip_prefix("tunnel enable ") {
                if self.get(Some(n), "ipsec tunnel").is_none() {
                    out.push(format!("`{line}` enables tunnel {n}, which has no `ipsec tunnel`"));
                }
            } else if key.starts_with("ip route ")
                && let Some(i) = words.iter().position(|w| *w == "tunnel")
            {
                need(format!("tunnel enable {}", words.get(i + 1).unwrap_or(&"?")), "routes into a tunnel without");
            }
        }
        out.extend(self.collisions());
        out
    }

    /// Two entries of one descriptor that claim the same thing: the same protocol and outer
    /// port (port forwards), or overlapping outer or inner ranges (static NAT).
    fn collisions(&self) -> Vec<String> {
        fn address(text: &str) -> Option<u64> {
            let o: Vec<u64> = text.split('.').map(|p| p.parse().ok()).collect::<Option<_>>()?;
            (o.len() == 4).then(|| o.iter().fold(0, |a, b| a * 256 + b))
        }
        let mut out = Vec::new();
        let mut ports: BTreeMap<(String, String, String), &String> = BTreeMap::new();
        let mut ranges: Vec<(String, usize, u64, u64, &String)> = Vec::new();
        for ((_, key), line) in &self.settings {
            let words: Vec<&str> = line.split_whitespace().collect();
            if key.starts_with("nat descriptor masquerade static ") {
                let d = words[4].to_string();
                let protocol = words.get(7).unwrap_or(&"").to_string();
                let outer = words.get(8).map(|p| p.split('=').next().unwrap_or_default()).unwrap_or_default();
                if let Some(other) = ports.insert((d, protocol, outer.to_string()), line) {
                    out.push(format!("`{line}` forwards what `{other}` already does"));
                }
            } else if key.starts_with("nat descriptor static ") {
                let Some((outer, inner)) = words.get(5).and_then(|m| m.split_once('=')) else {
                    out.push(format!("the model does not know the static NAT form of `{line}`"));
                    continue;
                };
                let count: u64 = words.get(6).and_then(|c| c.parse().ok()).unwrap_or(1);
                for (side, text) in [(0, outer), (1, inner)] {
                    match address(text) {
                        Some(start) => ranges.push((words[3].to_string(), side, start, start + count - 1, line)),
                        None => out.push(format!("the model does not know the static NAT form of `{line}`")),
                    }
                }
            }
        }
        for (i, (d, side, start, end, line)) in ranges.iter().enumerate() {
            for (d2, side2, start2, end2, line2) in &ranges[i + 1..] {
                if d == d2 && side == side2 && start <= end2 && start2 <= end {
                    out.push(format!("`{line}` overlaps `{line2}`"));
                }
            }
        }
        out
    }
}

/// Applies a change script to the router `old` configures and holds the result to `new`:
/// every line is known, effective and in context, the configuration is whole after every
/// line, and the settings equal those of `new`.
pub fn check(old: &str, new: &str, script: &str) -> Result<(), String> {
    let mut router = Router::of_file(old).map_err(|e| format!("old config: {e}"))?;
    let target = Router::of_file(new).map_err(|e| format!("new config: {e}"))?;
    for (name, r) in [("old", &router), ("new", &target)] {
        let broken = r.broken();
        if !broken.is_empty() {
            return Err(format!("the {name} config itself is not whole: {broken:#?}"));
        }
    }
    for line in script.lines() {
        router.enter(line, true)?;
        let broken = router.broken();
        if !broken.is_empty() {
            return Err(format!("after `{}`: {}", line.trim(), broken.join("; ")));
        }
    }
    if router.selected.is_some() {
        return Err("the script ends inside `tunnel select`".into());
    }
    if router.settings != target.settings {
        let missing: Vec<_> = target.settings.iter().filter(|(k, v)| router.settings.get(*k) != Some(*v)).collect();
        let extra: Vec<_> = router.settings.iter().filter(|(k, v)| target.settings.get(*k) != Some(*v)).collect();
        return Err(format!(
            "after the script the router differs from the new config\n  missing: {missing:#?}\n  extra: {extra:#?}"
        ));
    }
    Ok(())
}
