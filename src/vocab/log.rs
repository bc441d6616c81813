//! `log = true` with its optional `log_prefix`: the kernel logs what the rule (or a chain's
//! policy) matches, under that prefix (docs/intent.md#logging, docs/targets.md#logging).

use super::Span;

/// The longest prefix every target carries whole: the kernel's iptables LOG prefix holds 29
/// characters (xt_LOG's 30 bytes with the NUL); nft's is longer, but one intent must build the
/// same log on every target.
pub const LOG_PREFIX_MAX: usize = 29;

/// A rule's or a policy's log, where `log = true` was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Printable ASCII without `"` and `\` (model/log.rs checks it), at most LOG_PREFIX_MAX.
    pub prefix: Option<String>,
    pub span: Span,
}
