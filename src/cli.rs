//! The command line (docs/intent.md, "Command line"; README.md lists the forms).

use clap::{Args, Parser, Subcommand, ValueEnum};
use natc::backend::TargetSpec;
use std::net::Ipv4Addr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "natc",
    version,
    about = "Compile a NAT intent file into iptables, nftables, firewalld, VyOS and Yamaha RTX configs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// `natc --format json check …`: the options as they were written before the
    /// subcommand when they were global. They keep working and are not shown.
    #[command(flatten)]
    pub before: Before,
}

/// The former global options, accepted before the subcommand (hidden); the subcommand's
/// own options win.
#[derive(Args)]
pub struct Before {
    #[arg(long, value_enum, hide = true)]
    pub color: Option<Color>,
    #[arg(long, value_enum, hide = true)]
    pub format: Option<BuildFormat>,
    #[arg(long, value_enum, hide = true)]
    pub diagnostics: Option<DiagnosticFormat>,
}

/// How a command reports: the options of every subcommand that reads an intent.
#[derive(Args)]
pub struct Reporting<F: FormatValue> {
    /// How diagnostics reach stderr: human reports, JSON Lines, or GitHub annotations on
    /// the intent's lines [default: human].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<F>,
    /// The former name of --format (it wins over --format when both are given).
    #[arg(long, value_enum, value_name = "FORMAT", hide = true)]
    pub diagnostics: Option<DiagnosticFormat>,
    /// Colour in human diagnostics [default: auto].
    #[arg(long, value_enum)]
    pub color: Option<Color>,
}

/// How diagnostics reach stderr.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    Human,
    Json,
    Github,
}

/// `natc build --format`: a diagnostic format, or (hidden, the former spelling of
/// `--package`) a packaging.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildFormat {
    Human,
    Json,
    Github,
    #[value(hide = true)]
    CloudInit,
    #[value(hide = true)]
    Ansible,
}

/// What a `--format` value says: a diagnostic format, or (build's hidden values) a packaging.
pub trait FormatValue: ValueEnum + Copy + Send + Sync + 'static {
    fn diagnostics(self) -> Option<DiagnosticFormat>;
    fn package(self) -> Option<Package>;
}

impl FormatValue for DiagnosticFormat {
    fn diagnostics(self) -> Option<DiagnosticFormat> {
        Some(self)
    }
    fn package(self) -> Option<Package> {
        None
    }
}

impl FormatValue for BuildFormat {
    fn diagnostics(self) -> Option<DiagnosticFormat> {
        match self {
            BuildFormat::Human => Some(DiagnosticFormat::Human),
            BuildFormat::Json => Some(DiagnosticFormat::Json),
            BuildFormat::Github => Some(DiagnosticFormat::Github),
            BuildFormat::CloudInit | BuildFormat::Ansible => None,
        }
    }
    fn package(self) -> Option<Package> {
        match self {
            BuildFormat::CloudInit => Some(Package::CloudInit),
            BuildFormat::Ansible => Some(Package::Ansible),
            BuildFormat::Human | BuildFormat::Json | BuildFormat::Github => None,
        }
    }
}

/// `natc build --package`: how the output is packaged for deployment.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Package {
    /// A #cloud-config document per gateway and Linux target (docs/deploy.md).
    CloudInit,
    /// A playbook per gateway, an inventory and site.yml (with -o; docs/deploy.md).
    Ansible,
}

impl Package {
    pub fn packaging(self) -> natc::package::Packaging {
        match self {
            Package::CloudInit => natc::package::Packaging::CloudInit,
            Package::Ansible => natc::package::Packaging::Ansible,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Package::CloudInit => "cloud-init",
            Package::Ansible => "ansible",
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Validate the intent and write the configs.
    Build {
        /// The intent file (TOML).
        intent: PathBuf,
        /// Target, optionally with a profile: iptables, nftables, firewalld[@0.6|0.9|1], vyos[@1.4|1.5], rtx[@MODEL], strongswan.
        /// Default: each gateway's `targets`.
        #[arg(long = "target", short = 't', value_parser = parse_target)]
        targets: Vec<TargetSpec>,
        /// Only these gateways (default: all).
        #[arg(long = "gateway", short = 'g')]
        gateways: Vec<String>,
        /// Write DIR/<gateway>/<file> for every gateway and target instead of printing.
        #[arg(long = "output", short = 'o', value_name = "DIR")]
        output: Option<PathBuf>,
        /// With -o: write nothing, exit 1 when DIR differs from what would be written.
        #[arg(long, requires = "output")]
        check: bool,
        /// With -o: after writing, delete the files natc wrote for a gateway or target the
        /// intent no longer builds (natc's header, this intent); never any other file.
        #[arg(long, requires = "output", conflicts_with = "check")]
        prune: bool,
        /// Warnings are errors: exit 1 and write nothing (an item's `accept` keeps one).
        #[arg(long)]
        strict: bool,
        /// placeholder: pre-shared keys become `@@natc-secret:env:NAME@@` for a deployment
        /// tool to fill in. inline: the values from the environment or files the intent names.
        #[arg(long, value_enum, default_value_t = Secrets::Placeholder)]
        secrets: Secrets,
        /// Package the files for deployment instead of writing them as they are
        /// (docs/deploy.md).
        #[arg(long, value_enum, value_name = "PACKAGING")]
        package: Option<Package>,
        #[command(flatten)]
        reporting: Reporting<BuildFormat>,
    },
    /// Load and validate the intent; print diagnostics only.
    Check {
        intent: PathBuf,
        /// Warnings are errors: exit 1 (an item's `accept` keeps one).
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        reporting: Reporting<DiagnosticFormat>,
    },
    /// Unified diffs of every generated file between two versions of an intent, per gateway
    /// and target (for pull requests), then for VyOS and RTX the change script that takes a
    /// running device from OLD's config to NEW's, as `#` lines. Exit 0 even when they
    /// differ, unless --exit-code.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Targets as for build. Default: each gateway's `targets`.
        #[arg(long = "target", short = 't', value_parser = parse_target)]
        targets: Vec<TargetSpec>,
        /// Only these gateways (default: all).
        #[arg(long = "gateway", short = 'g')]
        gateways: Vec<String>,
        /// Exit 1 when the outputs differ (as `git diff --exit-code`).
        #[arg(long)]
        exit_code: bool,
        /// Print only the VyOS and RTX change scripts, ready to paste into the devices.
        #[arg(long)]
        change_script: bool,
        #[command(flatten)]
        reporting: Reporting<DiagnosticFormat>,
    },
    /// Compare a captured running configuration (iptables-save, nft list ruleset, firewalld
    /// direct rules, VyOS show configuration commands, RTX show config) with what INTENT
    /// builds for one gateway and target, rule by rule: each missing, extra or changed rule
    /// with its intent item and the capture's FILE:LINE (docs/drift.md). Exit 0 when the
    /// box matches, 1 on drift, 2 on a usage error.
    Drift {
        intent: PathBuf,
        /// The captured running configuration.
        #[arg(long, value_name = "FILE")]
        running: PathBuf,
        /// The gateway the box is.
        #[arg(long = "gateway", short = 'g')]
        gateway: String,
        /// The target the box runs (iptables, nftables, firewalld, vyos, rtx).
        #[arg(long = "target", short = 't', value_parser = parse_target)]
        target: TargetSpec,
        /// The capture's format. Default: the target's.
        #[arg(long, value_enum)]
        from: Option<ImportFormat>,
        #[command(flatten)]
        reporting: Reporting<DiagnosticFormat>,
    },
    /// Read a device's existing configuration and write it as an intent (TOML on stdout, or
    /// FILE), each item commented with the line it came from; every line the intent cannot
    /// express is reported on stderr as FILE:LINE (docs/import.md). Exit 0 when every line
    /// was imported, 1 when some were not (the intent is still written, listing them) or
    /// when nothing in FILE could be imported (nothing written).
    Import {
        /// The configuration: iptables-save output, firewalld direct rules, nft list ruleset,
        /// VyOS show configuration commands, RTX show config.
        file: PathBuf,
        /// Its format. Default: detected from the text.
        #[arg(long, value_enum)]
        from: Option<ImportFormat>,
        /// Write the intent to FILE; an existing FILE is never overwritten (exit 2).
        #[arg(long = "output", short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// How the report of the lines not imported reaches stderr: human (FILE:LINE: not
        /// imported [CODE]: why, then the line) or JSON Lines (one object a line) [default: human].
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<ImportReport>,
    },
    /// Write a commented starter intent (one gateway, a port forward, a masquerade, a lab
    /// with expectations) to stdout, or to FILE: `natc init > intent.toml`.
    Init {
        /// Write the intent to FILE; an existing FILE is never overwritten (exit 2).
        #[arg(long = "output", short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print natc's man page (roff) to stdout, or with --dir write it and a page per
    /// subcommand: `natc man --dir /usr/local/share/man/man1`.
    Man {
        /// Write natc.1 and natc-build.1, natc-check.1, … (the pages natc.1 refers to) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of the intent file (draft-07) for editors: `natc schema > natc-intent.schema.json`.
    Schema,
    /// Prove the intent on real Linux kernels: build its [lab] out of network namespaces,
    /// load the generated config, send the [[expect]] probes (root; exit 3 on a failure).
    Verify {
        /// The intent file (TOML), with [lab] and [[expect]].
        intent: PathBuf,
        /// iptables, nftables or firewalld; repeat for several. Default: the Linux targets
        /// that every gateway declares.
        #[arg(long = "target", short = 't', value_parser = parse_target)]
        targets: Vec<TargetSpec>,
        /// Seconds a probe waits for its reply.
        #[arg(long, default_value_t = 1.0, value_parser = parse_timeout)]
        timeout: f64,
        /// The FirewallBackend the lab's firewalld runs with (firewalld targets only).
        /// Default: the one /etc/firewalld/firewalld.conf names.
        #[arg(long = "firewalld-backend", value_enum, value_name = "BACKEND")]
        firewalld_backend: Option<FirewalldBackend>,
        #[command(flatten)]
        reporting: Reporting<DiagnosticFormat>,
    },
    /// Walk the [[expect]] probes through the compiled rules and the lab, or one packet
    /// through one gateway, and print every step in netfilter order: no root, no network
    /// (exit 3 when an expectation fails).
    Trace {
        /// The intent file (TOML); with [lab] and [[expect]] unless --from and --to are given.
        intent: PathBuf,
        /// Trace one packet at this gateway. Default: the intent's only gateway, or the
        /// one the lab routes the packet through.
        #[arg(long, short = 'g', requires_all = ["from", "to"])]
        gateway: Option<String>,
        /// Trace one packet from this source address (with --to) instead of the expectations.
        #[arg(long, requires = "to")]
        from: Option<Ipv4Addr>,
        /// The packet's destination address.
        #[arg(long, requires = "from")]
        to: Option<Ipv4Addr>,
        /// The packet's protocol.
        #[arg(long, value_enum, default_value_t = TraceProtocol::Icmp, requires = "from")]
        protocol: TraceProtocol,
        /// The destination port (tcp and udp).
        #[arg(long, requires = "from")]
        port: Option<u16>,
        /// The interface the packet comes in on. Default: the one the gateway routes
        /// --from out of.
        #[arg(long = "in-interface", requires = "from")]
        in_interface: Option<String>,
        #[command(flatten)]
        reporting: Reporting<DiagnosticFormat>,
    },
}

/// `natc import --format`: the report's form.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportReport {
    Human,
    Json,
}

/// `natc import --from`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// `iptables-save` output (and natc's iptables.rules).
    IptablesSave,
    /// firewalld direct rules: `firewall-cmd --direct --get-all-rules` output, typed
    /// `firewall-cmd --direct --add-rule` commands, direct.xml, natc's firewalld script.
    FirewalldDirect,
    /// `nft list ruleset` text (and natc's nftables.nft).
    Nft,
    /// VyOS `show configuration commands`, 1.1–1.3 or 1.4/1.5 syntax (and natc's VyOS output).
    Vyos,
    /// Yamaha RTX `show config`: interfaces, routes, masquerade NAT, pass filters.
    Rtx,
}

impl ImportFormat {
    pub fn format(self) -> natc::import::Format {
        match self {
            ImportFormat::IptablesSave => natc::import::Format::IptablesSave,
            ImportFormat::FirewalldDirect => natc::import::Format::FirewalldDirect,
            ImportFormat::Nft => natc::import::Format::Nft,
            ImportFormat::Vyos => natc::import::Format::Vyos,
            ImportFormat::Rtx => natc::import::Format::Rtx,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Secrets {
    Placeholder,
    Inline,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TraceProtocol {
    Icmp,
    Tcp,
    Udp,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.05..=60.0).contains(&v) => Ok(v),
        _ => Err("a number of seconds from 0.05 to 60".into()),
    }
}

/// `natc verify --firewalld-backend`: firewalld.conf's `FirewallBackend` in the lab.
#[derive(Clone, Copy, ValueEnum)]
pub enum FirewalldBackend {
    Iptables,
    Nftables,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

fn parse_target(text: &str) -> Result<TargetSpec, String> {
    text.parse().map_err(|e: natc::vocab::SpecError| e.to_string())
}

impl<F: FormatValue> Reporting<F> {
    /// The diagnostic format asked for: --diagnostics (the former name) over --format.
    pub fn diagnostics(&self) -> Option<DiagnosticFormat> {
        self.diagnostics.or(self.format.and_then(F::diagnostics))
    }

    /// The packaging `--format` asked for (build's hidden former spelling of --package).
    pub fn package(&self) -> Option<Package> {
        self.format.and_then(F::package)
    }
}
