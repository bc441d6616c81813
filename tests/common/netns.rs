//! Shell and probe helpers of the kernel tests that apply a script and then send packets.

use natc::verify::probe::{Probe, ProbeProtocol, SendOutcome, send};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Run `script` with `sh -ec`; its stdout, or a panic with both streams.
pub fn sh(script: &str) -> String {
    let out = Command::new("sh").arg("-ec").arg(script).output().expect("sh runs");
    assert!(
        out.status.success(),
        "failed:\n{script}\n--- stderr\n{}\n--- stdout\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One ICMP echo from namespace `client` to `to`, each with a key (ICMP id) of its own: a
/// repeated id would be a flow conntrack already knows, let in as established.
pub fn icmp_reply(client: &str, to: Ipv4Addr) -> bool {
    static KEY: AtomicU32 = AtomicU32::new(1);
    let outcome = send(&Probe {
        key: KEY.fetch_add(1, Ordering::Relaxed),
        netns: PathBuf::from("/run/netns").join(client),
        protocol: ProbeProtocol::Icmp,
        to,
        port: None,
        timeout: Duration::from_millis(400),
    });
    outcome == SendOutcome::Reply
}

/// Whether an echo gets its reply before `limit` (polled; the bound is generous, the
/// assertion is on the state reached, not on the time it took).
pub fn icmp_reply_within(client: &str, to: Ipv4Addr, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if icmp_reply(client, to) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}
