//! The intent's text as the human report shows it: escaped for a terminal, and indexed by
//! line once per file, so that rendering N diagnostics costs N small windows instead of N
//! scans of the whole file (miette's own `SourceCode for str` walks from the first byte to
//! the span for every label, which made 10,000 warnings take ~14-50 s).

use super::machine::LineIndex;
use super::terminal::{is_hidden, push_escaped};
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::sync::atomic::{AtomicUsize, Ordering};

/// An escaped copy of a source text, its line starts, and the way from an offset in the
/// original to the same place in the copy.
pub(super) struct SourceView {
    text: String,
    starts: Vec<usize>,
    /// One entry per escaped character, in order: (offset in the original, its length
    /// there, how much longer the copy is after it).
    shifts: Vec<(usize, usize, usize)>,
    /// Bytes handed to miette's line scanner: the work a report costs (tests bound it).
    scanned: AtomicUsize,
}

impl SourceView {
    pub(super) fn new(source: &str) -> SourceView {
        // The usual file, printable ASCII with newlines and tabs, is its own escaped copy:
        // one pass over the bytes instead of a test of every character.
        if source.bytes().all(|b| matches!(b, b' '..=b'~' | b'\n' | b'\t')) {
            let text = source.to_string();
            let starts = LineIndex::starts(&text);
            return SourceView { text, starts, shifts: Vec::new(), scanned: AtomicUsize::new(0) };
        }
        SourceView::escaped(source)
    }

    /// Character by character: what [`SourceView::new`] does for any other text.
    fn escaped(source: &str) -> SourceView {
        let mut text = String::with_capacity(source.len());
        let mut shifts = Vec::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            // Line structure stays as it is: miette draws lines, tabs and CRLF itself.
            let keep =
                !is_hidden(c) || c == '\n' || c == '\t' || (c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n'));
            if keep {
                text.push(c);
            } else {
                let before = text.len();
                push_escaped(&mut text, c);
                let grown = text.len() - before - c.len_utf8();
                let total = shifts.last().map_or(0, |s: &(usize, usize, usize)| s.2) + grown;
                shifts.push((at, c.len_utf8(), total));
            }
        }
        let starts = LineIndex::starts(&text);
        SourceView { text, starts, shifts, scanned: AtomicUsize::new(0) }
    }

    /// Where `offset` of the original text is in the escaped copy (an offset inside an
    /// escaped character maps to the start of its escape).
    pub(super) fn map(&self, offset: usize) -> usize {
        let i = self.shifts.partition_point(|s| s.0 < offset);
        if i == 0 {
            return offset;
        }
        let (at, len, total) = self.shifts[i - 1];
        if offset < at + len {
            let before = if i >= 2 { self.shifts[i - 2].2 } else { 0 };
            at + before
        } else {
            offset + total
        }
    }

    pub(super) fn len(&self) -> usize {
        self.text.len()
    }

    pub(super) fn scanned(&self) -> usize {
        self.scanned.load(Ordering::Relaxed)
    }

    /// The 0-based line that holds `offset` of the copy.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }
}

/// The most source one report shows before long lines are clipped around the span.
const MAX_WINDOW: usize = 4096;
/// How much of a clipped line is shown on each side of the span.
const CLIP_CONTEXT: usize = 160;

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl SourceCode for SourceView {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (start, end) = (span.offset(), span.offset() + span.len());
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        // The lines the span touches and the context around them, and nothing more;
        // miette's scanner then works inside that window.
        let first = self.line_of(start).saturating_sub(before);
        let last = self.line_of(end.saturating_sub(1).max(start)) + after;
        let mut from = self.starts[first];
        let mut to = self.starts.get(last + 1).copied().unwrap_or(self.text.len());
        // A very long line (an inline table of thousands of entries) is shown around the
        // span only: every report showing the whole line made the output quadratic.
        let mut column_shift = 0;
        if to - from > MAX_WINDOW {
            let line_start = self.starts[self.line_of(start)];
            from = floor_boundary(&self.text, start.saturating_sub(CLIP_CONTEXT).max(line_start));
            to = ceil_boundary(&self.text, (end + CLIP_CONTEXT).min(to));
            column_shift = if before == 0 { from - line_start } else { 0 };
        }
        let first = self.line_of(from);
        let window = &self.text[from..to];
        self.scanned.fetch_add(window.len(), Ordering::Relaxed);
        let inner = SourceSpan::from((start - from, span.len()));
        let got = window.read_span(&inner, before, after)?;
        Ok(Box::new(MietteSpanContents::new(
            got.data(),
            SourceSpan::from((got.span().offset() + from, got.span().len())),
            got.line() + first,
            got.column() + column_shift,
            // The lines this piece holds. miette's own sources count every line from the
            // start of the file here, and miette's renderer adds this to the piece's first
            // line to see whether the next label's piece touches it: with that count nearly
            // every two labels "touch", and a report showed every line between them (a
            // tunnel's two ends 40,000 lines apart: 40,000 lines, for each such report).
            got.line_count() - got.line(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ascii_takes_the_short_way_to_the_same_view() {
        for text in ["natc = 1\n\tname = \"x ~\"\n", "", "a\r\nb", "é\n", "a\u{7f}b"] {
            let (fast, slow) = (SourceView::new(text), SourceView::escaped(text));
            assert_eq!((&fast.text, &fast.starts, &fast.shifts), (&slow.text, &slow.starts, &slow.shifts), "{text:?}");
        }
        assert_eq!(SourceView::new("a\u{7f}b").text, "a\\u{7f}b");
    }

    #[test]
    fn offsets_map_around_escapes() {
        let view = SourceView::new("a\u{1b}b\u{202e}c\nd");
        assert_eq!(view.text, "a\\u{1b}b\\u{202e}c\nd");
        assert_eq!(view.map(0), 0);
        assert_eq!(view.map(1), 1);
        assert_eq!(view.map(2), 7);
        assert_eq!(view.map(3), 8);
        assert_eq!(view.map(4), 8);
        assert_eq!(view.map(6), 16);
        assert_eq!(view.map(8), 18);
    }

    /// Many reports on one very long line each show a clipped piece of it, at the right
    /// line and column.
    #[test]
    fn long_lines_are_clipped_around_the_span() {
        let line: String = (0..2000).map(|i| format!("n{i} = \"é\", ")).collect();
        let text = format!("natc = 1\nnetworks = {{ {line} }}\nx = 1\n");
        let view = SourceView::new(&text);
        let start = text.find("n1500 ").unwrap();
        let span = SourceSpan::from((start, 5));
        let clipped = view.read_span(&span, 1, 1).unwrap();
        assert!(clipped.data().len() <= 2 * CLIP_CONTEXT + 16, "{}", clipped.data().len());
        let data = std::str::from_utf8(clipped.data()).unwrap();
        assert!(data.contains("n1500 = "));
        assert_eq!(clipped.line(), 1);
        let whole = text.read_span(&span, 0, 0).unwrap();
        let located = view.read_span(&span, 0, 0).unwrap();
        assert_eq!((located.line(), located.column()), (whole.line(), whole.column()));
    }

    #[test]
    fn windows_agree_with_the_whole_file() {
        let text: String = (0..50).map(|i| format!("line {i} = \"v{i}\"\n")).collect();
        let view = SourceView::new(&text);
        for start in [0, 17, 300, text.len() - 3] {
            let span = SourceSpan::from((start, 2));
            let ours = view.read_span(&span, 1, 1).unwrap();
            let whole = text.read_span(&span, 1, 1).unwrap();
            assert_eq!(ours.data(), whole.data());
            assert_eq!((ours.line(), ours.column(), ours.span()), (whole.line(), whole.column(), whole.span()));
            // miette's whole-file count runs from the top of the file; ours is the piece's own.
            assert_eq!(ours.line_count(), whole.line_count() - whole.line());
        }
    }
}
