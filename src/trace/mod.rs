//! `natc trace`: what `natc verify` proves in kernels, worked out from the compiled IR
//! alone — no root, no namespaces, no packets. Every `[[expect]]` is walked through the
//! lab hop by hop and through each gateway in netfilter order (prerouting DNAT → routing
//! → input/forward filter → postrouting SNAT), naming the intent item behind every step,
//! then the reply is walked back through conntrack. Verdicts come from verify's own
//! `judge`, so `trace` and `verify` agree by construction wherever trace models the
//! kernel; where it does not, it says "not modelled" and never passes.
//!
//! Files by concept: `packet` (the 5-tuple), `net` (a node's addresses and routes),
//! `conntrack`, `gateway` (one node's netfilter walk), `lab` (hop by hop), `expect`
//! (one expectation), `single` (one packet at one gateway), `render` (the steps),
//! `ike` (IPsec tunnels brought up by walking IKE), `tunnel` (charon's routes, and
//! packets carried through a tunnel to its far end).

mod conntrack;
mod expect;
mod gateway;
mod ike;
mod lab;
mod net;
mod packet;
mod redirect;
pub mod render;
mod rules;
mod single;
mod tunnel;

pub use single::{PacketQuery, PacketTrace, trace_packet};

use crate::diag::terminal::{MAX_COLUMN, column_width, escape, padded};
use crate::diag::{Code, Diagnostic};
use crate::error::Error;
use crate::lab::ExpectResult;
use crate::pipeline::Compiled;
use crate::plan::Outcome;
use crate::plan::{ChainPolicy, Filters, GatewayPlan};
use render::Step;
use std::fmt;
use std::time::Duration;

/// One expectation: verify's result line (with the negative control), and the steps.
#[derive(Debug, Clone)]
pub struct ExpectTrace {
    pub result: ExpectResult,
    /// The probe's way, from the sender to where it was delivered (or dropped).
    pub request: Vec<Step>,
    /// The answer's way back.
    pub reply: Vec<Step>,
    /// What trace met and does not model (the verdict is then a failure).
    pub unmodelled: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TraceReport {
    pub intent: String,
    /// One line per IPsec tunnel pair or end, as verify's `TUNNEL …` lines: up, down
    /// and why, or what trace cannot tell about it.
    pub tunnels: Vec<String>,
    /// The policy-based tunnel ends that do not come up (or that trace cannot tell
    /// about): the report fails with them, as verify's does with an end that did not.
    pub tunnels_failed: usize,
    pub results: Vec<ExpectTrace>,
}

impl TraceReport {
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.result.passed()) && self.tunnels_failed == 0
    }
}

/// Trace every `[[expect]]` of the intent through its lab, with the same probe keys
/// `natc verify` uses, and the negative control on a lab without natc's config.
pub fn trace(compiled: &Compiled) -> Result<TraceReport, Error> {
    let lab_model = compiled.plan.lab.as_ref().ok_or_else(|| {
        missing("[lab]", "add [[lab.host]] tables for the hosts around the gateways (docs/verify.md)")
    })?;
    let expects = &compiled.plan.expects;
    if expects.is_empty() {
        return Err(missing(
            "[[expect]]",
            "add [[expect]] tables: what must arrive where, or be blocked (docs/verify.md)",
        ));
    }
    let listening = expect::Listening::of(expects);
    let lab = lab::Lab::new(&compiled.plan.gateways, lab_model);
    let bare: Vec<GatewayPlan> = compiled.plan.gateways.iter().map(without_config).collect();
    let control_lab = lab::Lab::new(&bare, lab_model);
    // verify's tunnel control: the packet filters loaded and no charon running.
    let with_tunnels = compiled.plan.gateways.iter().any(|g| !g.tunnels.is_empty());
    let tunnel_lab = with_tunnels.then(|| lab::Lab::without_tunnels(&compiled.plan.gateways, lab_model));
    let results = expects
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let key = i as u32 + 1;
            // verify's keys: 1..=n for the control, 10 001.. for the real probes.
            let control = matches!(e.outcome, Outcome::Arrives { .. })
                .then(|| expect::simulate(&control_lab, e, key, &listening).verdict);
            let tunnel_control = tunnel_lab
                .as_ref()
                .filter(|_| tunnel::crossing(&compiled.plan, e))
                .map(|l| expect::simulate(l, e, key + 20_000, &listening).verdict);
            let run = expect::simulate(&lab, e, key + 10_000, &listening);
            let mut result = ExpectResult::new(e, control, run.verdict, Duration::ZERO);
            result.tunnel_control = tunnel_control;
            ExpectTrace { result, request: run.request, reply: run.reply, unmodelled: run.unmodelled }
        })
        .collect();
    Ok(TraceReport {
        intent: compiled.plan.intent.clone(),
        tunnels: lab.tunnels.summary.clone(),
        tunnels_failed: lab.tunnels.ends.iter().filter(|e| e.sa.is_none()).count(),
        results,
    })
}

fn missing(what: &str, help: &str) -> Error {
    Error::Invalid(vec![Diagnostic::error(Code::MISSING_KEY, format!("the intent has no {what}")).help(help)])
}

/// A gateway as verify's negative control sees it: its interfaces and addresses, and
/// nothing natc generates (no rules, no sysctls, no owned addresses, no routes).
fn without_config(g: &GatewayPlan) -> GatewayPlan {
    let accept =
        |p: &ChainPolicy| ChainPolicy { verdict: crate::vocab::Verdict::Accept, origin: p.origin.clone(), log: None };
    GatewayPlan {
        dnat: Vec::new(),
        snat: Vec::new(),
        filters: Filters {
            forward: accept(&g.filters.forward),
            input: accept(&g.filters.input),
            rules: Vec::new(),
            implicit: Vec::new(),
        },
        routes: Vec::new(),
        owned: Vec::new(),
        sysctls: Vec::new(),
        tunnels: Vec::new(),
        bgp: None,
        ..g.clone()
    }
}

impl fmt::Display for TraceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "natc trace: {} (the compiled rules, simulated: no root, no packets)", escape(&self.intent))?;
        let controls: Vec<&ExpectTrace> = self.results.iter().filter(|r| r.result.control.is_some()).collect();
        let answered = controls.iter().filter(|r| r.result.control.as_ref().is_some_and(|c| c.pass)).count();
        writeln!(
            f,
            "negative control: {} arrival probe(s) simulated without natc's config, {answered} passed",
            controls.len()
        )?;
        if !self.tunnels.is_empty() {
            let crossing: Vec<&ExpectResult> =
                self.results.iter().map(|r| &r.result).filter(|r| r.tunnel_control.is_some()).collect();
            let passed = crossing.iter().filter(|r| r.tunnel_control.as_ref().is_some_and(|c| c.pass)).count();
            writeln!(
                f,
                "tunnel control: {} probe(s) only a tunnel can carry, simulated with the packet filter loaded and no tunnel up, {passed} passed",
                crossing.len()
            )?;
        }
        for line in &self.tunnels {
            writeln!(f, "{}", escape(line))?;
        }
        // Widths are measured on the escaped text and capped: a name of any length or
        // content is one line and never an out-of-range format width.
        let width =
            |get: fn(&ExpectResult) -> &str| column_width(self.results.iter().map(|r| get(&r.result)), MAX_COLUMN);
        let (name_width, sent_width, expected_width) = (width(|r| &r.name), width(|r| &r.sent), width(|r| &r.expected));
        for r in &self.results {
            let x = &r.result;
            let mark = if x.passed() { "PASS" } else { "FAIL" };
            // As verify words them (lab/report.rs).
            let seen = match (&x.control, &x.tunnel_control) {
                (Some(c), _) if c.pass => {
                    format!("passes without natc's config too, so it proves nothing — before: {}", c.seen)
                }
                (_, Some(c)) if c.pass => format!(
                    "passes with the packet filter loaded and no tunnel up, so the tunnel is not what carries it — then: {}",
                    c.seen
                ),
                _ => x.verdict.seen.clone(),
            };
            writeln!(
                f,
                "{mark}  {}  {}  {}  {}",
                padded(&x.name, name_width),
                padded(&x.sent, sent_width),
                padded(&x.expected, expected_width),
                escape(&seen)
            )?;
            write!(f, "{}", render::steps(&r.request, "      "))?;
            if !r.reply.is_empty() {
                writeln!(f, "    back:")?;
                write!(f, "{}", render::steps(&r.reply, "      "))?;
            }
        }
        let failed = self.results.iter().filter(|r| !r.result.passed()).count();
        let tunnels = match self.tunnels_failed {
            0 => String::new(),
            n => format!(", {n} tunnel(s) did not come up"),
        };
        writeln!(
            f,
            "{} passed, {failed} failed{tunnels} ({}, trace)",
            self.results.len() - failed,
            escape(&self.intent)
        )
    }
}
