//! `--target firewalld`: one shell script, as in seed 000. Its rules reach firewalld in one
//! piece (docs/targets.md, "firewalld at scale"): on firewalld's iptables backend as
//! iptables rules (the iptables target's) in natc's own permanent direct chains, written in
//! one D-Bus call, so a run replaces the previous one without touching anybody else's direct
//! rules; on its nftables backend (0.9 and later) as the nftables target's own table (one
//! `nft -f`). The script carries both and loads the one for the box's backend.
//!
//! Profiles (`firewalld@0.6|0.9|1`, docs/targets.md#firewalld-versions): 0.9 and later
//! open firewalld's own table with two policy objects, and on iptables natc's filter chains
//! come first in INPUT and FORWARD (passthroughs); 0.6 has none, but with its iptables
//! backend (its only one: the script carries no nftables table) the `*_direct` chains run
//! before the zones, so natc's filter chains end in the policy's own verdict (an accept
//! policy is a final ACCEPT) and the zones never see a packet natc decided. The script's
//! guard (templates/firewalld/guard.tera) refuses a box of another line, and a 0.6 box
//! without its iptables chains, before anything changes.

use super::header::{HeaderView, header_view};
use super::iptables::{self, RuleParts};
use super::iptables_tree::{self, Keyed, Keying, Source};
use super::linux::{self, HostState};
use super::nftables;
use super::numbering::{self, Request};
use super::{Header, OutputFile, Target, engine, quote};
use crate::diag::{Code, Diagnostic};
use crate::plan::{FilterChain, GatewayPlan, Translation};
use crate::vocab::{FirewalldVersion, IptablesShape, Verdict};
use serde::Serialize;
use std::borrow::Cow;
use std::rc::Rc;

pub struct Firewalld {
    pub version: FirewalldVersion,
}

const NAME: &str = "firewalld";
pub const SCRIPT_FILE: &str = "firewalld.sh";

impl Target for Firewalld {
    fn check(&self, gw: &GatewayPlan) -> Vec<Diagnostic> {
        // The rules are iptables rules: the same limits, plus a word about the interface.
        let mut findings = linux::check_common(NAME, gw);
        findings.extend(iptables::protocol_zero(NAME, gw));
        // On firewalld's nftables backend the script loads the nftables target's table
        // (0.9 and later; a 0.6 script carries none).
        if self.version.has_policies() {
            findings.extend(nftables::port_shift_limits(NAME, gw));
        }
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
        // Only the policy's LOG rule is written (the others are refused above).
        let written = super::log::Written { allows: false, policies: true, translations: false };
        findings.extend(iptables::rate_overflow(NAME, gw, written));
        findings.push(deprecation(gw));
        findings
    }

    fn render(&self, header: &Header, gw: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic> {
        let policies = self.version.has_policies();
        // From 64 rules on, a chain is the iptables target's lookup tree (iptables_tree.rs).
        let dnat = Tree { table: "nat", root: "natc-dnat", hook: "PREROUTING", tag: "nD", what: "dnat" };
        let snat = Tree { table: "nat", root: "natc-snat", hook: "POSTROUTING", tag: "nS", what: "snat" };
        let input = Tree { table: "filter", root: "natc-input", hook: "INPUT", tag: "nI", what: "input" };
        let forward = Tree { table: "filter", root: "natc-forward", hook: "FORWARD", tag: "nF", what: "forward" };
        let mut chains = dnat.chains(gw, translation_rules(gw, &gw.dnat));
        chains.extend(snat.chains(gw, translation_rules(gw, &gw.snat)));
        chains.extend(input.chains(gw, filter_rules(gw, FilterChain::Input, policies)));
        chains.extend(forward.chains(gw, filter_rules(gw, FilterChain::Forward, policies)));
        // Always there, empty without tcp_mss: a run must remove the clamps of the last one.
        chains.push(chain("mangle", "natc-mss".into(), "FORWARD", true, mss_rules(gw)));
        // On firewalld 0.9 and later the filter roots are hooked by the policies part's
        // passthroughs, not by direct rules in the `*_direct` chains.
        for Chain { view: c, .. } in &mut chains {
            c.direct_hook = c.hook && !(policies && c.table == "filter");
        }
        let mut notes = vec![
            format!(
                "Written for firewalld {}; the script refuses any other firewalld before it changes anything.",
                guard_view(self.version).release
            ),
            "firewalld's direct interface is deprecated upstream; see docs/targets.md.".into(),
            format!(
                "Remote box: sh {SCRIPT_FILE} --confirm 120 applies it and restores what it changed unless confirmed within 120 s (see below)."
            ),
        ];
        notes.extend(match policies {
            true => vec![
                "natc owns the direct chains natc-dnat, natc-snat, natc-input, natc-forward, natc-mss,".into(),
                format!("the nftables table ip {}", nftables::table_name(header)),
                "and the policies natc-forward, natc-input: edit them through the intent.".into(),
            ],
            false => vec![
                "natc owns the direct chains natc-dnat, natc-snat, natc-input, natc-forward, natc-mss:".into(),
                "they decide before the zones (iptables backend); edit them through the intent.".into(),
            ],
        });
        if chains.iter().any(|c| !c.view.hook) {
            notes.push(
                "Past 64 rules a chain is a lookup tree: natc owns its chains nD-…, nS-…, nI-…, nF-… too.".into(),
            );
        }
        let view = ScriptView {
            header: header_view(
                header,
                gw,
                target_name(self.version),
                format!("sh {SCRIPT_FILE}   (as root, on the gateway, with firewalld running)"),
                notes,
            ),
            script: SCRIPT_FILE,
            // What --confirm saves and the window restores; no ruleset file: firewalld's
            // part is saved through firewalld (templates/firewalld/window.tera).
            rollback: linux::rollback_view(header, gw, NAME, ""),
            guard: guard_view(self.version),
            policies,
            sysctl_file: format!("90-natc-{}.conf", header.intent),
            host: linux::host_state(gw),
            nftables: policies,
            nft_table: nftables::table_name(header),
            nft_ruleset: if policies { engine::slot(1) } else { String::new() },
            chains: chains.iter().map(|c| c.view.clone()).collect(),
            rules: engine::slot(0),
        };
        let mut fills =
            vec![engine::Fill { size: rules_size(&chains), write: Box::new(|text| write_rules(text, &chains)) }];
        // firewalld 0.6 has only its iptables backend: no table to carry.
        if policies {
            let document = nft_ruleset(header, gw)?;
            fills.push(engine::Fill { size: document.len(), write: Box::new(move |text| text.push_str(&document)) });
        }
        let contents = engine::render_spliced("firewalld/script.tera", &view, fills)?;
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
    .help("it still works in firewalld 1.x; for a future-proof box build it for nftables (docs/targets.md says why its rules are direct rules, not rich rules)")
}

/// What `--target nftables` writes for this gateway, without its shebang and header (the
/// script has its own): the rules the script loads when firewalld runs on nftables.
fn nft_ruleset(header: &Header, gw: &GatewayPlan) -> Result<String, Diagnostic> {
    let files = nftables::Nftables.render(header, gw)?;
    let mut rules = files.into_iter().find(|f| f.name == nftables::RULES_FILE).map(|f| f.contents).unwrap_or_default();
    // The body: after the header's comment lines and the empty lines after them.
    let mut start = 0;
    let mut lines = rules.split_inclusive('\n').peekable();
    while let Some(line) = lines.next_if(|l| l.starts_with('#')) {
        start += line.len();
    }
    while let Some(line) = lines.next_if(|l| l.trim_end_matches(['\r', '\n']).is_empty()) {
        start += line.len();
    }
    rules.drain(..start);
    if !rules.is_empty() && !rules.ends_with('\n') {
        rules.push('\n');
    }
    Ok(rules)
}

fn target_name(version: FirewalldVersion) -> &'static str {
    match version {
        FirewalldVersion::V0_6 => "firewalld@0.6",
        FirewalldVersion::V0_9 => "firewalld@0.9",
        FirewalldVersion::V1 => "firewalld@1",
    }
}

/// What the guard (templates/firewalld/guard.tera) accepts: the release line that
/// `firewall-cmd --version` must be of, and whether the backend must be iptables.
#[derive(Serialize)]
struct GuardView {
    /// The profile's word, which the guard's `case` also yields for a box of the line.
    line: &'static str,
    /// The versions in words, for the header and the refusal.
    release: &'static str,
    /// The shape needs firewalld's iptables chains (`FORWARD_direct` before the zones).
    iptables_backend: bool,
}

fn guard_view(version: FirewalldVersion) -> GuardView {
    match version {
        FirewalldVersion::V0_6 => {
            GuardView { line: version.as_str(), release: "0.6.x (CentOS/RHEL 7)", iptables_backend: true }
        }
        FirewalldVersion::V0_9 => GuardView { line: version.as_str(), release: "0.9.x", iptables_backend: false },
        FirewalldVersion::V1 => GuardView { line: version.as_str(), release: "1.0 or later", iptables_backend: false },
    }
}

#[derive(Serialize)]
struct ScriptView {
    header: HeaderView,
    script: &'static str,
    /// The confirmation window's state directory and the host state it saves.
    rollback: linux::RollbackView,
    guard: GuardView,
    /// firewalld has policy objects (0.9 and later): natc's two open its own table.
    policies: bool,
    sysctl_file: String,
    host: HostState,
    /// The script also carries natc's nftables table for firewalld's nftables backend
    /// (0.9 and later; 0.6 has only iptables).
    nftables: bool,
    /// natc's nftables table and its `nft -f` document (the nftables target's).
    nft_table: String,
    /// The slot of the table's document (0.9 and later), written by [`nft_ruleset`].
    nft_ruleset: String,
    chains: Vec<ChainView>,
    /// The slot of every chain's rules, written by [`write_rules`].
    rules: String,
}

#[derive(Serialize, Clone)]
struct ChainView {
    table: &'static str,
    name: String,
    /// The chain that jumps to this one: a built-in chain, or a lookup tree's chain.
    parent: String,
    /// `true`: a root chain, jumped to from the built-in `parent` (a lookup tree's own jumps
    /// are rules of its chains, with their conditions).
    hook: bool,
    /// A root chain whose jump is a direct rule in `parent` (in its `*_direct` chain on the
    /// iptables backend). A root without it is hooked by the policies part of the script:
    /// the filter chains on firewalld 0.9 and later, whose iptables backend accepts DNATed
    /// flows before the `*_direct` chains.
    direct_hook: bool,
}

/// A chain and its rules, which reach the script through a slot ([`write_rules`]).
struct Chain {
    view: ChainView,
    rules: Vec<Prioritized>,
}

/// One direct rule and its priority. firewalld orders direct rules by priority and keeps
/// no order among equal ones, so priorities must order every two rules that can match one
/// packet, and nothing more: a priority that were a position would renumber every later
/// rule when one is added, and the review diff would be the whole chain.
struct Prioritized {
    priority: u32,
    rule: RuleParts,
}

fn chain(table: &'static str, name: String, parent: &str, hook: bool, rules: Vec<Prioritized>) -> Chain {
    Chain { view: ChainView { table, name, parent: parent.to_string(), hook, direct_hook: hook }, rules }
}

/// `natc_rules`' body: per chain a comment naming it, then `rule TABLE CHAIN PRIORITY
/// ARGS…` per rule, quoted for the shell.
fn write_rules(text: &mut String, chains: &[Chain]) {
    use std::fmt::Write;
    for Chain { view: c, rules } in chains {
        let _ = writeln!(text, "    # {} {} (from {})", c.table, c.name, c.parent);
        for Prioritized { priority, rule: r } in rules {
            let _ = writeln!(
                text,
                "    rule {} {} {priority}{} -m comment --comment {} -j {}",
                c.table,
                c.name,
                r.matches,
                quote::shell_quote(&r.comment),
                r.target
            );
        }
    }
}

/// A guess at [`write_rules`]' length, to size the script once.
fn rules_size(chains: &[Chain]) -> usize {
    chains.iter().map(|c| c.rules.iter().map(|p| 64 + p.rule.matches.len() + p.rule.comment.len()).sum::<usize>()).sum()
}

/// One of natc's direct chains, flat or as a lookup tree.
struct Tree {
    table: &'static str,
    root: &'static str,
    hook: &'static str,
    tag: &'static str,
    what: &'static str,
}

/// A rule of a natc chain before the tree: its priority in the flat chain, its keys, and
/// what orders it in a tree chain (`None`: an accept, whose order never matters).
struct Ranked {
    priority: u32,
    keyed: Keyed,
    /// Shared by the rules of one translation: a clone of its class (every port of its
    /// list) per rule was k/15 copies of k ports.
    order: Option<Rc<Request>>,
}

impl Tree {
    /// The chain `root` (hooked from `hook`) and, past the threshold, its lookup chains.
    /// Flat, a rule keeps its priority. In a tree chain, translations and the jumps between
    /// them take overlap layers of their own chain (`numbering::layers`, a jump overlapping
    /// every rule in its prefix), so that rules that can meet one packet keep their order;
    /// accepts and their jumps stay at 0, under the root's policy rules.
    fn chains(&self, gw: &GatewayPlan, rules: Vec<Ranked>) -> Vec<Chain> {
        let keying = Keying {
            root: self.root,
            tag: self.tag,
            source: self.hook == "POSTROUTING",
            label: format!("{} {} lookup", gw.name, self.what),
        };
        let mut meta = Vec::with_capacity(rules.len());
        let keyed = rules
            .into_iter()
            .map(|r| {
                meta.push((r.priority, r.order));
                r.keyed
            })
            .collect();
        let layout = iptables_tree::layout(IptablesShape::Auto, &keying, keyed);
        // Flat, or accepts alone: every rule keeps its priority, a jump is 0.
        let keep = layout.len() == 1 || meta.iter().all(|(_, o)| o.is_none());
        layout
            .into_iter()
            .enumerate()
            .map(|(n, c)| {
                let priorities: Vec<u32> = if keep {
                    c.sources.iter().map(|s| if let Source::Rule(i) = *s { meta[i].0 } else { 0 }).collect()
                } else {
                    // `numbering::layers` reads scopes and classes, never keys. A rule's
                    // request is its translation's, borrowed.
                    let requests: Vec<Cow<Request>> = c
                        .sources
                        .iter()
                        .map(|s| match *s {
                            Source::Rule(i) => meta[i].1.as_deref().map_or(Cow::Owned(ANY), Cow::Borrowed),
                            Source::Jump(p) => Cow::Owned(Request {
                                key: String::new(),
                                scope: Some(p.unwrap_or_default()),
                                class: None,
                            }),
                        })
                        .collect();
                    numbering::layers(&requests)
                };
                let rules = priorities.into_iter().zip(c.rules).map(|(priority, rule)| Prioritized { priority, rule });
                let parent = if n == 0 { self.hook } else { self.root };
                chain(self.table, c.name, parent, n == 0, rules.collect())
            })
            .collect()
    }
}

/// A rule that may overlap anything.
const ANY: Request = Request { key: String::new(), scope: None, class: None };

/// Translations take priorities from the overlap of their scopes and ports, as VyOS rule
/// numbers do (`numbering::layers`); the iptables rules of one translation share its priority.
fn translation_rules(gw: &GatewayPlan, list: &[Translation]) -> Vec<Ranked> {
    let requests: Vec<Rc<Request>> = list
        .iter()
        // No key: `numbering::layers` reads scopes and classes only (a comment per rule was
        // a String per rule, twice, at 100k rules).
        .map(|t| {
            Rc::new(Request { key: String::new(), scope: Some(t.scope()), class: numbering::port_class(&t.matcher) })
        })
        .collect();
    let layers = numbering::layers(&requests);
    list.iter()
        .zip(requests)
        .zip(layers)
        .flat_map(|((t, request), priority)| {
            iptables::translation_keyed(gw, std::slice::from_ref(t)).into_iter().map(move |keyed| Ranked {
                priority,
                keyed,
                order: Some(Rc::clone(&request)),
            })
        })
        .collect()
}

/// The accept rules, then the chain's default: a drop policy is a last rule, because the
/// built-in chain's own policy belongs to firewalld. Accept rules are all priority 0
/// (whichever of them matches first, the packet is accepted); the drop comes after them.
/// Without policy objects (`policies` false, firewalld 0.6) an accept policy is a last
/// ACCEPT too: a packet that left natc's chain undecided would go on to the zones, which
/// reject what they do not know.
fn filter_rules(gw: &GatewayPlan, chain: FilterChain, policies: bool) -> Vec<Ranked> {
    let unkeyed = |priority, rule| Ranked {
        priority,
        keyed: Keyed { interface: None, key: None, rule, commutes: false },
        order: None,
    };
    let mut rules: Vec<Ranked> =
        iptables::filter_keyed(gw, chain).into_iter().map(|keyed| Ranked { priority: 0, keyed, order: None }).collect();
    let policy = gw.filters.chain_policy(chain);
    // A logged policy: its LOG rule at priority 1, after every accept, and the drop or the
    // reject rules one priority later (only then: outputs without logs keep their numbers).
    let logged = iptables::policy_log(gw, chain).map(|rule| unkeyed(1, rule));
    let after = 1 + u32::from(logged.is_some());
    rules.extend(logged);
    if policy.verdict == Verdict::Drop {
        let rule = RuleParts { matches: String::new(), comment: policy.origin.describe(), target: "DROP".into() };
        rules.push(unkeyed(after, rule));
    }
    if policy.verdict == Verdict::Accept && !policies {
        let rule = RuleParts { matches: String::new(), comment: policy.origin.describe(), target: "ACCEPT".into() };
        rules.push(unkeyed(after, rule));
    }
    // Reject: the tcp reset before the catch-all ICMP answer (priorities 1, 2).
    rules.extend(
        iptables::reject_rules(gw, chain).into_iter().zip(after..).map(|(rule, priority)| unkeyed(priority, rule)),
    );
    rules
}

/// The `tcp_mss` clamps, the iptables target's rules. TCPMSS only lowers the MSS and the
/// clamps of different items may match one packet in any order with the same result (the
/// lowest size wins either way), so they share one priority.
fn mss_rules(gw: &GatewayPlan) -> Vec<Prioritized> {
    iptables::mss_rules(gw).into_iter().map(|rule| Prioritized { priority: 0, rule }).collect()
}
