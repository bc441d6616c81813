//! The one place that turns our diagnostics into miette reports.

use super::{Diagnostic, Location, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::sync::Arc;

/// A diagnostic bound to the text it points into, as miette wants it.
struct Bound<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<Arc<str>>,
}

impl fmt::Debug for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
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
        self.diag.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.source.inner().len();
        Some(Box::new(self.diag.labels.iter().enumerate().map(move |(i, l)| {
            let start = l.span.start.min(len);
            let end = l.span.end.clamp(start, len);
            let span = SourceSpan::from(start..end);
            if i == 0 {
                LabeledSpan::new_primary_with_span(Some(l.text.clone()), span)
            } else {
                LabeledSpan::new_with_span(Some(l.text.clone()), span)
            }
        })))
    }
}

/// A rendered report and where it points.
pub struct Rendered {
    pub text: String,
    pub location: Option<Location>,
}

/// Render for a terminal (colour when `color` is true) or for a log file.
pub fn render_report(diag: &Diagnostic, file_name: &str, source: &Arc<str>, color: bool) -> Rendered {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let bound = Bound { diag, source: NamedSource::new(file_name, Arc::clone(source)) };
    let mut text = String::new();
    if handler.render_report(&mut text, &bound).is_err() {
        // The handler only fails on a broken fmt::Write; a String never is one.
        text = format!("{}: {}", diag.code, diag.message);
    }
    Rendered { text, location: diag.primary_span().map(|s| Location::of(source, s.start)) }
}

/// Without colour: what tests snapshot and what goes to a log.
pub fn render_plain(diag: &Diagnostic, file_name: &str, source: &Arc<str>) -> String {
    render_report(diag, file_name, source, false).text
}
