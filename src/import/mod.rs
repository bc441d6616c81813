//! `natc import`: an existing device configuration → an intent (docs/import.md). One
//! parser per format fills a `Draft` (items with their source lines, the lines it could
//! not express); `write` turns the draft into TOML. A parser reads its text line by line,
//! once, and never fails: what it cannot read becomes a reported line.
//!
//! Layering: `import` sits beside the passes, not in them. It writes intent *text*, which
//! the ordinary pipeline then reads, so it needs no intent, model or plan types.

pub mod draft;
mod iptables;
mod tokens;
mod write;

pub use draft::Unexpressed;

/// The configuration formats `natc import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `iptables-save` output, or natc's iptables.rules.
    IptablesSave,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::IptablesSave => "iptables-save",
        }
    }

    /// The natc target that writes this format: the imported gateway's `targets`.
    pub fn target(self) -> &'static str {
        match self {
            Format::IptablesSave => "iptables",
        }
    }

    /// The format of `text`, when its first significant lines say so unambiguously.
    pub fn detect(text: &str) -> Option<Format> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first_rule = lines.find(|l| !l.starts_with('#'))?;
        if first_rule.starts_with('*') || first_rule.starts_with("iptables ") {
            return Some(Format::IptablesSave);
        }
        None
    }
}

/// An imported intent and the report of what it could not carry.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The intent as TOML text.
    pub intent: String,
    /// Every line that is not in the intent, and why (also listed at the intent's top).
    pub unexpressed: Vec<Unexpressed>,
    /// How many items the intent has (a file with none is refused by the command).
    pub items: usize,
}

/// Import `text`, read from `file` (the name the comments and the report use).
pub fn import(file: &str, text: &str, format: Format) -> Imported {
    let mut draft = draft::Draft::default();
    match format {
        Format::IptablesSave => iptables::parse(text, &mut draft),
    }
    let intent = write::write(&draft, file, format.name(), format.target());
    Imported { intent, items: draft.items.len(), unexpressed: draft.unexpressed }
}
