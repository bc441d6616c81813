//! Writing the output set into `-o DIR` as one unit, as far as a file system allows.
//!
//! 1. Lock DIR (`flock`), so two natc runs never interleave; finish or discard what an
//!    interrupted run left (below).
//! 2. Check every destination before anything is written: no directory where a file goes,
//!    no symbolic link or file where a directory goes, all on DIR's file system.
//! 3. Stage every file in `DIR/.natc-staging-<pid>/files/<path>` with its final mode, fsync
//!    each, then write and fsync the `COMMITTED` marker. A failure up to here (a full disk)
//!    removes the staging area: DIR is as it was.
//! 4. Rename each staged file over its destination, fsync the directories, remove the
//!    staging area.
//!
//! A set of renames is not one atomic step: a reader (or a kill) during step 4 sees some
//! files old and some new, each whole. A run killed before its marker is written left no
//! change; the next run removes its staging area. A run killed after it left a marked
//! staging area; the next run (or the same command again) renames the rest into place
//! first, so the interrupted set is completed, never half applied.

use super::{FileMode, PlannedFile};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

const STAGING_PREFIX: &str = ".natc-staging-";
const MARKER: &str = "COMMITTED";
const FILES: &str = "files";

#[derive(Debug)]
pub enum WriteError {
    /// DIR holds something natc will not replace or write through; nothing was written
    /// (exit 1).
    Refused(String),
    /// The file system failed (a full disk, permissions); the message says what was
    /// changed, which is nothing unless the rename phase had begun (exit 2).
    Io(String),
}

/// What a successful write did.
#[derive(Debug, Default)]
pub struct Written {
    /// Every file written, in the order given.
    pub paths: Vec<PathBuf>,
    /// What was done with an interrupted run's staging area, for the user to know.
    pub recovered: Vec<String>,
}

/// Write `files` under `dir` (created if needed) as described in the module comment.
pub fn write_dir(dir: &Path, files: &[PlannedFile]) -> Result<Written, WriteError> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        WriteError::Io(format!("{what} {}: {e}; nothing in it was replaced", path.display()))
    };
    fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let _lock = lock(dir).map_err(|e| io("cannot lock", dir, e))?;
    let recovered = recover(dir)?;
    check_destinations(dir, files)?;
    let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    if let Err(e) = stage(&staging, files) {
        let _ = fs::remove_dir_all(&staging);
        return Err(io("cannot stage the files in", dir, e));
    }
    apply(dir, &staging)?;
    Ok(Written { paths: files.iter().map(|f| dir.join(&f.path)).collect(), recovered })
}

/// An exclusive lock on DIR for as long as the returned handle lives (released by the
/// kernel when natc dies, so a killed run never blocks the next).
fn lock(dir: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::io::AsRawFd;
    let handle = fs::File::open(dir)?;
    // SAFETY: flock on a descriptor this function owns; no memory is involved.
    if unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(handle)
}

/// Staging areas that interrupted runs left in `dir`.
pub fn interrupted(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Complete every interrupted run that had staged all its files (marker present) and
/// remove the staging areas of the others. Runs under the lock, so no live run owns one.
fn recover(dir: &Path) -> Result<Vec<String>, WriteError> {
    let mut notes = Vec::new();
    for staging in interrupted(dir) {
        let shown = staging.display();
        if staging.join(MARKER).is_file() {
            let paths = apply(dir, &staging)?;
            notes.push(format!("completed an interrupted natc build: {} file(s) from {shown}", paths.len()));
        } else {
            fs::remove_dir_all(&staging)
                .map_err(|e| WriteError::Io(format!("cannot remove the staging area {shown}: {e}")))?;
            notes.push(format!("removed {shown}, left by a natc build interrupted before it changed anything"));
        }
    }
    Ok(notes)
}

/// Every destination can be replaced by a rename: refuse a directory (or anything but a
/// directory) in a file's path, a symbolic link to a directory natc would write through,
/// and a directory on another file system (rename cannot cross it). Each directory is
/// looked at once, so the check is linear in the number of files.
pub fn check_destinations(dir: &Path, files: &[PlannedFile]) -> Result<(), WriteError> {
    let device = fs::metadata(dir).map(|m| m.dev()).ok();
    let refuse =
        |path: &Path, what: &str| Err(WriteError::Refused(format!("{} {what}; nothing was written", path.display())));
    let mut checked: BTreeSet<PathBuf> = BTreeSet::new();
    for f in files {
        if f.path.components().any(|c| !matches!(c, Component::Normal(_))) {
            return refuse(&f.path, "is not a path inside the output directory (a bug in natc)");
        }
        let mut at = dir.to_path_buf();
        let parts: Vec<Component> = f.path.components().collect();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            let last = i + 1 == parts.len();
            if !last && !checked.insert(at.clone()) {
                continue;
            }
            let Ok(meta) = fs::symlink_metadata(&at) else { break };
            let kind = meta.file_type();
            if last {
                if kind.is_dir() {
                    return refuse(&at, "is a directory where natc writes a file: remove or rename it");
                }
            } else if kind.is_symlink() {
                return refuse(
                    &at,
                    "is a symbolic link: natc does not write through links in the output directory; remove it (natc creates the directory) or give its target as -o",
                );
            } else if !kind.is_dir() {
                return refuse(&at, "is not a directory, but natc writes files into it: remove or rename it");
            } else if device.is_some_and(|d| d != meta.dev()) {
                return refuse(&at, "is on another file system than the output directory: natc cannot rename into it");
            }
        }
    }
    Ok(())
}

/// Write every file into `staging/files/…` with its final mode (set explicitly, so the
/// umask cannot widen or narrow it), fsync the files and directories, then the marker.
fn stage(staging: &Path, files: &[PlannedFile]) -> std::io::Result<()> {
    fs::create_dir(staging)?;
    // The staged files may hold keys: the area is the owner's only.
    fs::set_permissions(staging, fs::Permissions::from_mode(0o700))?;
    let root = staging.join(FILES);
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::from([staging.to_path_buf(), root.clone()]);
    fs::create_dir(&root)?;
    let mut manifest = String::new();
    for f in files {
        let path = root.join(&f.path);
        let parent = path.parent().unwrap_or(&root).to_path_buf();
        if dirs.insert(parent.clone()) {
            fs::create_dir_all(&parent)?;
        }
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        // Before any byte is written: a key never sits in a file others may open.
        file.set_permissions(fs::Permissions::from_mode(f.mode.bits()))?;
        file.write_all(f.contents.as_bytes())?;
        file.sync_all()?;
        manifest.push_str(&f.path.to_string_lossy());
        manifest.push('\n');
    }
    for d in &dirs {
        fs::File::open(d)?.sync_all()?;
    }
    let mut marker = fs::File::create(staging.join(MARKER))?;
    marker.write_all(manifest.as_bytes())?;
    marker.sync_all()?;
    fs::File::open(staging)?.sync_all()
}

/// Rename every staged file of `staging` into `dir`, fsync the directories that changed,
/// then remove the staging area. Renames already done by an earlier attempt are skipped,
/// so this can run again after any interruption.
fn apply(dir: &Path, staging: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let marker = staging.join(MARKER);
    let manifest =
        fs::read_to_string(&marker).map_err(|e| WriteError::Io(format!("cannot read {}: {e}", marker.display())))?;
    let relative: Vec<PathBuf> = manifest.lines().filter(|l| !l.is_empty()).map(PathBuf::from).collect();
    // An interrupted run's set is checked like a new one before any of it moves.
    let planned: Vec<PlannedFile> = relative
        .iter()
        .map(|p| PlannedFile { path: p.clone(), contents: String::new(), primary: false, mode: FileMode::Readable })
        .collect();
    check_destinations(dir, &planned)?;
    let failed = |what: &str, path: &Path, e: std::io::Error| {
        WriteError::Io(format!(
            "{what} {}: {e}; files already renamed are new, the others old: run natc build -o again to complete the set from {}",
            path.display(),
            staging.display()
        ))
    };
    let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
    let mut written = Vec::with_capacity(relative.len());
    for rel in &relative {
        let from = staging.join(FILES).join(rel);
        let to = dir.join(rel);
        if fs::symlink_metadata(&from).is_err() {
            continue; // Renamed before an interruption.
        }
        let parent = to.parent().unwrap_or(dir).to_path_buf();
        if changed.insert(parent.clone()) {
            fs::create_dir_all(&parent).map_err(|e| failed("cannot create", &parent, e))?;
            // A directory created here is an entry in its parent: those are synced too.
            changed.extend(parent.ancestors().skip(1).take_while(|a| a.starts_with(dir)).map(Path::to_path_buf));
        }
        fs::rename(&from, &to).map_err(|e| failed("cannot rename into", &to, e))?;
        written.push(to);
    }
    changed.insert(dir.to_path_buf());
    for d in &changed {
        fs::File::open(d).and_then(|f| f.sync_all()).map_err(|e| failed("cannot sync", d, e))?;
    }
    fs::remove_dir_all(staging).map_err(|e| failed("cannot remove", staging, e))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(path: &str, contents: &str) -> PlannedFile {
        PlannedFile { path: path.into(), contents: contents.into(), primary: false, mode: FileMode::Readable }
    }

    fn read(path: PathBuf) -> String {
        fs::read_to_string(path).expect("read")
    }

    #[test]
    fn a_marked_staging_area_is_completed_and_an_unmarked_one_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write_dir(root, &[planned("a/x", "old x"), planned("b/y", "old y")]).expect("first write");
        // A run killed in its rename phase: staged and marked, `a/x` already renamed.
        let killed = root.join(format!("{STAGING_PREFIX}1"));
        stage(&killed, &[planned("a/x", "new x"), planned("b/y", "new y"), planned("c/z", "new z")]).expect("stage");
        fs::rename(killed.join(FILES).join("a/x"), root.join("a/x")).expect("rename");
        // A run killed while staging: no marker.
        let early = root.join(format!("{STAGING_PREFIX}2"));
        fs::create_dir_all(early.join(FILES).join("a")).expect("mkdir");
        fs::write(early.join(FILES).join("a/x"), "half").expect("write");

        let written = write_dir(root, &[planned("d/w", "next")]).expect("next write");
        assert_eq!(written.recovered.len(), 2, "{:?}", written.recovered);
        assert!(written.recovered[0].contains("completed an interrupted natc build: 2 file(s)"));
        assert_eq!(
            [read(root.join("a/x")), read(root.join("b/y")), read(root.join("c/z")), read(root.join("d/w"))],
            ["new x", "new y", "new z", "next"]
        );
        assert!(interrupted(root).is_empty());
    }

    #[test]
    fn staged_files_get_their_final_mode_before_the_rename() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let staging = dir.path().join(format!("{STAGING_PREFIX}1"));
        let keyed = PlannedFile { mode: FileMode::Private, ..planned("g/commands.vyos", "key") };
        stage(&staging, &[keyed, planned("g/rules", "r")]).expect("stage");
        let mode = |p: &str| fs::metadata(staging.join(FILES).join(p)).expect("meta").permissions().mode() & 0o777;
        assert_eq!((mode("g/commands.vyos"), mode("g/rules")), (0o600, 0o644));
        assert_eq!(fs::metadata(&staging).expect("meta").permissions().mode() & 0o777, 0o700);
    }
}
