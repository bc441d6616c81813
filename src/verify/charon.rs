//! One strongSwan charon per network namespace, with nothing on the host touched
//! (linux-kernel-testing recipe "Running charon per namespace"): charon's pid file path is
//! hard-wired under /run, so each charon runs in a private mount namespace with a tmpfs on
//! /run; its strongswan.conf, vici socket, swanctl tree and log live in a directory of the
//! caller's. ESP is strongSwan's userspace `kernel-libipsec` (a TUN device, `ipsec0`),
//! since kernels without ESP/XFRM (this CI's) cannot do it in the kernel.
//!
//! Used by the tests (tests/strongswan.rs loads every generated swanctl.conf) and meant
//! for `natc verify`: start one per gateway namespace, [`Charon::load`] the target's file,
//! then ask [`Charon::swanctl`] what came up.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The charon binary of Debian's strongswan-charon.
pub const CHARON: &str = "/usr/lib/ipsec/charon";

/// The plugins charon loads (all in Debian's strongswan-charon, libstrongswan and
/// libcharon-extra-plugins): the crypto natc's default proposals need, PSK auth,
/// userspace ESP, netlink for addresses and routes, and vici for swanctl.
const CHARON_PLUGINS: &str = "random nonce aes sha1 sha2 md5 hmac xcbc gmp kdf pem pkcs1 x509 pubkey \
                              kernel-libipsec kernel-netlink socket-default vici";
/// swanctl's own plugins (it parses the credentials next to the configuration).
const SWANCTL_PLUGINS: &str = "random nonce aes sha1 sha2 hmac pem pkcs1 x509 pubkey";
/// The subdirectories swanctl expects beside swanctl.conf.
const SWANCTL_DIRS: &[&str] = &[
    "conf.d", "x509", "x509ca", "x509aa", "x509ocsp", "x509crl", "x509ac", "pubkey", "private", "rsa", "ecdsa",
    "bliss", "pkcs8", "pkcs12",
];

/// A running charon. Dropping it stops charon (SIGKILL) and reaps it; the directory stays
/// (it is the caller's, and its log tells what happened).
pub struct Charon {
    dir: PathBuf,
    child: Child,
}

/// strongswan.conf for a charon and its swanctl in `dir`. Settings are one per line:
/// strongSwan's parser does not take `;` (a one-line section silently loses its settings).
pub fn strongswan_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "charon {{
  load_modular = no
  load = {CHARON_PLUGINS}
  install_routes = yes
  plugins {{
    vici {{
      socket = unix://{d}/charon.vici
    }}
  }}
  filelog {{
    natc {{
      path = {d}/charon.log
      flush_line = yes
      time_format = %T
      default = 1
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
}}
swanctl {{
  load = {SWANCTL_PLUGINS}
}}
"
    )
}

impl Charon {
    /// Starts charon in the network namespace `namespace` (a name `ip netns` knows), with
    /// its files in `dir` (created), and waits (at most 10 s) for its vici socket.
    pub fn start(namespace: &str, dir: &Path) -> Result<Charon, String> {
        let swanctl = dir.join("swanctl");
        for sub in SWANCTL_DIRS {
            std::fs::create_dir_all(swanctl.join(sub))
                .map_err(|e| format!("cannot create {}: {e}", swanctl.join(sub).display()))?;
        }
        // The production layout: swanctl.conf includes conf.d, where natc's file goes.
        std::fs::write(swanctl.join("swanctl.conf"), "include conf.d/*.conf\n")
            .map_err(|e| format!("cannot write swanctl.conf: {e}"))?;
        let conf = dir.join("strongswan.conf");
        std::fs::write(&conf, strongswan_conf(dir)).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        let socket = dir.join("charon.vici");
        let _ = std::fs::remove_file(&socket);
        let child = Command::new("ip")
            .args(["netns", "exec", namespace, "unshare", "-m", "--propagation", "private", "sh", "-c"])
            .arg(format!("mount -t tmpfs tmpfs /run && exec {CHARON}"))
            .env("STRONGSWAN_CONF", &conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start charon in {namespace}: {e}"))?;
        let mut charon = Charon { dir: dir.to_path_buf(), child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if let Ok(Some(status)) = charon.child.try_wait() {
                return Err(format!("charon in {namespace} exited ({status}): {}", charon.log()));
            }
            if Instant::now() > deadline {
                return Err(format!("charon in {namespace} did not open its vici socket in 10 s: {}", charon.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(charon)
    }

    /// The vici socket's URI, for `swanctl --uri`.
    pub fn uri(&self) -> String {
        format!("unix://{}", self.dir.join("charon.vici").display())
    }

    /// The directory holding strongswan.conf, the swanctl tree and the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `swanctl COMMAND ARGS… --uri <this charon>`: its stdout, or an error with its output.
    pub fn swanctl(&self, command: &str, args: &[&str]) -> Result<String, String> {
        let out = Command::new("swanctl")
            .arg(command)
            .args(args)
            .args(["--uri", &self.uri()])
            .env("STRONGSWAN_CONF", self.dir.join("strongswan.conf"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run swanctl (is strongswan-swanctl installed?): {e}"))?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if out.status.success() { Ok(text) } else { Err(format!("swanctl {command} failed ({}): {text}", out.status)) }
    }

    /// Puts `name` (e.g. natc-<intent>.conf) with `contents` into conf.d, as production
    /// does under /etc/swanctl/conf.d, as the only file there (a previous load's file goes),
    /// and runs `swanctl --load-all` on the tree: charon then holds exactly this file's
    /// connections and secrets. A connection or secret that charon refuses is an error,
    /// even if swanctl exits 0.
    pub fn load(&self, name: &str, contents: &str) -> Result<String, String> {
        let conf_d = self.dir.join("swanctl").join("conf.d");
        for old in std::fs::read_dir(&conf_d).map_err(|e| format!("cannot read {}: {e}", conf_d.display()))? {
            let old = old.map_err(|e| format!("cannot read {}: {e}", conf_d.display()))?.path();
            std::fs::remove_file(&old).map_err(|e| format!("cannot remove {}: {e}", old.display()))?;
        }
        let path = conf_d.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let file = self.dir.join("swanctl").join("swanctl.conf");
        let out = self.swanctl("--load-all", &["--file", &file.display().to_string()])?;
        if out.lines().any(|l| l.contains("failed") || l.contains("invalid")) {
            return Err(format!("swanctl --load-all refused part of {name}: {out}"));
        }
        Ok(out)
    }

    /// What charon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("charon.log")).unwrap_or_default()
    }
}

impl Drop for Charon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
