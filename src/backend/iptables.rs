//! `--target iptables`: a file for `iptables-restore` that owns the nat and filter tables
//! (like Debian's rules.v4), plus `iptables-setup.sh` for the host state.

use super::header::{HeaderView, header_view};
use super::iptables_tree::{self, Keyed, Keying};
use super::linux;
use super::{Header, OutputFile, Target, engine, quote};
use crate::diag::Diagnostic;
use crate::plan::{FilterChain, FilterLine, GatewayPlan, Hook, IpsecMatch, Match, PortStep, Step, Translation};
use crate::vocab::{IptablesShape, LOG_BURST, Log, PortRange, PortSet, Protocol, Verdict};
use serde::Serialize;
use std::borrow::Cow;

pub struct Iptables {
    /// Flat chains, lookup trees, or trees from a threshold on (`iptables@tree|flat`).
    pub shape: IptablesShape,
}

pub const RULES_FILE: &str = "iptables.rules";
const NAME: &str = "iptables";
/// `-m multiport` takes at most 15 ports, a range counting as two (tested).
const MULTIPORT_BUDGET: usize = 15;

impl Target for Iptables {
    fn check(&self, gw: &GatewayPlan) -> Vec<Diagnostic> {
        // NETMAP, NAT and MASQUERADE express every other step of the IR exactly.
        let mut findings = linux::check_common(NAME, gw);
        findings.extend(protocol_zero(NAME, gw));
        findings.extend(rate_overflow(NAME, gw, super::log::Written::ALL));
        findings
    }

    fn render(&self, header: &Header, gw: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic> {
        let mut notes = vec![
            "This file replaces the whole nat and filter tables, like rules.v4.".to_string(),
            "Test first: a restore that fails half-way may leave one table applied.".into(),
        ];
        if !super::mss::clamps(gw).is_empty() {
            notes.push("With tcp_mss it replaces the mangle table too (the clamps, in FORWARD).".into());
        }
        let nat = [
            self.chain(gw, "PREROUTING", "D", "dnat", translation_keyed(gw, &gw.dnat)),
            self.chain(gw, "POSTROUTING", "S", "snat", translation_keyed(gw, &gw.snat)),
        ];
        let filter = [
            self.chain(gw, "INPUT", "I", "input", filter_chain(gw, FilterChain::Input)),
            self.chain(gw, "FORWARD", "F", "forward", filter_chain(gw, FilterChain::Forward)),
        ];
        let view = RulesView {
            nat_chains: declarations(&nat),
            filter_chains: declarations(&filter),
            header: header_view(
                header,
                gw,
                NAME,
                format!("iptables-restore --test {RULES_FILE} && iptables-restore {RULES_FILE}"),
                notes,
            ),
            nat: engine::slot(0),
            input_policy: policy(gw.filters.policy(FilterChain::Input)),
            forward_policy: policy(gw.filters.policy(FilterChain::Forward)),
            filter: engine::slot(1),
            mangle_forward: mss_rules(gw).iter().map(|r| r.restore_line("FORWARD")).collect(),
        };
        let fills = [nat, filter]
            .into_iter()
            .map(|tables| engine::Fill {
                size: tables
                    .iter()
                    .flatten()
                    .map(|c| c.rules.iter().map(|r| r.restore_size(&c.name)).sum::<usize>())
                    .sum(),
                write: Box::new(move |text: &mut String| {
                    for c in tables.iter().flatten() {
                        for r in &c.rules {
                            r.write_restore_line(text, &c.name);
                            text.push('\n');
                        }
                    }
                }),
            })
            .collect();
        linux::rules_and_setup("iptables/rules.tera", &view, header, gw, NAME, RULES_FILE, fills)
    }
}

impl Iptables {
    /// One built-in chain's rules, flat or as a lookup tree (backend/iptables_tree.rs).
    fn chain(
        &self,
        gw: &GatewayPlan,
        root: &str,
        tag: &str,
        what: &str,
        rules: Vec<Keyed>,
    ) -> Vec<iptables_tree::Chain> {
        let keying = Keying { root, tag, source: root == "POSTROUTING", label: format!("{} {what} lookup", gw.name) };
        iptables_tree::layout(self.shape, &keying, rules)
    }
}

/// `:D-eth0 - [0:0]` for every chain of a table's trees that is not a built-in one.
fn declarations(tables: &[Vec<iptables_tree::Chain>]) -> Vec<String> {
    tables.iter().flat_map(|chains| chains.iter().skip(1).map(|c| c.name.clone())).collect()
}

#[derive(Serialize)]
struct RulesView {
    header: HeaderView,
    /// natc's own chains in the nat and filter tables (lookup trees), declared after the built-ins.
    nat_chains: Vec<String>,
    filter_chains: Vec<String>,
    /// The slot of PREROUTING's rules then POSTROUTING's, each followed by its tree's chains.
    nat: String,
    input_policy: &'static str,
    forward_policy: &'static str,
    /// The slot of INPUT's rules then FORWARD's.
    filter: String,
    /// `tcp_mss` clamps; the `*mangle` table is written only when there are some.
    mangle_forward: Vec<String>,
}

/// A chain policy cannot be REJECT: a reject policy is DROP plus `reject_rules` at the end.
fn policy(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "ACCEPT",
        Verdict::Drop | Verdict::Reject => "DROP",
    }
}

/// `policy = "reject"`: the chain's last rules answer what no allow accepted, TCP with a
/// reset and everything else with ICMP port unreachable (what a closed port answers).
pub fn reject_rules(gw: &GatewayPlan, chain: FilterChain) -> Vec<RuleParts> {
    let policy = gw.filters.chain_policy(chain);
    if policy.verdict != Verdict::Reject {
        return Vec::new();
    }
    let rule = |matches: &str, with: &str| RuleParts {
        matches: matches.into(),
        comment: policy.origin.describe(),
        target: format!("REJECT --reject-with {with}"),
    };
    vec![rule(" -p tcp", "tcp-reset"), rule("", "icmp-port-unreachable")]
}

/// iptables' built-in names by name, every other protocol by number: iptables looks `gre`
/// up in /etc/protocols, which a minimal host may lack. Number 0 would mean "all" to
/// iptables: `Iptables::check` refuses it (`protocol_zero`).
fn protocol(p: Protocol) -> Cow<'static, str> {
    match p {
        Protocol::Any => "all".into(),
        Protocol::Tcp | Protocol::Udp | Protocol::Icmp | Protocol::Esp | Protocol::Ah => p.as_str(),
        Protocol::Gre | Protocol::Number(_) => p.iana().unwrap_or_default().to_string().into(),
    }
}

/// N301 for protocol 0: `iptables -p 0` matches every protocol, not protocol 0 (iptables(8)).
pub fn protocol_zero(target: &str, gw: &GatewayPlan) -> Vec<Diagnostic> {
    let translations = gw.dnat.iter().chain(&gw.snat).map(|t| (&t.matcher, &t.origin));
    let filters = gw.filters.rules.iter().map(|f| (&f.matcher, &f.origin));
    translations
        .chain(filters)
        .filter(|(m, _)| m.protocol == Some(Protocol::Number(0)))
        .map(|(_, origin)| {
            super::cannot_express(
                target,
                origin,
                "iptables reads `-p 0` as every protocol, so it cannot match IP protocol 0",
                "build this gateway for nftables, which matches `meta l4proto 0`, or leave protocol 0 out",
            )
        })
        .collect()
}

fn range(r: &PortRange, sep: char) -> String {
    if r.is_single() { r.first.to_string() } else { format!("{}{sep}{}", r.first, r.last) }
}

/// The port part of a match; a long list becomes several multiport chunks, each a rule
/// of its own with the same target, which matches exactly the union.
fn port_variants(ports: Option<&PortSet>) -> Vec<String> {
    let Some(ports) = ports else { return vec![String::new()] };
    if let Some(r) = ports.as_single_range() {
        return vec![format!(" --dport {}", range(&r, ':'))];
    }
    let mut chunks: Vec<Vec<String>> = vec![Vec::new()];
    let mut used = 0;
    for r in &ports.ranges {
        let cost = if r.is_single() { 1 } else { 2 };
        if used + cost > MULTIPORT_BUDGET {
            chunks.push(Vec::new());
            used = 0;
        }
        used += cost;
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(range(r, ':'));
        }
    }
    chunks.into_iter().map(|c| format!(" -m multiport --dports {}", c.join(","))).collect()
}

/// `-i … -o … -s … -d … -p …` followed by each port variant.
fn match_variants(m: &Match) -> Vec<String> {
    use std::fmt::Write;
    // Written in place (`write!` into one String): this runs once per rule at 100k rules.
    let mut base = String::with_capacity(64);
    if let Some(i) = &m.in_interface {
        let _ = write!(base, " -i {i}");
    }
    if let Some(o) = &m.out_interface {
        let _ = write!(base, " -o {o}");
    }
    if let Some(s) = &m.source {
        let _ = write!(base, " -s {s}");
    }
    if let Some(d) = &m.destination {
        let _ = write!(base, " -d {d}");
    }
    if let Some(p) = m.protocol {
        let _ = write!(base, " -p {}", protocol(p));
        // A single port or range uses the protocol's own match; lists use multiport.
        if m.ports.as_ref().and_then(PortSet::as_single_range).is_some() {
            let _ = write!(base, " -m {}", protocol(p));
        }
    }
    if m.ipsec == IpsecMatch::NotIpsec {
        base.push_str(" -m policy --dir out --pol none");
    }
    port_variants(m.ports.as_ref()).into_iter().map(|p| format!("{base}{p}")).collect()
}

/// One iptables rule, apart from its chain: the firewalld target writes the same rules as
/// `firewall-cmd --direct` arguments, with the comment quoted for the shell instead.
pub struct RuleParts {
    /// ` -i eth0 -d 192.168.82.70/32 …`: space-led words that need no quoting.
    pub matches: String,
    pub comment: String,
    /// `DNAT --to-destination 192.168.150.195`, `ACCEPT`, …
    pub target: String,
}

impl RuleParts {
    fn restore_line(&self, chain: &str) -> String {
        let mut line = String::with_capacity(self.restore_size(chain));
        self.write_restore_line(&mut line, chain);
        line
    }

    /// `-A CHAIN MATCHES -m comment --comment "…" -j TARGET`, without a line break.
    fn write_restore_line(&self, out: &mut String, chain: &str) {
        for part in ["-A ", chain, &self.matches, " -m comment --comment "] {
            out.push_str(part);
        }
        out.push_str(&quote::iptables_comment(&self.comment));
        out.push_str(" -j ");
        out.push_str(&self.target);
    }

    /// About the length of the line and its line break (the comment's quoting may add a few).
    fn restore_size(&self, chain: &str) -> usize {
        32 + chain.len() + self.matches.len() + self.comment.len() + self.target.len()
    }
}

/// The rules of a translation: one per port chunk, all with the same target.
pub fn translation_rules(gw: &GatewayPlan, t: &Translation) -> Vec<RuleParts> {
    let target = nat_target(t);
    let comment = super::describe::rule_comment(gw, &t.origin, t.comment());
    let log = gw.log_of(&t.origin);
    match_variants(&t.matcher)
        .into_iter()
        .flat_map(|matches| {
            // `log = true`: a LOG rule with the same match right before the NAT rule (the
            // nat table sees a connection's first packet: one line per translated connection).
            let log = log.map(|l| RuleParts {
                matches: matches.clone() + &log_limit(l),
                comment: comment.clone(),
                target: log_target(l),
            });
            log.into_iter().chain([RuleParts { matches, comment: comment.clone(), target: target.clone() }])
        })
        .collect()
}

/// The rules of translations keyed for the lookup tree: a DNAT by its `-i` and destination,
/// an SNAT by its `-o` and source.
pub fn translation_keyed(gw: &GatewayPlan, list: &[Translation]) -> Vec<Keyed> {
    list.iter()
        .flat_map(|t| {
            let (interface, key) = match t.hook {
                Hook::Destination => (&t.matcher.in_interface, t.matcher.destination),
                Hook::Source => (&t.matcher.out_interface, t.matcher.source),
            };
            translation_rules(gw, t).into_iter().map(move |rule| Keyed {
                interface: interface.clone(),
                key,
                rule,
                commutes: false,
            })
        })
        .collect()
}

fn nat_target(t: &Translation) -> String {
    match (&t.step, t.hook) {
        (Step::SetAddress(a, port), Hook::Destination) => format!("DNAT --to-destination {a}{}", to_port(port)),
        (Step::SetAddress(a, _), Hook::Source) => format!("SNAT --to-source {a}"),
        (Step::ShiftIntoPrefix(p), _) => format!("NETMAP --to {p}"),
        (Step::Masquerade, _) => "MASQUERADE".into(),
        // ACCEPT in the nat table ends NAT processing for the flow: an exemption.
        (Step::NoNat, _) => "ACCEPT".into(),
    }
}

/// `:9000` for one port; `:9000-9099/8000` shifts a range 1:1 from base port 8000
/// (iptables ≥ 1.8.6; tested: 8001 arrives as 9001).
fn to_port(port: &Option<PortStep>) -> String {
    match port {
        None => String::new(),
        Some(PortStep::Set(p)) => format!(":{p}"),
        Some(PortStep::Shift(shift)) => {
            let onto = shift.onto();
            format!(":{}-{}/{}", onto.first, onto.last, shift.matched().first)
        }
    }
}

/// A filter line before its port variants: matches, comment, log, and the match it keys by.
type FilterSource<'a> = (Vec<String>, String, Option<&'a Log>, Option<&'a Match>);

/// The accept rules of a filter chain, in evaluation order (the chain policy is not a rule),
/// each with its `-i` and destination for the lookup tree.
pub fn filter_keyed(gw: &GatewayPlan, chain: FilterChain) -> Vec<Keyed> {
    let lines = gw.filters.lines(chain);
    let mut rules: Vec<FilterSource> = lines
        .iter()
        .map(|line| {
            let (matches, matcher) = match line {
                FilterLine::Loopback(_) => (vec![" -i lo".to_string()], None),
                FilterLine::Replies(_) => (vec![" -m conntrack --ctstate ESTABLISHED,RELATED".to_string()], None),
                FilterLine::Allow(f) => (match_variants(&f.matcher), Some(&f.matcher)),
            };
            let log = match line {
                FilterLine::Allow(f) => f.log.as_ref(),
                _ => None,
            };
            (matches, super::describe::line_comment(gw, line), log, matcher)
        })
        .collect();
    let tunnels = gw.tunnel_input();
    if chain == FilterChain::Input {
        // The tunnels' IKE, NAT-T and ESP, after the implied lines and before the rules.
        let implied = lines.iter().take_while(|l| !matches!(l, FilterLine::Allow(_))).count();
        let tunnels = tunnels.iter().map(|t| (match_variants(&t.matcher), t.comment(), None, Some(&t.matcher)));
        rules.splice(implied..implied, tunnels);
    }
    rules
        .into_iter()
        .flat_map(|(matches, comment, log, matcher)| {
            // Loopback's `-i lo` is a key too; the replies line has none.
            let interface = match matcher {
                Some(m) => m.in_interface.clone(),
                None if matches.first().is_some_and(|m| m == " -i lo") => Some("lo".to_string()),
                None => None,
            };
            let key = matcher.and_then(|m| m.destination);
            matches.into_iter().flat_map(move |matches| {
                // `log = true`: a LOG rule with the same match right before the ACCEPT (LOG
                // does not end the chain), so it logs exactly what the ACCEPT takes.
                let log = log.map(|l| RuleParts {
                    matches: matches.clone() + &log_limit(l),
                    comment: comment.clone(),
                    target: log_target(l),
                });
                let interface = interface.clone();
                log.into_iter()
                    .chain([RuleParts { matches, comment: comment.clone(), target: "ACCEPT".into() }])
                    // An ACCEPT commutes with every other one; its LOG rule does not.
                    .map(move |rule| Keyed {
                        interface: interface.clone(),
                        key,
                        commutes: rule.target == "ACCEPT",
                        rule,
                    })
            })
        })
        .collect()
}

/// `LOG` with the prefix, quoted as iptables-restore and firewall-cmd read it.
pub fn log_target(log: &Log) -> String {
    match &log.prefix {
        None => "LOG".into(),
        Some(p) => format!("LOG --log-prefix {}", quote::iptables_comment(p)),
    }
}

/// `log_rate`: the LOG rule's `limit` match, burst written out (iptables' default,
/// LOG_BURST). A match, not a target: past the rate the LOG rule does not match, and the
/// packet goes on to the ACCEPT, NAT or drop after it as before.
pub fn log_limit(log: &Log) -> String {
    log.rate.as_ref().map_or_else(String::new, |r| format!(" -m limit --limit {r} --limit-burst {LOG_BURST}"))
}

/// N301 for a `log_rate` below LOG_BURST per day: xt_limit (iptables-legacy, firewalld's
/// iptables backend) keeps a burst's credit in 32 bits, one day's worth at most; 1/day fails
/// to load ("Numerical result out of range", tested), 2/day to 4/day load with a credit that
/// wrapped. `written`: the logs the target writes.
pub fn rate_overflow(target: &str, gw: &GatewayPlan, written: super::log::Written) -> Vec<Diagnostic> {
    super::log::refuse_rates(
        target,
        gw,
        written,
        |r| r.unit == crate::vocab::RateUnit::Day && r.count < LOG_BURST,
        &format!(
            "its log_rate: xt_limit holds a burst of {LOG_BURST} only at {LOG_BURST}/day or faster (its credit is 32 bits wide)"
        ),
        &format!("write log_rate = \"{LOG_BURST}/day\" or faster, or an hourly rate"),
    )
}

/// A logged drop or reject policy: the chain's last LOG rule (before the reject rules), which
/// every packet the policy drops or rejects reaches.
pub fn policy_log(gw: &GatewayPlan, chain: FilterChain) -> Option<RuleParts> {
    let policy = gw.filters.chain_policy(chain);
    let log = policy.log.as_ref()?;
    Some(RuleParts { matches: log_limit(log), comment: policy.origin.describe(), target: log_target(log) })
}

/// A filter chain's rules, then its logged policy and reject rules (which match every
/// packet, so the tree keeps them last in the built-in chain).
fn filter_chain(gw: &GatewayPlan, chain: FilterChain) -> Vec<Keyed> {
    let unkeyed = |rule| Keyed { interface: None, key: None, rule, commutes: false };
    let mut rules = filter_keyed(gw, chain);
    rules.extend(policy_log(gw, chain).map(unkeyed));
    rules.extend(reject_rules(gw, chain).into_iter().map(unkeyed));
    rules
}

/// `tcp_mss` (backend/mss.rs) as mangle FORWARD rules; firewalld writes the same ones.
pub fn mss_rules(gw: &GatewayPlan) -> Vec<RuleParts> {
    super::mss::clamps(gw)
        .iter()
        .map(|c| {
            let (matches, target) = super::mss::iptables_parts(c);
            RuleParts { matches, comment: c.comment.clone(), target }
        })
        .collect()
}
