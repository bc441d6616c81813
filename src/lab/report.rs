//! The verify table: one line per expectation, pass or fail, what was seen, how long.

use super::judge::Judgement;
use crate::plan::{Expect, Outcome};
use crate::vocab::TargetSpec;
use std::fmt::{self, Write};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ExpectResult {
    pub name: String,
    /// `icmp vm01 → 192.168.100.3`, `tcp vm01 → 192.168.100.3:8080`.
    pub sent: String,
    /// `arrives at vm03`, `blocked`.
    pub expected: String,
    /// The same probe before natc's config was loaded (arrival expectations only): it must
    /// not pass, or the expectation proves nothing about the config.
    pub control: Option<Judgement>,
    pub verdict: Judgement,
    pub time: Duration,
}

impl ExpectResult {
    pub fn new(e: &Expect, control: Option<Judgement>, verdict: Judgement, time: Duration) -> ExpectResult {
        let target = match e.port {
            Some(port) => format!("{}:{port}", e.to.value),
            None => e.to.value.to_string(),
        };
        ExpectResult {
            name: e.name.value.clone(),
            sent: format!("{} {} → {target}", e.protocol.as_str(), e.from.value),
            expected: match &e.outcome {
                Outcome::Arrives { host, .. } => format!("arrives at {}", host.value),
                Outcome::Blocked { .. } => "blocked".to_string(),
            },
            control,
            verdict,
            time,
        }
    }

    /// Passes with the config and did not pass without it.
    pub fn passed(&self) -> bool {
        self.verdict.pass && !self.control.as_ref().is_some_and(|c| c.pass)
    }

    fn seen(&self) -> String {
        match &self.control {
            Some(c) if c.pass => format!("passes without natc's config too, so it proves nothing — before: {}", c.seen),
            _ => self.verdict.seen.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub intent: String,
    pub target: TargetSpec,
    /// The namespace prefix of this run's lab (all removed by the time this exists).
    pub lab: String,
    pub results: Vec<ExpectResult>,
    pub elapsed: Duration,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.results.iter().all(ExpectResult::passed)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let controls: Vec<&ExpectResult> = self.results.iter().filter(|r| r.control.is_some()).collect();
        let answered = controls.iter().filter(|r| r.control.as_ref().is_some_and(|c| c.pass)).count();
        writeln!(
            f,
            "negative control: {} arrival probe(s) sent before natc's config was loaded, {answered} passed",
            controls.len()
        )?;
        let name_width = self.results.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
        let sent_width = self.results.iter().map(|r| r.sent.chars().count()).max().unwrap_or(0);
        let expected_width = self.results.iter().map(|r| r.expected.chars().count()).max().unwrap_or(0);
        for r in &self.results {
            let mark = if r.passed() { "PASS" } else { "FAIL" };
            let mut line = String::new();
            let _ = write!(
                line,
                "{mark}  {:name_width$}  {:sent_width$}  {:expected_width$}  {}  ({} ms)",
                r.name,
                r.sent,
                r.expected,
                r.seen(),
                r.time.as_millis()
            );
            writeln!(f, "{line}")?;
        }
        let failed = self.results.iter().filter(|r| !r.passed()).count();
        writeln!(
            f,
            "{} passed, {failed} failed ({}, {}, {:.1} s)",
            self.results.len() - failed,
            self.intent,
            self.target,
            self.elapsed.as_secs_f64()
        )
    }
}
