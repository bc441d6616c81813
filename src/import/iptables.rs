//! `iptables-save` (and natc's own iptables.rules) → intent. The nat table's DNAT, SNAT,
//! MASQUERADE and NETMAP rules in PREROUTING/POSTROUTING become dnat and snat items; the
//! filter table's ACCEPT rules in INPUT/FORWARD become allows, and its DROP policies with
//! the reply and loopback rules they need become `[gateway.policy]`. A LOG rule right
//! before a rule with the same match is that item's `log = true`. Everything else is
//! reported with its line.

use super::draft::{Draft, Item, Kind, Value};
use super::tokens::words;

/// What one `-A` line matches and does, before it becomes an item.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Rule {
    in_interface: Option<String>,
    out_interface: Option<String>,
    source: Option<String>,
    destination: Option<String>,
    protocol: Option<Value>,
    ports: Option<Value>,
    ctstate: Option<String>,
    not_ipsec: bool,
    /// `-m limit --limit R --limit-burst 5` on a LOG rule: the item's `log_rate`.
    log_rate: Option<String>,
    comment: Option<String>,
    target: String,
    /// The target's options, `--to-destination` and the like, in order.
    target_args: Vec<(String, String)>,
}

impl Rule {
    /// The match alone: a LOG rule and the rule it belongs to share it.
    fn same_match(&self, other: &Rule) -> bool {
        // natc limits only the LOG rule (log_rate), never the rule it logs.
        let strip = |r: &Rule| Rule {
            comment: None,
            log_rate: None,
            target: String::new(),
            target_args: Vec::new(),
            ..r.clone()
        };
        strip(self) == strip(other)
    }

    fn arg(&self, name: &str) -> Option<&str> {
        self.target_args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn is_bare(&self) -> bool {
        self.same_match(&Rule::default())
    }
}

/// The LOG rule waiting for the rule it logs.
struct PendingLog {
    rule: Rule,
    line: usize,
    text: String,
}

#[derive(Default)]
pub(super) struct State {
    table: String,
    chain: String,
    input_drop: bool,
    forward_drop: bool,
    log: Option<PendingLog>,
    /// The chain whose `-p tcp -j REJECT --reject-with tcp-reset` was just seen.
    reject_tcp: Option<(String, usize)>,
    /// Chains that ended with natc's reject pair: nothing after it is reached.
    rejected: Vec<String>,
}

pub fn parse(text: &str, draft: &mut Draft) {
    let mut st = State::default();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            header(comment, draft);
            continue;
        }
        if let Some(table) = trimmed.strip_prefix('*') {
            set_table(&mut st, table, draft);
            continue;
        }
        if trimmed == "COMMIT" {
            flush(&mut st, draft);
            continue;
        }
        if let Some(decl) = trimmed.strip_prefix(':') {
            chain_policy(&mut st, decl, line, raw, draft);
            continue;
        }
        // `iptables -t nat -A …`: commands as typed (seed 003), one table per line.
        if let Some(command) = trimmed.strip_prefix("iptables ") {
            command_line(&mut st, command, line, raw, draft);
            continue;
        }
        // `iptables-save -c` puts the counters first: `[12:3456] -A …`.
        let body = match trimmed.strip_prefix('[').and_then(|r| r.split_once("] ")) {
            Some((_, rest)) => rest,
            None => trimmed,
        };
        rule_line(&mut st, body, line, raw, draft);
    }
    flush(&mut st, draft);
}

/// A typed `iptables [-t TABLE] -A|-P …` command: the same rule in its table.
fn command_line(st: &mut State, command: &str, line: usize, raw: &str, draft: &mut Draft) {
    let (table, rest) = match command.trim_start().strip_prefix("-t ") {
        Some(rest) => match rest.trim_start().split_once(' ') {
            Some((table, rest)) => (table, rest.trim_start()),
            None => return draft.refuse(line, raw, "-t without a rule"),
        },
        None => ("filter", command.trim_start()),
    };
    set_table(st, table, draft);
    if let Some(policy) = rest.strip_prefix("-P ") {
        return chain_policy(st, policy, line, raw, draft);
    }
    if rest.starts_with("-A ") {
        return rule_line(st, rest, line, raw, draft);
    }
    draft.refuse(line, raw, "an iptables command other than -A or -P: it changes rules rather than stating them");
}

/// The rules that follow are in `table`.
pub(super) fn set_table(st: &mut State, table: &str, draft: &mut Draft) {
    if table != st.table {
        flush(st, draft);
        st.table = table.to_string();
        st.chain.clear();
    }
}

/// natc's header names the intent, the gateway and the target's profile
/// (`(firewalld@0.6)`, `(vyos@1.5)`; an RTX config's `# Model RTX1200.` line below it).
pub(super) fn header(comment: &str, draft: &mut Draft) {
    let comment = comment.trim();
    if let Some(model) = comment.strip_prefix("Model ").and_then(|r| r.split_once('.')).map(|(m, _)| m) {
        if draft.intent.is_some() && model.starts_with("RTX") && !model.contains(char::is_whitespace) {
            draft.profile = draft.profile.take().or(Some(("rtx", model.to_string())));
        }
        return;
    }
    let Some(rest) = comment.strip_prefix("Generated by natc ") else { return };
    let target = rest.rsplit_once(" (").and_then(|(_, t)| t.strip_suffix(").")).and_then(|t| t.split_once('@'));
    if let Some((kind @ ("firewalld" | "vyos"), profile)) = target {
        let kind = if kind == "firewalld" { "firewalld" } else { "vyos" };
        draft.profile = draft.profile.take().or(Some((kind, profile.to_string())));
    }
    let quoted = |key: &str| {
        rest.split_once(key).and_then(|(_, r)| r.strip_prefix('"')?.split_once('"')).map(|(v, _)| v.to_string())
    };
    draft.intent = draft.intent.take().or_else(|| quoted("from intent "));
    draft.gateway = draft.gateway.take().or_else(|| quoted("for gateway "));
}

pub(super) fn chain_policy(st: &mut State, decl: &str, line: usize, raw: &str, draft: &mut Draft) {
    let mut parts = decl.split_whitespace();
    let (Some(chain), Some(policy)) = (parts.next(), parts.next()) else {
        return draft.refuse(line, raw, "a chain declaration without a policy");
    };
    let builtin = matches!(chain, "PREROUTING" | "INPUT" | "FORWARD" | "OUTPUT" | "POSTROUTING");
    if !builtin {
        // Declaring a chain is harmless; its rules are reported where they are.
        return;
    }
    match (st.table.as_str(), chain, policy) {
        (_, _, "ACCEPT") => {}
        ("filter", "INPUT", "DROP") => {
            st.input_drop = true;
            draft.policy.input = Some(("drop", line));
        }
        ("filter", "FORWARD", "DROP") => {
            st.forward_drop = true;
            draft.policy.forward = Some(("drop", line));
        }
        _ => draft.refuse(
            line,
            raw,
            format!("policy {policy} on {} {chain}: natc's policies are on filter INPUT and FORWARD", st.table),
        ),
    }
}

/// End of a table or chain: a LOG still waiting logs nothing natc writes, unless it is
/// natc's policy log (a bare LOG at the end of a DROP chain).
pub(super) fn flush(st: &mut State, draft: &mut Draft) {
    if let Some(p) = st.log.take() {
        let policy_chain = st.table == "filter"
            && ((st.chain == "INPUT" && st.input_drop) || (st.chain == "FORWARD" && st.forward_drop));
        if policy_chain && p.rule.is_bare() {
            let prefix = p.rule.arg("--log-prefix").map(str::to_string);
            match &draft.policy.log {
                Some((existing, _)) if *existing != prefix => {
                    draft.refuse(p.line, &p.text, "a second policy log prefix: natc has one log_prefix for both chains")
                }
                Some(_) if draft.policy.log_rate != p.rule.log_rate => {
                    draft.refuse(p.line, &p.text, "a second policy log rate: natc has one log_rate for both chains")
                }
                _ => {
                    draft.policy.log = Some((prefix, p.line));
                    draft.policy.log_rate = p.rule.log_rate.clone();
                }
            }
        } else {
            draft.refuse(p.line, &p.text, "a LOG rule not followed by a rule with the same match: natc logs only what an item accepts or translates, or what a drop policy drops");
        }
    }
    if let Some((_, line)) = st.reject_tcp.take() {
        draft.refuse(
            line,
            "-j REJECT --reject-with tcp-reset",
            "a TCP reset without natc's following icmp-port-unreachable rule: not a reject policy",
        );
    }
}

pub(super) fn rule_line(st: &mut State, body: &str, line: usize, raw: &str, draft: &mut Draft) {
    let Some(words) = words(body) else { return draft.refuse(line, raw, "a quote that is not closed") };
    rule_words(st, &words, line, raw, draft);
}

/// One rule as words, `-A CHAIN …`.
pub(super) fn rule_words(st: &mut State, words: &[String], line: usize, raw: &str, draft: &mut Draft) {
    let (chain, rule) = match read_rule(words) {
        Ok(parsed) => parsed,
        Err(why) => return draft.refuse_as(crate::vocab::Code::IMPORT_NO_KEY, line, raw, why),
    };
    if chain != st.chain {
        flush(st, draft);
        st.chain = chain.clone();
    }
    if st.rejected.contains(&chain) {
        return draft.refuse(line, raw, "after the chain's final REJECT rules: never reached");
    }
    if rule.target == "LOG" {
        flush(st, draft);
        st.log = Some(PendingLog { rule, line, text: raw.to_string() });
        return;
    }
    if rule.target != "REJECT"
        && let Some((_, at)) = st.reject_tcp.take()
    {
        draft.refuse(
            at,
            "-j REJECT --reject-with tcp-reset",
            "a TCP reset without natc's following icmp-port-unreachable rule: not a reject policy",
        );
    }
    let log = match st.log.take() {
        Some(p) if p.rule.same_match(&rule) => Some(p),
        Some(other) => {
            st.log = Some(other);
            flush(st, draft);
            None
        }
        None => None,
    };
    match (st.table.as_str(), chain.as_str()) {
        ("nat", "PREROUTING") | ("nat", "POSTROUTING") => nat(&chain, rule, line, raw, log, draft),
        ("filter", "INPUT") | ("filter", "FORWARD") => filter(st, &chain, rule, line, raw, log, draft),
        (table, _) => draft.refuse(
            line,
            raw,
            format!("a rule in {table} {chain}: natc writes nat PREROUTING/POSTROUTING and filter INPUT/FORWARD only"),
        ),
    }
}

/// The words of one `-A CHAIN …` line.
fn read_rule(words: &[String]) -> Result<(String, Rule), String> {
    let mut it = words.iter().map(String::as_str);
    let chain = match (it.next(), it.next()) {
        (Some("-A" | "--append"), Some(chain)) => chain.to_string(),
        _ => return Err("not an `-A CHAIN` rule line".into()),
    };
    let mut r = Rule::default();
    let mut modules: Vec<&str> = Vec::new();
    while let Some(word) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{word} without a value"));
        match word {
            "!" => return Err("a negated match (!): natc's items match positively".into()),
            "-i" | "--in-interface" => r.in_interface = Some(value()?.to_string()),
            "-o" | "--out-interface" => r.out_interface = Some(value()?.to_string()),
            "-s" | "--source" => r.source = Some(address(value()?)?),
            "-d" | "--destination" => r.destination = Some(address(value()?)?),
            "-p" | "--protocol" => r.protocol = protocol(value()?)?,
            "-m" | "--match" => {
                let m = value()?;
                if !["tcp", "udp", "multiport", "comment", "conntrack", "state", "policy", "limit"].contains(&m) {
                    return Err(format!("the match -m {m} has no intent form"));
                }
                modules.push(m);
            }
            "--dport" | "--destination-port" | "--dports" | "--destination-ports" => r.ports = Some(ports(value()?)?),
            "--ctstate" | "--state" => {
                // `RELATED,ESTABLISHED` is the same match as natc's `ESTABLISHED,RELATED`.
                let mut states: Vec<&str> = value()?.split(',').collect();
                states.sort_unstable();
                r.ctstate = Some(states.join(","));
            }
            "--comment" => r.comment = Some(value()?.to_string()),
            "--limit" => r.log_rate = Some(rate(value()?)?),
            "--limit-burst" => {
                if value()? != "5" {
                    return Err("a --limit-burst other than 5: natc's log_rate always allows a burst of 5".into());
                }
            }
            "--dir" => {
                if value()? != "out" {
                    return Err("an IPsec policy match other than --dir out --pol none".into());
                }
            }
            "--pol" => {
                if value()? != "none" {
                    return Err("an IPsec policy match other than --dir out --pol none".into());
                }
                r.not_ipsec = true;
            }
            "-j" | "--jump" => r.target = value()?.to_string(),
            "--to-destination" | "--to-source" | "--to" | "--log-prefix" | "--reject-with" if !r.target.is_empty() => {
                let v = value()?.to_string();
                r.target_args.push((word.to_string(), v));
            }
            other => return Err(format!("the option {other} has no intent form")),
        }
    }
    if r.target.is_empty() {
        return Err("a rule without -j: it only counts, natc writes no such rule".into());
    }
    if modules.contains(&"limit") && r.log_rate.is_none() {
        return Err("-m limit without --limit: natc writes its log_rate as --limit".into());
    }
    if r.log_rate.is_some() && r.target != "LOG" {
        return Err("a rate limit on a rule that is not LOG: natc limits only its logs (log_rate)".into());
    }
    if r.ports.is_some() && !matches!(&r.protocol, Some(Value::Text(p)) if p == "tcp" || p == "udp") {
        return Err("a port match without -p tcp or -p udp".into());
    }
    Ok((chain, r))
}

/// A rate `N/UNIT` as an intent's `log_rate`: `10/minute`; iptables-save's `10/min`,
/// `1/sec` and nft's abbreviations name the same units.
pub(super) fn rate(text: &str) -> Result<String, String> {
    let bad = || format!("the rate {text} is not N/second, N/minute, N/hour or N/day");
    let (n, unit) = text.split_once('/').ok_or_else(bad)?;
    let n: u32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?;
    let unit = ["second", "minute", "hour", "day"]
        .into_iter()
        .find(|u| !unit.is_empty() && u.starts_with(unit))
        .ok_or_else(bad)?;
    Ok(format!("{n}/{unit}"))
}

/// `10.0.0.10/32` → `10.0.0.10`; a prefix stays a prefix. Validated as IPv4.
fn address(text: &str) -> Result<String, String> {
    let (ip, len) = match text.split_once('/') {
        Some((ip, len)) => (ip, Some(len)),
        None => (text, None),
    };
    let ok_ip = ip.parse::<std::net::Ipv4Addr>().is_ok();
    let len: Option<u8> = match len {
        Some(l) => Some(l.parse().ok().filter(|l| *l <= 32).ok_or_else(|| format!("{text} is not an IPv4 prefix"))?),
        None => None,
    };
    if !ok_ip {
        return Err(format!("{text} is not an IPv4 address (host names and IPv6 are not imported)"));
    }
    Ok(match len {
        None | Some(32) => ip.to_string(),
        Some(l) => format!("{ip}/{l}"),
    })
}

pub(super) fn protocol(text: &str) -> Result<Option<Value>, String> {
    Ok(Some(match text {
        "all" => return Ok(None),
        "tcp" | "udp" | "icmp" | "esp" | "ah" | "gre" => Value::Text(text.to_string()),
        "sctp" => Value::Int(132),
        n => match n.parse::<u8>() {
            Ok(6) => Value::Text("tcp".into()),
            Ok(17) => Value::Text("udp".into()),
            Ok(n) => Value::Int(n.into()),
            Err(_) => return Err(format!("the protocol {n} has no intent form")),
        },
    }))
}

/// `22` → 22, `8000:8099` → "8000-8099", `80,443` → "80,443".
fn ports(text: &str) -> Result<Value, String> {
    let mut parts = Vec::new();
    for part in text.split(',') {
        let (a, b) = part.split_once(':').unwrap_or((part, part));
        let (a, b) = (a.parse::<u16>(), b.parse::<u16>());
        match (a, b) {
            (Ok(a), Ok(b)) if a <= b => parts.push(if a == b { a.to_string() } else { format!("{a}-{b}") }),
            _ => return Err(format!("{text} is not a port, list or range")),
        }
    }
    Ok(match parts.as_slice() {
        [one] => one.parse().map(Value::Int).unwrap_or_else(|_| Value::Text(one.clone())),
        _ => Value::Text(parts.join(",")),
    })
}

/// The keys every item has in common: interfaces, addresses, protocol and ports.
fn common(item: &mut Item, r: &Rule, source_key: &'static str, destination_key: &'static str) {
    if let Some(i) = &r.in_interface {
        item.set("in_interface", Value::Text(i.clone()));
    }
    if let Some(o) = &r.out_interface {
        item.set("out_interface", Value::Text(o.clone()));
    }
    if let Some(s) = &r.source {
        item.set(source_key, Value::Address(s.clone()));
    }
    if let Some(d) = &r.destination {
        item.set(destination_key, Value::Address(d.clone()));
    }
    if let Some(p) = &r.protocol {
        item.set("protocol", p.clone());
    }
    if let Some(p) = &r.ports {
        item.set("port", p.clone());
    }
}

fn with_log(item: &mut Item, log: Option<PendingLog>) {
    if let Some(p) = log {
        item.set("log", Value::Bool(true));
        if let Some(prefix) = p.rule.arg("--log-prefix") {
            item.set("log_prefix", Value::Text(prefix.to_string()));
        }
        if let Some(rate) = p.rule.log_rate {
            item.set("log_rate", Value::Text(rate));
        }
    }
}

fn nat(chain: &str, r: Rule, line: usize, raw: &str, log: Option<PendingLog>, draft: &mut Draft) {
    if r.ctstate.is_some() {
        return draft.refuse(
            line,
            raw,
            "a state match in the nat table: natc's translations apply to new connections only, as the nat table does",
        );
    }
    let destination = chain == "PREROUTING";
    let mut item = Item::new(if destination { Kind::Dnat } else { Kind::Snat }, line);
    let step = match (destination, r.target.as_str()) {
        (true, "DNAT") => dnat_to(&r, &mut item),
        (true, "NETMAP") | (false, "NETMAP") => netmap_to(&r, destination, &mut item),
        (false, "SNAT") => match r.arg("--to-source").or(r.arg("--to")).map(address) {
            Some(Ok(a)) if !a.contains('/') => {
                item.set("to", Value::Address(a));
                Ok(())
            }
            _ => Err("an SNAT whose --to-source is not one address (ports and ranges have no intent form)".to_string()),
        },
        (false, "MASQUERADE") if r.target_args.is_empty() => {
            item.set("to", Value::Text("masquerade".into()));
            Ok(())
        }
        (_, target) => Err(format!("-j {target} in {chain} has no intent form")),
    };
    if let Err(why) = step {
        return draft.refuse_as(crate::vocab::Code::IMPORT_NO_KEY, line, raw, why);
    }
    if destination && r.destination.is_none() {
        return draft.refuse(line, raw, "a DNAT without -d: an intent dnat needs the destination it translates");
    }
    if r.not_ipsec && destination {
        return draft.refuse(line, raw, "an IPsec policy match on a DNAT");
    }
    // The `to` key was set by the step; the match keys go before it in the file.
    let to = std::mem::take(&mut item.keys);
    common(&mut item, &r, "source", "destination");
    item.keys.extend(to);
    if r.not_ipsec {
        item.set("except_ipsec", Value::Bool(true));
    }
    with_log(&mut item, log);
    draft.push(item, r.comment.as_deref());
}

/// `--to-destination A[:P|:P1-P2/BASE]`.
fn dnat_to(r: &Rule, item: &mut Item) -> Result<(), String> {
    let to = r.arg("--to-destination").ok_or("a DNAT without --to-destination")?;
    let (host, port) = match to.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (to, None),
    };
    let host = address(host).map_err(|_| format!("--to-destination {to}: natc's dnat goes to one address"))?;
    item.set("to", Value::Address(host));
    if let Some(port) = port {
        let (range, base) = match port.split_once('/') {
            Some((range, base)) => (range, Some(base)),
            None => (port, None),
        };
        let value =
            ports(&range.replace('-', ":")).map_err(|_| format!("--to-destination {to}: not a port or range"))?;
        // A shifted range names the first matched port as its base; natc always does.
        let first_matched = match &r.ports {
            Some(Value::Text(t)) => t.split(['-', ',']).next().map(str::to_string),
            Some(Value::Int(n)) => Some(n.to_string()),
            _ => None,
        };
        if base.is_some() && base.map(str::to_string) != first_matched {
            return Err(format!("--to-destination {to}: a shift base other than the first matched port"));
        }
        item.set("to_port", value);
    }
    Ok(())
}

/// NETMAP is a 1:1 block map: a dnat of `-d` or an snat of `-s` onto `--to`.
fn netmap_to(r: &Rule, destination: bool, item: &mut Item) -> Result<(), String> {
    let to = r.arg("--to").ok_or("NETMAP without --to")?;
    // `--to` is NETMAP's own option here (iptables also reads it as SNAT's --to-source).
    let to = address(to)?;
    let matched = if destination { &r.destination } else { &r.source };
    let len = |a: &str| a.split_once('/').map(|(_, l)| l.to_string()).unwrap_or_else(|| "32".into());
    match matched {
        Some(m) if len(m) == len(&to) => {
            item.set("to", Value::Address(to));
            Ok(())
        }
        _ => Err(format!("NETMAP needs {} of the same length as --to", if destination { "-d" } else { "-s" })),
    }
}

fn filter(st: &mut State, chain: &str, r: Rule, line: usize, raw: &str, log: Option<PendingLog>, draft: &mut Draft) {
    let drop = if chain == "INPUT" { st.input_drop } else { st.forward_drop };
    // The lines a drop policy implies: replies, and loopback on input.
    if drop && r.target == "ACCEPT" && log.is_none() {
        let mut bare = r.clone();
        bare.comment = None;
        let replies = Rule { ctstate: Some("ESTABLISHED,RELATED".into()), target: "ACCEPT".into(), ..Rule::default() };
        let loopback = Rule { in_interface: Some("lo".into()), target: "ACCEPT".into(), ..Rule::default() };
        if bare == replies || (chain == "INPUT" && bare == loopback) {
            return;
        }
    }
    if drop && r.target == "REJECT" && log.is_none() {
        return reject(st, chain, r, line, raw, draft);
    }
    if r.target != "ACCEPT" || !r.target_args.is_empty() {
        return draft.refuse_as(
            crate::vocab::Code::IMPORT_DROP_RULE,
            line,
            raw,
            format!("-j {} in filter {chain}: natc's filters are allow lists under a policy", r.target),
        );
    }
    if r.not_ipsec {
        return draft.refuse(line, raw, "an IPsec policy match on a filter rule");
    }
    match r.ctstate.as_deref() {
        None => {}
        // An allow of new connections whose replies the policy's reply rule accepts.
        Some("NEW") if drop => {}
        Some(state) => {
            return draft.refuse(line, raw, format!("--ctstate {state} on an allow: natc's allows match new connections, replies come from the drop policy"));
        }
    }
    let mut item = Item::new(Kind::Allow, line);
    common(&mut item, &r, "from", "to");
    if chain == "INPUT" {
        if r.out_interface.is_some() {
            return draft.refuse(line, raw, "an INPUT rule with -o");
        }
        item.set("chain", Value::Text("input".into()));
    }
    with_log(&mut item, log);
    draft.push(item, r.comment.as_deref());
}

/// natc's reject policy: `-p tcp -j REJECT --reject-with tcp-reset` then
/// `-j REJECT --reject-with icmp-port-unreachable`, last in a DROP chain.
fn reject(st: &mut State, chain: &str, r: Rule, line: usize, raw: &str, draft: &mut Draft) {
    let with = r.arg("--reject-with").unwrap_or("icmp-port-unreachable");
    let mut bare = r.clone();
    bare.comment = None;
    bare.target_args.clear();
    let tcp = Rule { protocol: Some(Value::Text("tcp".into())), target: "REJECT".into(), ..Rule::default() };
    let all = Rule { target: "REJECT".into(), ..Rule::default() };
    if bare == tcp && with == "tcp-reset" && st.reject_tcp.is_none() {
        st.reject_tcp = Some((chain.to_string(), line));
        return;
    }
    if bare == all && with == "icmp-port-unreachable" && st.reject_tcp.as_ref().is_some_and(|(c, _)| c == chain) {
        st.reject_tcp = None;
        st.rejected.push(chain.to_string());
        let slot = if chain == "INPUT" { &mut draft.policy.input } else { &mut draft.policy.forward };
        *slot = Some(("reject", line));
        return;
    }
    draft.refuse_as(
        crate::vocab::Code::IMPORT_DROP_RULE,
        line,
        raw,
        "a REJECT rule that is not natc's reject policy (tcp-reset, then icmp-port-unreachable, last in a DROP chain)",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(text: &str) -> Draft {
        let mut d = Draft::default();
        parse(text, &mut d);
        d
    }

    #[test]
    fn a_hand_typed_dnat_and_masquerade() {
        let d = draft(
            "*nat\n-A PREROUTING -d 192.168.100.3 -i eth0 -j DNAT --to-destination 192.168.200.3\n-A POSTROUTING -o eth1 -s 192.168.100.0/24 -j MASQUERADE\nCOMMIT\n",
        );
        assert!(d.unexpressed.is_empty(), "{:?}", d.unexpressed);
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.items[0].get("to"), Some(&Value::Address("192.168.200.3".into())));
        assert_eq!(d.items[1].get("to"), Some(&Value::Text("masquerade".into())));
        assert_eq!(d.items[1].line, 3);
        assert_eq!(d.interfaces.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["eth0", "eth1"]);
    }

    #[test]
    fn what_has_no_intent_form_is_reported_with_its_line() {
        let d = draft(
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1 -j DROP\n-A INPUT ! -s 10.0.0.1 -j ACCEPT\n-A INPUT -m recent --set\n*mangle\n-A PREROUTING -j MARK --set-mark 1\n",
        );
        let lines: Vec<usize> = d.unexpressed.iter().map(|u| u.line).collect();
        assert_eq!(lines, [3, 4, 5, 7]);
        assert!(d.items.is_empty());
    }

    #[test]
    fn a_limited_log_is_log_rate_and_a_limit_elsewhere_is_reported() {
        // iptables-save prints natc's `--limit 10/minute` as `10/min`.
        let d = draft(
            "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -d 10.0.0.10/32 -m limit --limit 10/min --limit-burst 5 -j LOG\n-A FORWARD -d 10.0.0.10/32 -j ACCEPT\n-A FORWARD -m limit --limit 1/sec -j LOG\n-A FORWARD -d 10.0.0.11/32 -m limit --limit 1/sec -j ACCEPT\n-A FORWARD -d 10.0.0.12/32 -m limit --limit 1/sec --limit-burst 9 -j LOG\nCOMMIT\n",
        );
        assert_eq!(d.items[0].get("log_rate"), Some(&Value::Text("10/minute".into())));
        assert_eq!(d.policy.log_rate.as_deref(), Some("1/second"));
        assert_eq!(d.unexpressed.iter().map(|u| u.line).collect::<Vec<_>>(), [6, 7]);
    }

    #[test]
    fn a_log_rule_joins_its_item_and_a_trailing_one_is_the_policy_log() {
        let d = draft(
            "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A FORWARD -d 10.0.0.10/32 -p tcp -m tcp --dport 443 -j LOG --log-prefix \"web: \"\n-A FORWARD -d 10.0.0.10/32 -p tcp -m tcp --dport 443 -j ACCEPT\n-A FORWARD -j LOG --log-prefix \"drop: \"\nCOMMIT\n",
        );
        assert!(d.unexpressed.is_empty(), "{:?}", d.unexpressed);
        assert_eq!(d.items.len(), 1);
        assert_eq!(d.items[0].get("log_prefix"), Some(&Value::Text("web: ".into())));
        assert_eq!(d.policy.log.as_ref().map(|l| l.0.clone()), Some(Some("drop: ".into())));
        assert_eq!(d.policy.forward.map(|p| p.0), Some("drop"));
    }
}
