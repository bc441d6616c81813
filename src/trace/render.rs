//! The steps of a walk as the reader sees them: one line per thing that happened to the
//! packet, each led by the node where it happened, in netfilter order.

use crate::diag::terminal::{MAX_COLUMN, column_width, escape, padded};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Where it happened (a node, or `vm01 → vm02` for a hop on the wire).
    pub node: String,
    pub text: String,
}

/// What a walk writes down: its steps, and whatever it met that trace does not model.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    pub steps: Vec<Step>,
    pub unmodelled: Vec<String>,
    /// The lab nodes the packet was handed to, in order (`Lab::walk`): which gateways a
    /// walk crosses, for `natc trace --from/--to` without `--gateway`.
    pub reached: Vec<usize>,
}

impl Recorder {
    pub fn step(&mut self, node: &str, text: impl Into<String>) {
        self.steps.push(Step { node: node.to_string(), text: text.into() });
    }

    /// Something this walk depends on that trace cannot vouch for: said at the step where
    /// it matters, and listed once for the verdict.
    pub fn unmodelled(&mut self, node: &str, what: &str) {
        self.step(node, format!("not modelled: {what}"));
        let line = format!("{node}: {what}");
        if !self.unmodelled.contains(&line) {
            self.unmodelled.push(line);
        }
    }
}

/// The unmodelled things of two walks, each once.
pub fn merge(mut first: Vec<String>, second: Vec<String>) -> Vec<String> {
    for line in second {
        if !first.contains(&line) {
            first.push(line);
        }
    }
    first
}

/// Steps as indented lines, the node names aligned.
pub fn steps(steps: &[Step], indent: &str) -> String {
    let width = column_width(steps.iter().map(|s| s.node.as_str()), MAX_COLUMN);
    let mut text = String::new();
    for s in steps {
        let _ = writeln!(text, "{indent}{}  {}", padded(&s.node, width), escape(&s.text));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_aligned_on_the_node_column_and_unmodelled_things_are_listed_once() {
        let mut r = Recorder::default();
        r.step("vm01 → vm02", "192.168.100.1 → 192.168.100.3  icmp echo request");
        r.step("vm02", "DNAT vm02 dnat/to-vm03: 192.168.100.3 → 192.168.200.3");
        r.unmodelled("vm02", "IPsec tunnel vm02 tunnel/t");
        r.unmodelled("vm02", "IPsec tunnel vm02 tunnel/t");
        assert_eq!(r.unmodelled, vec!["vm02: IPsec tunnel vm02 tunnel/t"]);
        assert_eq!(
            steps(&r.steps[..2], "  "),
            "  vm01 → vm02  192.168.100.1 → 192.168.100.3  icmp echo request\n  vm02         DNAT vm02 dnat/to-vm03: 192.168.100.3 → 192.168.200.3\n"
        );
    }
}
