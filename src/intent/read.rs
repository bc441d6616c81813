//! Reading an intent file from disk, the one way every command does it (`build`, `check`,
//! `diff`, `verify`, `trace`): only a regular file, at most a size limit, and text that is
//! not UTF-8 is a located N001 error at its first bad byte rather than a failure to read.

use crate::diag::{Code, Diagnostic};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// The largest intent natc reads unless told otherwise: far beyond any real network, small
/// enough that a wrong path (a disk image, a log) fails at once instead of filling memory.
pub const DEFAULT_MAX_SIZE: u64 = 256 * 1024 * 1024;

/// The environment variable that changes the limit: bytes, or a number with `K`, `M` or
/// `G` (powers of 1024), e.g. `NATC_MAX_INTENT_SIZE=1G`.
pub const MAX_SIZE_VARIABLE: &str = "NATC_MAX_INTENT_SIZE";

/// An intent's text and the name its diagnostics show.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    /// The file's text. For a file that is not UTF-8 each bad sequence is U+FFFD, so that
    /// the report can still show the lines around the first one.
    pub text: Arc<str>,
}

#[derive(Debug)]
pub enum ReadError {
    /// The path names nothing natc can read as an intent (missing, a directory, a device, a
    /// FIFO, over the size limit): what to say, no location (exit 2).
    Unreadable(String),
    /// The file was read but is not text: a located diagnostic against `source` (exit 1).
    Invalid { source: Source, diagnostic: Box<Diagnostic> },
}

/// The size limit: [`MAX_SIZE_VARIABLE`] if set, else [`DEFAULT_MAX_SIZE`].
pub fn max_size_from_env() -> Result<u64, String> {
    match std::env::var(MAX_SIZE_VARIABLE) {
        Ok(text) => parse_size(&text)
            .ok_or_else(|| format!("{MAX_SIZE_VARIABLE}={text:?} is not a size (bytes, or a number with K, M or G)")),
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_MAX_SIZE),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{MAX_SIZE_VARIABLE} is not valid UTF-8")),
    }
}

/// `4096`, `64K`, `256M`, `1G` (powers of 1024); at least one byte.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (i, 'K' | 'k') => (&text[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&text[..i], 1 << 20),
        (i, 'G' | 'g') => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(unit).filter(|&n| n > 0)
}

/// Read the intent at `path`, refusing anything but a regular file of at most `max` bytes.
pub fn read_intent(path: &Path, max: u64) -> Result<Source, ReadError> {
    let name = path.display().to_string();
    let bytes = read_regular_file(path, max).map_err(ReadError::Unreadable)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source { name, text: text.into() }),
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(bytes).into_owned();
            let diagnostic = Box::new(not_utf8(bytes, at));
            Err(ReadError::Invalid { source: Source { name, text: text.into() }, diagnostic })
        }
    }
}

/// N001 at the first byte that is not UTF-8. The lossy text is identical up to `at`, and
/// the bad sequence is one U+FFFD (3 bytes) there, which the label covers.
fn not_utf8(bytes: &[u8], at: usize) -> Diagnostic {
    let byte = bytes.get(at).copied().unwrap_or_default();
    Diagnostic::error(Code::TOML_SYNTAX, format!("the file is not UTF-8 text: byte 0x{byte:02X} at offset {at}"))
        .label(at..at + char::REPLACEMENT_CHARACTER.len_utf8(), "not UTF-8")
        .help("an intent is UTF-8 text (TOML requires it); save the file as UTF-8, e.g. iconv -f LATIN1 -t UTF-8")
}

/// The bytes of a regular file of at most `max` bytes, or why not, naming the path. A
/// FIFO, a device or a directory is refused before it is opened (opening a FIFO waits for
/// a writer, `/dev/zero` never ends), and the opened file is checked again, so a path
/// swapped in between is refused too. The limit holds even for a file that grows.
pub fn read_regular_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let cannot = |e: std::io::Error| format!("cannot read {shown}: {e}");
    let kind = |meta: &std::fs::Metadata| {
        let t = meta.file_type();
        if t.is_dir() {
            Some("a directory")
        } else if !t.is_file() {
            Some("not a regular file (a device, FIFO or socket)")
        } else {
            None
        }
    };
    if let Some(what) = kind(&std::fs::metadata(path).map_err(cannot)?) {
        return Err(format!("cannot read {shown}: it is {what}"));
    }
    // Non-blocking: should a FIFO be swapped in after the check, opening it cannot hang.
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if let Some(what) = kind(&meta) {
        return Err(format!("cannot read {shown}: it is {what}"));
    }
    let too_big = || format!("cannot read {shown}: it is larger than {} bytes ({MAX_SIZE_VARIABLE})", max);
    if meta.len() > max {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("64K"), Some(65536));
        assert_eq!(parse_size("256M"), Some(DEFAULT_MAX_SIZE));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        for bad in ["", "K", "-1", "0", "1.5M", "12T", "99999999999999999999G", "1 M x"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_bad_byte_is_located_where_it_is() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"natc = 1\n# caf\xe9\n").expect("write");
        let Err(ReadError::Invalid { source, diagnostic }) = read_intent(&path, 1024) else {
            panic!("a Latin-1 byte must be a located error")
        };
        let span = diagnostic.primary_span().expect("located").clone();
        assert_eq!(span.start, 14);
        assert_eq!(&source.text[span], "\u{FFFD}");
        assert_eq!(diagnostic.code, Code::TOML_SYNTAX);
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("i.toml");
        std::fs::write(&path, "x".repeat(100)).expect("write");
        assert!(read_regular_file(&path, 100).is_ok());
        assert!(read_regular_file(&path, 99).expect_err("over").contains("larger than 99 bytes"));
        assert!(read_regular_file(dir.path(), 100).expect_err("dir").contains("a directory"));
        assert!(read_regular_file(Path::new("/dev/zero"), 100).expect_err("device").contains("not a regular file"));
    }
}
