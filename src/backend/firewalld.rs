//! `--target firewalld`: one shell script, as in seed 000. It carries natc's rules twice and
//! loads the ones for the box's firewalld backend, each in one piece (docs/targets.md,
//! "firewalld at scale"): on nftables, the nftables target's own table (one `nft -f`); on
//! iptables, iptables rules (the iptables target's) as permanent direct rules in natc's own
//! chains, written in one D-Bus call, so a run replaces the previous one without touching
//! anybody else's direct rules. firewalld's own table is told to accept what they accept.

use super::header::{HeaderView, header_view};
use super::iptables::{self, RuleParts};
use super::linux::{self, HostState};
use super::nftables;
use super::numbering::{self, Request};
use super::{Header, OutputFile, Target, quote};
use crate::diag::{Code, Diagnostic};
use crate::plan::{FilterChain, GatewayPlan, Translation};
use crate::vocab::Verdict;
use serde::Serialize;

pub struct Firewalld;

const NAME: &str = "firewalld";
pub const SCRIPT_FILE: &str = "firewalld.sh";

impl Target for Firewalld {
    fn check(&self, gw: &GatewayPlan) -> Vec<Diagnostic> {
        // The rules are iptables rules: the same limits, plus a word about the interface.
        let mut findings = linux::check_common(NAME, gw);
        findings.extend(iptables::protocol_zero(NAME, gw));
        // On firewalld's nftables backend the script loads the nftables target's table.
        findings.extend(nftables::port_shift_limits(NAME, gw));
        findings.extend(super::log::refuse(
            NAME,
            gw,
            true,
            false,
            "firewalld keeps no order among direct rules of one priority, and natc's accept rules share priority 0, so a LOG rule cannot sit right before its ACCEPT",
        ));
        findings.extend(super::log::refuse_translations(
            NAME,
            gw,
            "firewalld keeps no order among direct rules of one priority, and a translation's LOG rule would share its NAT rule's priority",
        ));
        findings.push(deprecation(gw));
        findings
    }

    fn render(&self, header: &Header, gw: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic> {
        let chains = vec![
            chain("nat", "natc-dnat", "PREROUTING", translation_rules(gw, &gw.dnat)),
            chain("nat", "natc-snat", "POSTROUTING", translation_rules(gw, &gw.snat)),
            chain("filter", "natc-input", "INPUT", filter_rules(gw, FilterChain::Input)),
            chain("filter", "natc-forward", "FORWARD", filter_rules(gw, FilterChain::Forward)),
            // Always there, empty without tcp_mss: a run must remove the clamps of the last one.
            chain("mangle", "natc-mss", "FORWARD", mss_rules(gw)),
        ];
        let tables = ["nat", "filter", "mangle"]
            .into_iter()
            .map(|t| TableView { name: t, chains: chains.iter().filter(|c| c.table == t).map(|c| c.name).collect() })
            .collect();
        let view = ScriptView {
            header: header_view(
                header,
                gw,
                NAME,
                format!("sh {SCRIPT_FILE}   (as root, on the gateway, with firewalld running)"),
                vec![
                    "firewalld's direct interface is deprecated upstream; see docs/targets.md.".into(),
                    "natc owns the direct chains natc-dnat, natc-snat, natc-input, natc-forward, natc-mss,".into(),
                    format!("the nftables table ip {}", nftables::table_name(header)),
                    "and the policies natc-forward, natc-input: edit them through the intent.".into(),
                ],
            ),
            sysctl_file: format!("90-natc-{}.conf", header.intent),
            host: linux::host_state(gw),
            nft_table: nftables::table_name(header),
            nft_ruleset: nft_ruleset(header, gw)?,
            chains,
            tables,
        };
        let contents = super::engine::render("firewalld/script.tera", &view)?;
        Ok(vec![OutputFile::new(SCRIPT_FILE, contents, true)])
    }
}

/// Direct rules work today, but firewalld's upstream marks them deprecated: users should
/// hear that from the tool that writes them, once per gateway.
fn deprecation(gw: &GatewayPlan) -> Diagnostic {
    Diagnostic::warning(
        Code::TARGET_INTERFACE_DEPRECATED,
        format!("target firewalld writes direct rules for gateway `{}`, and firewalld deprecates the direct interface", gw.name),
    )
    .label(gw.span.clone(), "built for firewalld")
    .help("it still works in firewalld 1.x; for a future-proof box build it for nftables (docs/targets.md says why natc does not use policies and rich rules)")
}

/// What `--target nftables` writes for this gateway, without its shebang and header (the
/// script has its own): the rules the script loads when firewalld runs on nftables.
fn nft_ruleset(header: &Header, gw: &GatewayPlan) -> Result<String, Diagnostic> {
    let files = nftables::Nftables.render(header, gw)?;
    let rules = files.into_iter().find(|f| f.name == nftables::RULES_FILE).map(|f| f.contents).unwrap_or_default();
    Ok(rules
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .skip_while(|l| l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect())
}

#[derive(Serialize)]
struct ScriptView {
    header: HeaderView,
    sysctl_file: String,
    host: HostState,
    /// natc's nftables table and its `nft -f` document (the nftables target's).
    nft_table: String,
    nft_ruleset: String,
    chains: Vec<ChainView>,
    tables: Vec<TableView>,
}

#[derive(Serialize)]
struct ChainView {
    table: &'static str,
    name: &'static str,
    /// The built-in chain that jumps to this one.
    parent: &'static str,
    /// `PRIORITY ARGS…` of each rule, quoted for the shell.
    rules: Vec<String>,
}

#[derive(Serialize)]
struct TableView {
    name: &'static str,
    chains: Vec<&'static str>,
}

/// One direct rule and its priority. firewalld orders direct rules by priority and keeps
/// no order among equal ones, so priorities must order every two rules that can match one
/// packet, and nothing more: a priority that were a position would renumber every later
/// rule when one is added, and the review diff would be the whole chain.
struct Prioritized {
    priority: u32,
    rule: RuleParts,
}

fn chain(table: &'static str, name: &'static str, parent: &'static str, rules: Vec<Prioritized>) -> ChainView {
    let rules = rules
        .iter()
        .map(|Prioritized { priority, rule: r }| {
            format!("{priority}{} -m comment --comment {} -j {}", r.matches, quote::shell_quote(&r.comment), r.target)
        })
        .collect();
    ChainView { table, name, parent, rules }
}

/// Translations take priorities from the overlap of their scopes and ports, as VyOS rule
/// numbers do (`numbering::layers`); the iptables rules of one translation share its priority.
fn translation_rules(gw: &GatewayPlan, list: &[Translation]) -> Vec<Prioritized> {
    let requests: Vec<Request> = list
        .iter()
        .map(|t| Request { key: t.comment(), scope: Some(t.scope()), class: numbering::port_class(&t.matcher) })
        .collect();
    list.iter()
        .zip(numbering::layers(&requests))
        .flat_map(|(t, priority)| {
            iptables::translation_rules(gw, t).into_iter().map(move |rule| Prioritized { priority, rule })
        })
        .collect()
}

/// The accept rules, then the chain's default: a drop policy is a last rule, because the
/// built-in chain's own policy belongs to firewalld. Accept rules are all priority 0
/// (whichever of them matches first, the packet is accepted); the drop comes after them.
fn filter_rules(gw: &GatewayPlan, chain: FilterChain) -> Vec<Prioritized> {
    let mut rules: Vec<Prioritized> =
        iptables::filter_rules(gw, chain).into_iter().map(|rule| Prioritized { priority: 0, rule }).collect();
    let policy = gw.filters.chain_policy(chain);
    // A logged policy: its LOG rule at priority 1, after every accept, and the drop or the
    // reject rules one priority later (only then: outputs without logs keep their numbers).
    let logged = iptables::policy_log(gw, chain).map(|rule| Prioritized { priority: 1, rule });
    let after = 1 + u32::from(logged.is_some());
    rules.extend(logged);
    if policy.verdict == Verdict::Drop {
        let rule = RuleParts { matches: String::new(), comment: policy.origin.describe(), target: "DROP".into() };
        rules.push(Prioritized { priority: after, rule });
    }
    // Reject: the tcp reset before the catch-all ICMP answer (priorities 1, 2).
    rules.extend(
        iptables::reject_rules(gw, chain)
            .into_iter()
            .zip(after..)
            .map(|(rule, priority)| Prioritized { priority, rule }),
    );
    rules
}

/// The `tcp_mss` clamps, the iptables target's rules. TCPMSS only lowers the MSS and the
/// clamps of different items may match one packet in any order with the same result (the
/// lowest size wins either way), so they share one priority.
fn mss_rules(gw: &GatewayPlan) -> Vec<Prioritized> {
    iptables::mss_rules(gw).into_iter().map(|rule| Prioritized { priority: 0, rule }).collect()
}
