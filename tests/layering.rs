//! The module graph is one-way, and ARCHITECTURE.md says which way: its "Layering" table
//! lists, for every top-level module of src/, the modules it may import. This test reads
//! that table, checks that it is acyclic and that no stage after `lower` may import
//! `model`, then reads every src/**/*.rs and fails on any `crate::` path, or `super::`
//! path reaching a sibling top-level module, that the table does not allow.
//!
//! Test code (`#[cfg(test)]` to the end of a file) may reach further: a unit test compiles
//! a whole intent. The binary's files (main.rs, cli.rs, allocator.rs) use the library as `natc::`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Table = BTreeMap<String, BTreeSet<String>>;

/// The table: the lines `module -> a, b, c` of the first fenced block after `## Layering`.
fn table(architecture: &str) -> Table {
    let section = architecture.split("\n## Layering").nth(1).expect("ARCHITECTURE.md has a `## Layering` section");
    let block = section.split("```").nth(1).expect("the Layering section has a fenced block");
    block
        .lines()
        .filter_map(|line| line.split_once("->"))
        .map(|(module, allowed)| {
            let allowed = allowed.split(',').map(str::trim).filter(|m| !m.is_empty()).map(String::from).collect();
            (module.trim().to_string(), allowed)
        })
        .collect()
}

/// The modules in an order where each comes after everything it may import, or the
/// modules left on a cycle.
fn order(table: &Table) -> Result<Vec<String>, Vec<String>> {
    let mut placed: Vec<String> = Vec::new();
    let mut left: Vec<&String> = table.keys().collect();
    while !left.is_empty() {
        let ready: Vec<&String> = left
            .iter()
            .copied()
            .filter(|m| table[*m].iter().all(|d| placed.contains(d) || !table.contains_key(d)))
            .collect();
        if ready.is_empty() {
            return Err(left.into_iter().cloned().collect());
        }
        left.retain(|m| !ready.contains(m));
        placed.extend(ready.into_iter().cloned());
    }
    Ok(placed)
}

/// The module path of a file under src/: `backend/vyos/nat.rs` → [backend, vyos, nat];
/// `mod.rs` names its directory.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// The top-level modules one file's own code names, with the text that names each. `roots`
/// maps what lib.rs re-exports (`crate::compile`) to the module it comes from.
fn imports(relative: &Path, source: &str, roots: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let code: String =
        code.lines().map(|l| if l.trim_start().starts_with("//") { "" } else { l }).collect::<Vec<_>>().join("\n");
    let module = module_path(relative);
    let top = |name: &str| roots.get(name).cloned().unwrap_or_else(|| name.to_string());
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    found.push((top(&name), format!("crate::{{{}}}", group.trim())));
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            found.push((top(&name), format!("crate::{name}")));
        }
    }
    // `super::` climbs from the file's module; at the crate root the next name is a
    // top-level module (`super::super::super::model` from backend/vyos/nat.rs).
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut depth = module.len();
        while let Some(r) = rest.strip_prefix("super::") {
            rest = r;
            depth = depth.saturating_sub(1);
        }
        if depth == 0 {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.push((top(&name), format!("super::…::{name}")));
            }
        }
    }
    found
}

/// Every import of `source` (a file at `relative` under src/) that the table forbids.
fn violations(table: &Table, roots: &BTreeMap<String, String>, relative: &Path, source: &str) -> Vec<String> {
    let own = module_path(relative).first().cloned().unwrap_or_default();
    let Some(allowed) = table.get(&own) else {
        return vec![format!("{}: module `{own}` is not in ARCHITECTURE.md's Layering table", relative.display())];
    };
    imports(relative, source, roots)
        .into_iter()
        .filter(|(module, _)| *module != own && !allowed.contains(module))
        .map(|(module, text)| format!("{}: `{own}` may not import `{module}` ({text})", relative.display()))
        .collect()
}

/// `pub use pipeline::{Artifact, …};` in lib.rs: each name → its module.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut roots = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        let Some((module, names)) = rest.split_once("::") else { continue };
        for name in names.trim_matches(|c| c == '{' || c == '}' || c == ';').split(',') {
            roots.insert(name.trim().to_string(), module.to_string());
        }
    }
    roots
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn written_table() -> Table {
    table(&std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md"))
}

#[test]
fn the_written_order_is_one_way_and_nothing_after_lower_imports_model() {
    let table = written_table();
    assert!(table.len() >= 10, "the Layering table lists too few modules: {table:?}");
    let order = order(&table).unwrap_or_else(|cycle| panic!("ARCHITECTURE.md's layering has a cycle among {cycle:?}"));
    assert_eq!(order.first().map(String::as_str), Some("vocab"), "vocab is the bottom: it imports nothing");
    let readers: BTreeSet<&str> =
        table.iter().filter(|(_, allowed)| allowed.contains("model")).map(|(m, _)| m.as_str()).collect();
    // lower reads the model to make the plan; check reads it where it checks the intent as
    // written; pipeline drives both. Everything after lower reads the plan only.
    assert_eq!(readers, BTreeSet::from(["check", "lower", "pipeline"]));
}

#[test]
fn every_import_in_src_follows_the_written_order() {
    let table = written_table();
    let src = root().join("src");
    let roots = root_reexports(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut problems = Vec::new();
    let mut modules = BTreeSet::new();
    for path in files {
        let relative = path.strip_prefix(&src).expect("under src/").to_path_buf();
        if ["lib.rs", "main.rs", "cli.rs", "allocator.rs"].contains(&relative.to_string_lossy().as_ref()) {
            continue;
        }
        modules.insert(module_path(&relative)[0].clone());
        let source = std::fs::read_to_string(&path).expect("readable");
        problems.extend(violations(&table, &roots, &relative, &source));
    }
    assert!(problems.is_empty(), "imports against ARCHITECTURE.md's layering:\n{}", problems.join("\n"));
    let listed: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(modules, listed, "the Layering table and src/ list different modules");
}

/// The negative control: the checker does catch a forbidden import, in each form.
#[test]
fn a_forbidden_import_is_reported() {
    let table =
        table("\n## Layering\n```\nvocab ->\nplan -> vocab\nmodel -> vocab, plan\nbackend -> vocab, plan\n```\n");
    let roots = BTreeMap::from([("compile".to_string(), "model".to_string())]);
    let file = Path::new("backend/vyos/nat.rs");
    let check = |source: &str| violations(&table, &roots, file, source);
    assert_eq!(check("use crate::model::Gateway;").len(), 1);
    assert_eq!(check("use crate::{plan::Plan, model::Gateway};").len(), 1);
    assert_eq!(check("fn f() { let _ = crate::model::resolve; }").len(), 1);
    assert_eq!(check("use super::super::super::model::Gateway;").len(), 1);
    assert!(check("use super::super::engine;").is_empty(), "super::super is backend itself");
    assert_eq!(check("let c = crate::compile(text);").len(), 1, "a root re-export counts as its module");
    assert!(check("use crate::plan::Plan;\nuse super::engine;\nuse crate::vocab::Origin;").is_empty());
    assert!(check("// crate::model in a comment\nuse crate::plan::Plan;").is_empty());
    assert!(check("use crate::plan::Plan;\n#[cfg(test)]\nmod tests { use crate::model::At; }").is_empty());
    assert_eq!(violations(&table, &roots, Path::new("trace/mod.rs"), "").len(), 1, "a module missing from the table");
    assert!(order(&table).is_ok());
    let cyclic = self::table("\n## Layering\n```\nplan -> model\nmodel -> plan\n```\n");
    assert!(order(&cyclic).is_err(), "a cycle in the written order is found");
}
