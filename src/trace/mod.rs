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
//! (one expectation), `single` (one packet at one gateway), `render` (the steps).

mod conntrack;
mod expect;
mod gateway;
mod lab;
mod net;
mod packet;
mod redirect;
pub mod render;
mod rules;
mod single;

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
    pub results: Vec<ExpectTrace>,
}

impl TraceReport {
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.result.passed())
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
    let results = expects
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let key = i as u32 + 1;
            // verify's keys: 1..=n for the control, 10 001.. for the real probes.
            let control = matches!(e.outcome, Outcome::Arrives { .. })
                .then(|| expect::simulate(&control_lab, e, key, &listening).verdict);
            let run = expect::simulate(&lab, e, key + 10_000, &listening);
            ExpectTrace {
                result: ExpectResult::new(e, control, run.verdict, Duration::ZERO),
                request: run.request,
                reply: run.reply,
                unmodelled: run.unmodelled,
            }
        })
        .collect();
    Ok(TraceReport { intent: compiled.plan.intent.clone(), results })
}

fn missing(what: &str, help: &str) -> Error {
    Error::Invalid(vec![Diagnostic::error(Code::MISSING_KEY, format!("the intent has no {what}")).help(help)])
}

/// A gateway as verify's negative control sees it: its interfaces and addresses, and
/// nothing natc generates (no rules, no sysctls, no owned addresses, no routes).
fn without_config(g: &GatewayPlan) -> GatewayPlan {
    let accept = |p: &ChainPolicy| ChainPolicy { verdict: crate::vocab::Verdict::Accept, origin: p.origin.clone() };
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
        // Widths are measured on the escaped text and capped: a name of any length or
        // content is one line and never an out-of-range format width.
        let width =
            |get: fn(&ExpectResult) -> &str| column_width(self.results.iter().map(|r| get(&r.result)), MAX_COLUMN);
        let (name_width, sent_width, expected_width) = (width(|r| &r.name), width(|r| &r.sent), width(|r| &r.expected));
        for r in &self.results {
            let x = &r.result;
            let mark = if x.passed() { "PASS" } else { "FAIL" };
            let seen = match &x.control {
                Some(c) if c.pass => {
                    format!("passes without natc's config too, so it proves nothing — before: {}", c.seen)
                }
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
        writeln!(f, "{} passed, {failed} failed ({}, trace)", self.results.len() - failed, escape(&self.intent))
    }
}
