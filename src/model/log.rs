//! `log`, `log_prefix` and `log_rate` (docs/intent.md#logging): the prefix reaches nft and iptables
//! rules as a quoted string and the kernel log as is, so natc takes only what every target
//! carries exactly: printable ASCII without `"`, `\`, `$` and `` ` `` (iptables-restore
//! unquotes `"` and `\`; firewalld's script writes the prefix inside a shell's double quotes), at most 29 characters (the kernel's LOG prefix).

use crate::diag::{Code, Diagnostic};
use crate::intent::S;
use crate::vocab::{LOG_PREFIX_MAX, LOG_RATE_MAX, Log, LogRate, RateUnit};

/// The log of a rule or a policy; `None` without `log = true`. Errors go to `out`.
pub fn log(
    log: Option<&S<bool>>,
    prefix: Option<&S<String>>,
    rate: Option<&S<String>>,
    out: &mut Vec<Diagnostic>,
) -> Option<Log> {
    let on = log.filter(|l| *l.get_ref());
    if on.is_none() {
        for (key, span) in [("log_prefix", prefix.map(S::span)), ("log_rate", rate.map(S::span))] {
            if let Some(span) = span {
                out.push(
                    Diagnostic::error(Code::MISSING_DEPENDENCY, format!("`{key}` needs `log = true`"))
                        .label(span, format!("a {} for a log that is off", &key[4..]))
                        .help(format!("add `log = true`, or remove `{key}`")),
                );
            }
        }
        return None;
    }
    let on = on?;
    // Both checked before giving up, so one run names every mistake.
    let prefix = prefix.map(|p| checked(p, out));
    let rate = rate.map(|r| parse_rate(r, out));
    let prefix = prefix.map_or(Some(None), |p| p.map(Some))?;
    let rate = rate.map_or(Some(None), |r| r.map(Some))?;
    Some(Log { prefix, rate, span: on.span() })
}

/// `"10/minute"`: a count without sign, blanks or leading zeros, `/`, the unit spelled out
/// as nft, iptables and VyOS all read it.
fn parse_rate(r: &S<String>, out: &mut Vec<Diagnostic>) -> Option<LogRate> {
    let text = r.get_ref();
    let parsed = text.split_once('/').and_then(|(count, unit)| {
        let unit = RateUnit::ALL.into_iter().find(|u| u.word() == unit)?;
        let digits = !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit());
        (digits && (count == "0" || !count.starts_with('0'))).then_some((count, unit))
    });
    let Some((count, unit)) = parsed else {
        let hint = text
            .split_once('/')
            .and_then(|(_, u)| abbreviation(u))
            .map_or(String::new(), |w| format!(" (`{w}`, spelled out)"));
        out.push(
            Diagnostic::error(Code::INVALID_VALUE, format!("`log_rate` {text:?} is not a rate"))
                .label(r.span(), "not \"N/second\", \"N/minute\", \"N/hour\" or \"N/day\"")
                .help(format!("write the number of log lines per unit{hint}, e.g. log_rate = \"10/minute\"")),
        );
        return None;
    };
    match count.parse::<u32>() {
        Ok(count) if (1..=LOG_RATE_MAX).contains(&count) => Some(LogRate { count, unit, span: r.span() }),
        _ => {
            out.push(
                Diagnostic::error(
                    Code::INVALID_RANGE,
                    format!("`log_rate` must name 1 to {LOG_RATE_MAX} log lines per {}, not {count}", unit.word()),
                )
                .label(r.span(), format!("outside 1 to {LOG_RATE_MAX}"))
                .help(format!(
                    "a rate of 0 would log nothing (remove `log` instead); iptables' limit counts at most {LOG_RATE_MAX} per second, and natc takes that ceiling for every unit"
                )),
            );
            None
        }
    }
}

/// The unit an abbreviation of iptables' (`10/min`, `10/s`) stands for.
fn abbreviation(unit: &str) -> Option<&'static str> {
    let lower = unit.trim().to_ascii_lowercase();
    RateUnit::ALL
        .into_iter()
        .map(RateUnit::word)
        .find(|w| !lower.is_empty() && w.starts_with(lower.as_str()) && *w != unit)
}

fn checked(p: &S<String>, out: &mut Vec<Diagnostic>) -> Option<String> {
    let value = p.get_ref();
    if let Some((n, c)) =
        value.chars().enumerate().find(|(_, c)| !(' '..='~').contains(c) || matches!(c, '"' | '\\' | '$' | '`'))
    {
        out.push(
            Diagnostic::error(
                Code::INVALID_TEXT,
                format!("`log_prefix` holds {:?} at character {}, which not every target carries", c, n + 1),
            )
            .label(p.span(), "iptables and firewalld rules cannot carry this character exactly")
            .help("write the prefix in printable ASCII without `\"`, `\\`, `$` and `` ` ``"),
        );
        return None;
    }
    let len = value.chars().count();
    if len > LOG_PREFIX_MAX {
        out.push(
            Diagnostic::error(
                Code::INVALID_TEXT,
                format!("`log_prefix` is {len} characters long; the kernel's LOG prefix holds {LOG_PREFIX_MAX}"),
            )
            .label(p.span(), "too long for the kernel's log prefix")
            .help(format!("shorten the prefix to {LOG_PREFIX_MAX} characters or fewer")),
        );
        return None;
    }
    Some(value.clone())
}
