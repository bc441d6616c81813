//! Yamaha RTX IPsec → `[[gateway.tunnel]]` (docs/import.md, "Yamaha RTX"): a `tunnel
//! select N` block with `tunnel encapsulation ipsec` and `ipsec tunnel P`, the SA policy
//! `ipsec sa policy P G esp ENC AUTH`, and the `ipsec ike … G …` settings of its security
//! gateway G (which `show config` lists inside the block, and which may stand anywhere)
//! become one route-based tunnel whose VTI is `tunnelN`, as natc's RTX backend writes it
//! (src/backend/rtx/ipsec.rs). The pre-shared key is never copied: natc's own placeholder
//! gives back the reference it stood for, any other key becomes `{ env = "NAME_PSK" }`.
//! A setting natc has no key for is reported at its line, and so is every line of a
//! tunnel that cannot be imported whole.

use super::draft::{Block, Draft, NatcOrigin, Value};
use super::write::quote;
use crate::vocab::Code;
use std::collections::BTreeMap;

/// One `tunnel select N` block.
#[derive(Default)]
struct Select {
    line: usize,
    /// The natc origin (`gw tunnel/NAME`) and the other comment lines before the block.
    origin: Option<String>,
    comments: Vec<String>,
    /// (line, policy id) of `ipsec tunnel P`.
    policy: Option<(usize, String)>,
    address: Option<(usize, String)>,
    mss: Option<(usize, String)>,
    /// The first line of the block natc has no tunnel key for: it keeps the tunnel out.
    unknown: Option<(usize, String)>,
    /// Lines that say nothing beyond the block itself (`tunnel encapsulation ipsec`,
    /// `tunnel enable N`), kept to be reported when the tunnel is not imported.
    lines: Vec<(usize, String)>,
}

/// `ipsec sa policy P G esp ENC AUTH`.
struct SaPolicy {
    line: usize,
    raw: String,
    gateway: String,
    encryption: String,
    auth: String,
}

/// Everything IPsec the config said, read line by line and put together at the end.
#[derive(Default)]
pub(super) struct Ipsec {
    /// The block being read: `tunnel select N` up to `tunnel select none` (or the next).
    pub selected: Option<String>,
    selects: BTreeMap<u32, Select>,
    policies: BTreeMap<String, SaPolicy>,
    /// `ipsec ike WHAT G …` by gateway id: (line, raw line, WHAT words, the rest).
    ike: BTreeMap<String, Vec<(usize, String, Vec<String>)>>,
}

impl Ipsec {
    /// Read `w` (the words of `raw`, at `line`) when it is an IPsec line; false when it is
    /// not (the caller reads it). `comments` are the `#` lines right before it.
    pub fn line(&mut self, w: &[&str], raw: &str, line: usize, comments: &[String], draft: &mut Draft) -> bool {
        match w {
            ["tunnel", "select", "none"] => self.selected = None,
            ["tunnel", "select", n] => {
                let Ok(number) = n.parse::<u32>() else {
                    draft.refuse(line, raw, "a tunnel number that is not a number");
                    return true;
                };
                self.selected = Some(n.to_string());
                let select = self.selects.entry(number).or_default();
                select.line = line;
                let at = comments.iter().position(|c| NatcOrigin::parse(c).is_some_and(|o| o.kind == "tunnel"));
                if let Some(at) = at {
                    select.origin = Some(comments[at].clone());
                    select.comments = comments[at + 1..].to_vec();
                }
            }
            ["ipsec", "auto", "refresh", "on"] => {}
            ["ipsec", "sa", "policy", p, g, "esp", encryption, auth] => {
                let policy = SaPolicy {
                    line,
                    raw: raw.to_string(),
                    gateway: g.to_string(),
                    encryption: encryption.to_string(),
                    auth: auth.to_string(),
                };
                self.policies.insert(p.to_string(), policy);
            }
            ["ipsec", "ike", rest @ ..] => {
                // `ipsec ike WHAT… G VALUE…`: the gateway id is the first number (after the
                // `duration` kind and the `keepalive use` words).
                let Some(at) = rest.iter().position(|x| x.parse::<u32>().is_ok()) else {
                    draft.refuse(line, raw, "an IKE setting without a security gateway number");
                    return true;
                };
                let what: Vec<String> = rest[..at].iter().map(|x| x.to_string()).collect();
                let mut words = what;
                words.extend(rest[at + 1..].iter().map(|x| x.to_string()));
                let entry = self.ike.entry(rest[at].to_string()).or_default();
                // The key is taken from the raw line later (it may hold escaped spaces).
                entry.push((line, raw.to_string(), words));
                return true;
            }
            _ => {
                let Some(n) = self.selected.clone() else { return false };
                let number: u32 = n.parse().unwrap_or_default();
                let select = self.selects.entry(number).or_default();
                match w {
                    ["tunnel", "encapsulation", "ipsec"] => select.lines.push((line, raw.to_string())),
                    ["tunnel", "enable", m] if *m == n => select.lines.push((line, raw.to_string())),
                    ["ipsec", "tunnel", p] => select.policy = Some((line, p.to_string())),
                    ["ip", "tunnel", "address", a] => select.address = Some((line, a.to_string())),
                    ["ip", "tunnel", "tcp", "mss", "limit", m] => select.mss = Some((line, m.to_string())),
                    // `ip tunnel nat descriptor …`, `ip tunnel secure filter …`: the caller
                    // reads them as the interface tunnelN's.
                    ["ip", "tunnel", ..] => return false,
                    // `show config` indents a block's lines; a line typed without indent
                    // that is no tunnel setting ends the block (not every config closes it
                    // with `tunnel select none`).
                    _ if raw.starts_with(char::is_whitespace) => {
                        if select.unknown.is_none() {
                            select.unknown = Some((line, raw.trim().to_string()));
                        } else {
                            select.lines.push((line, raw.to_string()));
                        }
                    }
                    _ => {
                        self.selected = None;
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Put the tunnels together: one `[[gateway.tunnel]]` per block. What was imported
    /// (the caller takes the tunnels' own filters as theirs, and declares no VTI as an
    /// interface: natc declares a VTI only in its tunnel).
    pub fn finish(mut self, draft: &mut Draft) -> Tunnels {
        let mut imported = Tunnels::default();
        let mut used_policies = Vec::new();
        let mut used_gateways = Vec::new();
        for (number, select) in std::mem::take(&mut self.selects) {
            let policy = select.policy.as_ref().and_then(|(_, p)| self.policies.get(p).map(|sa| (p.clone(), sa)));
            let result = match policy {
                None => Err((
                    select.line,
                    format!("tunnel select {number}"),
                    "a tunnel without an `ipsec tunnel` SA policy of this config".to_string(),
                )),
                Some((_, sa)) => tunnel(number, &select, sa, self.ike.get(&sa.gateway), draft),
            };
            if let Some((p, sa)) = &policy {
                used_policies.push(p.clone());
                used_gateways.push(sa.gateway.clone());
            }
            match result {
                Ok(block) => {
                    if let Some(Value::Text(name)) = block.keys.first().map(|(_, v)| v) {
                        imported.names.push(name.clone());
                    }
                    let address = select.address.as_ref().map(|(_, a)| a.clone()).unwrap_or_default();
                    imported.vtis.push((format!("tunnel{number}"), address));
                    draft.blocks.push(block);
                }
                Err((culprit, text, why)) => {
                    // The whole tunnel stays out: why at its line, then each of its lines.
                    draft.refuse_as(
                        Code::IMPORT_NO_KEY,
                        culprit,
                        &shown(&text),
                        format!("{why}: tunnel {number} is not imported"),
                    );
                    let mut lines: Vec<(usize, String)> = vec![(select.line, format!("tunnel select {number}"))];
                    lines.extend(select.lines.iter().cloned());
                    lines.extend(select.policy.iter().map(|(l, p)| (*l, format!("ipsec tunnel {p}"))));
                    lines.extend(select.address.iter().map(|(l, a)| (*l, format!("ip tunnel address {a}"))));
                    lines.extend(select.mss.iter().map(|(l, m)| (*l, format!("ip tunnel tcp mss limit {m}"))));
                    if let Some((_, sa)) = &policy {
                        lines.push((sa.line, sa.raw.clone()));
                        let ike = self.ike.get(&sa.gateway).into_iter().flatten();
                        lines.extend(ike.map(|(l, raw, _)| (*l, raw.clone())));
                    }
                    lines.sort();
                    for (l, text) in lines.into_iter().filter(|(l, _)| *l != culprit) {
                        draft.refuse_as(
                            Code::IMPORT_PART,
                            l,
                            &shown(&text),
                            format!("part of tunnel {number}, which is not imported"),
                        );
                    }
                }
            }
        }
        for (p, sa) in &self.policies {
            if !used_policies.contains(p) {
                draft.refuse_as(Code::IMPORT_REFERENCE, sa.line, &sa.raw, "an SA policy no tunnel of this config uses");
            }
        }
        for (g, lines) in &self.ike {
            if !used_gateways.contains(g) {
                for (line, raw, _) in lines {
                    draft.refuse_as(
                        Code::IMPORT_REFERENCE,
                        *line,
                        &shown(raw),
                        format!("an IKE setting of security gateway {g}, which no tunnel uses"),
                    );
                }
            }
        }
        imported
    }
}

/// The tunnels `finish` imported.
#[derive(Default)]
pub(super) struct Tunnels {
    /// Their names (natc's filters for a tunnel's IKE and ESP carry them as origin).
    pub names: Vec<String>,
    /// Their VTIs: (`tunnelN`, address with prefix length).
    pub vtis: Vec<(String, String)>,
}

/// natc's RTX words back to the intent's (ipsec.rs writes them the other way).
fn encryption(rtx: &str) -> Option<&'static str> {
    match rtx {
        "aes-cbc" => Some("aes128"),
        "aes256-cbc" => Some("aes256"),
        "3des-cbc" => Some("3des"),
        _ => None,
    }
}

fn hash(rtx: &str) -> Option<&'static str> {
    match rtx.strip_suffix("-hmac").unwrap_or(rtx) {
        "sha" => Some("sha1"),
        "md5" => Some("md5"),
        "sha256" => Some("sha256"),
        "sha384" => Some("sha384"),
        "sha512" => Some("sha512"),
        _ => None,
    }
}

fn group(rtx: &str) -> Option<u32> {
    match rtx {
        "modp768" => Some(1),
        "modp1024" => Some(2),
        "modp1536" => Some(5),
        "modp2048" => Some(14),
        _ => None,
    }
}

/// RTX's backslash escapes undone (`cloud\ \#1.psk` → `cloud #1.psk`), as rtx_escape wrote them.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The line that keeps a tunnel out, its text and why.
type Refusal = (usize, String, String);

/// A line as the report shows it: a pre-shared key's value is never copied, not even there.
fn shown(raw: &str) -> String {
    match raw.split_once(" pre-shared-key ") {
        Some((head, rest)) if rest.contains(" text ") => {
            let gateway = rest.split_whitespace().next().unwrap_or_default();
            format!("{head} pre-shared-key {gateway} text (the key: not copied)")
        }
        _ => raw.to_string(),
    }
}

fn tunnel(
    number: u32,
    select: &Select,
    sa: &SaPolicy,
    ike: Option<&Vec<(usize, String, Vec<String>)>>,
    draft: &mut Draft,
) -> Result<Block, Refusal> {
    let name = match select.origin.as_deref().and_then(NatcOrigin::parse) {
        Some(o) => o.name.to_string(),
        None => format!("tunnel-{number}"),
    };
    if let Some((line, raw)) = &select.unknown {
        return Err((*line, raw.clone(), "a tunnel setting natc does not write".into()));
    }
    let Some((_, address)) = &select.address else {
        let why = "a tunnel without `ip tunnel address`: natc's tunnels are route-based with a VTI address";
        return Err((select.line, format!("tunnel select {number}"), why.into()));
    };
    let esp_enc =
        encryption(&sa.encryption).ok_or((sa.line, sa.raw.clone(), "an ESP encryption natc does not write".into()))?;
    let esp_hash =
        hash(&sa.auth).ok_or((sa.line, sa.raw.clone(), "an ESP authentication natc does not write".into()))?;
    let mut remote = None;
    let mut local_address = None;
    let mut psk = None;
    let mut version = 1;
    let (mut ike_enc, mut ike_hash, mut dh, mut ike_life, mut esp_life, mut pfs) = (None, None, None, None, None, None);
    let mut dpd = None;
    let mut nat_traversal = false;
    let (mut local_id, mut remote_id) = (None, None);
    let mut unstated = Vec::new();
    for (line, raw, words) in ike.into_iter().flatten() {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let bad = |why: &str| (*line, raw.clone(), why.to_string());
        match w.as_slice() {
            ["version", "2"] => version = 2,
            ["version", "1"] => version = 1,
            ["encryption", e] => {
                ike_enc = Some(encryption(e).ok_or_else(|| bad("an IKE encryption natc does not write"))?)
            }
            ["hash", h] => ike_hash = Some(hash(h).ok_or_else(|| bad("an IKE hash natc does not write"))?),
            ["group", g] => dh = Some(group(g).ok_or_else(|| bad("a DH group natc does not write"))?),
            ["pfs", on @ ("on" | "off")] => pfs = Some(*on == "on"),
            ["duration", "ike-sa" | "isakmp-sa", s] => ike_life = s.parse::<u32>().ok(),
            ["duration", "child-sa" | "ipsec-sa", s] => esp_life = s.parse::<u32>().ok(),
            ["keepalive", "use", "off"] => dpd = None,
            ["keepalive", "use", "on", "rfc4306" | "dpd", interval, count] => {
                let (Ok(i), Ok(c)) = (interval.parse::<u32>(), count.parse::<u32>()) else {
                    return Err(bad("a keepalive interval or count that is not a number"));
                };
                let Some(timeout) = i.checked_mul(c) else {
                    return Err(bad("a keepalive interval times count beyond any timeout"));
                };
                dpd = Some(format!("{{ action = \"restart\", interval = {i}, timeout = {timeout} }}"));
            }
            ["local", "address", a] => local_address = Some(a.to_string()),
            ["remote", "address", a] if a.parse::<std::net::Ipv4Addr>().is_ok() => remote = Some(a.to_string()),
            ["local" | "remote", "name", id, kind] => {
                let id = unescape(id);
                let fits = match *kind {
                    "ipv4-addr" => id.parse::<std::net::Ipv4Addr>().is_ok(),
                    "fqdn" => !id.contains('@') && id.parse::<std::net::Ipv4Addr>().is_err(),
                    "user-fqdn" => id.contains('@'),
                    _ => false,
                };
                if !fits {
                    return Err(bad("an IKE identity kind natc's intent cannot state"));
                }
                *(if w[0] == "local" { &mut local_id } else { &mut remote_id }) = Some(id);
            }
            ["nat-traversal", on @ ("on" | "off")] => nat_traversal = *on == "on",
            ["pre-shared-key", "text", ..] => {
                // The key is the rest of the raw line after `text ` (escapes included).
                let key = raw.split_once(" text ").map(|(_, k)| k.trim()).unwrap_or_default();
                psk = Some(match unescape(key).strip_prefix("@@natc-secret:").and_then(|r| r.strip_suffix("@@")) {
                    Some(reference) => match reference.split_once(':') {
                        Some((kind @ ("env" | "file"), value)) => format!("{{ {kind} = {} }}", quote(value)),
                        _ => return Err(bad("a natc secret placeholder of an unknown kind")),
                    },
                    None => {
                        let env = format!("{}_PSK", name.to_uppercase().replace('-', "_"));
                        draft.notes.push(format!(
                            "tunnel {name}: its pre-shared key is not copied; psk = {{ env = \"{env}\" }}: set {env} where natc builds"
                        ));
                        format!("{{ env = {} }}", quote(&env))
                    }
                });
            }
            _ => return Err(bad("an IKE setting natc does not write")),
        }
    }
    let here = format!("tunnel select {number}");
    let Some(remote) = remote else {
        return Err((select.line, here, "a tunnel without `ipsec ike remote address` (a fixed peer address)".into()));
    };
    let psk = psk.ok_or((select.line, here, "a tunnel without `ipsec ike pre-shared-key`".to_string()))?;
    let q = |v: &str| quote(v);
    let mut ike_parts = vec![format!("version = {version}")];
    for (key, value) in [
        ("encryption", ike_enc.map(q)),
        ("hash", ike_hash.map(q)),
        ("dh_group", dh.map(|d| d.to_string())),
        ("lifetime", ike_life.map(|l| l.to_string())),
    ] {
        match value {
            Some(v) => ike_parts.push(format!("{key} = {v}")),
            None => unstated.push(format!("ike.{key}")),
        }
    }
    let mut esp_parts = vec![format!("encryption = {}", q(esp_enc)), format!("hash = {}", q(esp_hash))];
    for (key, value) in [("pfs", pfs.map(|p| p.to_string())), ("lifetime", esp_life.map(|l| l.to_string()))] {
        match value {
            Some(v) => esp_parts.push(format!("{key} = {v}")),
            None => unstated.push(format!("esp.{key}")),
        }
    }
    if !unstated.is_empty() {
        draft.notes.push(format!(
            "tunnel {name}: the config does not state {}: natc's defaults apply, which may not be the router's",
            unstated.join(", ")
        ));
    }
    let mut keys: Vec<(&'static str, Value)> =
        vec![("name", Value::Text(name.clone())), ("remote", Value::Text(remote))];
    if let Some(a) = local_address {
        keys.push(("local_address", Value::Text(a)));
    }
    keys.push(("psk", Value::Raw(psk)));
    keys.push(("ike", Value::Raw(format!("{{ {} }}", ike_parts.join(", ")))));
    keys.push(("esp", Value::Raw(format!("{{ {} }}", esp_parts.join(", ")))));
    if let Some(d) = dpd {
        keys.push(("dpd", Value::Raw(d)));
    }
    if nat_traversal {
        keys.push(("nat_traversal", Value::Bool(true)));
    }
    if let Some(id) = local_id {
        keys.push(("local_id", Value::Text(id)));
    }
    if let Some(id) = remote_id {
        keys.push(("remote_id", Value::Text(id)));
    }
    keys.push(("vti", Value::Raw(format!("{{ name = {}, address = {} }}", q(&format!("tunnel{number}")), q(address)))));
    if let Some((line, m)) = &select.mss {
        match m.parse::<u32>() {
            Ok(m) => keys.push(("tcp_mss", Value::Int(m))),
            Err(_) if m == "auto" => keys.push(("tcp_mss", Value::Text("auto".into()))),
            Err(_) => {
                return Err((
                    *line,
                    format!("ip tunnel tcp mss limit {m}"),
                    "a TCP MSS limit natc does not write".into(),
                ));
            }
        }
    }
    if !select.comments.is_empty() {
        keys.push(("description", Value::Text(select.comments.join(" "))));
    }
    Ok(Block { header: "[[gateway.tunnel]]", line: select.line, keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Draft {
        let mut d = Draft::default();
        super::super::rtx::parse(text, &mut d);
        d
    }

    const TUNNEL: &str = "tunnel select 1\n ipsec tunnel 1\n  ipsec sa policy 1 1 esp aes-cbc sha-hmac\n  ipsec ike remote address 1 192.0.2.1\n  ipsec ike pre-shared-key 1 text sec\\ ret\n ip tunnel address 169.254.0.2/30\n tunnel enable 1\ntunnel select none\n";

    #[test]
    fn a_tunnel_comes_back_without_its_key() {
        let d = read(TUNNEL);
        assert!(d.unexpressed.is_empty(), "{:?}", d.unexpressed);
        let block = &d.blocks[0];
        assert_eq!(block.header, "[[gateway.tunnel]]");
        let psk = block.keys.iter().find(|(k, _)| *k == "psk").map(|(_, v)| v.clone());
        assert_eq!(psk, Some(Value::Raw("{ env = \"TUNNEL_1_PSK\" }".into())));
        let everything = format!("{:?}{:?}{:?}", d.notes, d.blocks, d.unexpressed);
        assert!(!everything.contains("sec ret") && !everything.contains("sec\\ ret"), "{everything}");
    }

    #[test]
    fn a_keepalive_beyond_any_timeout_keeps_the_tunnel_out_without_a_panic() {
        let text =
            TUNNEL.replace(" tunnel enable 1", "  ipsec ike keepalive use 1 on dpd 4294967295 3\n tunnel enable 1");
        let d = read(&text);
        assert!(d.blocks.is_empty());
        let culprit = d.unexpressed.iter().find(|u| u.code == Code::IMPORT_NO_KEY).expect("the culprit");
        assert!(culprit.text.contains("keepalive"), "{culprit:?}");
        // Its key is reported as a part, never shown.
        assert!(d.unexpressed.iter().all(|u| !u.text.contains("ret")), "{:?}", d.unexpressed);
    }

    #[test]
    fn keys_are_never_shown() {
        assert_eq!(
            shown("  ipsec ike pre-shared-key 2 text s3cr3t"),
            "  ipsec ike pre-shared-key 2 text (the key: not copied)"
        );
        assert_eq!(unescape(r"cloud\ \#1.psk"), "cloud #1.psk");
    }
}
