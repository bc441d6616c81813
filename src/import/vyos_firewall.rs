//! VyOS 1.1–1.3 firewall → allows and policy (docs/import.md, "VyOS"): rulesets
//! `firewall name X rule N …` bound with `interfaces ethernet ethN firewall in|local name X`.
//! Before 1.4 a ruleset filters per interface: `in` the forwarded traffic that enters the
//! interface, `local` the traffic to the router that enters it. natc's policy is one per
//! chain, so an `in` ruleset whose default action is drop (VyOS's default) makes
//! `forward = "drop"`, its accept rules allows with `in_interface`, and every other
//! interface, which nothing filtered, gets an allow of everything entering it (likewise a
//! ruleset with `default-action accept`, after its rules): the build passes what the box
//! passed. `local` is the same for `input`. A ruleset's established/related accept is the
//! drop policy's own. Reported: drop and reject rules other than a last catch-all (natc's
//! filters are allow lists), `out` bindings (natc filters forwarded traffic where it
//! enters), rulesets no interface binds, and any key natc has no counterpart for.

use super::draft::{Draft, Item, Kind, Value};
use crate::vocab::Code;
use std::collections::BTreeMap;

/// One `firewall name X`: its default action and rules by number, each as key → value
/// lines (legacy `state established enable` read as `state established`).
#[derive(Default)]
pub(super) struct Ruleset {
    pub default: Option<(String, usize)>,
    /// Rule number → (key, value, line).
    pub rules: BTreeMap<u32, Vec<(String, String, usize)>>,
}

/// `interfaces … ethN firewall in|out|local name X`.
pub(super) struct Binding {
    pub interface: String,
    pub direction: String,
    pub ruleset: String,
    pub line: usize,
}

/// Read `firewall name X …` (the words after `set firewall name`).
pub(super) fn set(rulesets: &mut BTreeMap<String, Ruleset>, p: &[&str], line: usize) -> Result<(), String> {
    match p {
        [name, "default-action", action] => {
            rulesets.entry(name.to_string()).or_default().default = Some((action.to_string(), line));
        }
        [name, "description", _] | [name, "enable-default-log"] => {
            rulesets.entry(name.to_string()).or_default();
        }
        [name, "rule", n, rest @ ..] if !rest.is_empty() => {
            let n = n.parse::<u32>().map_err(|_| "a rule number that is not a number")?;
            let (key, value) = match rest {
                ["state", s, "enable"] => ("state".to_string(), s.to_string()),
                ["state", _, "disable"] => return Ok(()),
                ["log", "enable"] => ("log".to_string(), String::new()),
                ["log", "disable"] => return Ok(()),
                [flag] => (flag.to_string(), String::new()),
                _ => (rest[..rest.len() - 1].join(" "), rest[rest.len() - 1].to_string()),
            };
            rulesets.entry(name.to_string()).or_default().rules.entry(n).or_default().push((key, value, line));
        }
        _ => return Err("a firewall ruleset setting natc has no counterpart for".into()),
    }
    Ok(())
}

/// Turn the rulesets bound `in` and `local` into allows and the policies; `interfaces` are
/// all the interfaces the configuration declares (in order), for the catch-all allows.
pub(super) fn assemble(
    rulesets: &BTreeMap<String, Ruleset>,
    bindings: &[Binding],
    interfaces: &[String],
    draft: &mut Draft,
) {
    let mut used: Vec<&str> = Vec::new();
    for (chain, direction) in [("forward", "in"), ("input", "local")] {
        let bound: Vec<&Binding> = bindings.iter().filter(|b| b.direction == direction).collect();
        if bound.is_empty() {
            continue;
        }
        // Whether a ruleset (bound on this direction) drops what its rules do not accept.
        let drops = |r: &Ruleset| match r.default.as_ref().map(|d| d.0.as_str()) {
            None | Some("drop" | "reject") => true,
            Some(_) => false,
        } || last_catch_all(r).is_some();
        let known: Vec<&Binding> = bound.iter().copied().filter(|b| rulesets.contains_key(&b.ruleset)).collect();
        for b in bound.iter().filter(|b| !rulesets.contains_key(&b.ruleset)) {
            draft.refuse_as(
                Code::IMPORT_REFERENCE,
                b.line,
                &binding_text(b),
                format!("ruleset {} is not defined in this configuration", b.ruleset),
            );
        }
        let policy_line = known.iter().find(|b| drops(&rulesets[&b.ruleset])).map(|b| b.line);
        let Some(policy_line) = policy_line else {
            // Every ruleset accepts by default: its accept rules change nothing; import them
            // as allows all the same (they say what the box meant), under no policy.
            for b in &known {
                used.push(&b.ruleset);
                rules(chain, b, &rulesets[&b.ruleset], false, draft);
            }
            continue;
        };
        if chain == "forward" {
            draft.policy.forward = Some(("drop", policy_line));
        } else {
            draft.policy.input = Some(("drop", policy_line));
        }
        for b in &known {
            used.push(&b.ruleset);
            let r = &rulesets[&b.ruleset];
            rules(chain, b, r, true, draft);
            if !drops(r) {
                catch_all(chain, &b.interface, "its ruleset's default action is accept", b.line, draft);
            }
        }
        for interface in interfaces.iter().filter(|i| !known.iter().any(|b| b.interface == **i)) {
            catch_all(chain, interface, "no ruleset filtered it", policy_line, draft);
        }
        draft.notes.push(format!(
            "VyOS 1.1-1.3 `firewall {direction}` rulesets are per interface; natc's {chain} policy is one for all: \
             every interface without a dropping `{direction}` ruleset got an allow of everything entering it"
        ));
    }
    for b in bindings.iter().filter(|b| b.direction == "out") {
        draft.refuse_as(
            Code::IMPORT_NO_KEY,
            b.line,
            &binding_text(b),
            "an `out` ruleset: natc filters forwarded traffic where it enters (rulesets bound `in`), not where it leaves",
        );
    }
    for (name, r) in rulesets {
        if used.contains(&name.as_str()) {
            continue;
        }
        let (code, why) = if bindings.iter().any(|b| b.ruleset == *name) {
            (Code::IMPORT_PART, format!("ruleset {name} is bound only `out`, which natc does not import"))
        } else {
            (Code::IMPORT_REFERENCE, format!("ruleset {name} is bound to no interface"))
        };
        if let Some((action, line)) = &r.default {
            draft.refuse_as(code, *line, &format!("set firewall name {name} default-action {action}"), why.clone());
        }
        for (n, keys) in &r.rules {
            for (key, value, line) in keys {
                draft.refuse_as(code, *line, &rule_text(name, *n, key, value), why.clone());
            }
        }
    }
}

fn binding_text(b: &Binding) -> String {
    format!("set interfaces … {} firewall {} name {}", b.interface, b.direction, b.ruleset)
}

fn rule_text(ruleset: &str, n: u32, key: &str, value: &str) -> String {
    format!("set firewall name {ruleset} rule {n} {key} {value}").trim_end().to_string()
}

/// The number of a last rule that drops (or rejects) everything: the default action said
/// as a rule.
fn last_catch_all(r: &Ruleset) -> Option<u32> {
    let (n, keys) = r.rules.iter().next_back()?;
    let action = keys.iter().find(|(k, _, _)| k == "action").map(|(_, v, _)| v.as_str());
    let only = keys.iter().all(|(k, _, _)| k == "action" || k == "description");
    (only && matches!(action, Some("drop" | "reject"))).then_some(*n)
}

/// An allow of everything entering `interface` (the part of the old box nothing filtered).
fn catch_all(chain: &str, interface: &str, why: &str, line: usize, draft: &mut Draft) {
    let mut item = Item::new(Kind::Allow, line);
    item.set("in_interface", Value::Text(interface.to_string()));
    if chain == "input" {
        item.set("chain", Value::Text("input".into()));
    }
    let name = format!("{interface}-{}-unfiltered", if chain == "input" { "local" } else { "in" });
    item.description = Some(format!("VyOS 1.x: everything entering {interface} passed ({why})"));
    draft.push_as(item, &name);
}

/// The accept rules of `r` bound on `b` as allows (`drop`: under a drop policy).
fn rules(chain: &str, b: &Binding, r: &Ruleset, drop: bool, draft: &mut Draft) {
    let catch_all = last_catch_all(r);
    let answers = |keys: &Vec<(String, String, usize)>| {
        let states = keys.iter().filter(|(k, _, _)| k == "state").count();
        states == 2 && keys.iter().any(|(k, v, _)| k == "action" && v == "accept")
    };
    if drop && !r.rules.values().any(answers) {
        draft.notes.push(format!(
            "ruleset {} accepts no established/related traffic; natc's drop policy accepts the replies of what it allows, which the old box did not",
            b.ruleset
        ));
    }
    for (n, keys) in &r.rules {
        if Some(*n) == catch_all && drop {
            continue;
        }
        let get = |key: &str| keys.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v.as_str());
        let states: Vec<&str> = keys.iter().filter(|(k, _, _)| k == "state").map(|(_, v, _)| v.as_str()).collect();
        let line = keys.first().map_or(0, |k| k.2);
        let report = |draft: &mut Draft, code: Code, why: String| {
            for (key, value, l) in keys {
                draft.refuse_as(code, *l, &rule_text(&b.ruleset, *n, key, value), why.clone());
            }
        };
        match get("action") {
            Some("accept") => {}
            Some(action) => {
                report(
                    draft,
                    Code::IMPORT_DROP_RULE,
                    format!("a {action} rule: natc's filters are allow lists under a policy"),
                );
                continue;
            }
            None => {
                report(draft, Code::IMPORT_NO_KEY, "a rule without an action".into());
                continue;
            }
        }
        // The drop policy's own reply rule.
        let replies = states.len() == 2 && states.contains(&"established") && states.contains(&"related");
        if drop && replies && keys.iter().all(|(k, _, _)| matches!(k.as_str(), "action" | "state" | "description")) {
            continue;
        }
        let mut item = Item::new(Kind::Allow, line);
        item.set("in_interface", Value::Text(b.interface.clone()));
        let mut bad = None;
        for (key, value, _) in keys {
            match key.as_str() {
                "action" | "description" => {}
                // natc's allows under a drop policy are for new connections.
                "state" if drop && value == "new" => {}
                "log" => item.set("log", Value::Bool(true)),
                "source address" => item.set("from", Value::Address(value.clone())),
                "destination address" => item.set("to", Value::Address(value.clone())),
                "destination port" => {
                    item.set("port", value.parse().map(Value::Int).unwrap_or_else(|_| Value::Text(value.clone())))
                }
                "protocol" => match super::iptables::protocol(value) {
                    Ok(Some(p)) => item.set("protocol", p),
                    Ok(None) => {}
                    Err(why) => bad = Some(why),
                },
                _ => {
                    bad = Some(format!("the rule's `{key} {value}` has no intent form: the whole rule is not imported"))
                }
            }
            if bad.is_some() {
                break;
            }
        }
        if let Some(why) = bad {
            report(draft, Code::IMPORT_NO_KEY, why);
            continue;
        }
        if chain == "input" {
            item.set("chain", Value::Text("input".into()));
        }
        draft.push(item, get("description"));
    }
}
