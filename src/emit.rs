//! Where artifacts go: stdout, a directory (atomically, file by file), or a comparison
//! with a directory (`--check`).

use crate::Artifact;
use std::fs;
use std::io::{self, Write};
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
    pub executable: bool,
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
                executable: f.name.ends_with(".sh"),
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

/// Write every file under `dir`: each through a temporary file in the same directory and
/// a rename, so a reader never sees half a file. Files natc did not produce are left alone.
pub fn write_dir(dir: &Path, files: &[PlannedFile]) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for f in files {
        let path = dir.join(&f.path);
        let parent = path.parent().unwrap_or(dir);
        fs::create_dir_all(parent)?;
        let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
        tmp.write_all(f.contents.as_bytes())?;
        tmp.as_file().sync_all()?;
        // Temporary files are created 0600; configs are world-readable, scripts executable.
        let mode = if f.executable { 0o755 } else { 0o644 };
        tmp.as_file().set_permissions(<fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(mode))?;
        tmp.persist(&path).map_err(|e| e.error)?;
        written.push(path);
    }
    Ok(written)
}

/// Files under `dir` that differ from what `write_dir` would write, with why.
pub fn stale_files(dir: &Path, files: &[PlannedFile]) -> Vec<(PathBuf, &'static str)> {
    let mut stale = Vec::new();
    for f in files {
        let path = dir.join(&f.path);
        match fs::read(&path) {
            Ok(existing) if existing == f.contents.as_bytes() => {}
            Ok(_) => stale.push((path, "differs")),
            Err(_) => stale.push((path, "missing")),
        }
    }
    stale
}
