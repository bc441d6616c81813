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
                if trimmed != "type ipv4_addr : ipv4_addr" {
                    draft.refuse(line, raw, "a map other than ipv4_addr : ipv4_addr");
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
            match w.as_slice() {
                [k, colon, v] if colon == ":" => elements.push((k.clone(), v.clone(), None, line)),
                [k, c, text, colon, v] if c == "comment" && colon == ":" => {
                    elements.push((k.clone(), v.clone(), Some(text.clone()), line))
                }
                _ => elements.push((piece.clone(), String::new(), None, line)),
            }
        }
        sc.maps.insert(name, elements);
    }
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
                // `dnat ip prefix to ip daddr map { A : B }`: a 1:1 block map (NETMAP).
                if s(j) == "ip" && s(j + 1) == "prefix" && s(j + 2) == "to" {
                    let (Some(a), Some(b)) = (w.get(j + 7), w.get(j + 9)) else {
                        return draft.refuse(line, raw, "a prefix map without one element");
                    };
                    if s(j + 6) != "{" || s(j + 8) != ":" || s(j + 10) != "}" {
                        return draft.refuse(line, raw, "a prefix map with more than one element");
                    }
                    let flag = if kind == "dnat" { "-d" } else { "-s" };
                    if !m.windows(2).any(|x| x[0] == flag && x[1] == *a) {
                        return draft.refuse(line, raw, "a prefix map whose key is not the rule's own prefix");
                    }
                    target = vec!["-j".into(), "NETMAP".into(), "--to".into(), b.clone()];
                    i = j + 11;
                    continue;
                }
                if s(j) != "to" {
                    return draft.refuse(line, raw, format!("{kind} without `to`"));
                }
                // `dnat to ip daddr map @NAME` / `map { A : B, … }`: one dnat per element.
                if kind == "dnat" && s(j + 1) == "ip" && s(j + 2) == "daddr" && s(j + 3) == "map" {
                    if let Some(name) = s(j + 4).strip_prefix('@') {
                        match sc.maps.get(name) {
                            Some(e) => per_element = Some(e),
                            None => {
                                return draft.refuse(
                                    line,
                                    raw,
                                    format!("the map {name} is not defined before this rule"),
                                );
                            }
                        }
                        i = j + 5;
                    } else if s(j + 4) == "{" {
                        let end = w[j + 5..].iter().position(|x| x == "}").map(|e| j + 5 + e);
                        let Some(end) = end else { return draft.refuse(line, raw, "a map without }") };
                        for piece in w[j + 5..end].join(" ").split(',') {
                            let p: Vec<&str> = piece.split_whitespace().collect();
                            match p.as_slice() {
                                [k, ":", v] => anonymous.push((k.to_string(), v.to_string(), None, line)),
                                _ => return draft.refuse(line, raw, "a map element other than ADDRESS : ADDRESS"),
                            }
                        }
                        i = end + 1;
                    } else {
                        return draft.refuse(line, raw, "a dnat map natc does not read");
                    }
                    target = vec!["-j".into(), "DNAT".into()];
                    continue;
                }
                let to = s(j + 1);
                if s(j + 2) == ":" {
                    return draft.refuse(
                        line,
                        raw,
                        "a port map (a shifted port range): natc import does not read it yet",
                    );
                }
                // `A`, `A:443`, `A:8000-8099`: iptables writes the same.
                target = if kind == "dnat" {
                    vec!["-j".into(), "DNAT".into(), "--to-destination".into(), to.to_string()]
                } else {
                    vec!["-j".into(), "SNAT".into(), "--to-source".into(), to.to_string()]
                };
                i = j + 2;
            }
            (other, _) => return draft.refuse(line, raw, format!("`{other}` has no intent form")),
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
                em.extend(["-d".to_string(), key.clone()]);
                let mut t = target.clone();
                t.extend(["--to-destination".to_string(), value.clone()]);
                let c = element_comment.clone().or(comment.clone());
                if let Some(l) = &log {
                    iptables::rule_words(st, &with_comment(&em, &c, l), *at, raw, draft);
                }
                iptables::rule_words(st, &with_comment(&em, &c, &t), *at, raw, draft);
            }
        }
    }
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
