//! Where artifacts go: stdout, a directory (atomically, file by file), or a comparison
//! with a directory (`--check`).

use crate::Artifact;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The primary file of every artifact; with several, each starts with a banner comment.
pub fn stdout_text(artifacts: &[Artifact]) -> String {
    let mut text = String::new();
    for a in artifacts {
        for f in a.files.iter().filter(|f| f.primary) {
            if artifacts.len() > 1 {
                text.push_str(&format!(
                    "# ===== natc: gateway {}, target {}, file {} =====\n",
                    a.gateway, a.target, f.name
                ));
            }
            text.push_str(&f.contents);
        }
    }
    text
}

/// The companion files stdout leaves out, so the user knows to ask for them.
pub fn companions(artifacts: &[Artifact]) -> Vec<String> {
    artifacts
        .iter()
        .flat_map(|a| a.files.iter().filter(|f| !f.primary).map(move |f| format!("{}/{}", a.gateway, f.name)))
        .collect()
}

fn destination(dir: &Path, a: &Artifact, file: &str) -> PathBuf {
    dir.join(&a.gateway).join(file)
}

/// Write `DIR/<gateway>/<file>` for every file: each through a temporary file in the same
/// directory and a rename, so a reader never sees half a file. Files natc did not
/// produce are left alone.
pub fn write_dir(dir: &Path, artifacts: &[Artifact]) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for a in artifacts {
        for f in &a.files {
            let path = destination(dir, a, &f.name);
            let parent = path.parent().unwrap_or(dir);
            fs::create_dir_all(parent)?;
            let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
            tmp.write_all(f.contents.as_bytes())?;
            tmp.as_file().sync_all()?;
            // Temporary files are created 0600; configs are world-readable, scripts executable.
            let mode = if f.name.ends_with(".sh") { 0o755 } else { 0o644 };
            tmp.as_file().set_permissions(<fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(mode))?;
            tmp.persist(&path).map_err(|e| e.error)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Files under `dir` that differ from what `write_dir` would write, with why.
pub fn stale_files(dir: &Path, artifacts: &[Artifact]) -> Vec<(PathBuf, &'static str)> {
    let mut stale = Vec::new();
    for a in artifacts {
        for f in &a.files {
            let path = destination(dir, a, &f.name);
            match fs::read(&path) {
                Ok(existing) if existing == f.contents.as_bytes() => {}
                Ok(_) => stale.push((path, "differs")),
                Err(_) => stale.push((path, "missing")),
            }
        }
    }
    stale
}
