//! The intent as TOML text: every item's table header carries `# from FILE:LINE`, the
//! addresses used more than once become `[networks]` entries, and the lines that could not
//! be expressed are listed at the top, so the file itself says what it is missing.

use super::draft::{Draft, Value, address_uses};

fn value(value: &Value, networks: &BTreeMap<&str, String>) -> String {
    match value {
        Value::Address(a) => match networks.get(a.as_str()) {
            Some(n) => quote(&format!("@{n}")),
            None => quote(a),
        },
        Value::Text(t) => quote(t),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Raw(r) => r.clone(),
    }
}
use std::collections::BTreeMap;
use std::fmt::Write;

/// A TOML basic string: `"…"` with `\`, `"` and control characters escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A comment's text on one line (a `#` comment ends at the line's end).
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The `[networks]` name of an address: `host-10-0-0-10`, `net-10-0-0-0-24`.
fn network_name(address: &str) -> String {
    let kind = if address.contains('/') { "net" } else { "host" };
    format!("{kind}-{}", address.replace(['.', '/'], "-"))
}

pub fn write(draft: &Draft, file: &str, format: &str, target: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `natc import` from {} ({format}).", one_line(file));
    let _ = writeln!(out, "# Every item names the line it came from; review the names and the [networks] names.");
    if !draft.unexpressed.is_empty() {
        let _ = writeln!(out, "# Not imported ({} line(s), also reported on stderr):", draft.unexpressed.len());
        for u in &draft.unexpressed {
            let (why, text) = (one_line(&u.why), one_line(&u.text));
            let _ = writeln!(out, "#   {}:{}: [{}] {why}: {text}", one_line(file), u.line, u.code);
        }
    }
    for note in &draft.notes {
        let _ = writeln!(out, "# {}", one_line(note));
    }
    // Without natc's comments the gateway is named after the file (`vm02.rules` → vm02).
    let stem =
        std::path::Path::new(file).file_stem().map(|s| super::draft::slug(&s.to_string_lossy())).unwrap_or_default();
    let fallback = if stem.is_empty() { "imported".to_string() } else { stem };
    let gateway = draft.gateway.clone().unwrap_or(fallback);
    let name = draft.intent.clone().unwrap_or_else(|| gateway.clone());
    let _ = writeln!(out, "\nnatc = 1\nname = {}", quote(&name));
    if let Some(d) = &draft.description {
        let _ = writeln!(out, "description = {}", quote(d));
    }

    let networks: BTreeMap<&str, String> =
        address_uses(&draft.items).into_iter().filter(|(_, n)| *n > 1).map(|(a, _)| (a, network_name(a))).collect();
    if !networks.is_empty() {
        let _ = writeln!(out, "\n[networks]                     # addresses the imported rules use more than once");
        for (address, name) in &networks {
            let _ = writeln!(out, "{name} = {}", quote(address));
        }
    }

    let _ = writeln!(out, "\n[[gateway]]\nname = {}\ntargets = [{}]", quote(&gateway), quote(target));
    if let Some((key, profile)) = &draft.profile {
        let _ = writeln!(out, "{key} = {}", quote(profile));
    }
    if draft.counters {
        let _ = writeln!(out, "counters = true");
    }
    for (interface, line) in &draft.interfaces {
        let _ = writeln!(out, "\n[[gateway.interface]]          # from {}:{line}", one_line(file));
        let _ = writeln!(out, "name = {}", quote(interface));
        for (key, v) in draft.interface_keys.get(interface).into_iter().flatten() {
            let _ = writeln!(out, "{key} = {}", value(v, &networks));
        }
    }
    let policy = &draft.policy;
    if policy.input.is_some() || policy.forward.is_some() || policy.log.is_some() {
        let lines: Vec<String> =
            [policy.input.map(|p| p.1), policy.forward.map(|p| p.1), policy.log.as_ref().map(|p| p.1)]
                .into_iter()
                .flatten()
                .map(|l| l.to_string())
                .collect();
        let _ = writeln!(out, "\n[gateway.policy]               # from {}:{}", one_line(file), lines.join(","));
        if let Some((v, _)) = policy.forward {
            let _ = writeln!(out, "forward = {}", quote(v));
        }
        if let Some((v, _)) = policy.input {
            let _ = writeln!(out, "input = {}", quote(v));
        }
        if let Some((prefix, _)) = &policy.log {
            let _ = writeln!(out, "log = true");
            if let Some(p) = prefix {
                let _ = writeln!(out, "log_prefix = {}", quote(p));
            }
            if let Some(rate) = &policy.log_rate {
                let _ = writeln!(out, "log_rate = {}", quote(rate));
            }
        }
    }
    for item in &draft.items {
        let _ = writeln!(
            out,
            "\n[[gateway.{}]]{:pad$}# from {}:{}",
            item.kind.table(),
            "",
            one_line(file),
            item.line,
            pad = 19 - item.kind.table().len()
        );
        let _ = writeln!(out, "name = {}", quote(&item.name));
        for (key, v) in &item.keys {
            let _ = writeln!(out, "{key} = {}", value(v, &networks));
        }
        if let Some(d) = &item.description {
            let _ = writeln!(out, "description = {}", quote(d));
        }
    }
    for block in &draft.blocks {
        let _ = writeln!(out, "\n{:30} # from {}:{}", block.header, one_line(file), block.line);
        for (key, v) in &block.keys {
            let _ = writeln!(out, "{key} = {}", value(v, &networks));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::draft::{Item, Kind};

    #[test]
    fn repeated_addresses_become_networks_and_items_name_their_line() {
        let mut d = Draft::default();
        for line in [4, 9] {
            let mut item = Item::new(Kind::Allow, line);
            item.set("to", Value::Address("10.0.0.10".into()));
            item.set("from", Value::Address(format!("192.0.2.{line}")));
            d.push(item, None);
        }
        let text = write(&d, "rules.v4", "iptables-save", "iptables");
        assert!(text.contains("host-10-0-0-10 = \"10.0.0.10\""), "{text}");
        assert!(text.contains("to = \"@host-10-0-0-10\""), "{text}");
        assert!(text.contains("from = \"192.0.2.9\""), "{text}");
        assert!(text.contains("# from rules.v4:9"), "{text}");
        toml::from_str::<toml::Value>(&text).expect("valid TOML");
    }

    #[test]
    fn quoting_survives_hostile_text() {
        let q = quote("a\"b\\c\nd\u{7}");
        let v: toml::Value = toml::from_str(&format!("x = {q}")).unwrap();
        assert_eq!(v["x"].as_str(), Some("a\"b\\c\nd\u{7}"));
    }
}
