//! A model of VyOS's configuration tree, independent of natc's change-script code: the
//! node kinds (tag nodes, `<multi/>` and `<valueless/>` leaves) come from natc's own VyOS
//! grammar (tests/common/grammar/vyos-*.nodes, written from vyos-1x's interface
//! definitions), and `set` / `delete` act on the tree as VyOS's CLI does.
//!
//! - `set P V` creates the path; on a single-valued leaf it replaces the value, on a
//!   `<multi/>` leaf it adds one; `set P` creates a valueless leaf, a tag entry or a node.
//!   A `set` that changes nothing is refused (the script must be minimal).
//! - `delete P` removes the subtree at P, which must exist (VyOS refuses "nothing to
//!   delete"); `delete P V` removes one value of a multi-valued leaf (the leaf goes with
//!   its last value) or a single-valued leaf holding V. A tag node goes with its last
//!   entry; other parents stay, possibly empty, as in VyOS.
//! - Two trees are compared by their facts: every leaf value, every valueless leaf and
//!   every node a `set` line ended on. Empty parents are not facts, except where they
//!   are not harmless (see [`Tree::residue`]).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

/// The node kinds come from natc's own grammar of the VyOS nodes it writes.
pub use super::grammar::vyos::{Grammar as Schema, Kind};

/// The shell words of a line, as vbash reads it (natc's grammar's lexer).
pub fn split(line: &str) -> Result<Vec<String>, String> {
    Ok(super::grammar::lex_shell(line)?.into_iter().map(|w| w.text).collect())
}

#[derive(Debug, Default, Clone)]
struct Node {
    children: BTreeMap<String, Node>,
    values: BTreeSet<String>,
    /// A `set` line ended here without a value.
    explicit: bool,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.values.is_empty() && !self.explicit
    }
}

/// A VyOS configuration tree with the schema that types it.
pub struct Tree<'s> {
    schema: &'s Schema,
    root: Node,
}

impl<'s> Tree<'s> {
    pub fn new(schema: &'s Schema) -> Tree<'s> {
        Tree { schema, root: Node::default() }
    }

    /// The tree of a `commands.vyos` (its `set` lines; other lines are comments).
    pub fn of_file(schema: &'s Schema, text: &str) -> Result<Tree<'s>, String> {
        let mut tree = Tree::new(schema);
        for line in text.lines().filter(|l| l.starts_with("set ")) {
            tree.apply(line, false)?;
        }
        Ok(tree)
    }

    /// One `set` or `delete` line; with `strict`, a `set` that changes nothing is an error.
    pub fn apply(&mut self, line: &str, strict: bool) -> Result<(), String> {
        let words = split(line)?;
        let Some((command, rest)) = words.split_first() else { return Ok(()) };
        let (path, kind, value) = self.schema.walk(rest)?;
        match command.as_str() {
            "set" => self.set(&path, kind, value, strict),
            "delete" => self.delete(&path, kind, value),
            other => Err(format!("`{other}` is neither set nor delete")),
        }
        .map_err(|e| format!("{e}\n    in: {line}"))
    }

    fn set(&mut self, path: &[String], kind: Kind, value: Option<String>, strict: bool) -> Result<(), String> {
        if kind == Kind::Tag {
            return Err("a tag node needs its tag value".into());
        }
        let mut node = &mut self.root;
        for word in path {
            node = node.children.entry(word.clone()).or_default();
        }
        let changed = match (kind, value) {
            (Kind::Leaf { valueless: true, .. }, Some(_)) => return Err("a valueless leaf takes no value".into()),
            (Kind::Leaf { valueless: false, .. }, None) => return Err("the leaf needs a value".into()),
            (Kind::Leaf { multi: true, .. }, Some(v)) => node.values.insert(v),
            (Kind::Leaf { multi: false, .. }, Some(v)) => {
                let changed = !node.values.contains(&v);
                node.values = BTreeSet::from([v]);
                changed
            }
            (_, Some(_)) => return Err("only a leaf takes a value".into()),
            (_, None) => !std::mem::replace(&mut node.explicit, true),
        };
        if strict && !changed {
            return Err("this set changes nothing (the script is not minimal)".into());
        }
        Ok(())
    }

    fn delete(&mut self, path: &[String], kind: Kind, value: Option<String>) -> Result<(), String> {
        let Some((last, parents)) = path.split_last() else { return Err("delete of the whole tree".into()) };
        let mut node = &mut self.root;
        for word in parents {
            node = node.children.get_mut(word).ok_or("nothing to delete: the path does not exist")?;
        }
        let target = node.children.get_mut(last).ok_or("nothing to delete: the path does not exist")?;
        match (kind, value) {
            (Kind::Leaf { multi: true, .. }, Some(v)) => {
                if !target.values.remove(&v) {
                    return Err(format!("nothing to delete: the leaf has no value {v}"));
                }
                if !target.values.is_empty() {
                    return Ok(());
                }
            }
            (Kind::Leaf { .. }, Some(v)) if !target.values.contains(&v) => {
                return Err(format!("nothing to delete: the leaf's value is not {v}"));
            }
            _ => {}
        }
        node.children.remove(last);
        // A tag node (`rule`) goes with its last entry.
        if kind == Kind::Entry {
            self.remove_if_empty(parents);
        }
        Ok(())
    }

    fn remove_if_empty(&mut self, path: &[String]) {
        let Some((last, parents)) = path.split_last() else { return };
        let mut node = &mut self.root;
        for word in parents {
            match node.children.get_mut(word) {
                Some(n) => node = n,
                None => return,
            }
        }
        if node.children.get(last).is_some_and(Node::is_empty) {
            node.children.remove(last);
        }
    }

    /// Every fact of the tree: `path = value` per value, and each path a `set` ended on.
    pub fn facts(&self) -> BTreeSet<String> {
        fn walk(node: &Node, path: &mut Vec<String>, out: &mut BTreeSet<String>) {
            for v in &node.values {
                out.insert(format!("{} = {v}", path.join(" ")));
            }
            if node.explicit {
                out.insert(path.join(" "));
            }
            for (word, child) in &node.children {
                path.push(word.clone());
                walk(child, path, out);
                path.pop();
            }
        }
        let mut out = BTreeSet::new();
        walk(&self.root, &mut Vec::new(), &mut out);
        out
    }

    /// Empty nodes a change script must not leave behind: a tag entry with nothing under
    /// it (an empty NAT rule, peer, VLAN: VyOS keeps it, and it means something) other than
    /// a physical or loopback interface, which exists on the router anyway; and the
    /// instances `protocols bgp` (VyOS refuses to commit it without `system-as`) and
    /// `vpn ipsec`.
    pub fn residue(&self) -> Vec<String> {
        fn has_facts(node: &Node) -> bool {
            node.explicit || !node.values.is_empty() || node.children.values().any(has_facts)
        }
        fn walk(schema: &Schema, node: &Node, path: &mut Vec<String>, out: &mut Vec<String>) {
            for (word, child) in &node.children {
                path.push(word.clone());
                let words: Vec<&str> = path.iter().map(String::as_str).collect();
                let entry = schema.kind(&words) == Some(Kind::Entry);
                let physical = matches!(words[..], ["interfaces", "ethernet" | "loopback", _]);
                let instance = matches!(words[..], ["protocols", "bgp"] | ["vpn", "ipsec"]);
                if !has_facts(child) && (entry && !physical || instance) {
                    out.push(path.join(" "));
                } else {
                    walk(schema, child, path, out);
                }
                path.pop();
            }
        }
        let mut out = Vec::new();
        walk(self.schema, &self.root, &mut Vec::new(), &mut out);
        out
    }

    /// The values of the leaf at `path` (none when it does not exist).
    pub fn values(&self, path: &[&str]) -> Vec<String> {
        let mut node = &self.root;
        for w in path {
            match node.children.get(*w) {
                Some(n) => node = n,
                None => return Vec::new(),
            }
        }
        node.values.iter().cloned().collect()
    }

    pub fn exists(&self, path: &[&str]) -> bool {
        let mut node = &self.root;
        for w in path {
            match node.children.get(*w) {
                Some(n) => node = n,
                None => return false,
            }
        }
        true
    }

    /// References VyOS resolves at commit that natc writes: a peer's IKE and ESP groups
    /// and its VTI must exist. Every one must hold after every line of a script.
    pub fn dangling(&self) -> Vec<String> {
        let mut out = Vec::new();
        let peers = self.children(&["vpn", "ipsec", "site-to-site", "peer"]);
        for peer in &peers {
            let base = ["vpn", "ipsec", "site-to-site", "peer", peer.as_str()];
            let mut refs: Vec<(String, Vec<&str>)> = Vec::new();
            for g in self.values(&[&base[..], &["ike-group"]].concat()) {
                refs.push((g, vec!["vpn", "ipsec", "ike-group"]));
            }
            for g in self.values(&[&base[..], &["vti", "esp-group"]].concat()) {
                refs.push((g, vec!["vpn", "ipsec", "esp-group"]));
            }
            for t in self.children(&[&base[..], &["tunnel"]].concat()) {
                for g in self.values(&[&base[..], &["tunnel", t.as_str(), "esp-group"]].concat()) {
                    refs.push((g, vec!["vpn", "ipsec", "esp-group"]));
                }
            }
            for v in self.values(&[&base[..], &["vti", "bind"]].concat()) {
                refs.push((v, vec!["interfaces", "vti"]));
            }
            for (name, mut at) in refs {
                at.push(&name);
                if !self.exists(&at) {
                    out.push(format!("peer {peer} refers to `{}`, which does not exist", at.join(" ")));
                }
            }
        }
        out
    }

    fn children(&self, path: &[&str]) -> Vec<String> {
        let mut node = &self.root;
        for w in path {
            match node.children.get(*w) {
                Some(n) => node = n,
                None => return Vec::new(),
            }
        }
        node.children.keys().cloned().collect()
    }
}

/// Applies a change script to the tree of `old` and holds the result to `new`: every line
/// is a valid, effective `set` or `delete`, no reference dangles after any line, nothing
/// hollow is left, and the facts equal those of `new`.
pub fn check(schema: &Schema, old: &str, new: &str, script: &str) -> Result<(), String> {
    let mut tree = Tree::of_file(schema, old).map_err(|e| format!("old config: {e}"))?;
    let target = Tree::of_file(schema, new).map_err(|e| format!("new config: {e}"))?;
    let dangling = tree.dangling();
    if !dangling.is_empty() {
        return Err(format!("the old config already dangles: {dangling:?}"));
    }
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        tree.apply(line, true)?;
        let dangling = tree.dangling();
        if !dangling.is_empty() {
            return Err(format!("after `{line}`: {}", dangling.join("; ")));
        }
    }
    let residue = tree.residue();
    if !residue.is_empty() {
        return Err(format!("the script leaves hollow nodes behind: {residue:?}"));
    }
    let (got, want) = (tree.facts(), target.facts());
    if got != want {
        let missing: Vec<&String> = want.difference(&got).collect();
        let extra: Vec<&String> = got.difference(&want).collect();
        return Err(format!(
            "after the script the router differs from the new config\n  missing: {missing:#?}\n  extra: {extra:#?}"
        ));
    }
    Ok(())
}
