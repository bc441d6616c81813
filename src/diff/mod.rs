//! `natc diff OLD NEW`: what changes in every generated file, as unified diffs that a
//! reviewer reads next to the intent change in the same pull request, and for VyOS and
//! RTX the change script that takes a running device from OLD's config to NEW's
//! (`vyos_change`, `rtx_change`; docs/diff.md).

pub mod rtx_change;
pub mod vyos_change;

use crate::Artifact;
use crate::backend::{TargetKind, TargetSpec};
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

/// The lines that take one gateway's device from the old configuration to the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeScript {
    pub gateway: String,
    /// The new side's target (the old side's when the gateway is gone).
    pub target: TargetSpec,
    /// Which sides configure the gateway for this target: false, true when it is new.
    pub old: bool,
    pub new: bool,
    /// Commands and `#` lines naming the steps.
    pub lines: Vec<String>,
}

impl ChangeScript {
    /// The script as it is pasted into the device: a banner, how to apply it, the lines.
    pub fn text(&self) -> String {
        let mut text = format!("# ===== natc change script: gateway {}, target {} =====\n", self.gateway, self.target);
        let kind = self.target.kind.name();
        if !self.old {
            text.push_str(&format!(
                "# The old intent has no {kind} config for {}: this is its whole config.\n",
                self.gateway
            ));
        }
        if !self.new {
            text.push_str(&format!(
                "# The new intent has no {kind} config for {}: this removes what natc configured.\n",
                self.gateway
            ));
        }
        match self.target.kind {
            TargetKind::Vyos => {
                let apply = crate::backend::rollback::vyos_apply("paste these lines");
                text.push_str(&format!("# Apply: {apply} (one commit for all of them)\n"));
                for note in crate::backend::rollback::VYOS_NOTES {
                    text.push_str(&format!("# {note}\n"));
                }
            }
            _ => {
                text.push_str(
                    "# Apply: enter these lines in this order (administrator mode), check `show config`, `save`\n",
                );
                for note in crate::backend::rollback::RTX_NOTES {
                    text.push_str(&format!("# {note}\n"));
                }
            }
        }
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The script as `#` lines, for `natc diff` to print after the unified diffs.
    pub fn commented(&self) -> String {
        let mut text = format!(
            "#\n# ===== natc change script: gateway {}, target {} (pasteable with --change-script) =====\n",
            self.gateway, self.target
        );
        for line in self.text().lines().skip(1) {
            text.push_str(&format!("#   {line}\n"));
        }
        text
    }
}

/// The primary file of every VyOS and RTX artifact, by gateway and target kind.
fn device_configs(artifacts: &[Artifact]) -> BTreeMap<(&str, TargetKind), (&TargetSpec, &str)> {
    artifacts
        .iter()
        .filter(|a| matches!(a.target.kind, TargetKind::Vyos | TargetKind::Rtx))
        .filter_map(|a| {
            let file = a.files.iter().find(|f| f.primary)?;
            Some(((a.gateway.as_str(), a.target.kind), (&a.target, file.contents.as_str())))
        })
        .collect()
}

/// A change script for every VyOS and RTX gateway whose configuration changes, by gateway
/// and target. A gateway only one side builds is configured from nothing, or to nothing.
/// The profile (VyOS release, RTX model) does not make another device: a gateway is
/// matched by name and target kind.
pub fn change_scripts(old: &[Artifact], new: &[Artifact]) -> Vec<ChangeScript> {
    let (before, after) = (device_configs(old), device_configs(new));
    let mut keys: Vec<&(&str, TargetKind)> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (old_side, new_side) = (before.get(key), after.get(key));
            let (old_text, new_text) = (old_side.map_or("", |s| s.1), new_side.map_or("", |s| s.1));
            let lines = match key.1 {
                TargetKind::Vyos => vyos_change::change_script(old_text, new_text),
                _ => rtx_change::change_script(old_text, new_text),
            };
            let target = new_side.or(old_side)?.0.clone();
            (!lines.is_empty()).then(|| ChangeScript {
                gateway: key.0.to_string(),
                target,
                old: old_side.is_some(),
                new: new_side.is_some(),
                lines,
            })
        })
        .collect()
}

/// What `natc diff` prints after the unified diffs: the change scripts as `#` lines; or,
/// `pasteable` (`--change-script`, instead of the diffs), the scripts as they are pasted,
/// with a note for stderr naming the changed files no script covers.
pub fn change_script_output(
    old: &[Artifact],
    new: &[Artifact],
    diffs: &[FileDiff],
    pasteable: bool,
) -> (String, Option<String>) {
    let scripts = change_scripts(old, new);
    if !pasteable {
        return (scripts.iter().map(ChangeScript::commented).collect(), None);
    }
    let uncovered = uncovered(old, new, diffs);
    let note = (!uncovered.is_empty())
        .then(|| format!("change scripts cover VyOS and RTX only; also changed: {}", uncovered.join(", ")));
    (scripts.iter().map(ChangeScript::text).collect::<Vec<_>>().join("\n"), note)
}

/// The changed files no change script covers: those of every target but VyOS and RTX.
pub fn uncovered(old: &[Artifact], new: &[Artifact], diffs: &[FileDiff]) -> Vec<String> {
    let others: Vec<String> = old
        .iter()
        .chain(new)
        .filter(|a| !matches!(a.target.kind, TargetKind::Vyos | TargetKind::Rtx))
        .flat_map(|a| a.files.iter().map(move |f| format!("{}/{}", a.gateway, f.name)))
        .collect();
    diffs.iter().filter(|d| others.contains(&d.path)).map(|d| d.path.clone()).collect()
}

/// What `natc diff` reports: the changed files' unified diffs in path order, the change
/// scripts, and the changed files no script covers.
#[derive(Debug, Default)]
pub struct Comparison {
    pub diffs: Vec<FileDiff>,
    pub scripts: Vec<ChangeScript>,
    pub uncovered: Vec<String>,
}

/// Why a comparison has no result: the side (or both) that does not build, with its errors.
#[derive(Debug)]
pub enum Failed {
    Old(crate::Error),
    New(crate::Error),
    Both(crate::Error, crate::Error),
}

impl Failed {
    fn of(old: Option<crate::Error>, new: Option<crate::Error>) -> Option<Failed> {
        match (old, new) {
            (Some(a), Some(b)) => Some(Failed::Both(a, b)),
            (Some(a), None) => Some(Failed::Old(a)),
            (None, Some(b)) => Some(Failed::New(b)),
            (None, None) => None,
        }
    }
}

/// Compare two compiled intents: each (gateway, target kind) is built on both sides,
/// compared and dropped before the next, so at most one gateway-target's files of each
/// side are in memory next to the two plans (never every file of both builds). Each side
/// is compiled once, by the caller. All or nothing, as `natc build`: if any gateway-target
/// of a side fails, that side's errors are the result.
///
/// One thread: building the two sides' gateway-targets at once (and compiling the two
/// sides at once) was tried; at 100k mappings the two peaks added up to 410-520 MiB
/// against 315-360 MiB one after the other.
pub fn compare(
    old: &crate::Compiled,
    new: &crate::Compiled,
    options: &crate::BuildOptions,
) -> Result<Comparison, Failed> {
    use crate::pipeline::{Job, invalid, jobs};
    let (old_jobs, new_jobs) = match (jobs(old, options), jobs(new, options)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Ok(_)) => return Err(Failed::Old(a)),
        (Ok(_), Err(b)) => return Err(Failed::New(b)),
        (Err(a), Err(b)) => return Err(Failed::Both(a, b)),
    };
    let (mut old_errors, mut new_errors) = (old_jobs.1, new_jobs.1);
    let key = |j: &Job<'_>| (j.gateway.name.clone(), j.spec.kind);
    // (gateway, target kind) → its job on the old side and on the new side.
    type Sides<'j, 'a> = (Option<&'j Job<'a>>, Option<&'j Job<'a>>);
    let mut pairs: BTreeMap<(String, TargetKind), Sides<'_, '_>> = BTreeMap::new();
    for j in &old_jobs.0 {
        pairs.entry(key(j)).or_default().0 = Some(j);
    }
    for j in &new_jobs.0 {
        pairs.entry(key(j)).or_default().1 = Some(j);
    }
    let mut out = Comparison::default();
    for (a, b) in pairs.into_values() {
        let before: Vec<Artifact> = a.and_then(|j| j.build(&mut old_errors)).into_iter().collect();
        let after: Vec<Artifact> = b.and_then(|j| j.build(&mut new_errors)).into_iter().collect();
        if !old_errors.is_empty() || !new_errors.is_empty() {
            // Keep going to collect every error of both sides, but compare nothing more.
            continue;
        }
        let diffs = diff_artifacts(&before, &after);
        out.uncovered.extend(uncovered(&before, &after, &diffs));
        out.scripts.extend(change_scripts(&before, &after));
        out.diffs.extend(diffs);
    }
    let side = |e: Vec<crate::diag::Diagnostic>| (!e.is_empty()).then(|| invalid(e));
    if let Some(failed) = Failed::of(side(old_errors), side(new_errors)) {
        return Err(failed);
    }
    out.diffs.sort_by(|a, b| a.path.cmp(&b.path));
    out.uncovered.sort();
    Ok(out)
}

impl Comparison {
    /// As [`change_script_output`]: the scripts as `#` lines, or pasteable with a note
    /// naming the changed files no script covers.
    pub fn script_output(&self, pasteable: bool) -> (String, Option<String>) {
        if !pasteable {
            return (self.scripts.iter().map(ChangeScript::commented).collect(), None);
        }
        let note = (!self.uncovered.is_empty())
            .then(|| format!("change scripts cover VyOS and RTX only; also changed: {}", self.uncovered.join(", ")));
        (self.scripts.iter().map(ChangeScript::text).collect::<Vec<_>>().join("\n"), note)
    }
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
    use crate::backend::{OutputFile, TargetKind, TargetSpec};

    fn artifact(gateway: &str, name: &str, contents: &str) -> Artifact {
        Artifact {
            gateway: gateway.into(),
            target: TargetSpec { kind: TargetKind::Nftables, profile: None },
            files: vec![OutputFile::new(name, contents.into(), true)],
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

    /// Lines of words natc writes and words it never does, in a fixed pseudo-random order.
    fn noise(seed: u64, lines: usize) -> String {
        const WORDS: &[&str] = &[
            "set",
            "delete",
            "no",
            "ip",
            "filter",
            "dynamic",
            "nat",
            "descriptor",
            "static",
            "masquerade",
            "type",
            "address",
            "outer",
            "tunnel",
            "select",
            "enable",
            "ipsec",
            "ike",
            "sa",
            "policy",
            "route",
            "secure",
            "in",
            "rule",
            "interfaces",
            "1",
            "0",
            "99999999999999999999",
            "18446744073709551615",
            "1.2.3.4=5.6.7.8",
            "255.255.255.255=0.0.0.0",
            "'v'",
            "'",
            "''",
            "#",
            " ",
            "\t",
            "\u{0}",
            "é",
            "none",
            "tcp",
            "80=8080",
            "=",
        ];
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut text = String::new();
        for _ in 0..lines {
            for _ in 0..(state >> 60) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(WORDS[(state >> 33) as usize % WORDS.len()]);
                text.push(if state & 1 == 0 { ' ' } else { '\t' });
            }
            text.push('\n');
        }
        text
    }

    #[test]
    fn arbitrary_text_makes_a_script_without_panicking_and_the_same_script_twice() {
        for seed in 0..300 {
            let (old, new) = (noise(seed, 30), noise(seed + 1000, 30));
            for (a, b) in [(&old, &new), (&new, &old), (&old, &old)] {
                assert_eq!(vyos_change::change_script(a, b), vyos_change::change_script(a, b));
                assert_eq!(rtx_change::change_script(a, b), rtx_change::change_script(a, b));
            }
            assert!(rtx_change::change_script(&old, &old).is_empty(), "{old}");
            assert!(vyos_change::change_script(&old, &old).is_empty(), "{old}");
        }
    }

    fn device(gateway: &str, target: &str, contents: &str) -> Artifact {
        let target: TargetSpec = target.parse().expect("target");
        let name = if target.kind == TargetKind::Vyos { "commands.vyos" } else { "rtx.conf" };
        Artifact { target, ..artifact(gateway, name, contents) }
    }

    #[test]
    fn change_scripts_for_vyos_and_rtx_gateways_that_change() {
        let old = [
            device("a", "vyos@1.4", "set nat source rule 5 protocol 'tcp'\n"),
            device("b", "rtx@RTX830", "ip filter 100 pass * * * * *\n"),
            device("c", "rtx", "ip filter 100 pass * * * * *\n"),
            artifact("d", "nftables.nft", "x\n"),
        ];
        let new = [
            device("a", "vyos@1.5", "set nat source rule 5 protocol 'udp'\n"),
            device("c", "rtx", "ip filter 100 pass * * * * *\n"),
            artifact("d", "nftables.nft", "y\n"),
            device("e", "vyos", "set protocols bgp system-as '1'\n"),
        ];
        let scripts = change_scripts(&old, &new);
        let names: Vec<(&str, String, bool, bool)> =
            scripts.iter().map(|s| (s.gateway.as_str(), s.target.to_string(), s.old, s.new)).collect();
        assert_eq!(
            names,
            [
                ("a", "vyos@1.5".to_string(), true, true),
                ("b", "rtx@RTX830".to_string(), true, false),
                ("e", "vyos".to_string(), false, true)
            ]
        );
        let a = scripts[0].text();
        assert!(a.starts_with("# ===== natc change script: gateway a, target vyos@1.5 =====\n"), "{a}");
        assert!(a.ends_with("set nat source rule 5 protocol 'udp'\n"), "{a}");
        assert!(scripts[1].text().contains("no ip filter 100\n"));
        assert!(scripts[1].text().contains("this removes what natc configured"));
        let commented = scripts[0].commented();
        assert!(commented.lines().all(|l| l.starts_with('#')), "{commented}");
        assert!(commented.contains("#   set nat source rule 5 protocol 'udp'\n"), "{commented}");
    }
}
