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
