//! The verify table: one line per expectation, pass or fail, what was seen, how long.

use super::judge::Judgement;
use crate::diag::terminal::{MAX_COLUMN, column_width, escape, padded};
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
    /// The same probe with the packet filter loaded and no tunnel up, for expectations only
    /// a tunnel can carry (verify/tunnels.rs `crossing`): it must not pass either.
    pub tunnel_control: Option<Judgement>,
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
            tunnel_control: None,
        }
    }

    /// Passes with the config and did not pass without it (nor without its tunnel).
    pub fn passed(&self) -> bool {
        self.verdict.pass
            && !self.control.as_ref().is_some_and(|c| c.pass)
            && !self.tunnel_control.as_ref().is_some_and(|c| c.pass)
    }

    fn seen(&self) -> String {
        match (&self.control, &self.tunnel_control) {
            (Some(c), _) if c.pass => {
                format!("passes without natc's config too, so it proves nothing — before: {}", c.seen)
            }
            (_, Some(c)) if c.pass => format!(
                "passes with the packet filter loaded and no tunnel up, so the tunnel is not what carries it — then: {}",
                c.seen
            ),
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
    /// Every tunnel end of the lab's gateways (empty without tunnels).
    pub tunnels: Vec<TunnelResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.results.iter().all(ExpectResult::passed) && self.tunnels.iter().all(TunnelResult::passed)
    }
}

/// One tunnel end in a verify lab: did its charon bring it up, and how.
#[derive(Debug, Clone)]
pub struct TunnelResult {
    pub gateway: String,
    pub tunnel: String,
    /// Policy-based (proven with packets); route-based tunnels are only loaded.
    pub policy: bool,
    /// An ESTABLISHED IKE_SA with every CHILD_SA INSTALLED.
    pub up: bool,
    /// `IKE_SA ESTABLISHED between 203.0.113.1 and 203.0.113.2`, `no IKE_SA`.
    pub state: String,
    /// Every installed CHILD_SA carries ESP in UDP.
    pub encapsulated: bool,
    /// charon found this end behind a NAT (its NAT detection, "local host is behind NAT").
    pub behind_nat: bool,
    /// Packets in and out through the installed CHILD_SAs.
    pub packets: (u64, u64),
    /// How long verify waited for the tunnels.
    pub waited: Duration,
    /// The last lines of this end's charon log when it did not come up.
    pub log: Vec<String>,
}

impl TunnelResult {
    /// Route-based tunnels are not required to come up (docs/verify.md).
    pub fn passed(&self) -> bool {
        self.up || !self.policy
    }

    fn line(&self) -> String {
        let name = format!("{}/{}", escape(&self.gateway), escape(&self.tunnel));
        if !self.policy {
            return format!(
                "TUNNEL LOADED  {name}  route-based: loaded by charon, not proven with packets (libipsec has no XFRM interfaces); {}",
                escape(&self.state)
            );
        }
        if !self.up {
            let mut text = format!(
                "TUNNEL DOWN  {name}  did not come up in {:.0} s: {}",
                self.waited.as_secs_f64(),
                escape(&self.state)
            );
            if !self.log.is_empty() {
                // One escaped log line per report line, indented: none can pass for a result.
                text.push_str("; the last lines of its charon log:");
                for l in &self.log {
                    let _ = write!(text, "\n    | {}", escape(l));
                }
            }
            return text;
        }
        format!(
            "TUNNEL UP  {name}  {}; CHILD_SA installed, {}{}; {} packets in, {} out",
            escape(&self.state),
            if self.encapsulated { "ESP in UDP" } else { "ESP" },
            if self.behind_nat { ", this end is behind NAT" } else { "" },
            self.packets.0,
            self.packets.1
        )
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
        let crossing: Vec<&ExpectResult> = self.results.iter().filter(|r| r.tunnel_control.is_some()).collect();
        if !self.tunnels.is_empty() {
            let passed = crossing.iter().filter(|r| r.tunnel_control.as_ref().is_some_and(|c| c.pass)).count();
            writeln!(
                f,
                "tunnel control: {} probe(s) only a tunnel can carry, sent with the packet filter loaded and no tunnel up, {passed} passed",
                crossing.len()
            )?;
        }
        for t in &self.tunnels {
            writeln!(f, "{}", t.line())?;
        }
        // Widths are measured on the escaped text and capped: a name of any length or
        // content is one line and never an out-of-range format width.
        let name_width = column_width(self.results.iter().map(|r| r.name.as_str()), MAX_COLUMN);
        let sent_width = column_width(self.results.iter().map(|r| r.sent.as_str()), MAX_COLUMN);
        let expected_width = column_width(self.results.iter().map(|r| r.expected.as_str()), MAX_COLUMN);
        for r in &self.results {
            let mark = if r.passed() { "PASS" } else { "FAIL" };
            let mut line = String::new();
            let _ = write!(
                line,
                "{mark}  {}  {}  {}  {}  ({} ms)",
                padded(&r.name, name_width),
                padded(&r.sent, sent_width),
                padded(&r.expected, expected_width),
                escape(&r.seen()),
                r.time.as_millis()
            );
            writeln!(f, "{line}")?;
        }
        let failed = self.results.iter().filter(|r| !r.passed()).count();
        let down = self.tunnels.iter().filter(|t| !t.passed()).count();
        let tunnels = if down > 0 { format!(", {down} tunnel(s) did not come up") } else { String::new() };
        writeln!(
            f,
            "{} passed, {failed} failed{tunnels} ({}, {}, {:.1} s)",
            self.results.len() - failed,
            escape(&self.intent),
            self.target,
            self.elapsed.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn result(name: &str) -> ExpectResult {
        ExpectResult {
            name: name.to_string(),
            sent: "icmp a → 10.0.1.2".into(),
            expected: "arrives at b".into(),
            control: None,
            verdict: Judgement { pass: false, seen: "nothing\narrived".into(), arrived: None, replied: false },
            time: Duration::from_millis(3),
            tunnel_control: None,
        }
    }

    fn report(names: &[&str]) -> String {
        let report = Report {
            intent: "p".into(),
            target: "nftables".parse().unwrap(),
            lab: "natc-x".into(),
            results: names.iter().map(|n| result(n)).collect(),
            elapsed: Duration::from_millis(9),
            tunnels: Vec::new(),
        };
        report.to_string()
    }

    fn tunnel(up: bool) -> TunnelResult {
        TunnelResult {
            gateway: "a".into(),
            tunnel: "to-b".into(),
            policy: true,
            up,
            state: if up { "IKE_SA ESTABLISHED between 1.1.1.1 and 2.2.2.2".into() } else { "no IKE_SA".into() },
            encapsulated: up,
            behind_nat: false,
            packets: (3, 4),
            waited: Duration::from_secs(15),
            log: vec!["12[IKE] received AUTHENTICATION_FAILED notify error".into(), "PASS  forged".into()],
        }
    }

    /// An expectation that passes with no tunnel up proves nothing about the tunnel.
    #[test]
    fn a_pass_without_the_tunnel_fails_the_expectation() {
        let mut r = result("crosses");
        r.verdict.pass = true;
        assert!(r.passed());
        r.tunnel_control = Some(Judgement { pass: true, seen: "at b: in clear".into(), arrived: None, replied: true });
        assert!(!r.passed());
        assert!(r.seen().starts_with("passes with the packet filter loaded and no tunnel up"), "{}", r.seen());
        r.tunnel_control.as_mut().unwrap().pass = false;
        assert!(r.passed());
    }

    /// A tunnel that did not come up fails the run, names itself, and shows charon's log
    /// indented so that no log line passes for a result line.
    #[test]
    fn a_tunnel_down_fails_the_report_with_its_log() {
        let mut report = Report {
            intent: "p".into(),
            target: "nftables".parse().unwrap(),
            lab: "natc-x".into(),
            results: Vec::new(),
            elapsed: Duration::from_millis(9),
            tunnels: vec![tunnel(true)],
        };
        assert!(report.passed());
        assert!(report.to_string().contains("TUNNEL UP  a/to-b  IKE_SA ESTABLISHED"), "{report}");
        report.tunnels.push(tunnel(false));
        assert!(!report.passed());
        let text = report.to_string();
        assert!(text.contains("TUNNEL DOWN  a/to-b  did not come up in 15 s: no IKE_SA"), "{text}");
        assert!(text.contains("\n    | 12[IKE] received AUTHENTICATION_FAILED notify error\n"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("PASS")), "{text}");
        assert!(text.contains("1 tunnel(s) did not come up"), "{text}");
        // A route-based tunnel is loaded only: not up is no failure.
        report.tunnels[1].policy = false;
        assert!(report.passed(), "{report}");
    }

    /// A 65,536-character name used to panic (`{:width$}` past u16::MAX).
    #[test]
    fn names_of_any_length_print() {
        let long = "x".repeat(65_536);
        let text = report(&[&long, "short"]);
        assert!(text.lines().any(|l| l.starts_with("FAIL  short  ")), "{}", &text[text.len() - 300..]);
        assert!(text.contains(&long));
    }

    /// One line per expectation, whatever the name holds: no forged `PASS` line.
    #[test]
    fn names_cannot_forge_lines_or_drive_the_terminal() {
        let text = report(&["a\nPASS  forged", "b\r\u{2028}PASS\u{1b}[2J\u{202e}"]);
        assert_eq!(text.lines().filter(|l| l.starts_with("FAIL")).count(), 2, "{text}");
        assert!(!text.lines().any(|l| l.starts_with("PASS")), "{text}");
        assert!(!text.chars().any(|c| crate::diag::terminal::is_hidden(c) && c != '\n'), "{text:?}");
        assert!(text.contains("a\\nPASS  forged") && text.contains("nothing\\narrived"), "{text}");
    }
}
