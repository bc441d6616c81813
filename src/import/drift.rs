//! `natc drift`: does a box still run what the intent builds? Both sides are read by the
//! same importer -- the captured running configuration and natc's own build of the intent
//! for that gateway and target -- so both become the same canonical items (kind, name,
//! keys), and the comparison is item by item, never text against text (docs/drift.md).
//!
//! An item is matched by its kind and name first (natc's comments map back to the intent's
//! item names, so an edited rule is *changed*), then the rest by content (a rule whose
//! comment was lost but which still does the same is not drift). What the importer cannot
//! read as a natc item (other tables and chains, numbers and descriptors outside natc's
//! ranges, device settings) is not compared: it is counted, by reason, as ignored.

use super::draft::{Draft, Item, Kind, Value};
use super::{Format, parse};
use std::collections::{BTreeMap, HashMap};

/// One rule that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `missing` (the intent builds it, the box does not run it), `extra` (the box runs it,
    /// the intent does not build it) or `changed` (both, with different content).
    pub change: &'static str,
    /// The item's kind: dnat, snat, allow.
    pub kind: &'static str,
    /// The intent item's name (for `extra`, the name the importer gave the running rule).
    pub name: String,
    /// The intent file's line of the item (`[[gateway.dnat]]`), when the caller found it
    /// (`Drift::locate`); for extra, the item of that kind and name if the intent has one.
    pub intent_line: Option<usize>,
    /// The line of natc's build output the intent side came from (missing, changed).
    pub built_line: Option<usize>,
    /// The line of the capture the running side came from (extra, changed).
    pub running_line: Option<usize>,
    /// The intent side as canonical `key = value` text (missing, changed).
    pub intent: Option<String>,
    /// The running side as canonical text (extra, changed).
    pub running: Option<String>,
}

/// The result of one comparison.
#[derive(Debug, Clone, Default)]
pub struct Drift {
    pub changes: Vec<Change>,
    /// How many rules matched.
    pub matched: usize,
    /// Lines of the capture not compared, by reason, with their count.
    pub ignored: BTreeMap<String, usize>,
}

fn read(text: &str, format: Format) -> Draft {
    let mut draft = Draft::default();
    parse(text, format, &mut draft);
    draft
}

/// The canonical content of an item: its keys in name order, as `key = value`.
fn content(item: &Item) -> String {
    let mut keys: Vec<String> = item
        .keys
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Address(s) | Value::Text(s) | Value::Raw(s) => s.clone(),
                Value::Int(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
            };
            format!("{k} = {v}")
        })
        .collect();
    keys.sort();
    keys.join(", ")
}

fn kind(k: Kind) -> &'static str {
    k.table()
}

/// Compare `running` (a capture) with `built` (natc's output for the same gateway and
/// target), both in `format`; only what natc owns of `running` is compared (`owned`).
pub fn compare(built: &str, running: &str, format: Format, gateway: &str) -> Drift {
    let (owned, foreign) = super::owned::keep_owned(built, running, format, gateway);
    let (want, have) = (read(built, format), read(&owned, format));
    let mut drift = Drift::default();
    for why in foreign {
        *drift.ignored.entry(why.to_string()).or_default() += 1;
    }
    // Lines natc's own output cannot be read back either are not the box's drift: a
    // capture line with the same text is ignored as natc's, not as foreign.
    let own: std::collections::HashSet<&str> = want.unexpressed.iter().map(|u| u.text.as_str()).collect();
    for u in &have.unexpressed {
        let why = if own.contains(u.text.as_str()) { "natc's own line the importer does not read" } else { &u.why };
        *drift.ignored.entry(why.to_string()).or_default() += 1;
    }
    // Pass 1: by (kind, name).
    let mut by_name: HashMap<(&'static str, &str), usize> = HashMap::new();
    for (i, item) in have.items.iter().enumerate() {
        by_name.insert((kind(item.kind), item.name.as_str()), i);
    }
    let mut used = vec![false; have.items.len()];
    let mut unmatched_want = Vec::new();
    for w in &want.items {
        match by_name.get(&(kind(w.kind), w.name.as_str())) {
            Some(&i) if !used[i] => {
                used[i] = true;
                let h = &have.items[i];
                let (a, b) = (content(w), content(h));
                if a == b {
                    drift.matched += 1;
                } else {
                    drift.changes.push(Change {
                        change: "changed",
                        kind: kind(w.kind),
                        name: w.name.clone(),
                        intent_line: None,
                        built_line: Some(w.line),
                        running_line: Some(h.line),
                        intent: Some(a),
                        running: Some(b),
                    });
                }
            }
            _ => unmatched_want.push(w),
        }
    }
    // Pass 2: by content, for rules whose names do not match.
    let mut by_content: HashMap<(&'static str, String), Vec<usize>> = HashMap::new();
    for (i, h) in have.items.iter().enumerate().filter(|(i, _)| !used[*i]) {
        by_content.entry((kind(h.kind), content(h))).or_default().push(i);
    }
    for w in unmatched_want {
        let c = content(w);
        let slot = by_content.get_mut(&(kind(w.kind), c.clone())).and_then(|v| v.pop());
        match slot {
            Some(i) => {
                used[i] = true;
                drift.matched += 1;
            }
            None => drift.changes.push(Change {
                change: "missing",
                kind: kind(w.kind),
                name: w.name.clone(),
                intent_line: None,
                built_line: Some(w.line),
                running_line: None,
                intent: Some(c),
                running: None,
            }),
        }
    }
    for (_, h) in have.items.iter().enumerate().filter(|(i, _)| !used[*i]) {
        drift.changes.push(Change {
            change: "extra",
            kind: kind(h.kind),
            name: h.name.clone(),
            intent_line: None,
            built_line: None,
            running_line: Some(h.line),
            intent: None,
            running: Some(content(h)),
        });
    }
    // The filter policies: `input` and `forward` (drop or accept), as the importer reads
    // them (iptables chain policies, nft `policy drop`, natc's final drop rules).
    let policies =
        [("input", want.policy.input, have.policy.input), ("forward", want.policy.forward, have.policy.forward)];
    for (chain, w, h) in policies {
        let (wv, hv) = (w.map(|p| p.0), h.map(|p| p.0));
        if wv == hv {
            continue;
        }
        drift.changes.push(Change {
            change: "changed",
            kind: "policy",
            name: chain.to_string(),
            intent_line: None,
            built_line: w.map(|p| p.1),
            running_line: h.map(|p| p.1),
            intent: Some(format!("{chain} = {}", wv.unwrap_or("accept"))),
            running: Some(format!("{chain} = {}", hv.unwrap_or("accept"))),
        });
    }
    drift.changes.sort_by(|a, b| {
        (a.running_line.or(a.built_line), a.name.as_str()).cmp(&(b.running_line.or(b.built_line), b.name.as_str()))
    });
    drift
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_opt_str(s: &Option<String>) -> String {
    s.as_deref().map_or("null".to_string(), json_string)
}

fn json_opt_num(n: Option<usize>) -> String {
    n.map_or("null".to_string(), |n| n.to_string())
}

impl Drift {
    /// Fill each change's `intent_line` from `line_of(kind, name)`: the intent item's line.
    pub fn locate(&mut self, line_of: impl Fn(&str, &str) -> Option<usize>) {
        for c in &mut self.changes {
            c.intent_line = line_of(c.kind, &c.name);
        }
    }

    /// The report for a human: one line per rule that differs, then what was ignored.
    /// `running` is the capture's file name, `intent` the intent's.
    pub fn human(&self, running: &str, intent: &str, gateway: &str, target: &str) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let place = c.running_line.map_or(running.to_string(), |l| format!("{running}:{l}"));
            let at = c.intent_line.map_or(String::new(), |l| format!(":{l}"));
            out.push_str(&format!(
                "{place}: {} {} {:?} ({intent}{at}, gateway {gateway}, target {target})\n",
                c.change, c.kind, c.name
            ));
            if let Some(i) = &c.intent {
                out.push_str(&format!("    intent:  {i}\n"));
            }
            if let Some(r) = &c.running {
                out.push_str(&format!("    running: {r}\n"));
            }
        }
        let ignored: usize = self.ignored.values().sum();
        out.push_str(&format!(
            "{} rule(s) match, {} differ; {} line(s) of {running} ignored (not natc's rules)\n",
            self.matched,
            self.changes.len(),
            ignored
        ));
        for (why, n) in &self.ignored {
            out.push_str(&format!("    ignored {n}: {why}\n"));
        }
        out
    }

    /// A stable JSON object: `{"drift": bool, "matched": N, "changes": [...], "ignored": {...}}`.
    pub fn json(&self, running: &str, gateway: &str, target: &str) -> String {
        let changes: Vec<String> = self
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{{\"change\":{},\"kind\":{},\"name\":{},\"running_line\":{},\"intent_line\":{},\"built_line\":{},\"intent\":{},\"running\":{}}}",
                    json_string(c.change),
                    json_string(c.kind),
                    json_string(&c.name),
                    json_opt_num(c.running_line),
                    json_opt_num(c.intent_line),
                    json_opt_num(c.built_line),
                    json_opt_str(&c.intent),
                    json_opt_str(&c.running)
                )
            })
            .collect();
        let ignored: Vec<String> = self.ignored.iter().map(|(why, n)| format!("{}:{}", json_string(why), n)).collect();
        format!(
            "{{\"drift\":{},\"gateway\":{},\"target\":{},\"running\":{},\"matched\":{},\"changes\":[{}],\"ignored\":{{{}}},\"ignored_lines\":{}}}\n",
            !self.changes.is_empty(),
            json_string(gateway),
            json_string(target),
            json_string(running),
            self.matched,
            changes.join(","),
            ignored.join(","),
            self.ignored.values().sum::<usize>()
        )
    }
}
