//! Diagnostics: our own records (code, severity, message, labels, help), kept apart from
//! the renderer so that miette can be swapped without touching any check.

mod machine;
mod render;
pub mod terminal;
mod view;

pub use crate::vocab::codes::{CODES, Code};
pub use crate::vocab::suggest::did_you_mean;
pub use machine::{LineIndex, to_github, to_json_lines};
pub use render::{Rendered, Reporter, render_plain, render_report};

pub use crate::vocab::origin::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The first label is the primary one: it decides the reported line.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic { code, severity: Severity::Error, message: message.into(), labels: Vec::new(), help: None }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label { span, text: text.into() });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn primary_span(&self) -> Option<&Span> {
        self.labels.first().map(|l| &l.span)
    }
}

/// Where a diagnostic points, in the units an editor uses (1-based line, 1-based character column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn of(source: &str, offset: usize) -> Location {
        let offset = floor_char_boundary(source, offset.min(source.len()));
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..offset].chars().count() + 1;
        Location { line, column }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_characters_not_bytes() {
        let src = "a = 1\n# 日本語 x\n";
        let offset = src.find('x').unwrap();
        assert_eq!(Location::of(src, offset), Location { line: 2, column: 7 });
    }

    #[test]
    fn location_survives_offsets_past_the_end() {
        assert_eq!(Location::of("ab", 99), Location { line: 1, column: 3 });
    }
}
