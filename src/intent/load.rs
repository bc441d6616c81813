use super::IntentFile;
use crate::diag::{Code, Diagnostic, did_you_mean};

/// Parse the intent text. serde stops at the first problem, so this yields at most one
/// diagnostic; the resolve pass then collects all the semantic ones.
///
/// A big intent is parsed piece by piece (`pieces.rs`: the same result in a fraction of the
/// memory); a file that it does not handle, or that has an error, is parsed whole, so
/// every diagnostic is the whole-file parse's.
pub fn parse(source: &str) -> Result<IntentFile, Diagnostic> {
    if let Some(file) = super::pieces::parse(source) {
        return Ok(file);
    }
    parse_whole(source)
}

/// The whole-file parse alone, as before the piecewise one: what [`parse`] must equal on
/// every input (the fuzz harness compares the two, spans included).
pub fn parse_whole(source: &str) -> Result<IntentFile, Diagnostic> {
    toml::from_str::<IntentFile>(source).map_err(|e| from_toml_error(&e, source))
}

pub(super) fn from_toml_error(e: &toml::de::Error, source: &str) -> Diagnostic {
    let message = e.message().trim().to_string();
    let span = e.span().unwrap_or(0..0);
    if let Some((unknown, expected)) = parse_listing(&message, "unknown field `") {
        let mut d =
            Diagnostic::error(Code::UNKNOWN_KEY, format!("unknown key `{unknown}`")).label(span, "not a key here");
        d = d.help(match did_you_mean(&unknown, expected.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? (keys here: {})", expected.join(", ")),
            None => format!("keys allowed here: {}", expected.join(", ")),
        });
        return d;
    }
    if let Some((word, expected)) = parse_listing(&message, "unknown variant `") {
        let mut d = Diagnostic::error(Code::INVALID_VALUE, format!("`{word}` is not allowed here"))
            .label(span, "not one of the allowed words");
        d = d.help(match did_you_mean(&word, expected.iter().map(String::as_str)) {
            Some(s) => format!("did you mean \"{s}\"? (allowed: {})", expected.join(", ")),
            None => format!("allowed: {}", expected.join(", ")),
        });
        return d;
    }
    if let Some(field) = between(&message, "missing field `", "`") {
        return Diagnostic::error(Code::MISSING_KEY, format!("missing key `{field}`"))
            .label(header_span(source, span), format!("this table needs `{field}`"))
            .help(format!("add `{field} = …` to this table; see docs/intent.md for its meaning"));
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        return Diagnostic::error(Code::INVALID_VALUE, plain_words(&message)).label(span, "this value").help(
            "check the value's type: strings are quoted (\"1.4\", \"10.0.0.0/8\"), numbers and booleans are not",
        );
    }
    let duplicate = message.contains("duplicate key");
    Diagnostic::error(Code::TOML_SYNTAX, format!("invalid TOML: {message}"))
        .label(span, if duplicate { "defined again here" } else { "here" })
        .help(if duplicate {
            "a key may appear once per table; for several items use an array of tables ([[…]])"
        } else {
            "fix the TOML syntax at this spot (quotes, brackets, `key = value`)"
        })
}

/// serde speaks Rust ("i64", "a sequence"); the intent file speaks TOML.
fn plain_words(message: &str) -> String {
    let mut text = message.replace("invalid type: ", "wrong type: ");
    for (rust, toml) in [
        (" as i128", ""),
        ("expected i64", "expected an integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected a sequence", "expected a list [ … ]"),
        ("expected a boolean", "expected true or false"),
        ("type: sequence,", "type: list,"),
        ("type: map,", "type: table,"),
    ] {
        text = text.replace(rust, toml);
    }
    text
}

/// `unknown field `x`, expected one of `a`, `b`` → ("x", ["a", "b"]). serde's wording has
/// been stable for years; if it ever changes we fall back to the generic report.
fn parse_listing(message: &str, prefix: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix(prefix)?;
    let (word, tail) = rest.split_once('`')?;
    let expected = tail.split('`').skip(1).step_by(2).map(str::to_string).collect();
    Some((word.to_string(), expected))
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// A missing key is reported on the table that lacks it: toml gives the whole table's span,
/// which we shorten to its first line so the label sits under the `[[header]]`.
fn header_span(source: &str, span: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let start = span.start.min(source.len());
    let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i);
    start..line_end.min(span.end.max(start))
}
