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
                .map(|(i, s)| SectionView { title: s.title, lines: section_slot(i) })
                .collect(),
        };
        let shape = engine::render("vyos/commands.tera", &view)?;
        drop(view);
        let text = splice(&shape, sections)?;
        drop(shape);
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

/// One `set` line: a path of words natc has validated (no quoting needed) and an optional
/// value, which [`SectionView`] quotes, or a pre-shared key's slot, which it writes as it
/// is. Path and value share one `String` (a 100k-rule file has half a million lines: one
/// allocation each, not two); lines order and compare as (path, value, secret).
#[derive(Debug, Clone)]
pub struct Line {
    text: String,
    /// Where the path ends in `text`; the value, if any, is the rest.
    path_len: usize,
    has_value: bool,
    /// `value` is a [`crate::backend::secret::slot_marker`], filled in after rendering.
    secret: bool,
}

impl Line {
    fn new(path: String, value: Option<&dyn std::fmt::Display>, secret: bool) -> Line {
        use std::fmt::Write;
        let (mut text, has_value) = (path, value.is_some());
        let path_len = text.len();
        if let Some(v) = value {
            let _ = write!(text, "{v}");
        }
        Line { text, path_len, has_value, secret }
    }

    pub fn path(&self) -> &str {
        &self.text[..self.path_len]
    }

    pub fn value(&self) -> Option<&str> {
        self.has_value.then(|| &self.text[self.path_len..])
    }

    fn key(&self) -> (&str, Option<&str>, bool) {
        (self.path(), self.value(), self.secret)
    }
}

impl PartialEq for Line {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Line {}

impl PartialOrd for Line {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Line {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// The lines of one intent item, under a `#` line naming it.
#[derive(Debug, Clone)]
pub struct Block {
    pub comment: String,
    /// Where the block sorts in its section (rule number, or 0 and a name).
    pub order: (u32, String),
    pub lines: Vec<Line>,
}

impl Block {
    pub fn new(comment: impl Into<String>, order: (u32, String)) -> Block {
        Block { comment: comment.into(), order, lines: Vec::new() }
    }

    /// `set PATH 'VALUE'`.
    pub fn leaf(&mut self, path: impl Into<String>, value: impl std::fmt::Display) {
        self.lines.push(Line::new(path.into(), Some(&value), false));
    }

    /// `set PATH <key>`: the slot for the pre-shared key of `gw.tunnels[tunnel]`.
    pub fn secret(&mut self, path: impl Into<String>, tunnel: usize) {
        let marker = crate::backend::secret::slot_marker(tunnel);
        self.lines.push(Line::new(path.into(), Some(&marker), true));
    }

    /// `set PATH` for a valueless leaf or a node without children.
    pub fn node(&mut self, path: impl Into<String>) {
        self.lines.push(Line::new(path.into(), None, false));
    }
}

#[derive(Debug)]
pub struct Section {
    pub title: &'static str,
    pub blocks: Vec<Block>,
}

impl Section {
    fn new(title: &'static str, mut blocks: Vec<Block>) -> Section {
        // Deterministic: blocks by rule number (or name), lines by path as VyOS lists them.
        blocks.sort_by(|a, b| a.order.cmp(&b.order));
        for b in &mut blocks {
            b.lines.sort();
            b.lines.dedup();
        }
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

/// A section as the template shows it: its title, and the slot its lines take
/// ([`splice`] writes them there).
#[derive(Serialize)]
struct SectionView {
    title: &'static str,
    lines: String,
}

/// Where section `index`'s lines go in the rendered shape: a NUL never reaches a VyOS
/// file, so the marker cannot be mistaken for text.
fn section_slot(index: usize) -> String {
    format!("\0natc-vyos-section:{index}\0")
}

/// The rendered shape with each section's lines in its slot, in one String sized up front.
/// Slots are found from the end: after the header comes only natc's own text (titles and
/// slots), so the last slot found is the template's own even if a user string in the
/// header happened to hold a marker.
fn splice(shape: &str, sections: Vec<Section>) -> Result<String, Diagnostic> {
    let mut at = Vec::with_capacity(sections.len());
    let mut end = shape.len();
    for i in (0..sections.len()).rev() {
        let slot = section_slot(i);
        let Some(start) = shape[..end].rfind(&slot) else {
            return Err(engine::render_failed(format!("vyos/commands.tera has no slot for section {i}")));
        };
        at.push((start, start + slot.len()));
        end = start;
    }
    at.reverse();
    let size = shape.len() + sections.iter().map(section_size).sum::<usize>();
    let mut text = String::with_capacity(size);
    let mut from = 0;
    for (section, (start, end)) in sections.into_iter().zip(at) {
        text.push_str(&shape[from..start]);
        write_section(&mut text, &section);
        from = end;
    }
    text.push_str(&shape[from..]);
    Ok(text)
}

/// An upper bound of a section's text, unless a value holds a `'` (a quoted value is its
/// text and two quotes).
fn section_size(section: &Section) -> usize {
    section.blocks.iter().map(|b| 3 + b.comment.len() + b.lines.iter().map(|l| 8 + l.text.len()).sum::<usize>()).sum()
}

/// `# comment` and `set PATH 'VALUE'` lines, each ending in a newline.
fn write_section(text: &mut String, section: &Section) {
    for block in &section.blocks {
        text.push_str("# ");
        text.push_str(&block.comment);
        text.push('\n');
        for line in &block.lines {
            text.push_str("set ");
            text.push_str(line.path());
            match (line.value(), line.secret) {
                // A key's slot is written as it is; it is filled in after rendering.
                (Some(v), true) => {
                    text.push(' ');
                    text.push_str(v);
                }
                (Some(v), false) => {
                    text.push(' ');
                    super::quote::push_vyos_quoted(text, v);
                }
                (None, _) => {}
            }
            text.push('\n');
        }
    }
}

/// An address as VyOS writes it: a host without `/32`.
pub fn address(net: &ipnet::Ipv4Net) -> String {
    if net.prefix_len() == 32 { net.addr().to_string() } else { net.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One String per line sorts and dedups as the (path, value, secret) it stands for,
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
        let mut lines: Vec<Line> = cases
            .iter()
            .map(|(p, v, s)| Line::new(p.to_string(), v.as_ref().map(|v| v as &dyn std::fmt::Display), *s))
            .collect();
        lines.sort();
        lines.dedup();
        let back: Vec<(&str, Option<&str>, bool)> = lines.iter().map(Line::key).collect();
        assert_eq!(back, tuples);
    }
}
