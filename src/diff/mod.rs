//! `natc diff OLD NEW`: what changes in every generated file, as unified diffs that a
//! reviewer reads next to the intent change in the same pull request.

use crate::Artifact;
use std::collections::BTreeMap;

/// The unified diff of one generated file, `a/<gateway>/<file>` → `b/<gateway>/<file>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub path: String,
    pub unified: String,
}

fn files(artifacts: &[Artifact]) -> BTreeMap<String, &str> {
    artifacts
        .iter()
        .flat_map(|a| a.files.iter().map(move |f| (format!("{}/{}", a.gateway, f.name), f.contents.as_str())))
        .collect()
}

/// Every file that differs, in path order; a file only one side has is diffed against
/// /dev/null, as git does.
pub fn diff_artifacts(old: &[Artifact], new: &[Artifact]) -> Vec<FileDiff> {
    let (old, new) = (files(old), files(new));
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|path| {
            let (before, after) = (old.get(path).copied(), new.get(path).copied());
            if before == after {
                return None;
            }
            let from = if before.is_some() { format!("a/{path}") } else { "/dev/null".into() };
            let to = if after.is_some() { format!("b/{path}") } else { "/dev/null".into() };
            let unified = similar::TextDiff::from_lines(before.unwrap_or(""), after.unwrap_or(""))
                .unified_diff()
                .context_radius(3)
                .header(&from, &to)
                .to_string();
            Some(FileDiff { path: path.clone(), unified })
        })
        .collect()
}

/// Colour a unified diff for a terminal, as `git diff` does.
pub fn colored(unified: &str) -> String {
    unified
        .lines()
        .map(|line| {
            let code = if line.starts_with("+++") || line.starts_with("---") {
                "1"
            } else if line.starts_with('+') {
                "32"
            } else if line.starts_with('-') {
                "31"
            } else if line.starts_with("@@") {
                "36"
            } else {
                return format!("{line}\n");
            };
            format!("\x1b[{code}m{line}\x1b[0m\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{OutputFile, TargetKind, TargetSpec};

    fn artifact(gateway: &str, name: &str, contents: &str) -> Artifact {
        Artifact {
            gateway: gateway.into(),
            target: TargetSpec { kind: TargetKind::Nftables, profile: None },
            files: vec![OutputFile { name: name.into(), contents: contents.into(), primary: true }],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn only_changed_files_are_diffed_with_git_style_headers() {
        let old = [artifact("gw", "nftables.nft", "a\nb\nc\n"), artifact("same", "x", "1\n")];
        let new =
            [artifact("gw", "nftables.nft", "a\nB\nc\n"), artifact("same", "x", "1\n"), artifact("n", "y", "2\n")];
        let diffs = diff_artifacts(&old, &new);
        let paths: Vec<&str> = diffs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["gw/nftables.nft", "n/y"]);
        assert_eq!(diffs[0].unified, "--- a/gw/nftables.nft\n+++ b/gw/nftables.nft\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
        assert!(diffs[1].unified.starts_with("--- /dev/null\n+++ b/n/y\n"));
    }
}
