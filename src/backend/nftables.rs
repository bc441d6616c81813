//! `--target nftables`: an `nft -f` script that owns one table, `ip natc_<intent>`, and
//! replaces it atomically (create-if-missing, delete, define: one transaction), plus
//! `nftables-setup.sh` for the host state.

use super::header::{HeaderView, header_view};
use super::linux;
use super::{Header, OutputFile, Target, cannot_express, describe, engine, quote};
use crate::diag::Diagnostic;
use crate::plan::{FilterChain, FilterLine, GatewayPlan, Hook, IpsecMatch, Match, PortStep, Step, Translation};
use crate::vocab::{LOG_BURST, Log, PortSet, Protocol, Verdict};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

pub struct Nftables;

pub const RULES_FILE: &str = "nftables.nft";
const NAME: &str = "nftables";
/// nft 1.0.6 has no port arithmetic: a shifted range is one map element per port.
const MAX_SHIFTED_PORTS: u32 = 4096;

impl Target for Nftables {
    fn check(&self, gw: &GatewayPlan) -> Vec<Diagnostic> {
        let mut errors = linux::check_common(NAME, gw);
        errors.extend(port_shift_limits(NAME, gw));
        errors
    }

    fn render(&self, header: &Header, gw: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic> {
        let table = table_name(header);
        let mut maps = Vec::new();
        let prerouting = nat_chain(gw, Hook::Destination, &mut maps);
        let postrouting = nat_chain(gw, Hook::Source, &mut maps);
        let mut chains = vec![
            Chain {
                name: "prerouting",
                declaration: "type nat hook prerouting priority dstnat; policy accept;".into(),
                rules: prerouting,
            },
            Chain {
                name: "postrouting",
                declaration: "type nat hook postrouting priority srcnat; policy accept;".into(),
                rules: postrouting,
            },
        ];
        for (chain, name) in [(FilterChain::Input, "input"), (FilterChain::Forward, "forward")] {
            if !gw.filters.is_inert(chain) {
                let policy = if gw.filters.policy(chain).closes() { "drop" } else { "accept" };
                chains.push(Chain {
                    name,
                    declaration: format!("type filter hook {name} priority filter; policy {policy};"),
                    rules: filter_chain(gw, chain),
                });
            }
        }
        if let Some(mss) = mss_chain(gw) {
            chains.push(mss);
        }
        let view = RulesView {
            header: header_view(
                header,
                gw,
                NAME,
                format!("nft -f {RULES_FILE}"),
                vec![format!("It replaces table ip {table} atomically and touches no other table.")],
            ),
            table,
            maps: maps
                .iter()
                .enumerate()
                .map(|(i, m)| MapView { name: m.name.clone(), elements: engine::slot(i) })
                .collect(),
            chains: chains
                .iter()
                .enumerate()
                .map(|(i, c)| ChainView {
                    name: c.name,
                    declaration: c.declaration.clone(),
                    rules: engine::slot(maps.len() + i),
                })
                .collect(),
        };
        // Each map's elements, then each chain's rules, into their slots.
        let elements = maps.into_iter().map(|m| lines(m.elements, "\t\t\t", ","));
        let fills = elements.chain(chains.into_iter().map(|c| lines(c.rules, "\t\t", ""))).collect();
        linux::rules_and_setup("nftables/ruleset.tera", &view, header, gw, NAME, RULES_FILE, fills)
    }
}

/// nft 1.0.6 cannot shift a port range but by one map element per port: ranges wider than
/// [`MAX_SHIFTED_PORTS`] are N301 for every target that loads this table (firewalld too).
pub(super) fn port_shift_limits(target: &str, gw: &GatewayPlan) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    // firewalld 0.9 and 1.x load this table whatever their backend, so there the way out is
    // a narrower range, not another target on the same box.
    let instead = if target == NAME {
        "narrow the port range, or use the iptables target, which shifts ranges natively".to_string()
    } else {
        format!("split the range into DNATs of at most {MAX_SHIFTED_PORTS} ports each")
    };
    for t in gw.dnat.iter().filter(|t| t.port_step().is_some_and(|p| p.onto().width() > MAX_SHIFTED_PORTS)) {
        errors.push(cannot_express(
            target,
            &t.origin,
            &format!(
                "shifting {} ports needs one map element per port (at most {MAX_SHIFTED_PORTS})",
                t.port_step().map_or(0, |p| p.onto().width())
            ),
            &instead,
        ));
    }
    errors
}

/// The table natc owns: `natc_<intent>`, dashes as underscores.
pub(super) fn table_name(header: &Header) -> String {
    format!("natc_{}", header.intent.replace('-', "_"))
}

#[derive(Serialize)]
struct RulesView {
    header: HeaderView,
    table: String,
    maps: Vec<MapView>,
    chains: Vec<ChainView>,
}

/// A chain as the template shows it: `rules` is the slot its rules go in.
#[derive(Serialize)]
struct ChainView {
    name: &'static str,
    declaration: String,
    rules: String,
}

/// A map as the template shows it: `elements` is the slot its elements go in.
#[derive(Serialize)]
struct MapView {
    name: String,
    elements: String,
}

/// A chain and its rules (each one line of nft).
struct Chain {
    name: &'static str,
    declaration: String,
    rules: Vec<String>,
}

/// A verdict map and its elements (`KEY : VALUE`).
struct Map {
    name: String,
    elements: Vec<String>,
}

/// `items`, one per line, indented and ended as the template's slot needs.
fn lines<'a>(items: Vec<String>, indent: &'a str, end: &'a str) -> engine::Fill<'a> {
    engine::Fill {
        size: items.iter().map(|i| indent.len() + i.len() + end.len() + 1).sum(),
        write: Box::new(move |text: &mut String| {
            for item in &items {
                text.push_str(indent);
                text.push_str(item);
                text.push_str(end);
                text.push('\n');
            }
        }),
    }
}

/// nft's own keywords by name, every other protocol by number: nft 1.0.6 looks `gre` up
/// in /etc/protocols, which a minimal host may lack (tested by hiding the file).
fn protocol(p: Protocol) -> Cow<'static, str> {
    match p {
        Protocol::Any => "ip".into(),
        Protocol::Tcp | Protocol::Udp | Protocol::Icmp | Protocol::Esp | Protocol::Ah => p.as_str(),
        Protocol::Gre | Protocol::Number(_) => p.iana().unwrap_or_default().to_string().into(),
    }
}

fn ports(set: &PortSet) -> String {
    let items: Vec<String> = set
        .ranges
        .iter()
        .map(|r| if r.is_single() { r.first.to_string() } else { format!("{}-{}", r.first, r.last) })
        .collect();
    match items.as_slice() {
        [one] => one.clone(),
        _ => format!("{{ {} }}", items.join(", ")),
    }
}

fn match_text(m: &Match) -> String {
    use std::fmt::Write;
    // The parts written in place, one space between them (this runs once per rule at 100k
    // rules: a `String` per part and a join were most of its cost).
    let mut text = String::with_capacity(64);
    let space = |text: &mut String| {
        if !text.is_empty() {
            text.push(' ');
        }
    };
    if let Some(i) = &m.in_interface {
        space(&mut text);
        let _ = write!(text, "iifname {}", quote::nft_string(i));
    }
    if let Some(o) = &m.out_interface {
        space(&mut text);
        let _ = write!(text, "oifname {}", quote::nft_string(o));
    }
    if let Some(s) = &m.source {
        space(&mut text);
        text.push_str("ip saddr ");
        write_address(&mut text, s);
    }
    if let Some(d) = &m.destination {
        space(&mut text);
        text.push_str("ip daddr ");
        write_address(&mut text, d);
    }
    match (m.protocol, &m.ports) {
        (Some(p), Some(set)) => {
            space(&mut text);
            let _ = write!(text, "{} dport {}", protocol(p), ports(set));
        }
        (Some(p), None) => {
            space(&mut text);
            let _ = write!(text, "meta l4proto {}", protocol(p));
        }
        (None, _) => {}
    }
    if m.ipsec == IpsecMatch::NotIpsec {
        space(&mut text);
        text.push_str("rt ipsec missing");
    }
    text
}

/// A host without `/32`, as nft lists it back, written onto the end of `out`.
fn write_address(out: &mut String, net: &ipnet::Ipv4Net) {
    use std::fmt::Write;
    let _ = if net.prefix_len() == 32 { write!(out, "{}", net.addr()) } else { write!(out, "{net}") };
}

/// `counters = true`: a `counter` right before the statement, so it counts the packets the
/// rule matches (before the match it would count every packet that reaches the rule).
fn counted(gw: &GatewayPlan, statement: &str) -> String {
    if gw.counters.is_some() { format!("counter {statement}") } else { statement.to_string() }
}

fn rule(matcher: &str, statement: &str, comment: &str) -> String {
    let sep = if matcher.is_empty() { "" } else { " " };
    format!("{matcher}{sep}{statement} comment {}", quote::nft_string(comment))
}

fn nat_statement(t: &Translation) -> String {
    match (&t.step, t.hook) {
        (Step::SetAddress(a, port), Hook::Destination) => format!("dnat to {a}{}", to_port(port)),
        (Step::SetAddress(a, _), Hook::Source) => format!("snat to {a}"),
        // `ip prefix to … map` keeps the host part: a 1:1 map (a bare `snat to PREFIX` is a pool).
        (Step::ShiftIntoPrefix(p), Hook::Destination) => {
            format!(
                "dnat ip prefix to ip daddr map {{ {} : {p} }}",
                t.matcher.destination.map_or_else(String::new, |d| d.to_string())
            )
        }
        (Step::ShiftIntoPrefix(p), Hook::Source) => {
            format!(
                "snat ip prefix to ip saddr map {{ {} : {p} }}",
                t.matcher.source.map_or_else(String::new, |s| s.to_string())
            )
        }
        (Step::Masquerade, _) => "masquerade".into(),
        (Step::NoNat, _) => "accept".into(),
    }
}

/// `:9000` for one port; a shift is a map with one element per port (see MAX_SHIFTED_PORTS).
fn to_port(port: &Option<PortStep>) -> String {
    match port {
        None => String::new(),
        Some(PortStep::Set(p)) => format!(":{p}"),
        Some(PortStep::Shift(shift)) => {
            let pairs: Vec<String> = shift.pairs().map(|(a, b)| format!("{a} : {b}")).collect();
            format!(" : {} dport map {{ {} }}", protocol(shift.protocol()), pairs.join(", "))
        }
    }
}

/// The address a host mapping is keyed on, if the translation is a plain host-to-host map.
fn host_key(t: &Translation) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let Step::SetAddress(to, None) = t.step else { return None };
    let key = match t.hook {
        Hook::Destination => t.matcher.destination?,
        Hook::Source => t.matcher.source?,
    };
    (key.prefix_len() == 32).then_some((key.addr(), to))
}

/// The match without its key: mappings with equal shapes can share one map lookup.
fn shape(t: &Translation) -> Match {
    let mut m = t.matcher.clone();
    match t.hook {
        Hook::Destination => m.destination = None,
        Hook::Source => m.source = None,
    }
    m
}

/// Consecutive host mappings of one shape become one `dnat to ip daddr map @…` rule, so the
/// per-packet cost does not grow with their number. Only consecutive ones: merging across
/// another rule could change which rule matches first.
fn nat_chain(gw: &GatewayPlan, hook: Hook, maps: &mut Vec<Map>) -> Vec<String> {
    let list = match hook {
        Hook::Destination => &gw.dnat,
        Hook::Source => &gw.snat,
    };
    let mut rules = Vec::new();
    let mut names = MapNames::default();
    let mut i = 0;
    while i < list.len() {
        let run = host_run(gw, &list[i..]);
        if run < 2 {
            let t = &list[i];
            let (matcher, comment) = (match_text(&t.matcher), describe::rule_comment(gw, &t.origin, t.comment()));
            rules.extend(rate_limited_log(gw, &matcher, gw.log_of(&t.origin), &comment));
            rules.push(rule(&matcher, &counted(gw, &logged(gw.log_of(&t.origin), &nat_statement(t))), &comment));
            i += 1;
            continue;
        }
        let members = &list[i..i + run];
        let (verb, field) = match hook {
            Hook::Destination => ("dnat", "daddr"),
            Hook::Source => ("snat", "saddr"),
        };
        let name = map_name(verb, &members[0].matcher, hook, &mut names);
        let elements = members
            .iter()
            .filter_map(|t| {
                let comment = describe::rule_comment(gw, &t.origin, t.comment());
                host_key(t).map(|(k, to)| format!("{k} comment {} : {to}", quote::nft_string(&comment)))
            })
            .collect();
        // Neither the count nor the first member: adding a mapping changes one element line.
        let comment = format!("{} {verb} map: each element names its {verb}", gw.name);
        rules.push(rule(
            &match_text(&shape(&members[0])),
            &counted(gw, &format!("{verb} to ip {field} map @{name}")),
            &comment,
        ));
        maps.push(Map { name, elements });
        i += run;
    }
    rules
}

/// A map's name from the interface its rule matches (`dnat_from_eth0`, `snat_to_any`),
/// `_2`, `_3`… for further maps of the same name. Not from its first member: adding a
/// mapping in front would rename the map and touch every line that uses it.
fn map_name(verb: &str, matcher: &Match, hook: Hook, names: &mut MapNames) -> String {
    let (direction, interface) = match hook {
        Hook::Destination => ("from", &matcher.in_interface),
        Hook::Source => ("to", &matcher.out_interface),
    };
    let interface: String = interface
        .as_deref()
        .unwrap_or("any")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    names.unique(format!("{verb}_{direction}_{interface}"))
}

/// The map names given so far, and the next suffix to try per base name: each counter only
/// grows, so naming n maps is linear.
#[derive(Default)]
struct MapNames {
    used: HashSet<String>,
    next: HashMap<String, u32>,
}

impl MapNames {
    fn unique(&mut self, base: String) -> String {
        let mut name = base.clone();
        while self.used.contains(&name) {
            let n = self.next.entry(base.clone()).or_insert(1);
            *n += 1;
            name = format!("{base}_{n}");
        }
        self.used.insert(name.clone());
        name
    }
}

/// How many translations from the start of `list` can share one map: same shape, host
/// mappings, no key twice (a map cannot hold a key twice; the second would never match).
fn host_run(gw: &GatewayPlan, list: &[Translation]) -> usize {
    let Some(first) = list.first() else { return 0 };
    if host_key(first).is_none() {
        return 0;
    }
    let first_shape = shape(first);
    let mut keys = HashSet::new();
    // A logged translation keeps a rule of its own: a map's one rule cannot log one element.
    list.iter()
        .take_while(|t| {
            host_key(t).is_some_and(|(k, _)| keys.insert(k))
                && shape(t) == first_shape
                && gw.log_of(&t.origin).is_none()
        })
        .count()
}

fn filter_chain(gw: &GatewayPlan, chain: FilterChain) -> Vec<String> {
    let lines = gw.filters.lines(chain);
    let mut rules: Vec<String> = lines
        .iter()
        .flat_map(|line| {
            let matcher = match line {
                FilterLine::Loopback(_) => "iifname \"lo\"".to_string(),
                FilterLine::Replies(_) => "ct state established,related".to_string(),
                FilterLine::Allow(f) => match_text(&f.matcher),
            };
            let log = match line {
                FilterLine::Allow(f) => f.log.as_ref(),
                _ => None,
            };
            let comment = describe::line_comment(gw, line);
            let accept = rule(&matcher, &counted(gw, &logged(log, "accept")), &comment);
            rate_limited_log(gw, &matcher, log, &comment).into_iter().chain([accept])
        })
        .collect();
    if chain == FilterChain::Input {
        // The tunnels' IKE, NAT-T and ESP, after the implied lines and before the rules.
        let implied = lines.iter().take_while(|l| !matches!(l, FilterLine::Allow(_))).count();
        let tunnels =
            gw.tunnel_input().into_iter().map(|t| rule(&match_text(&t.matcher), &counted(gw, "accept"), &t.comment()));
        rules.splice(implied..implied, tunnels);
    }
    rules.extend(policy_log(gw, chain));
    rules.extend(reject_rules(gw, chain));
    rules
}

/// `log = true` without a rate: `log prefix "…"` right before the statement, in the same
/// rule, so it logs exactly what the rule matches. A rate-limited log is a rule of its own
/// ([`rate_limited_log`]) and leaves the statement alone.
fn logged(log: Option<&Log>, statement: &str) -> String {
    match log {
        Some(l) if l.rate.is_none() => format!("{} {statement}", log_statement(l)),
        _ => statement.to_string(),
    }
}

/// `log` or `log prefix "…"`.
fn log_statement(log: &Log) -> String {
    match &log.prefix {
        None => "log".to_string(),
        Some(p) => format!("log prefix {}", quote::nft_string(p)),
    }
}

/// `log_rate`: a rule of its own right before the rule it logs, with the same match and
/// comment: `limit` ends a rule's evaluation past the rate, so inside the accept or NAT rule
/// it would stop the accept or the translation as well. The burst is written out (nft's
/// default, LOG_BURST). With `counters = true` the counter sits after `limit`: it counts the
/// lines logged.
fn rate_limited_log(gw: &GatewayPlan, matcher: &str, log: Option<&Log>, comment: &str) -> Option<String> {
    let log = log?;
    let rate = log.rate.as_ref()?;
    let statement = format!("limit rate {rate} burst {LOG_BURST} packets {}", counted(gw, &log_statement(log)));
    Some(rule(matcher, &statement, comment))
}

/// A logged drop or reject policy: a last rule that logs every packet reaching it, which is
/// every packet the policy (or the reject rules after it) is about to drop or reject.
fn policy_log(gw: &GatewayPlan, chain: FilterChain) -> Option<String> {
    let policy = gw.filters.chain_policy(chain);
    let log = policy.log.as_ref()?;
    let comment = policy.origin.describe();
    rate_limited_log(gw, "", Some(log), &comment)
        .or_else(|| Some(rule("", &counted(gw, &log_statement(log)), &comment)))
}

/// `policy = "reject"`: the chain's policy stays drop (a base chain's policy is accept or
/// drop) and its last rules answer what no allow accepted: TCP with a reset, everything
/// else with ICMP port unreachable, as a closed port would.
fn reject_rules(gw: &GatewayPlan, chain: FilterChain) -> Vec<String> {
    let policy = gw.filters.chain_policy(chain);
    if policy.verdict != Verdict::Reject {
        return Vec::new();
    }
    let comment = policy.origin.describe();
    vec![
        rule("meta l4proto tcp", &counted(gw, "reject with tcp reset"), &comment),
        rule("", &counted(gw, "reject with icmp type port-unreachable"), &comment),
    ]
}

/// `tcp_mss` (backend/mss.rs): a forward-hook chain at mangle priority, before the filter.
fn mss_chain(gw: &GatewayPlan) -> Option<Chain> {
    let rules: Vec<String> = super::mss::clamps(gw).iter().map(super::mss::nft_rule).collect();
    (!rules.is_empty()).then(|| Chain {
        name: "mss",
        declaration: "type filter hook forward priority mangle; policy accept;".into(),
        rules,
    })
}
