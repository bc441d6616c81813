//! `nft list ruleset` text (and natc's nftables.nft) → intent. Each rule of a base chain
//! is translated into the iptables words it stands for (`iifname "eth0"` → `-i eth0`,
//! `dnat to A` → `-j DNAT --to-destination A`, an inline `log` → a LOG rule before it) and
//! read by the iptables importer, so both formats mean the same intent. A dnat through a
//! map (natc's `dnat to ip daddr map @dnat_from_any`, or an anonymous `{ A : B, … }`) is
//! one dnat per element, named from the element's comment.

use super::draft::Draft;
use super::iptables::{self, State};
use super::tokens::words;
use std::collections::BTreeMap;

/// A map's elements: key, value, comment, line.
type Elements = Vec<(String, String, Option<String>, usize)>;

#[derive(Default)]
struct Scan {
    /// `ip` and `inet` tables are read; the others' rules are reported.
    family_ok: bool,
    depth: usize,
    /// The base chain being read: (iptables table, iptables chain).
    chain: Option<(&'static str, &'static str)>,
    chain_name: String,
    map: Option<(String, usize)>,
    in_elements: bool,
    maps: BTreeMap<String, Elements>,
    /// The element text of the map being read, with each piece's line.
    element_text: Vec<(String, usize)>,
}

pub fn parse(text: &str, draft: &mut Draft) {
    let mut st = State::default();
    let mut sc = Scan::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            iptables::header(comment, draft);
            continue;
        }
        // `nft -a list ruleset` ends lines with `# handle N`.
        let trimmed = trimmed.split(" # handle ").next().unwrap_or(trimmed).trim();
        if sc.in_elements {
            elements_line(&mut sc, trimmed, line);
            continue;
        }
        if trimmed == "}" {
            close(&mut sc, &mut st, draft);
            continue;
        }
        let Some(w) = words(trimmed) else {
            draft.refuse(line, raw, "a quote that is not closed");
            continue;
        };
        let first = w.first().map(String::as_str).unwrap_or_default();
        match (sc.depth, first) {
            // natc's wiring before the table: `table ip natc_x` / `delete table ip natc_x`.
            (0, "table") if !trimmed.ends_with('{') => {}
            (0, "delete" | "flush") => {}
            (0, "table") => {
                sc.depth = 1;
                sc.family_ok = matches!(w.get(1).map(String::as_str), Some("ip" | "inet"));
                if !sc.family_ok {
                    draft.refuse(line, raw, "a table of another family than ip or inet: natc's intents are IPv4");
                }
            }
            (1, "chain") => {
                sc.depth = 2;
                sc.chain = None;
                sc.chain_name = w.get(1).cloned().unwrap_or_default();
            }
            (1, "map") => {
                sc.depth = 2;
                sc.map = Some((w.get(1).cloned().unwrap_or_default(), line));
            }
            (1, "set") => {
                sc.depth = 2;
                draft.refuse(line, raw, "a named set: natc imports maps of addresses only");
            }
            (2, "type") if sc.map.is_some() => {
                // Addresses, or an address and a port each side (a port-forward map).
                let port_map = "type ipv4_addr . inet_service : ipv4_addr . inet_service";
                if trimmed != "type ipv4_addr : ipv4_addr" && trimmed != port_map {
                    draft.refuse(
                        line,
                        raw,
                        "a map other than ipv4_addr : ipv4_addr or ipv4_addr . inet_service : ipv4_addr . inet_service",
                    );
                }
            }
            (2, "elements") if sc.map.is_some() => {
                sc.in_elements = true;
                let rest = trimmed.split_once('{').map(|(_, r)| r).unwrap_or_default();
                elements_line(&mut sc, rest, line);
            }
            (2, "flags" | "size" | "policy") if sc.map.is_some() => {}
            (2, "type") => hook(&mut sc, &mut st, &w, line, raw, draft),
            (2, _) if sc.map.is_some() => draft.refuse(line, raw, "not a map element"),
            (2, _) if !sc.family_ok => draft.refuse(line, raw, "a rule in a table of another family"),
            (2, _) => match sc.chain {
                Some((table, chain)) => rule(&mut st, &sc, table, chain, &w, line, raw, draft),
                None => draft.refuse(
                    line,
                    raw,
                    format!("a rule in the regular chain {}: natc imports base chains (hooks) only", sc.chain_name),
                ),
            },
            _ => draft.refuse(line, raw, "not a table, chain, map or rule"),
        }
    }
    iptables::flush(&mut st, draft);
}

fn close(sc: &mut Scan, st: &mut State, draft: &mut Draft) {
    if sc.depth == 2 {
        if let Some((name, _)) = sc.map.take() {
            sc.maps.entry(name).or_default();
        }
        if sc.chain.take().is_some() {
            iptables::flush(st, draft);
        }
    }
    sc.depth = sc.depth.saturating_sub(1);
}

/// `KEY [comment "…"] : VALUE,` pieces, possibly several on a line, until `}`.
fn elements_line(sc: &mut Scan, text: &str, line: usize) {
    let (body, done) = match text.split_once('}') {
        Some((body, _)) => (body, true),
        None => (text, false),
    };
    for piece in body.split(',') {
        if !piece.trim().is_empty() {
            sc.element_text.push((piece.trim().to_string(), line));
        }
    }
    if done {
        sc.in_elements = false;
        let name = sc.map.as_ref().map(|m| m.0.clone()).unwrap_or_default();
        let mut elements = Vec::new();
        for (piece, line) in sc.element_text.drain(..) {
            let w = words(&piece).unwrap_or_default();
            elements.push(element(&w).unwrap_or((piece.clone(), String::new(), None, line)));
            if let Some(last) = elements.last_mut() {
                last.3 = line;
            }
        }
        sc.maps.insert(name, elements);
    }
}

/// `KEY [comment "…"] : VALUE` (a key or value of a concatenation is `A . P`, kept as
/// that text): the element, its line left 0 for the caller.
fn element(w: &[String]) -> Option<(String, String, Option<String>, usize)> {
    let colon = w.iter().position(|x| x == ":")?;
    let (mut key, value) = (&w[..colon], &w[colon + 1..]);
    let mut comment = None;
    if let Some(at) = key.iter().position(|x| x == "comment") {
        comment = key.get(at + 1).cloned();
        if at + 2 != key.len() {
            return None;
        }
        key = &key[..at];
    }
    let one = |part: &[String]| {
        let ok = matches!(part.len(), 1 | 3) && (part.len() == 1 || part[1] == ".");
        ok.then(|| part.join(" "))
    };
    Some((one(key)?, one(value)?, comment, 0))
}

/// What a rule's map expands to, one rule per element.
#[derive(Clone, Copy)]
enum MapUse {
    /// `dnat to ip daddr map …`: `-d KEY`, to VALUE.
    Dnat,
    /// `snat to ip saddr map …`: `-s KEY`, to VALUE.
    Snat,
    /// `dnat to ip daddr . tcp dport map { A . P : B . Q }`: `-d A -p tcp --dport P`, to B:Q.
    DnatPort(&'static str),
    /// `dnat|snat ip prefix to ip daddr|saddr map { P1 : P2, … }`: `-d|-s P1`, NETMAP to P2.
    Prefix(&'static str),
}

/// The elements of an anonymous map whose `{` is `w[open]`, and the index after its `}`.
fn anonymous_map(w: &[String], open: usize, line: usize) -> Option<(Elements, usize)> {
    if w.get(open).map(String::as_str) != Some("{") {
        return None;
    }
    let end = open + 1 + w[open + 1..].iter().position(|x| x == "}")?;
    let mut elements = Vec::new();
    let mut piece: Vec<String> = Vec::new();
    for word in &w[open + 1..end] {
        let (word, last) = match word.strip_suffix(',') {
            Some(x) => (x, true),
            None => (word.as_str(), false),
        };
        if !word.is_empty() {
            piece.push(word.to_string());
        }
        if last || word == "," {
            elements.push(element(&piece)?);
            piece.clear();
        }
    }
    if !piece.is_empty() {
        elements.push(element(&piece)?);
    }
    for e in &mut elements {
        e.3 = line;
    }
    Some((elements, end + 1))
}

/// `type nat hook prerouting priority dstnat; policy accept;`
fn hook(sc: &mut Scan, st: &mut State, w: &[String], line: usize, raw: &str, draft: &mut Draft) {
    let text = w.join(" ");
    let has = |s: &str| text.contains(s);
    let role: Option<(&'static str, &'static str)> = if has("type nat hook prerouting") {
        Some(("nat", "PREROUTING"))
    } else if has("type nat hook postrouting") {
        Some(("nat", "POSTROUTING"))
    } else if has("type filter hook input") {
        Some(("filter", "INPUT"))
    } else if has("type filter hook forward") {
        Some(("filter", "FORWARD"))
    } else {
        None
    };
    let Some((table, chain)) = role else {
        return draft.refuse(
            line,
            raw,
            "a base chain natc does not write (natc: nat prerouting/postrouting, filter input/forward)",
        );
    };
    sc.chain = Some((table, chain));
    iptables::set_table(st, table, draft);
    let policy = text.split("policy ").nth(1).map(|p| p.trim_end_matches(';').trim()).unwrap_or("accept");
    let policy = if policy == "drop" {
        "DROP"
    } else if policy == "accept" {
        "ACCEPT"
    } else {
        policy
    };
    iptables::chain_policy(st, &format!("{chain} {policy}"), line, raw, draft);
}

/// One nft rule as the iptables words it stands for (one rule per map element).
#[allow(clippy::too_many_arguments)]
fn rule(st: &mut State, sc: &Scan, table: &str, chain: &str, w: &[String], line: usize, raw: &str, draft: &mut Draft) {
    iptables::set_table(st, table, draft);
    let mut m: Vec<String> = Vec::new();
    let mut comment: Option<String> = None;
    let mut log: Option<Vec<String>> = None;
    let mut target: Vec<String> = Vec::new();
    let mut per_element: Option<&Elements> = None;
    let mut anonymous: Elements = Vec::new();
    let mut map_use = MapUse::Dnat;
    let mut i = 0;
    let s = |k: usize| w.get(k).map(String::as_str).unwrap_or_default();
    let push = |m: &mut Vec<String>, a: &[&str]| m.extend(a.iter().map(|x| x.to_string()));
    while i < w.len() {
        match (s(i), s(i + 1)) {
            ("iifname" | "iif", v) => {
                push(&mut m, &["-i", v]);
                i += 2;
            }
            ("oifname" | "oif", v) => {
                push(&mut m, &["-o", v]);
                i += 2;
            }
            ("ip", "saddr" | "daddr") if s(i + 2) != "map" => {
                let flag = if s(i + 1) == "saddr" { "-s" } else { "-d" };
                if s(i + 2) == "{" || s(i + 2) == "!=" {
                    return draft.refuse(
                        line,
                        raw,
                        "an address set or negation: natc's items match one address or prefix",
                    );
                }
                push(&mut m, &[flag, s(i + 2)]);
                i += 3;
            }
            ("ip", "protocol") | ("meta", "l4proto") => {
                push(&mut m, &["-p", s(i + 2)]);
                i += 3;
            }
            ("tcp" | "udp", "dport") => {
                let proto = s(i);
                let (ports, next) = match s(i + 2) {
                    "{" => match w[i + 3..].iter().position(|x| x == "}") {
                        Some(end) => (w[i + 3..i + 3 + end].join("").replace('-', ":"), i + 4 + end),
                        None => return draft.refuse(line, raw, "a port set without }"),
                    },
                    p => (p.replace('-', ":"), i + 3),
                };
                if !m.windows(2).any(|x| x[0] == "-p") {
                    push(&mut m, &["-p", proto]);
                }
                push(&mut m, &["--dports", &ports]);
                i = next;
            }
            ("ct", "state") => {
                push(&mut m, &["--ctstate", &s(i + 2).to_uppercase()]);
                i += 3;
            }
            ("counter", _) => {
                draft.counters = true;
                i += 1;
                // `nft list ruleset` prints the values: `counter packets 0 bytes 0`.
                if s(i) == "packets" {
                    i += 4;
                }
            }
            // natc's log_rate: `limit rate 10/minute burst 5 packets` on the log rule
            // (iptables' `-m limit`, which the iptables importer allows on LOG only).
            ("limit", "rate") => {
                let rate = s(i + 2);
                if rate == "over" || s(i + 3).starts_with("bytes") || rate.contains("bytes") {
                    return draft.refuse(
                        line,
                        raw,
                        "a limit over a rate or in bytes: natc's log_rate is packets under a rate",
                    );
                }
                push(&mut m, &["-m", "limit", "--limit", rate]);
                i += 3;
                if s(i) == "burst" {
                    if s(i + 2) != "packets" {
                        return draft.refuse(line, raw, "a burst in bytes: natc's log_rate bursts 5 packets");
                    }
                    push(&mut m, &["--limit-burst", s(i + 1)]);
                    i += 3;
                }
            }
            ("log", _) => {
                let mut l = vec!["-j".to_string(), "LOG".to_string()];
                i += 1;
                if s(i) == "prefix" {
                    l.extend(["--log-prefix".to_string(), s(i + 1).to_string()]);
                    i += 2;
                }
                log = Some(l);
            }
            ("comment", v) => {
                comment = Some(v.to_string());
                i += 2;
            }
            ("accept", _) | ("drop", _) => {
                target = vec!["-j".into(), s(i).to_uppercase()];
                i += 1;
            }
            ("reject", _) => {
                let with = match (s(i + 1), s(i + 2), s(i + 3), s(i + 4)) {
                    ("with", "tcp", "reset", _) => (4, "tcp-reset"),
                    ("with", "icmp", "type", "port-unreachable") => (5, "icmp-port-unreachable"),
                    ("with", "icmp", "port-unreachable", _) => (4, "icmp-port-unreachable"),
                    ("with", ..) => return draft.refuse(line, raw, "a reject with another answer than natc's"),
                    _ => (1, "icmp-port-unreachable"),
                };
                target = vec!["-j".into(), "REJECT".into(), "--reject-with".into(), with.1.into()];
                i += with.0;
            }
            ("masquerade", _) => {
                target = vec!["-j".into(), "MASQUERADE".into()];
                i += 1;
            }
            ("dnat" | "snat", _) => {
                let kind = s(i);
                let mut j = i + 1;
                if s(j) == "ip" && s(j + 1) == "to" {
                    j += 1;
                }
                // `dnat ip prefix to ip daddr map { A : B, … }`: 1:1 block maps (NETMAP),
                // one per element (natc writes one, for the rule's own prefix).
                if s(j) == "ip" && s(j + 1) == "prefix" && s(j + 2) == "to" {
                    let (flag, field) = if kind == "dnat" { ("-d", "daddr") } else { ("-s", "saddr") };
                    if s(j + 3) != "ip" || s(j + 4) != field || s(j + 5) != "map" {
                        return draft.refuse(line, raw, format!("a prefix map on another key than ip {field}"));
                    }
                    let Some((elements, next)) = anonymous_map(w, j + 6, line) else {
                        return draft.refuse(line, raw, "a prefix map that is not { PREFIX : PREFIX, … }");
                    };
                    let own = m.windows(2).find(|x| x[0] == flag).map(|x| x[1].clone());
                    if own.is_some_and(|own| elements.iter().any(|e| e.0 != own)) {
                        return draft.refuse(line, raw, "a prefix map whose key is not the rule's own prefix");
                    }
                    anonymous = elements;
                    map_use = MapUse::Prefix(flag);
                    target = vec!["-j".into(), "NETMAP".into()];
                    i = next;
                    continue;
                }
                if s(j) != "to" {
                    return draft.refuse(line, raw, format!("{kind} without `to`"));
                }
                // `dnat to ip daddr map @NAME` / `map { A : B, … }`: one dnat per element
                // (`snat to ip saddr map …` likewise); with `. tcp dport` in the key, the
                // elements are port forwards (`A . P : B . Q`).
                let field = if kind == "dnat" { "daddr" } else { "saddr" };
                let port_key = (s(j + 3) == "." && matches!(s(j + 4), "tcp" | "udp") && s(j + 5) == "dport")
                    .then(|| if s(j + 4) == "tcp" { "tcp" } else { "udp" })
                    .filter(|_| kind == "dnat");
                let at_map = if port_key.is_some() { j + 6 } else { j + 3 };
                if s(j + 1) == "ip" && s(j + 2) == field && s(at_map) == "map" {
                    map_use = match (kind, port_key) {
                        ("snat", _) => MapUse::Snat,
                        (_, Some(proto)) => MapUse::DnatPort(proto),
                        _ => MapUse::Dnat,
                    };
                    let j = at_map - 3;
                    if let Some(name) = s(j + 4).strip_prefix('@') {
                        match sc.maps.get(name) {
                            Some(e) => per_element = Some(e),
                            None => {
                                return draft.refuse_as(
                                    crate::vocab::Code::IMPORT_REFERENCE,
                                    line,
                                    raw,
                                    format!("the map {name} is not defined before this rule"),
                                );
                            }
                        }
                        i = j + 5;
                    } else if s(j + 4) == "{" {
                        let Some((elements, next)) = anonymous_map(w, j + 4, line) else {
                            return draft.refuse(line, raw, "a map whose elements are not KEY : VALUE");
                        };
                        anonymous = elements;
                        i = next;
                    } else {
                        return draft.refuse(line, raw, format!("a {kind} map natc does not read"));
                    }
                    let jump = if kind == "dnat" { "DNAT" } else { "SNAT" };
                    target = vec!["-j".into(), jump.into()];
                    continue;
                }
                let to = s(j + 1);
                // natc's shifted port range: `dnat to A : tcp dport map { 8000 : 9000, 8001 :
                // 9001, … }`, each matched port onto one; as iptables' `A:9000-9099/8000`.
                if s(j + 2) == ":" {
                    let (Some(proto), true) =
                        (matches!(s(j + 3), "tcp" | "udp").then(|| s(j + 3)), s(j + 4) == "dport" && s(j + 5) == "map")
                    else {
                        return draft.refuse(line, raw, "a port map natc does not read");
                    };
                    let Some(shift) = anonymous_map(w, j + 6, line).and_then(|(e, next)| Some((port_shift(&e)?, next)))
                    else {
                        return draft.refuse(
                            line,
                            raw,
                            "a port map that is not one shifted range of consecutive ports",
                        );
                    };
                    let ((first, last, base), next) = shift;
                    let matched = m.windows(2).find(|x| x[0] == "--dports").map(|x| x[1].clone());
                    if matched.as_deref() != Some(format!("{base}:{}", base + (last - first)).as_str())
                        || !m.windows(2).any(|x| x[0] == "-p" && x[1] == proto)
                    {
                        return draft.refuse(line, raw, "a port map whose keys are not the rule's own ports");
                    }
                    target = vec![
                        "-j".into(),
                        "DNAT".into(),
                        "--to-destination".into(),
                        format!("{to}:{first}-{last}/{base}"),
                    ];
                    i = next;
                    continue;
                }
                // `A`, `A:443`, `A:8000-8099`: iptables writes the same.
                target = if kind == "dnat" {
                    vec!["-j".into(), "DNAT".into(), "--to-destination".into(), to.to_string()]
                } else {
                    vec!["-j".into(), "SNAT".into(), "--to-source".into(), to.to_string()]
                };
                i = j + 2;
            }
            (other, _) => {
                return draft.refuse_as(
                    crate::vocab::Code::IMPORT_NO_KEY,
                    line,
                    raw,
                    format!("`{other}` has no intent form"),
                );
            }
        }
    }
    if target.is_empty() && log.is_some() {
        target = log.take().unwrap_or_default();
    }
    if target.is_empty() {
        return draft.refuse(line, raw, "a rule without a verdict or translation");
    }
    let with_comment = |m: &[String], comment: &Option<String>, target: &[String]| {
        let mut words = vec!["-A".to_string(), chain.to_string()];
        words.extend(m.iter().cloned());
        if let Some(c) = comment {
            words.extend(["-m".into(), "comment".into(), "--comment".into(), c.clone()]);
        }
        words.extend(target.iter().cloned());
        words
    };
    let elements: Option<&Elements> = per_element.or((!anonymous.is_empty()).then_some(&anonymous));
    match elements {
        None => {
            if let Some(l) = &log {
                iptables::rule_words(st, &with_comment(&m, &comment, l), line, raw, draft);
            }
            iptables::rule_words(st, &with_comment(&m, &comment, &target), line, raw, draft);
        }
        Some(elements) => {
            for (key, value, element_comment, at) in elements {
                let mut em = m.clone();
                let mut t = target.clone();
                let pair = |text: &str| text.split_once(" . ").map(|(a, p)| (a.to_string(), p.to_string()));
                let plain = !key.contains(' ') && !value.contains(' ');
                match (map_use, pair(key), pair(value)) {
                    (MapUse::Dnat, ..) if plain => {
                        em.extend(["-d".to_string(), key.clone()]);
                        t.extend(["--to-destination".to_string(), value.clone()]);
                    }
                    (MapUse::Snat, ..) if plain => {
                        em.extend(["-s".to_string(), key.clone()]);
                        t.extend(["--to-source".to_string(), value.clone()]);
                    }
                    (MapUse::Prefix(flag), ..) if plain => {
                        if !em.windows(2).any(|x| x[0] == flag && x[1] == *key) {
                            em.extend([flag.to_string(), key.clone()]);
                        }
                        t.extend(["--to".to_string(), value.clone()]);
                    }
                    (MapUse::DnatPort(proto), Some((a, p)), Some((b, q))) => {
                        em.extend(["-d".to_string(), a]);
                        if !em.iter().any(|x| x == "-p") {
                            em.extend(["-p".to_string(), proto.to_string()]);
                        }
                        em.extend(["--dports".to_string(), p]);
                        t.extend(["--to-destination".to_string(), format!("{b}:{q}")]);
                    }
                    _ => {
                        draft.refuse(*at, raw, format!("a map element `{key} : {value}` this map cannot hold"));
                        continue;
                    }
                }
                let c = element_comment.clone().or(comment.clone());
                if let Some(l) = &log {
                    iptables::rule_words(st, &with_comment(&em, &c, l), *at, raw, draft);
                }
                iptables::rule_words(st, &with_comment(&em, &c, &t), *at, raw, draft);
            }
        }
    }
}

/// natc's shifted port range as map elements `P : Q, P+1 : Q+1, …`: (first Q, last Q,
/// first P), when the keys and values are each consecutive.
fn port_shift(elements: &Elements) -> Option<(u32, u32, u32)> {
    let mut pairs = elements.iter().map(|e| Some((e.0.parse::<u32>().ok()?, e.1.parse::<u32>().ok()?)));
    let (base, first) = pairs.next()??;
    let mut n = 0;
    for pair in pairs {
        n += 1;
        if pair? != (base.checked_add(n)?, first.checked_add(n)?) {
            return None;
        }
    }
    Some((first, first.checked_add(n)?, base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::draft::Value;

    #[test]
    fn a_hand_written_ruleset() {
        let text = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tct state established,related accept\n\t\tiif \"lo\" accept\n\t\ttcp dport { 22, 8000-8099 } accept comment \"admin\"\n\t\tip saddr { 10.0.0.1, 10.0.0.2 } accept\n\t}\n}\ntable ip nat {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t\tiifname \"eth0\" tcp dport 80 dnat to ip daddr map { 198.51.100.2 : 10.0.0.10, 198.51.100.3 : 10.0.0.11 }\n\t}\n\tchain postrouting {\n\t\ttype nat hook postrouting priority 100; policy accept;\n\t\toifname \"eth0\" counter packets 5 bytes 300 masquerade\n\t}\n}\n";
        let mut d = Draft::default();
        parse(text, &mut d);
        assert_eq!(d.unexpressed.iter().map(|u| u.line).collect::<Vec<_>>(), [7]);
        assert_eq!(d.policy.input.map(|p| p.0), Some("drop"));
        let names: Vec<&str> = d.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["admin", "dnat-13", "dnat-13-2", "snat-17"]);
        assert_eq!(d.items[0].get("port"), Some(&Value::Text("22,8000-8099".into())));
        assert_eq!(d.items[2].get("to"), Some(&Value::Address("10.0.0.11".into())));
        assert!(d.counters);
    }
}
