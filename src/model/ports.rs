//! Ports as the intent writes them: `22`, `"22"`, `"8000-8099"`, or a list of those.

use crate::diag::{Code, Diagnostic, Span};
use rustc_hash::FxHashSet;

pub use crate::vocab::ports::{PortRange, PortSet};

pub fn parse_port_set(value: &toml::Value, span: Span) -> Result<PortSet, Diagnostic> {
    let mut ranges = Vec::new();
    // A list keeps the first of repeated entries; a set says which were seen (asking the
    // list itself made a list of k ports cost k² comparisons).
    let mut seen = FxHashSet::default();
    match value {
        toml::Value::Array(items) if !items.is_empty() => {
            for item in items {
                let range = parse_one(item, span.clone())?;
                if seen.insert(range) {
                    ranges.push(range);
                }
            }
        }
        toml::Value::Array(_) => return Err(invalid(span, "an empty list matches no port")),
        toml::Value::String(s) if s.contains(',') => {
            for part in s.split(',') {
                let range = parse_text(part.trim(), span.clone())?;
                if seen.insert(range) {
                    ranges.push(range);
                }
            }
        }
        other => ranges.push(parse_one(other, span)?),
    }
    Ok(PortSet { ranges })
}

/// A `to_port`: one port or one range.
pub fn parse_port_range(value: &toml::Value, span: Span) -> Result<PortRange, Diagnostic> {
    parse_one(value, span)
}

fn parse_one(value: &toml::Value, span: Span) -> Result<PortRange, Diagnostic> {
    match value {
        toml::Value::Integer(n) => number(*n, span).map(PortRange::single),
        toml::Value::String(s) => parse_text(s.trim(), span),
        _ => Err(invalid(span, "a port is a number (22), a range (\"8000-8099\") or a list of those")),
    }
}

fn parse_text(text: &str, span: Span) -> Result<PortRange, Diagnostic> {
    let parse = |t: &str| -> Result<u16, Diagnostic> {
        let n: i64 = t.trim().parse().map_err(|_| invalid(span.clone(), "a port is a number from 1 to 65535"))?;
        number(n, span.clone())
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (first, last) = (parse(a)?, parse(b)?);
            if first > last {
                return Err(invalid(span, format!("the range {first}-{last} runs backwards; write {last}-{first}")));
            }
            Ok(PortRange { first, last })
        }
        None => parse(text).map(PortRange::single),
    }
}

fn number(n: i64, span: Span) -> Result<u16, Diagnostic> {
    match u16::try_from(n) {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(invalid(span, format!("{n} is not a port: ports run from 1 to 65535"))),
    }
}

fn invalid(span: Span, why: impl Into<String>) -> Diagnostic {
    let why = why.into();
    Diagnostic::error(Code::INVALID_PORT, format!("invalid port: {why}"))
        .label(span, "this port")
        .help("write a port (22), a range (\"8000-8099\"), or a list ([80, 443, \"8000-8099\"])")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: toml::Value) -> Result<PortSet, Diagnostic> {
        parse_port_set(&v, 0..0)
    }

    #[test]
    fn forms() {
        assert_eq!(set(22.into()).unwrap().ranges, vec![PortRange::single(22)]);
        assert_eq!(set("8000-8099".into()).unwrap().ranges, vec![PortRange { first: 8000, last: 8099 }]);
        let list = toml::Value::Array(vec![80.into(), "443".into(), 80.into()]);
        assert_eq!(set(list).unwrap().ranges.len(), 2);
        assert_eq!(set("80, 443".into()).unwrap().ranges.len(), 2);
    }

    #[test]
    fn rejects() {
        assert!(set(0.into()).is_err());
        assert!(set(70000.into()).is_err());
        assert!(set("9-1".into()).is_err());
        assert!(set("http".into()).is_err());
        assert!(set(toml::Value::Array(vec![])).is_err());
        assert!(set(true.into()).is_err());
    }
}
