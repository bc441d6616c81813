//! A chain of many iptables rules as a lookup tree, so a packet's cost does not grow with the
//! number of mappings: the built-in chain jumps once per interface (`-i eth0`, or `-o eth0`
//! for SNAT), and under each interface a prefix trie on the destination (source for SNAT)
//! with a fixed fan-out of 16: chains for /4, /8, …, /28, each holding the jumps to its
//! children and the rules whose prefix ends at its level. A packet walks at most 8 chains of
//! at most 16 jumps each, plus one leaf.
//!
//! The shape is fixed by the addresses alone (a rule's chain is where its prefix ends, never
//! where a chain happens to be full), so a new mapping adds its rule plus, at most, the chains
//! and jumps of its own path: nothing is rebalanced or renumbered. Chain names are the
//! interface and the prefix (`D-eth0-198.51.100.16/28`), and each jump's comment says the same.
//!
//! Every rule in the tree is the flat chain's rule verbatim (its own `-d` included), so a
//! jump's condition is implied by the match of every rule below it: entering a chain never
//! keeps a packet from a rule that could have matched it. Only its `-i eth0` (`-o`) is left
//! out below the interface's jump, which every packet there has passed.
//!
//! ## Why first-match order is kept
//! Two rules can match one packet only if their keys overlap: the same interface (or one of
//! them without an interface) and nested prefixes. Evaluating the tree, a packet meets the rules
//! on its own path in depth-first order. For two overlapping rules `a` before `b` in the flat
//! chain, with nodes `A` and `B`:
//! - `A == B`: a chain keeps its rules in flat order.
//! - `A` an ancestor of `B` (or the reverse): the jump from `A` towards `B` sits at the flat
//!   position of the first rule below it, and [`build`] keeps the invariant that no rule of `A`
//!   that overlaps a child falls between the child's first and last rule (a rule that would
//!   break it stays in `A` itself, in order: "lifted", the flat chain's way for that part).
//!   So every rule below the jump is on the same side of `a` (or `b`) as in the flat chain.
//! - `A`, `B` in different subtrees: their keys are disjoint (different interfaces, or prefixes
//!   that differ in a nibble), so they cannot both match.
//!
//! Hence every packet meets the rules that can match it in flat order, and each at most once.
//! One relaxation: two rules that both *commute* (a filter ACCEPT: the same verdict, nothing
//! else done) may meet a packet in either order, as whichever matches first accepts it; so an
//! accept without an interface among accepts with one does not hold the later ones back. A
//! LOG, a NAT rule or a reject never swaps with anything. `tests` checks the verdict and the
//! logs of every packet against the flat chain on random rule sets.

use super::iptables::RuleParts;
use crate::vocab::IptablesShape;
use ipnet::Ipv4Net;
use rustc_hash::FxHashMap as HashMap;
use std::net::Ipv4Addr;

/// Bits per trie level: 16 children per chain.
const STRIDE: u8 = 4;
/// The deepest level: a /28 chain holds the rules of its 16 addresses.
const LEAF: u8 = 28;
/// iptables' longest chain name (XT_EXTENSION_MAXNAMELEN less the NUL).
pub const NAME_MAX: usize = 28;
/// `255.255.255.240/28`, the longest prefix in a name.
const PREFIX_MAX: usize = 18;

/// A rule of the flat chain with what the tree keys it by.
pub struct Keyed {
    /// `-i` (`-o` for a source-keyed chain); `None` matches every interface.
    pub interface: Option<String>,
    /// `-d` (`-s`); `None` is every address.
    pub key: Option<Ipv4Net>,
    pub rule: RuleParts,
    /// Two rules that both commute may swap places: each ends the chain with the same verdict
    /// and does nothing else (a filter ACCEPT). A LOG, a NAT rule, a reject do not.
    pub commutes: bool,
}

/// What a tree chain is keyed by, and how its chains are named.
pub struct Keying<'a> {
    /// The built-in chain the rules were for: `PREROUTING`.
    pub root: &'a str,
    /// A short tag that starts every chain's name (`D`), at most 3 characters.
    pub tag: &'a str,
    /// `true`: `-o` and `-s` (SNAT); `false`: `-i` and `-d`.
    pub source: bool,
    /// The jumps' comment starts with it: `natgw dnat lookup`.
    pub label: String,
}

/// One chain of the layout, in order: the root first, then every chain after its parent.
pub struct Chain {
    pub name: String,
    pub rules: Vec<RuleParts>,
    /// What each rule is, for a target that orders rules by priority (firewalld).
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The rule at this index of the flat chain.
    Rule(usize),
    /// A jump into a chain whose rules all lie in this prefix (`None`: an interface's, any).
    Jump(Option<Ipv4Net>),
}

/// The chains `rules` become: the root alone (the flat chain) below the shape's threshold.
pub fn layout(shape: IptablesShape, keying: &Keying, rules: Vec<Keyed>) -> Vec<Chain> {
    let tree = match shape {
        IptablesShape::Flat => false,
        IptablesShape::Tree => true,
        IptablesShape::Auto => rules.len() >= IptablesShape::THRESHOLD,
    };
    if !tree || !short_names_are_distinct(keying, &rules) {
        let sources = (0..rules.len()).map(Source::Rule).collect();
        let rules = rules.into_iter().map(|k| k.rule).collect();
        return vec![Chain { name: keying.root.to_string(), rules, sources }];
    }
    let tree = build(&rules);
    let mut slots: Vec<Option<RuleParts>> = rules.into_iter().map(|k| Some(k.rule)).collect();
    let mut out = Vec::new();
    emit(&tree, 0, keying, &mut slots, &mut out);
    out
}

/// An interface's part of a chain name: the name itself when the longest name fits, else a
/// hash of it (the jump's comment still names the interface).
fn short_interface(keying: &Keying, interface: &str) -> String {
    let budget = NAME_MAX - keying.tag.len() - 2 - PREFIX_MAX;
    let plain = interface.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if plain && interface.len() <= budget {
        return interface.to_string();
    }
    // FNV-1a: stable across builds and platforms.
    let hash = interface.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    format!("x{:08x}", hash)[..budget].to_string()
}

/// Two interfaces whose names shorten alike would share chains: such a chain stays flat.
fn short_names_are_distinct(keying: &Keying, rules: &[Keyed]) -> bool {
    let mut seen: HashMap<String, &str> = HashMap::default();
    rules.iter().filter_map(|k| k.interface.as_deref().filter(|i| treeable(i))).all(|i| {
        let short = short_interface(keying, i);
        *seen.entry(short).or_insert(i) == i
    })
}

/// A wildcard (`eth+`) overlaps other names, so its rules stay in the built-in chain.
fn treeable(interface: &str) -> bool {
    !interface.ends_with('+')
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Edge {
    Interface(String),
    Nibble(u8),
}

#[derive(Debug)]
enum Entry {
    /// Index of the rule in the flat chain.
    Rule(usize),
    Jump(usize),
}

#[derive(Debug)]
struct Node {
    /// The interface below the root; the prefix (`None`: the root, or an interface's /0).
    interface: Option<String>,
    prefix: Option<Ipv4Net>,
    /// The flat index of the first rule below this node.
    first: usize,
    children: HashMap<Edge, usize>,
    /// The own rules that overlap children: all of them, and those that do not commute.
    any: Cover,
    binding: Cover,
    entries: Vec<Entry>,
}

/// The last own rule that overlaps every child, and per child the last that overlaps it.
#[derive(Debug, Default)]
struct Cover {
    all: Option<usize>,
    per: HashMap<Edge, usize>,
}

impl Cover {
    fn last(&self, edge: &Edge) -> Option<usize> {
        self.all.max(self.per.get(edge).copied())
    }

    /// Rule `index` overlaps these children (`None`: every one).
    fn record(&mut self, edges: &Option<Vec<Edge>>, index: usize) {
        match edges {
            None => self.all = Some(index),
            Some(edges) => {
                for edge in edges {
                    self.per.insert(edge.clone(), index);
                }
            }
        }
    }
}

impl Node {
    fn new(interface: Option<String>, prefix: Option<Ipv4Net>, first: usize) -> Node {
        Node {
            interface,
            prefix,
            first,
            children: HashMap::default(),
            any: Cover::default(),
            binding: Cover::default(),
            entries: Vec::new(),
        }
    }

    /// The prefix length of this node's own level (`None` for the root).
    fn level(&self) -> Option<u8> {
        self.interface.as_ref().map(|_| self.prefix.map_or(0, |p| p.prefix_len()))
    }
}

/// The edges from the root to the deepest node that holds a rule with this key.
fn path(interface: Option<&str>, key: Option<Ipv4Net>) -> Vec<Edge> {
    let Some(interface) = interface.filter(|i| treeable(i)) else { return Vec::new() };
    let (addr, len) = key.map_or((0, 0), |k| (u32::from(k.network()), k.prefix_len()));
    let mut edges = vec![Edge::Interface(interface.to_string())];
    let mut at = 0;
    while at + STRIDE <= len.min(LEAF) {
        edges.push(Edge::Nibble(nibble(addr, at)));
        at += STRIDE;
    }
    edges
}

fn nibble(addr: u32, at: u8) -> u8 {
    ((addr >> (32 - at - STRIDE)) & 0xf) as u8
}

/// The children of `node` an own rule with this key can share a packet with, as `None` for all.
fn overlapped(node: &Node, interface: Option<&str>, key: Option<Ipv4Net>) -> Option<Vec<Edge>> {
    let Some(level) = node.level() else {
        // The root: a rule with a (treeable) interface overlaps that interface's tree alone.
        return interface.filter(|i| treeable(i)).map(|i| vec![Edge::Interface(i.to_string())]);
    };
    let (addr, len) = key.map_or((0, 0), |k| (u32::from(k.network()), k.prefix_len()));
    if len <= level || level >= LEAF {
        return if level >= LEAF { Some(Vec::new()) } else { None };
    }
    // The top `fixed` bits of the child's nibble are the key's; the rest are free.
    let fixed = (len - level).min(STRIDE);
    let base = nibble(addr, level) >> (STRIDE - fixed) << (STRIDE - fixed);
    Some((0..1u8 << (STRIDE - fixed)).map(|low| Edge::Nibble(base | low)).collect())
}

/// The tree of `rules`, node 0 the root. Each rule goes down its path as far as the order
/// invariant (module comment) allows, and is appended to that node's entries.
fn build(rules: &[Keyed]) -> Vec<Node> {
    let mut nodes = vec![Node::new(None, None, 0)];
    for (index, k) in rules.iter().enumerate() {
        let mut at = 0;
        for edge in path(k.interface.as_deref(), k.key) {
            let node = &nodes[at];
            if let Some(&child) = node.children.get(&edge) {
                // A rule of this node that overlaps the child came after the child's first
                // rule: this rule must come after it too, so it stays here. Unless both
                // commute, when their order does not matter.
                let cover = if k.commutes { &node.binding } else { &node.any };
                if cover.last(&edge) > Some(nodes[child].first) {
                    break;
                }
                at = child;
            } else {
                let (interface, prefix) = match &edge {
                    Edge::Interface(i) => (Some(i.clone()), None),
                    Edge::Nibble(n) => {
                        let level = node.level().unwrap_or(0);
                        let base = node.prefix.map_or(0, |p| u32::from(p.network()));
                        let net = base | (u32::from(*n) << (32 - level - STRIDE));
                        let prefix = Ipv4Net::new(Ipv4Addr::from(net), level + STRIDE).ok();
                        (node.interface.clone(), prefix)
                    }
                };
                let child = nodes.len();
                nodes.push(Node::new(interface, prefix, index));
                nodes[at].children.insert(edge, child);
                nodes[at].entries.push(Entry::Jump(child));
                at = child;
            }
        }
        let node = &mut nodes[at];
        node.entries.push(Entry::Rule(index));
        let edges = overlapped(node, k.interface.as_deref(), k.key);
        node.any.record(&edges, index);
        if !k.commutes {
            node.binding.record(&edges, index);
        }
    }
    nodes
}

/// Chain `at` and, after it, each chain it jumps to (depth first, in jump order).
fn emit(nodes: &[Node], at: usize, keying: &Keying, slots: &mut [Option<RuleParts>], out: &mut Vec<Chain>) {
    let name = chain_name(&nodes[at], keying);
    let slot = out.len();
    out.push(Chain { name, rules: Vec::new(), sources: Vec::new() });
    let mut rules = Vec::with_capacity(nodes[at].entries.len());
    let mut sources = Vec::with_capacity(nodes[at].entries.len());
    for entry in &nodes[at].entries {
        match *entry {
            Entry::Rule(i) => {
                rules.extend(slots[i].take().map(|r| without_interface(r, &nodes[at], keying)));
                sources.push(Source::Rule(i));
            }
            Entry::Jump(child) => {
                rules.push(jump(&nodes[child], keying));
                sources.push(Source::Jump(nodes[child].prefix));
                emit(nodes, child, keying, slots, out);
            }
        }
    }
    out[slot].rules = rules;
    out[slot].sources = sources;
}

/// A rule below an interface's jump without its own `-i eth0` (`-o`): every packet there came
/// in on (goes out of) that interface, and on iptables-nft an interface match costs a rule
/// several times what an address match does. Rules in the built-in chain keep theirs.
fn without_interface(mut rule: RuleParts, node: &Node, keying: &Keying) -> RuleParts {
    let Some(interface) = &node.interface else { return rule };
    let token = format!(" {} {interface}", if keying.source { "-o" } else { "-i" });
    let found = rule.matches.match_indices(&token).map(|(at, _)| at).find(|&at| {
        // The whole word: ` -i eth0` is not the start of ` -i eth0.5`.
        rule.matches[at + token.len()..].chars().next().is_none_or(|c| c == ' ')
    });
    if let Some(at) = found {
        rule.matches.replace_range(at..at + token.len(), "");
    }
    rule
}

fn chain_name(node: &Node, keying: &Keying) -> String {
    match (&node.interface, node.prefix) {
        (None, _) => keying.root.to_string(),
        (Some(i), None) => format!("{}-{}", keying.tag, short_interface(keying, i)),
        (Some(i), Some(p)) => format!("{}-{}-{p}", keying.tag, short_interface(keying, i)),
    }
}

/// The jump into `child`: its interface or its prefix, the one condition its level adds.
fn jump(child: &Node, keying: &Keying) -> RuleParts {
    let interface = child.interface.as_deref().unwrap_or_default();
    let (way, flag, addr, dir) = if keying.source { ("out", "-o", "-s", "from") } else { ("in", "-i", "-d", "to") };
    let (matches, comment) = match child.prefix {
        None => (format!(" {flag} {interface}"), format!("{}: {way} {interface}", keying.label)),
        Some(p) => (format!(" {addr} {p}"), format!("{}: {way} {interface}, {dir} {p}", keying.label)),
    };
    RuleParts { matches, comment, target: chain_name(child, keying) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keying() -> Keying<'static> {
        Keying { root: "PREROUTING", tag: "D", source: false, label: "gw dnat lookup".into() }
    }

    #[derive(Clone, Copy)]
    enum Kind {
        /// A filter ACCEPT: ends the walk, commutes with other accepts.
        Accept,
        /// LOG: the walk goes on.
        Log,
        /// A NAT rule: ends the walk; which one matched matters.
        Nat,
    }

    fn rule(interface: Option<&str>, key: Option<&str>, id: usize) -> Keyed {
        rule_of(Kind::Nat, interface, key, id)
    }

    fn rule_of(kind: Kind, interface: Option<&str>, key: Option<&str>, id: usize) -> Keyed {
        let key: Option<Ipv4Net> = key.map(|k| k.parse().expect("prefix"));
        // As iptables.rs writes a match: ` -i eth0 -d 10.0.0.0/8 -p tcp`.
        let mut matches = interface.map(|i| format!(" -i {i}")).unwrap_or_default();
        matches.push_str(&key.map(|k| format!(" -d {k}")).unwrap_or_default());
        matches.push_str(" -p tcp");
        let target = match kind {
            Kind::Accept => "ACCEPT",
            Kind::Log => "LOG",
            Kind::Nat => "DNAT",
        };
        Keyed {
            interface: interface.map(str::to_string),
            key,
            rule: RuleParts { matches, comment: format!("r{id}"), target: target.into() },
            commutes: matches!(kind, Kind::Accept),
        }
    }

    fn holds(matches: &str, (interface, addr): (&str, Ipv4Addr)) -> bool {
        let words: Vec<&str> = matches.split_whitespace().collect();
        words.chunks(2).all(|pair| match pair {
            ["-i", i] => *i == interface,
            ["-d", p] => p.parse::<Ipv4Net>().expect("prefix").contains(&addr),
            ["-p", "tcp"] => true,
            _ => panic!("unexpected match {matches}"),
        })
    }

    /// What a packet meets, walking the chains as iptables does (a jump whose match holds
    /// runs the chain and comes back), until a rule ends the walk: each LOG, then the NAT rule
    /// that matched (by id) or `accept`. `true` once the walk ended.
    fn walk(chains: &[Chain], at: &str, packet: (&str, Ipv4Addr), met: &mut Vec<String>) -> bool {
        let chain = chains.iter().find(|c| c.name == at).expect("chain exists");
        for r in chain.rules.iter().filter(|r| holds(&r.matches, packet)) {
            let ended = match r.target.as_str() {
                "LOG" => {
                    met.push(r.comment.clone());
                    false
                }
                "ACCEPT" => {
                    met.push("accept".into());
                    true
                }
                "DNAT" => {
                    met.push(r.comment.clone());
                    true
                }
                jump => walk(chains, jump, packet, met),
            };
            if ended {
                return true;
            }
        }
        false
    }

    /// A tiny deterministic generator (no dependency): xorshift.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Random rule sets, mixing accepts, logs and NAT rules, interfaces (and none), nested
    /// and disjoint prefixes of every length in a small space (so they overlap often): every
    /// packet meets the same logs and ends at the same NAT rule (or an accept) as in the flat
    /// chain. With the accepts alone out of the mix, the tree must also never lift one.
    #[test]
    fn the_tree_keeps_what_every_packet_meets_in_the_flat_chain() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let interfaces = [None, Some("eth0"), Some("eth1"), Some("ppp+"), Some("eth0.5")];
        let mut lifted_somewhere = false;
        for round in 0..400 {
            let n = 1 + rng.next(60) as usize;
            let rules: Vec<Keyed> = (0..n)
                .map(|id| {
                    let interface = interfaces[rng.next(5) as usize];
                    let key = if rng.next(8) == 0 {
                        None
                    } else {
                        let len = [0, 3, 8, 16, 22, 24, 26, 28, 30, 32][rng.next(10) as usize];
                        let addr = 0x0a00_0000 | (rng.next(4) as u32) << 8 | (rng.next(64) as u32);
                        Some(Ipv4Net::new(Ipv4Addr::from(addr), len).expect("len").trunc().to_string())
                    };
                    // Every fourth round accepts only: they must never be held back.
                    let kind = if round % 4 == 0 {
                        Kind::Accept
                    } else {
                        [Kind::Accept, Kind::Log, Kind::Nat][rng.next(3) as usize]
                    };
                    rule_of(kind, interface, key.as_deref(), id)
                })
                .collect();
            let flat = Chain {
                name: "PREROUTING".into(),
                rules: rules
                    .iter()
                    .map(|k| RuleParts {
                        matches: k.rule.matches.clone(),
                        comment: k.rule.comment.clone(),
                        target: k.rule.target.clone(),
                    })
                    .collect(),
                sources: Vec::new(),
            };
            let tree = build(&rules);
            let lifted = tree.iter().enumerate().any(|(i, node)| {
                node.entries.iter().any(|e| matches!(e, Entry::Rule(r) if path(rules[*r].interface.as_deref(), rules[*r].key).len() > depth(&tree, i)))
            });
            assert!(!(round % 4 == 0 && lifted), "round {round}: an accept among accepts was lifted");
            lifted_somewhere |= lifted;
            let chains = layout(IptablesShape::Tree, &keying(), rules);
            assert_eq!(
                chains.iter().map(|c| c.rules.iter().filter(|r| r.comment.starts_with('r')).count()).sum::<usize>(),
                n
            );
            for _ in 0..200 {
                let interface = ["eth0", "eth1", "eth2", "eth0.5"][rng.next(4) as usize];
                let packet =
                    (interface, Ipv4Addr::from(0x0a00_0000 | (rng.next(4) as u32) << 8 | (rng.next(64) as u32)));
                let (mut expected, mut met) = (Vec::new(), Vec::new());
                walk(std::slice::from_ref(&flat), "PREROUTING", packet, &mut expected);
                walk(&chains, "PREROUTING", packet, &mut met);
                assert_eq!(met, expected, "round {round}: {packet:?}");
            }
        }
        assert!(lifted_somewhere, "the random rule sets never exercised a lifted rule");
    }

    fn depth(nodes: &[Node], at: usize) -> usize {
        let parent = nodes.iter().position(|n| n.children.values().any(|&c| c == at));
        parent.map_or(0, |p| 1 + depth(nodes, p))
    }

    /// Host mappings keep to their own path: one more changes its rule plus the chains and
    /// jumps of a path no other rule uses, and the chain names say interface and prefix.
    #[test]
    fn a_new_host_adds_its_rule_and_at_most_its_own_path() {
        let hosts = |n: u32| -> Vec<Keyed> {
            (0..n)
                .map(|i| rule(Some("eth0"), Some(&format!("{}/32", Ipv4Addr::from(0xc633_6400 + i * 16))), i as usize))
                .collect()
        };
        let lines = |chains: &[Chain]| -> Vec<String> {
            chains
                .iter()
                .flat_map(|c| {
                    c.rules.iter().map(move |r| format!("{} {} {} {}", c.name, r.matches, r.comment, r.target))
                })
                .collect()
        };
        let before = lines(&layout(IptablesShape::Tree, &keying(), hosts(200)));
        let after = lines(&layout(IptablesShape::Tree, &keying(), hosts(201)));
        let added: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
        assert!(before.iter().all(|l| after.contains(l)), "a line changed");
        // 198.51.112.128: a new /28 chain, the jump into it from its /24, and the rule.
        assert_eq!(added.len(), 2, "{added:#?}");
        let chains = layout(IptablesShape::Tree, &keying(), hosts(201));
        let names: Vec<&str> = chains.iter().map(|c| c.name.as_str()).collect();
        assert!(names.contains(&"D-eth0-198.51.112.128/28"), "{names:?}");
        assert!(names.iter().all(|n| n.len() <= NAME_MAX));
        // Below the interface's jump no rule compares the interface again.
        assert!(chains.iter().skip(1).flat_map(|c| &c.rules).all(|r| !r.matches.contains("-i ")));
        // Every chain holds at most 16 jumps.
        assert!(chains.iter().all(|c| c.rules.iter().filter(|r| !r.comment.starts_with('r')).count() <= 16));
    }

    #[test]
    fn long_interface_names_are_hashed_to_fit() {
        let k = keying();
        assert_eq!(short_interface(&k, "eth0"), "eth0");
        let long = short_interface(&k, "enp0s31f6.100");
        assert_eq!(long.len(), NAME_MAX - 1 - 2 - PREFIX_MAX);
        assert!(long.starts_with('x'));
    }
}
