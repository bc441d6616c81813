//! The one place that turns our diagnostics into miette reports. Every text a report
//! shows (message, labels, help, file name, the quoted source) is escaped for a terminal.

use super::machine::LineIndex;
use super::terminal::escape;
use super::view::SourceView;
use super::{Diagnostic, Location, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;

/// A diagnostic bound to the text it points into, as miette wants it.
struct Bound<'a> {
    diag: &'a Diagnostic,
    source: &'a NamedSource<Arc<SourceView>>,
}

impl fmt::Debug for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.diag.message))
    }
}

impl std::error::Error for Bound<'_> {}

impl miette::Diagnostic for Bound<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.help.as_ref().map(|h| Box::new(escape(h).into_owned()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let view = self.source.inner();
        let len = view.len();
        Some(Box::new(self.diag.labels.iter().enumerate().map(move |(i, l)| {
            let start = view.map(l.span.start).min(len);
            let end = view.map(l.span.end).clamp(start, len);
            let span = SourceSpan::from(start..end);
            let text = Some(escape(&l.text).into_owned());
            if i == 0 { LabeledSpan::new_primary_with_span(text, span) } else { LabeledSpan::new_with_span(text, span) }
        })))
    }
}

/// A rendered report and where it points.
pub struct Rendered {
    pub text: String,
    pub location: Option<Location>,
}

/// Renders many diagnostics of one file: the file is escaped and indexed once, so the
/// cost is linear in the number of diagnostics (plus the file once).
///
/// The escaped copy and the line index are made at the first report: a build without a
/// warning (the usual case, and a 100k-mapping one) never scans the file for them.
pub struct Reporter<'a> {
    handler: GraphicalReportHandler,
    file_name: String,
    text: &'a str,
    source: OnceCell<NamedSource<Arc<SourceView>>>,
    index: OnceCell<LineIndex<'a>>,
}

impl<'a> Reporter<'a> {
    /// For a terminal (colour when `color` is true) or for a log file.
    pub fn new(file_name: &str, source: &'a str, color: bool) -> Self {
        let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
        Reporter {
            handler,
            file_name: escape(file_name).into_owned(),
            text: source,
            source: OnceCell::new(),
            index: OnceCell::new(),
        }
    }

    fn source(&self) -> &NamedSource<Arc<SourceView>> {
        self.source.get_or_init(|| NamedSource::new(&self.file_name, Arc::new(SourceView::new(self.text))))
    }

    pub fn render(&self, diag: &Diagnostic) -> Rendered {
        let bound = Bound { diag, source: self.source() };
        let mut text = String::new();
        if self.handler.render_report(&mut text, &bound).is_err() {
            // The handler only fails on a broken fmt::Write; a String never is one.
            text = format!("{}: {}", diag.code, escape(&diag.message));
        }
        let location =
            diag.primary_span().map(|s| self.index.get_or_init(|| LineIndex::new(self.text)).locate(s.start));
        Rendered { text, location }
    }

    /// Bytes of source the reports so far have looked at (the work; tests bound it).
    pub fn scanned(&self) -> usize {
        self.source.get().map_or(0, |s| s.inner().scanned())
    }
}

/// Render one diagnostic for a terminal or a log file. Many diagnostics of one file: use
/// [`Reporter`], which prepares the file once.
pub fn render_report(diag: &Diagnostic, file_name: &str, source: &Arc<str>, color: bool) -> Rendered {
    Reporter::new(file_name, source, color).render(diag)
}

/// Without colour: what tests snapshot and what goes to a log.
pub fn render_plain(diag: &Diagnostic, file_name: &str, source: &Arc<str>) -> String {
    render_report(diag, file_name, source, false).text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    /// Ten times the diagnostics over a ten times longer file costs about ten times the
    /// work, not a hundred: each report reads a window around its span.
    #[test]
    fn rendering_many_diagnostics_is_linear() {
        let work = |n: usize| {
            let text: String = (0..n).map(|i| format!("n{i} = \"10.0.0.0/24\"\n")).collect();
            let reporter = Reporter::new("a.toml", &text, false);
            let mut offset = 0;
            for i in 0..n {
                let line = format!("n{i} = \"10.0.0.0/24\"\n");
                let d = Diagnostic::warning(Code::UNUSED_NETWORK, format!("`@n{i}` is never used"))
                    .label(offset..offset + 2, "here")
                    .label(offset + 5..offset + 10, "and here");
                assert!(reporter.render(&d).text.contains(&format!("a.toml:{}:1", i + 1)));
                offset += line.len();
            }
            reporter.scanned()
        };
        let (small, large) = (work(200), work(2000));
        assert!(large <= small * 12, "work grew from {small} to {large} bytes for 10x the diagnostics");
    }

    /// The same when every diagnostic is on one long line (an inline table): each report
    /// shows a clipped piece of the line, not all of it.
    #[test]
    fn rendering_many_diagnostics_on_one_line_is_linear() {
        let work = |n: usize| {
            let entries: Vec<String> = (0..n).map(|i| format!("n{i} = \"10.0.0.0/24\"")).collect();
            let text = format!("networks = {{ {} }}\n", entries.join(", "));
            let reporter = Reporter::new("a.toml", &text, false);
            let mut out = 0;
            for i in 0..n {
                let start = text.find(&format!(" n{i} ")).unwrap() + 1;
                let d = Diagnostic::warning(Code::UNUSED_NETWORK, "never used").label(start..start + 2, "here");
                let rendered = reporter.render(&d);
                assert_eq!(rendered.location.map(|l| l.column), Some(start + 1));
                out += rendered.text.len();
            }
            (reporter.scanned(), out)
        };
        let ((small, small_out), (large, large_out)) = (work(200), work(2000));
        assert!(large <= small * 12, "work grew from {small} to {large} bytes for 10x the diagnostics");
        assert!(large_out <= small_out * 12, "output grew from {small_out} to {large_out} bytes");
    }

    /// A report whose two labels lie far apart (a tunnel and its peer's far end, thousands
    /// of lines on) shows a snippet around each label, not every line between them: output
    /// and work grow as the diagnostics do, not with their distance.
    #[test]
    fn labels_far_apart_get_a_snippet_each() {
        let work = |n: usize| {
            let text: String = (0..n).map(|i| format!("n{i} = \"10.0.0.0/24\"\n")).collect();
            let starts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
            let reporter = Reporter::new("a.toml", &text, false);
            let (half, mut out) = (n / 2, 0);
            for i in 0..half {
                let (here, there) = (starts[i], starts[i + half - 1]);
                let d = Diagnostic::warning(Code::UNUSED_NETWORK, "two ends that disagree")
                    .label(here..here + 2, "this end")
                    .label(there..there + 2, "the other end");
                let rendered = reporter.render(&d).text;
                assert!(rendered.lines().count() < 20, "{rendered}");
                out += rendered.len();
            }
            (reporter.scanned(), out)
        };
        let ((small, small_out), (large, large_out)) = (work(200), work(2000));
        assert!(large <= small * 12, "work grew from {small} to {large} bytes for 10x the diagnostics");
        assert!(large_out <= small_out * 12, "output grew from {small_out} to {large_out} bytes");
    }

    #[test]
    fn reports_show_hostile_text_escaped() {
        let source: Arc<str> = "natc = 1\n# \u{202e}evil\u{2066}\nname = \"x\u{1b}[2J\u{7}\"\n".into();
        let start = source.find("name").unwrap();
        let d = Diagnostic::error(Code::INVALID_NAME, "intent name `x\u{1b}[2J\u{7}` is not allowed\u{2028}PASS")
            .label(start..source.len() - 1, "line\nbreak")
            .help("try \u{85}x");
        let text = render_plain(&d, "dir/\u{1b}]0;t\u{7}.toml", &source);
        assert!(!text.chars().any(|c| crate::diag::terminal::is_hidden(c) && c != '\n'), "{text:?}");
        assert!(text.contains("`x\\u{1b}[2J\\u{7}` is not allowed\\u{2028}PASS"), "{text}");
        assert!(text.contains("\\u{202e}evil\\u{2066}"), "{text}");
        assert!(text.contains("line\\nbreak") && text.contains("try \\u{85}x"), "{text}");
        assert!(text.contains("dir/\\u{1b}]0;t\\u{7}.toml:3:1"), "{text}");
    }
}
