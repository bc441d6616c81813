//! A model of VyOS's configuration tree, independent of natc's change-script code: the
//! node kinds come from VyOS's own schema (`shared/vyos/schema-*`, the XML that
//! vyos-check reads), and `set` / `delete` act on the tree as VyOS's CLI does.
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
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Node,
    /// A tag node without its tag value (`nat destination rule`).
    Tag,
    /// A tag node's entry (`nat destination rule 5`).
    Entry,
    Leaf {
        multi: bool,
        valueless: bool,
    },
}

#[derive(Debug)]
struct SchemaNode {
    kind: Kind,
    children: BTreeMap<String, usize>,
}

/// One VyOS schema: the `node` / `tagNode` / `leafNode` elements of every XML file, merged
/// by name as vyos-check does.
pub struct Schema {
    nodes: Vec<SchemaNode>,
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    ['"', '\''].into_iter().find_map(|quote| {
        let start = tag.find(&format!("{name}={quote}"))? + name.len() + 2;
        let rest = tag.get(start..)?;
        rest.get(..rest.find(quote)?)
    })
}

impl Schema {
    pub fn load(dir: &Path) -> Schema {
        let mut schema = Schema { nodes: vec![SchemaNode { kind: Kind::Node, children: BTreeMap::new() }] };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("the VyOS schema {} is missing: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        files.sort();
        for file in files {
            schema.read(&std::fs::read_to_string(&file).expect("readable schema file"));
        }
        assert!(schema.nodes.len() > 1000, "{} does not look like a VyOS schema", dir.display());
        schema
    }

    fn read(&mut self, xml: &str) {
        let mut stack = vec![0usize];
        let mut rest = xml;
        while let Some(open) = rest.find('<') {
            rest = &rest[open..];
            let end_marker = if rest.starts_with("<!--") {
                "-->"
            } else if rest.starts_with("<![CDATA[") {
                "]]>"
            } else {
                ">"
            };
            let Some(end) = rest.find(end_marker) else { break };
            let tag = &rest[..end + end_marker.len()];
            rest = &rest[end + end_marker.len()..];
            if tag.starts_with("<!") || tag.starts_with("<?") {
                continue;
            }
            let self_closing = tag.ends_with("/>");
            let name = tag.trim_start_matches(['<', '/']).split([' ', '>', '/']).next().unwrap_or_default();
            let kind = match name {
                "node" => Kind::Node,
                "tagNode" => Kind::Tag,
                "leafNode" => Kind::Leaf { multi: false, valueless: false },
                "multi" | "valueless" => {
                    let current = *stack.last().expect("root");
                    if let Kind::Leaf { multi, valueless } = &mut self.nodes[current].kind {
                        *multi |= name == "multi";
                        *valueless |= name == "valueless";
                    }
                    continue;
                }
                _ => continue,
            };
            if tag.starts_with("</") {
                stack.pop();
                continue;
            }
            let node_name = attribute(tag, "name").expect("schema elements have a name").to_string();
            let parent = *stack.last().expect("root");
            let index = match self.nodes[parent].children.get(&node_name) {
                Some(&i) => i,
                None => {
                    self.nodes.push(SchemaNode { kind, children: BTreeMap::new() });
                    let i = self.nodes.len() - 1;
                    self.nodes[parent].children.insert(node_name, i);
                    i
                }
            };
            if !self_closing {
                stack.push(index);
            }
        }
    }

    /// Walks path words (tag values included) to what they name: the words of the path,
    /// the node's kind, and a leaf's value.
    pub fn walk(&self, words: &[String]) -> Result<(Vec<String>, Kind, Option<String>), String> {
        let (mut node, mut i, mut path, mut kind) = (0usize, 0usize, Vec::new(), Kind::Node);
        while i < words.len() {
            let word = &words[i];
            let Some(&child) = self.nodes[node].children.get(word) else {
                return Err(format!("`{word}` is not in the schema under `{}`", path.join(" ")));
            };
            path.push(word.clone());
            kind = self.nodes[child].kind;
            match kind {
                Kind::Node | Kind::Entry => i += 1,
                Kind::Tag => match words.get(i + 1) {
                    Some(tag) => {
                        path.push(tag.clone());
                        kind = Kind::Entry;
                        i += 2;
                    }
                    None => return Ok((path, Kind::Tag, None)),
                },
                Kind::Leaf { .. } => {
                    if words.len() > i + 2 {
                        return Err(format!("`{}` takes one value", path.join(" ")));
                    }
                    return Ok((path, kind, words.get(i + 1).cloned()));
                }
            }
            node = child;
        }
        Ok((path, kind, None))
    }

    /// The kind of the node a path (with tag values) ends on.
    pub fn kind(&self, path: &[&str]) -> Option<Kind> {
        let words: Vec<String> = path.iter().map(|w| w.to_string()).collect();
        self.walk(&words).ok().filter(|(p, _, v)| p.len() == path.len() && v.is_none()).map(|(_, k, _)| k)
    }
}

/// A shell word split with single quotes and backslashes, as vbash (and vyos-check's
/// shlex) reads a line.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word, mut in_word, mut quoted) = (Vec::new(), String::new(), false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted => quoted = false,
            _ if quoted => word.push(c),
            '\'' => (quoted, in_word) = (true, true),
            '\\' => {
                word.push(chars.next().ok_or("a line ends in a backslash")?);
                in_word = true;
            }
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '"' => return Err(format!("double quotes are not expected: {line}")),
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(format!("unbalanced quote: {line}"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
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
