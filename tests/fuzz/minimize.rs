//! Minimising a finding: delete chunks of lines, then chunks of tokens (halving the chunk
//! each round, as in delta debugging), then halve long quoted strings, keeping every edit
//! after which the input still shows the same finding. Bounded in attempts and time.

use super::mutate::tokens;
use std::time::{Duration, Instant};

pub struct Budget {
    pub attempts: usize,
    pub until: Instant,
}

impl Budget {
    pub fn new(attempts: usize, time: Duration) -> Budget {
        Budget { attempts, until: Instant::now() + time }
    }

    fn spend(&mut self) -> bool {
        if self.attempts == 0 || Instant::now() > self.until {
            return false;
        }
        self.attempts -= 1;
        true
    }
}

/// The smallest input found that still satisfies `still` (which `text` does).
pub fn minimize(text: &str, budget: &mut Budget, still: &mut dyn FnMut(&str) -> bool) -> String {
    let mut best = text.to_string();
    loop {
        let before = best.len();
        best = by_pieces(&best, budget, still, |t| t.split_inclusive('\n').map(str::to_string).collect());
        best = by_pieces(&best, budget, still, |t| tokens(t).into_iter().map(str::to_string).collect());
        best = shorten_strings(&best, budget, still);
        if best.len() >= before || budget.attempts == 0 || Instant::now() > budget.until {
            return best;
        }
    }
}

fn by_pieces(
    text: &str,
    budget: &mut Budget,
    still: &mut dyn FnMut(&str) -> bool,
    split: impl Fn(&str) -> Vec<String>,
) -> String {
    let mut pieces = split(text);
    let mut chunk = pieces.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < pieces.len() {
            let end = (i + chunk).min(pieces.len());
            let candidate: String = pieces[..i].iter().chain(&pieces[end..]).map(String::as_str).collect();
            if !budget.spend() {
                return pieces.concat();
            }
            if still(&candidate) {
                pieces.drain(i..end);
            } else {
                i += chunk;
            }
        }
        if chunk == 1 {
            return pieces.concat();
        }
        chunk /= 2;
    }
}

/// Halve every token longer than 8 characters (a 65,536-character name) while the
/// finding stays.
fn shorten_strings(text: &str, budget: &mut Budget, still: &mut dyn FnMut(&str) -> bool) -> String {
    let mut pieces: Vec<String> = tokens(text).into_iter().map(str::to_string).collect();
    for i in 0..pieces.len() {
        while pieces[i].chars().count() > 8 && budget.spend() {
            let half: String = pieces[i].chars().take(pieces[i].chars().count() / 2).collect();
            let candidate: String = pieces[..i]
                .iter()
                .map(String::as_str)
                .chain([half.as_str()])
                .chain(pieces[i + 1..].iter().map(String::as_str))
                .collect();
            if !still(&candidate) {
                break;
            }
            pieces[i] = half;
        }
    }
    pieces.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_what_the_finding_needs() {
        let text = "a = 1\nb = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\nc = 3\nboom = 1\nd = 4\n";
        let mut budget = Budget::new(10_000, Duration::from_secs(10));
        let small = minimize(text, &mut budget, &mut |t: &str| t.contains("boom"));
        assert_eq!(small, "boom");
        let long = minimize(text, &mut budget, &mut |t: &str| t.contains("xxxxxxxxxxxx"));
        assert!(long.len() < 20, "{long:?}");
    }
}
