//! `log = true` with its optional `log_prefix` and `log_rate`: the kernel logs what the rule
//! (or a chain's policy) matches, under that prefix, at most at that rate
//! (docs/intent.md#logging, docs/targets.md#logging).

use super::Span;

/// The longest prefix every target carries whole: the kernel's iptables LOG prefix holds 29
/// characters (xt_LOG's 30 bytes with the NUL); nft's is longer, but one intent must build the
/// same log on every target.
pub const LOG_PREFIX_MAX: usize = 29;

/// The most packets a `log_rate` may name per unit: xt_limit's own ceiling (10000/second, its
/// XT_LIMIT_SCALE), taken for every unit so that one number means one thing.
pub const LOG_RATE_MAX: u32 = 10_000;

/// The burst every rate-limited log is written with, explicitly on every target: the default
/// of both nft's `limit` and iptables' `-m limit`, so a hand-written rule behaves the same.
pub const LOG_BURST: u32 = 5;

/// A rule's or a policy's log, where `log = true` was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Printable ASCII without `"` and `\` (model/log.rs checks it), at most LOG_PREFIX_MAX.
    pub prefix: Option<String>,
    /// `log_rate`: at most this many lines per unit, after a burst of LOG_BURST.
    pub rate: Option<LogRate>,
    pub span: Span,
}

/// `log_rate = "10/minute"`: 1..=LOG_RATE_MAX packets per second, minute, hour or day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRate {
    pub count: u32,
    pub unit: RateUnit,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    Second,
    Minute,
    Hour,
    Day,
}

impl RateUnit {
    pub const ALL: [RateUnit; 4] = [RateUnit::Second, RateUnit::Minute, RateUnit::Hour, RateUnit::Day];

    /// The word nft, iptables and VyOS all read (`10/minute`).
    pub fn word(self) -> &'static str {
        match self {
            RateUnit::Second => "second",
            RateUnit::Minute => "minute",
            RateUnit::Hour => "hour",
            RateUnit::Day => "day",
        }
    }

    pub fn seconds(self) -> u64 {
        match self {
            RateUnit::Second => 1,
            RateUnit::Minute => 60,
            RateUnit::Hour => 3_600,
            RateUnit::Day => 86_400,
        }
    }
}

impl std::fmt::Display for LogRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.count, self.unit.word())
    }
}
