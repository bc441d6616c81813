//! What of a running capture natc owns, for `natc drift` (docs/drift.md): the lines of
//! tables, rule numbers and ranges natc never writes are blanked (so line numbers stay
//! the capture's) and counted by reason, before the capture is read as rules. Linear: one
//! pass over each side.

use super::Format;
use std::collections::HashSet;

/// The capture with the lines natc does not own blanked, and the reason of each blanked line.
pub fn keep_owned(built: &str, running: &str, format: Format, gateway: &str) -> (String, Vec<&'static str>) {
    match format {
        Format::Nft => nft(built, running),
        Format::Rtx => rtx(running),
        Format::Vyos => vyos(built, running, gateway),
        // iptables-restore and natc's firewalld script replace natc's whole chains: every
        // rule in them is natc's (a rule someone added there is drift); the importer
        // already sets aside the chains natc does not write.
        Format::IptablesSave | Format::FirewalldDirect => (running.to_string(), Vec::new()),
    }
}

/// `table FAMILY NAME {` → `FAMILY NAME`.
fn nft_table(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("table ")?;
    let rest = rest.trim_end().strip_suffix('{')?.trim();
    Some(rest.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Tables other than the ones natc's output declares.
fn nft(built: &str, running: &str) -> (String, Vec<&'static str>) {
    let ours: HashSet<String> = built.lines().filter_map(nft_table).collect();
    let (mut out, mut ignored) = (String::new(), Vec::new());
    // Depth of braces inside a foreign table (0: not in one).
    let mut foreign = 0usize;
    for line in running.lines() {
        if foreign == 0
            && let Some(table) = nft_table(line)
            && !ours.contains(&table)
        {
            foreign = 1;
            ignored.push("an nftables table natc does not write");
            out.push('\n');
            continue;
        }
        if foreign > 0 {
            // Braces in quoted comments are rare; a table's own lines are what count here.
            let opens = line.matches('{').count();
            let closes = line.matches('}').count();
            foreign = (foreign + opens).saturating_sub(closes);
            if !line.trim().is_empty() {
                ignored.push("an nftables table natc does not write");
            }
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    (out, ignored)
}

/// The first number after `prefix` on the line, if the line starts so.
fn number_after(line: &str, prefix: &str) -> Option<u64> {
    let rest = line.trim().strip_prefix(prefix)?;
    rest.split_whitespace().find_map(|w| w.parse::<u64>().ok())
}

/// Filters outside 100000–199999 and NAT descriptors outside 1000–1999 (natc's ranges,
/// docs/rtx.md).
fn rtx(running: &str) -> (String, Vec<&'static str>) {
    let (mut out, mut ignored) = (String::new(), Vec::new());
    for line in running.lines() {
        let filter = number_after(line, "ip filter ").is_some_and(|n| !(100_000..=199_999).contains(&n));
        let descriptor = number_after(line, "nat descriptor ").is_some_and(|n| !(1000..=1999).contains(&n));
        if filter {
            ignored.push("an RTX filter outside natc's numbers 100000-199999");
            out.push('\n');
        } else if descriptor {
            ignored.push("an RTX NAT descriptor outside natc's numbers 1000-1999");
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    (out, ignored)
}

/// The rule a VyOS line sets: `set nat source rule 100` / `set firewall ipv4 forward filter
/// rule 5`, up to the number.
fn vyos_rule(line: &str) -> Option<&str> {
    let line = line.trim();
    if !(line.starts_with("set nat ") || line.starts_with("set firewall ")) {
        return None;
    }
    let at = line.find(" rule ")? + " rule ".len();
    let end = line[at..].find(' ').map_or(line.len(), |e| at + e);
    line[at..end].parse::<u64>().ok()?;
    Some(&line[..end])
}

/// NAT and firewall rules natc did not write: neither one of natc's numbers for this
/// gateway nor described as one of its items (`'<gateway> kind/name'`).
fn vyos(built: &str, running: &str, gateway: &str) -> (String, Vec<&'static str>) {
    let mut ours: HashSet<&str> = built.lines().filter_map(vyos_rule).collect();
    let natc_description = format!("description '{gateway} ");
    for line in running.lines() {
        if let Some(rule) = vyos_rule(line)
            && line.trim()[rule.len()..].trim_start().starts_with(&natc_description)
        {
            ours.insert(rule);
        }
    }
    let (mut out, mut ignored) = (String::new(), Vec::new());
    for line in running.lines() {
        if vyos_rule(line).is_some_and(|r| !ours.contains(r)) {
            ignored.push("a VyOS rule natc did not write (not its number, no natc description)");
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    (out, ignored)
}
