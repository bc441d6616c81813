//! Entering a lab namespace without leaving the process: a network namespace belongs to a
//! thread, and a socket keeps the namespace it was created in, so a short-lived thread that
//! joins the namespace can create sockets that any other thread then uses.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Run `f` on a new thread that first joins the network namespace at `netns` (a
/// `/run/netns/NAME` file), and hand back its result. The calling thread's namespace never
/// changes, so callers on different threads cannot disturb each other.
pub(super) fn in_netns<T: Send>(netns: &Path, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    let file = File::open(netns).map_err(|e| format!("cannot open {}: {e}", netns.display()))?;
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                // SAFETY: setns only reads the descriptor, which `file` keeps open for the call.
                if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    let error = std::io::Error::last_os_error();
                    return Err(format!("cannot join network namespace {}: {error}", netns.display()));
                }
                drop(file);
                Ok(f())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
