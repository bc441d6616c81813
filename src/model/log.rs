//! `log` and `log_prefix` (docs/intent.md#logging): the prefix reaches nft and iptables
//! rules as a quoted string and the kernel log as is, so natc takes only what every target
//! carries exactly: printable ASCII without `"`, `\`, `$` and `` ` `` (iptables-restore
//! unquotes `"` and `\`; firewalld's script writes the prefix inside a shell's double quotes), at most 29 characters (the kernel's LOG prefix).

use crate::diag::{Code, Diagnostic};
use crate::intent::S;
use crate::vocab::{LOG_PREFIX_MAX, Log};

/// The log of a rule or a policy; `None` without `log = true`. Errors go to `out`.
pub fn log(log: Option<&S<bool>>, prefix: Option<&S<String>>, out: &mut Vec<Diagnostic>) -> Option<Log> {
    let on = log.filter(|l| *l.get_ref());
    if let (None, Some(p)) = (on, prefix) {
        out.push(
            Diagnostic::error(Code::MISSING_DEPENDENCY, "`log_prefix` needs `log = true`")
                .label(p.span(), "a prefix for a log that is off")
                .help("add `log = true`, or remove `log_prefix`"),
        );
        return None;
    }
    let on = on?;
    let prefix = match prefix {
        Some(p) => Some(checked(p, out)?),
        None => None,
    };
    Some(Log { prefix, span: on.span() })
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
