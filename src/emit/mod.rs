//! Where artifacts go: stdout, a directory (the whole set staged first, then renamed into
//! place: `transaction`), or a comparison with a directory (`--check`).

mod transaction;

pub use transaction::{WriteError, Written, write_dir};

use crate::Artifact;
use std::fs;
use std::path::{Path, PathBuf};

/// One file natc is about to write, relative to the output directory. Every packaging
/// (native files, cloud-init, Ansible) lays its files out as a list of these, so writing,
/// `--check` and stdout work the same for all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// `<gateway>/<file>` for native files; a packaging may add shared files (`site.yml`).
    pub path: PathBuf,
    pub contents: String,
    /// Printed to stdout when there is no `-o DIR`; the others are companions.
    pub primary: bool,
    pub mode: FileMode,
}

/// The mode a written file gets, whatever the umask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// 0644: configs and templates, for anyone on the machine to read.
    Readable,
    /// 0755: setup scripts.
    Executable,
    /// 0600: the file holds pre-shared keys (`--secrets inline`); only its owner reads it.
    Private,
}

impl FileMode {
    pub fn bits(self) -> u32 {
        match self {
            FileMode::Readable => 0o644,
            FileMode::Executable => 0o755,
            FileMode::Private => 0o600,
        }
    }

    /// The mode for a target's file: private when it holds keys, else by its kind.
    pub fn of(file: &crate::backend::OutputFile) -> FileMode {
        if file.holds_keys() {
            FileMode::Private
        } else if file.name.ends_with(".sh") {
            FileMode::Executable
        } else {
            FileMode::Readable
        }
    }
}

/// The native layout: `<gateway>/<file>` for every file of every artifact.
pub fn native_layout(artifacts: &[Artifact]) -> Vec<PlannedFile> {
    artifacts
        .iter()
        .flat_map(|a| {
            a.files.iter().map(move |f| PlannedFile {
                path: Path::new(&a.gateway).join(&f.name),
                contents: f.contents.clone(),
                primary: f.primary,
                mode: FileMode::of(f),
            })
        })
        .collect()
}

/// The primary files; with several, each starts with a banner comment naming it.
pub fn stdout_text(files: &[PlannedFile]) -> String {
    let primaries: Vec<&PlannedFile> = files.iter().filter(|f| f.primary).collect();
    let mut text = String::new();
    for f in &primaries {
        if primaries.len() > 1 {
            text.push_str(&format!("# ===== natc: {} =====\n", f.path.display()));
        }
        text.push_str(&f.contents);
    }
    text
}

/// The companion files stdout leaves out, so the user knows to ask for them.
pub fn companions(files: &[PlannedFile]) -> Vec<String> {
    files.iter().filter(|f| !f.primary).map(|f| f.path.display().to_string()).collect()
}

/// Files under `dir` that differ from what [`write_dir`] would write, with why: missing,
/// different contents, a key file others may read, or an output directory natc would
/// refuse to write into (a symbolic link, a directory in a file's place) or an
/// interrupted write that the next `build -o` completes.
pub fn stale_files(dir: &Path, files: &[PlannedFile]) -> Vec<(PathBuf, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut stale: Vec<(PathBuf, String)> = transaction::interrupted(dir)
        .into_iter()
        .map(|p| (p, "left by an interrupted natc build; the next natc build -o completes or removes it".to_string()))
        .collect();
    if let Err(transaction::WriteError::Refused(why)) = transaction::check_destinations(dir, files) {
        stale.push((dir.to_path_buf(), why));
        return stale;
    }
    for f in files {
        let path = dir.join(&f.path);
        let limit = f.contents.len() as u64;
        match crate::intent::read::read_regular_file(&path, limit) {
            Ok(existing) if existing == f.contents.as_bytes() => {
                let mode = fs::symlink_metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
                if f.mode == FileMode::Private && mode & 0o077 != 0 {
                    stale.push((path, format!("holds pre-shared keys but is mode {mode:04o}; natc writes it 0600")));
                }
            }
            Ok(_) => stale.push((path, "differs".into())),
            Err(_) if fs::symlink_metadata(&path).is_err() => stale.push((path, "missing".into())),
            Err(_) => stale.push((path, "differs".into())),
        }
    }
    stale
}

/// What `--check` needs to know of the intent to tell a leftover file: its name, and each
/// gateway with the target kinds it declares (empty: it declares none, so any may be built).
pub struct Built<'a> {
    pub intent: &'a str,
    pub gateways: &'a [(String, Vec<&'static str>)],
}

/// How much of a file `leftovers` reads to find natc's header (it is on line 1 or 2).
const HEADER_BYTES: u64 = 4096;

/// Files natc wrote into `dir` for this intent that it would no longer write: a regular
/// file directly in `DIR/<gateway>/` (never through a symbolic link), not in `files`, whose
/// header says natc generated it from this intent for that gateway, where the intent has no
/// such gateway any more or the gateway no longer declares the header's target. Anything
/// else in `dir` (a foreign file, another intent's output, the staging area, a directory
/// whose name natc never gives a gateway) is not counted.
pub fn leftovers(dir: &Path, built: &Built, files: &[PlannedFile]) -> Vec<(PathBuf, String)> {
    use std::collections::BTreeSet;
    let planned: BTreeSet<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return found };
    let mut gateway_dirs: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
        .filter(|(name, _)| is_gateway_name(name))
        .collect();
    gateway_dirs.sort();
    for (gateway, path) in gateway_dirs {
        let Ok(entries) = fs::read_dir(&path) else { continue };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| !planned.contains(p))
            .collect();
        paths.sort();
        for path in paths {
            let Some((intent, header_gateway, target)) = natc_header(&path) else { continue };
            if intent != built.intent || header_gateway != gateway {
                continue;
            }
            let kind: String = target.chars().take_while(|c| c.is_ascii_lowercase()).collect();
            if !crate::vocab::targets::TargetKind::ALL.iter().any(|k| k.name() == kind) {
                continue;
            }
            let why = match built.gateways.iter().find(|(name, _)| *name == gateway) {
                None => format!("written by natc for gateway \"{gateway}\", which the intent no longer has"),
                Some((_, kinds)) if !kinds.is_empty() && !kinds.contains(&kind.as_str()) => {
                    format!("written by natc for target {kind}, which gateway \"{gateway}\" no longer declares")
                }
                Some(_) => continue,
            };
            found.push((path, why));
        }
    }
    found
}

/// A name natc could have given a gateway directory (`[a-z0-9-]+`, model/names.rs): natc
/// wrote into no other, and so the name is safe to print as it is.
fn is_gateway_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= crate::vocab::limits::MAX_NAME
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The intent, gateway and target named by natc's header (`templates/common/header.tera`)
/// on the first or second line of `path` (after a `#!` or `#cloud-config` line), if any.
fn natc_header(path: &Path) -> Option<(String, String, String)> {
    use std::io::Read;
    let mut head = Vec::new();
    fs::File::open(path).ok()?.take(HEADER_BYTES).read_to_end(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().take(2).find(|l| l.starts_with("# Generated by natc "))?;
    let rest = &line[line.find(" from intent \"")? + " from intent \"".len()..];
    let (intent, rest) = rest.split_once('"')?;
    let rest = rest.strip_prefix(" for gateway \"")?;
    let (gateway, rest) = rest.split_once('"')?;
    let target = rest.strip_prefix(" (")?.strip_suffix(").")?;
    Some((intent.to_string(), gateway.to_string(), target.to_string()))
}
