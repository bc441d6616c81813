//! Diagnostics for machines: JSON Lines for tools, and GitHub workflow commands so that a
//! pull request shows each diagnostic on the intent's line.

use super::terminal::{escape, is_hidden};
use super::{Diagnostic, Location, Severity};
use serde::Serialize;

/// Line starts of a file, so that locating many diagnostics stays n·log n.
pub struct LineIndex<'a> {
    source: &'a str,
    starts: Vec<usize>,
    /// (byte offset, characters before it) every [`MARK_EVERY`] bytes: a column is counted
    /// from the nearest mark, not from the line start, so that many diagnostics on one very
    /// long line (an inline table of 10,000 entries) do not make locating quadratic.
    marks: Vec<(usize, usize)>,
}

const MARK_EVERY: usize = 1024;

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> Self {
        let mut marks = vec![(0, 0)];
        let (mut at, mut count) = (0, 0);
        while marks.len() * MARK_EVERY < source.len() {
            let next = super::floor_char_boundary(source, marks.len() * MARK_EVERY);
            count += source[at..next].chars().count();
            at = next;
            marks.push((at, count));
        }
        LineIndex { source, starts: LineIndex::starts(source), marks }
    }

    /// How many characters come before `offset` (a char boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let (at, count) = self.marks[(offset / MARK_EVERY).min(self.marks.len() - 1)];
        count + self.source[at..offset].chars().count()
    }

    /// The byte offset where each line starts (the first is 0).
    pub(super) fn starts(source: &str) -> Vec<usize> {
        std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1)).collect()
    }

    pub fn locate(&self, offset: usize) -> Location {
        let offset = super::floor_char_boundary(self.source, offset.min(self.source.len()));
        // starts[0] is 0, so at least one start is <= offset.
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        Location { line, column: self.chars_before(offset) - self.chars_before(start) + 1 }
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    code: &'a str,
    severity: &'static str,
    message: &'a str,
    /// The primary label's start and end; absent for diagnostics about the whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    labels: Vec<JsonLabel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    line: usize,
    column: usize,
    text: &'a str,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One JSON object per line and diagnostic (JSON Lines): streams, and `jq` reads it as is.
pub fn to_json_lines(diagnostics: &[Diagnostic], file: &str, source: &str) -> String {
    let index = LineIndex::new(source);
    let mut out = String::new();
    for d in diagnostics {
        let start = d.primary_span().map(|s| index.locate(s.start));
        let end = d.primary_span().map(|s| index.locate(s.end));
        let record = JsonDiagnostic {
            file,
            code: d.code.0,
            severity: severity(d.severity),
            message: &d.message,
            line: start.map(|l| l.line),
            column: start.map(|l| l.column),
            end_line: end.map(|l| l.line),
            end_column: end.map(|l| l.column),
            labels: d
                .labels
                .iter()
                .map(|l| {
                    let at = index.locate(l.span.start);
                    JsonLabel { line: at.line, column: at.column, text: &l.text }
                })
                .collect(),
            help: d.help.as_deref(),
        };
        // Serializing plain strings and numbers cannot fail.
        push_json_escaped(&mut out, &serde_json::to_string(&record).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// serde_json escapes only what JSON requires (C0, `"`, `\\`); DEL, C1 controls, U+2028/9
/// and format characters stay raw, and a reader that splits lines the Unicode way (Python's
/// `splitlines`) or a terminal showing the line would act on them. They can only occur
/// inside strings, where `\uXXXX` (a surrogate pair above U+FFFF) means the same text.
fn push_json_escaped(out: &mut String, json: &str) {
    for c in json.chars() {
        if !is_hidden(c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", unit));
            }
        }
    }
}

/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=N104::message`, escaped as the
/// runner expects (data: `%`, CR, LF; properties also `:` and `,`).
pub fn to_github(diagnostics: &[Diagnostic], file: &str, source: &str) -> String {
    let index = LineIndex::new(source);
    let mut out = String::new();
    for d in diagnostics {
        let mut properties = vec![format!("file={}", property(&escape(file)))];
        if let Some(span) = d.primary_span() {
            let (start, end) = (index.locate(span.start), index.locate(span.end));
            properties.push(format!("line={}", start.line));
            properties.push(format!("col={}", start.column));
            properties.push(format!("endLine={}", end.line));
            properties.push(format!("endColumn={}", end.column));
        }
        properties.push(format!("title={}", property(d.code.0)));
        // The annotation is shown to a person: user text in it is escaped as for a
        // terminal, and only natc's own line break before `help:` stays one.
        let mut message = escape(&d.message).into_owned();
        if let Some(label) = d.labels.first() {
            message.push_str(&format!(" ({})", escape(&label.text)));
        }
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {}", escape(help)));
        }
        out.push_str(&format!("::{} {}::{}\n", severity(d.severity), properties.join(","), data(&message)));
    }
    out
}

fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    const SOURCE: &str = "natc = 1\nname = \"x\"\n# 日本語\nto = \"@lan\"\n";

    fn diagnostic() -> Diagnostic {
        let start = SOURCE.find("@lan").unwrap();
        Diagnostic::error(Code::UNKNOWN_NETWORK, "unknown network `@lan`")
            .label(start..start + 4, "not defined in [networks]")
            .help("add `lan = \"…\"`, 100% sure")
    }

    #[test]
    fn line_index_agrees_with_location_of() {
        let index = LineIndex::new(SOURCE);
        for offset in 0..=SOURCE.len() {
            if SOURCE.is_char_boundary(offset) {
                assert_eq!(index.locate(offset), Location::of(SOURCE, offset), "offset {offset}");
            }
        }
    }

    #[test]
    fn line_index_agrees_with_location_of_on_long_lines() {
        let source: String = (0..3000).map(|i| ["a", "é", "日", "😀"][i % 4]).collect::<String>() + "\nx日\n";
        let index = LineIndex::new(&source);
        for offset in 0..=source.len() {
            assert_eq!(index.locate(offset), Location::of(&source, offset), "offset {offset}");
        }
    }

    #[test]
    fn json_lines_carry_code_severity_and_position() {
        let text =
            to_json_lines(&[diagnostic(), Diagnostic::warning(Code::NO_GATEWAY, "no gateway")], "a.toml", SOURCE);
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["code"], "N104");
        assert_eq!(lines[0]["severity"], "error");
        assert_eq!((lines[0]["line"].as_u64(), lines[0]["column"].as_u64()), (Some(4), Some(7)));
        assert_eq!(lines[0]["end_column"].as_u64(), Some(11));
        assert_eq!(lines[1]["severity"], "warning");
        assert!(lines[1].get("line").is_none());
    }

    #[test]
    fn github_annotations_show_hostile_text_escaped() {
        let d = Diagnostic::error(Code::INVALID_NAME, "name `x\u{1b}[2J\u{7}`\n::error::forged").help("\u{202e}z");
        let text = to_github(&[d], "a\u{85}.toml", SOURCE);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.trim_end().chars().any(crate::diag::terminal::is_hidden), "{text:?}");
        assert!(text.contains("name `x\\u{1b}[2J\\u{7}`\\n::error::forged%0Ahelp: \\u{202e}z"), "{text}");
    }

    #[test]
    fn json_lines_escape_every_control_character() {
        let d = Diagnostic::error(Code::INVALID_NAME, "x\u{1b}\u{7}\n\u{2028}\u{202e}\u{85}");
        let text = to_json_lines(&[d], "a.toml", SOURCE);
        assert_eq!(text.lines().count(), 1);
        assert!(!text.trim_end().chars().any(char::is_control), "{text:?}");
        let back: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(back["message"], "x\u{1b}\u{7}\n\u{2028}\u{202e}\u{85}");
    }

    #[test]
    fn github_annotations_are_escaped_and_located() {
        let text = to_github(&[diagnostic()], "dir,a:b.toml", SOURCE);
        assert_eq!(
            text,
            "::error file=dir%2Ca%3Ab.toml,line=4,col=7,endLine=4,endColumn=11,title=N104::unknown network `@lan` \
             (not defined in [networks])%0Ahelp: add `lan = \"…\"`, 100%25 sure\n"
        );
    }
}
