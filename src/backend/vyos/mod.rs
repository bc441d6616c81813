//! `--target vyos[@1.4|@1.5]`: VyOS configuration-mode `set` commands (`commands.vyos`).
//!
//! One pass builds the whole configuration as blocks of `set` lines, each block tied to
//! the intent item it comes from; the same pass collects what VyOS cannot express
//! exactly (N301 errors) and what the operator must know (warnings). `check` returns the
//! findings, `render` the text. Rule numbers come from `numbering` (stable under edits).

mod firewall;
mod interfaces;
mod ipsec;
mod nat;
mod routing;

use super::header::{HeaderView, header_view};
use super::{Header, OutputFile, Target, TargetKind, TargetSpec, engine};
use crate::diag::Diagnostic;
use crate::plan::GatewayPlan;
use crate::vocab::VyosVersion;
use serde::Serialize;
use std::cell::RefCell;

pub const RULES_FILE: &str = "commands.vyos";
const NAME: &str = "vyos";

/// Rule numbers natc derives from rule names (NAT and firewall): far above the fixed
/// numbers it uses itself (1, 2) and the low numbers operators add by hand.
pub const HASHED_RULES: std::ops::RangeInclusive<u32> = 1000..=999_999;

/// The VyOS release the commands are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// 1.4 LTS (sagitta), natc's default.
    V14,
    /// 1.5 (circinus) / rolling.
    V15,
}

impl Profile {
    pub fn of(spec: &TargetSpec) -> Profile {
        match spec.vyos_version() {
            VyosVersion::V1_5 => Profile::V15,
            VyosVersion::V1_4 => Profile::V14,
        }
    }

    fn target_name(self) -> &'static str {
        match self {
            Profile::V14 => "vyos@1.4",
            Profile::V15 => "vyos@1.5",
        }
    }

    fn release(self) -> &'static str {
        match self {
            Profile::V14 => "VyOS 1.4 (sagitta)",
            Profile::V15 => "VyOS 1.5 (circinus)",
        }
    }
}

pub struct Vyos {
    pub profile: Profile,
    /// The configuration `check` built, kept for `render` of the same gateway: the
    /// pipeline asks one target object for both in turn, and building twice was half the
    /// time of a large build. Keyed by the gateway's address (`render` of another gateway
    /// builds afresh).
    built: RefCell<Option<(*const GatewayPlan, Built)>>,
}

impl Vyos {
    pub fn new(profile: Profile) -> Self {
        Vyos { profile, built: RefCell::new(None) }
    }

    fn configuration(&self, gw: &GatewayPlan) -> Built {
        match self.built.borrow_mut().take() {
            Some((of, built)) if std::ptr::eq(of, gw) => built,
            _ => configuration(gw),
        }
    }
}

impl Target for Vyos {
    fn check(&self, gw: &GatewayPlan) -> Vec<Diagnostic> {
        let built = configuration(gw);
        let mut findings = built.findings.clone();
        findings.extend(policy_tunnels(gw));
        *self.built.borrow_mut() = Some((gw, built));
        findings
    }

    fn render(&self, header: &Header, gw: &GatewayPlan) -> Result<Vec<OutputFile>, Diagnostic> {
        let built = self.configuration(gw);
        if let Some(error) = built.findings.into_iter().chain(policy_tunnels(gw)).find(Diagnostic::is_error) {
            return Err(error);
        }
        let mut notes = vec![
            format!("Written for {}; checked against its configuration schema.", self.profile.release()),
            "Additive: set lines only. Rule numbers are stable, so an item removed from the intent is removed with `delete` on its number.".into(),
        ];
        notes.extend(super::rollback::VYOS_NOTES.map(String::from));
        if !gw.tunnels.is_empty() {
            notes.push(header.secrets_note().into());
        }
        // The template writes the file's shape (header, section titles, their order) with
        // a slot where each section's lines go; the lines are written here, straight into
        // the file, each section's blocks dropped as soon as they are written. Through
        // Tera's context a 100k-rule section was copied twice more (its value and Tera's
        // output buffer).
        let sections: Vec<Section> = built.sections.into_iter().filter(|s| !s.blocks.is_empty()).collect();
        let view = CommandsView {
            header: header_view(
                header,
                gw,
                self.profile.target_name(),
                super::rollback::vyos_apply(&format!("paste these lines (or `source {RULES_FILE}`)")),
                notes,
            ),
            sections: sections
                .iter()
                .enumerate()
                .map(|(i, s)| SectionView { title: s.title, lines: engine::slot(i) })
                .collect(),
        };
        let fills = sections
            .into_iter()
            .map(|section| engine::Fill {
                size: section.blocks.iter().map(|b| b.text.len()).sum(),
                write: Box::new(move |text: &mut String| {
                    for block in &section.blocks {
                        text.push_str(&block.text);
                    }
                }),
            })
            .collect();
        let text = engine::render_spliced("vyos/commands.tera", &view, fills)?;
        Ok(vec![OutputFile::with_secret_slots(TargetKind::Vyos, gw, RULES_FILE, text, true)?])
    }
}

/// VyOS NAT and firewall rules match interfaces; a policy tunnel has none (its traffic
/// leaves through the WAN interface, before and after encryption).
fn policy_tunnels(gw: &GatewayPlan) -> Vec<Diagnostic> {
    super::policy_tunnel_interfaces(
        NAME,
        gw,
        "name the interface the tunnel's traffic leaves through (the WAN interface), or make the tunnel route-based (vti) and name its VTI",
    )
}

/// One `set` line of a [`Block`]: where its path and value sit in the block's `text`.
/// A block's lines share one buffer (a 100k-rule file has half a million lines: one
/// allocation each was a fifth of a large build, most of it in freeing them); lines order
/// and compare as (path, value, secret).
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    /// Where the path ends; the value, if any, is the rest up to `end`.
    path_end: usize,
    end: usize,
    has_value: bool,
    /// `value` is a [`crate::backend::secret::slot_marker`], filled in after rendering.
    secret: bool,
}

impl Line {
    fn path(self, text: &str) -> &str {
        &text[self.start..self.path_end]
    }

    fn value(self, text: &str) -> Option<&str> {
        self.has_value.then(|| &text[self.path_end..self.end])
    }

    fn key(self, text: &str) -> (&str, Option<&str>, bool) {
        (self.path(text), self.value(text), self.secret)
    }
}

/// The lines of one intent item, under a `#` line naming it, as they are being made: each
/// path a list of words natc has validated (no quoting needed) and an optional value,
/// which [`Block::written`] quotes, or a pre-shared key's slot, which it writes as it is.
#[derive(Debug)]
pub struct Block {
    comment: String,
    /// Where the block sorts in its section (rule number, or 0 and a name).
    order: (u32, String),
    text: String,
    lines: Vec<Line>,
}

impl Block {
    pub fn new(comment: impl Into<String>, order: (u32, String)) -> Block {
        Block { comment: comment.into(), order, text: String::new(), lines: Vec::new() }
    }

    fn push(&mut self, path: &dyn std::fmt::Display, value: Option<&dyn std::fmt::Display>, secret: bool) {
        use std::fmt::Write;
        let start = self.text.len();
        let _ = write!(self.text, "{path}");
        let path_end = self.text.len();
        if let Some(v) = value {
            let _ = write!(self.text, "{v}");
        }
        let end = self.text.len();
        self.lines.push(Line { start, path_end, end, has_value: value.is_some(), secret });
    }

    /// `set PATH 'VALUE'`.
    pub fn leaf(&mut self, path: impl std::fmt::Display, value: impl std::fmt::Display) {
        self.push(&path, Some(&value), false);
    }

    /// `set PATH <key>`: the slot for the pre-shared key of `gw.tunnels[tunnel]`.
    pub fn secret(&mut self, path: impl std::fmt::Display, tunnel: usize) {
        let marker = crate::backend::secret::slot_marker(tunnel);
        self.push(&path, Some(&marker), true);
    }

    /// `set PATH` for a valueless leaf or a node without children.
    pub fn node(&mut self, path: impl std::fmt::Display) {
        self.push(&path, None, false);
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The block as the file shows it: `# comment`, then its `set` lines sorted by path
    /// (as VyOS lists them) without repeats, each ending in a newline. Made as soon as a
    /// block is complete, so that a large section holds only its text.
    pub fn written(mut self) -> Written {
        let text = &self.text;
        self.lines.sort_by(|a, b| a.key(text).cmp(&b.key(text)));
        self.lines.dedup_by(|a, b| a.key(text) == b.key(text));
        let mut out = String::with_capacity(
            3 + self.comment.len() + self.lines.iter().map(|l| 8 + l.end - l.start).sum::<usize>(),
        );
        out.push_str("# ");
        out.push_str(&self.comment);
        out.push('\n');
        for line in &self.lines {
            out.push_str("set ");
            out.push_str(line.path(text));
            match (line.value(text), line.secret) {
                // A key's slot is written as it is; it is filled in after rendering.
                (Some(v), true) => {
                    out.push(' ');
                    out.push_str(v);
                }
                (Some(v), false) => {
                    out.push(' ');
                    super::quote::push_vyos_quoted(&mut out, v);
                }
                (None, _) => {}
            }
            out.push('\n');
        }
        Written { order: self.order, text: out.into_boxed_str() }
    }
}

/// A [`Block`] written: where it sorts and its text.
#[derive(Debug)]
pub struct Written {
    order: (u32, String),
    text: Box<str>,
}

#[derive(Debug)]
pub struct Section {
    pub title: &'static str,
    pub blocks: Vec<Written>,
}

impl Section {
    fn new(title: &'static str, mut blocks: Vec<Written>) -> Section {
        // Deterministic: blocks by rule number (or name).
        blocks.sort_by(|a, b| a.order.cmp(&b.order));
        Section { title, blocks }
    }
}

/// The whole configuration, or what stands in its way.
pub struct Built {
    pub sections: Vec<Section>,
    /// N301 errors and warnings, in the order found.
    pub findings: Vec<Diagnostic>,
}

/// The configuration for one gateway. Every path natc writes has the same syntax in 1.4
/// and 1.5 (docs/vyos.md), so the profile shows only in the header.
fn configuration(gw: &GatewayPlan) -> Built {
    let mut findings = Vec::new();
    let sections = vec![
        Section::new("interfaces", interfaces::blocks(gw, &mut findings)),
        Section::new("static routes", routing::static_routes(gw, &mut findings)),
        Section::new("destination NAT (evaluated by rule number, first match)", nat::destination(gw, &mut findings)),
        Section::new("source NAT (evaluated by rule number, first match)", nat::source(gw, &mut findings)),
        Section::new("firewall: traffic to the gateway", firewall::chain(gw, firewall::Chain::Input, &mut findings)),
        Section::new("firewall: forwarded traffic", firewall::chain(gw, firewall::Chain::Forward, &mut findings)),
        Section::new("IPsec", ipsec::blocks(gw, &mut findings)),
        Section::new("BGP", routing::bgp(gw, &mut findings)),
    ];
    // `rule N limit rate` is a match of the rule (it would limit the accept or translation
    // too), and `log-options` has no rate (firewall.xml 1.4): a log_rate is refused.
    findings.extend(crate::backend::log::refuse_rates(
        NAME,
        gw,
        crate::backend::log::Written::ALL,
        |_| true,
        "its log_rate: VyOS's `limit rate` is a match of the whole rule (past the rate the rule would not accept or translate either), and `log` / `log-options` have no rate",
        "remove `log_rate` for the vyos target (`log = true` alone is written as VyOS `log`)",
    ));
    Built { sections, findings }
}

#[derive(Serialize)]
struct CommandsView {
    header: HeaderView,
    sections: Vec<SectionView>,
}

/// A section as the template shows it: its title, and the slot its lines take (written
/// by [`engine::render_spliced`]).
#[derive(Serialize)]
struct SectionView {
    title: &'static str,
    lines: String,
}

/// An address as VyOS writes it: a host without `/32`.
pub fn address(net: &ipnet::Ipv4Net) -> String {
    if net.prefix_len() == 32 { net.addr().to_string() } else { net.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines in one buffer sort and dedup as the (path, value, secret) they stand for,
    /// also where one path is a prefix of another or a value starts like a path word.
    #[test]
    fn lines_order_as_path_value_secret() {
        let cases: Vec<(&str, Option<&str>, bool)> = vec![
            ("nat rule 5 log", None, false),
            ("nat rule 5", Some("x"), false),
            ("nat rule 5", None, false),
            ("nat rule 5 description", Some("a"), false),
            ("nat rule 5", Some(" log"), false),
            ("nat rule 5", Some("x"), true),
            ("nat rule 50", Some(""), false),
            ("nat rule 5", Some(""), false),
            ("nat rule 5", None, false),
            ("nat rule 5", Some("\u{0}natc"), true),
        ];
        let mut tuples = cases.clone();
        tuples.sort();
        tuples.dedup();
        let mut block = Block::new("c", (0, String::new()));
        for (p, v, s) in &cases {
            block.push(p, v.as_ref().map(|v| v as &dyn std::fmt::Display), *s);
        }
        let mut expected = String::from("# c\n");
        for (p, v, s) in tuples {
            expected.push_str(&format!("set {p}"));
            match (v, s) {
                (Some(v), true) => expected.push_str(&format!(" {v}")),
                (Some(v), false) => expected.push_str(&format!(" '{v}'")),
                (None, _) => {}
            }
            expected.push('\n');
        }
        assert_eq!(&*block.written().text, expected);
    }
}
