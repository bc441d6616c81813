//! The command line (INTENT.md §3).

use clap::{Parser, Subcommand, ValueEnum};
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
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
    /// human, json, github: how diagnostics reach stderr (human reports, JSON Lines, GitHub
    /// annotations on the intent's lines). cloud-init, ansible: how `build` packages its
    /// output (a #cloud-config per gateway; playbooks, inventory and site.yml).
    #[arg(long, value_enum, default_value_t = Format::Human, global = true)]
    pub format: Format,
    /// How diagnostics reach stderr, whatever --format packages (`--format ansible
    /// --diagnostics github` in CI).
    #[arg(long, value_enum, global = true)]
    pub diagnostics: Option<DiagnosticFormat>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    CloudInit,
    Ansible,
}

impl Format {
    /// The diagnostic format this --format implies.
    pub fn diagnostics(self) -> DiagnosticFormat {
        match self {
            Format::Json => DiagnosticFormat::Json,
            Format::Github => DiagnosticFormat::Github,
            Format::Human | Format::CloudInit | Format::Ansible => DiagnosticFormat::Human,
        }
    }

    /// The packaging of `build`'s output this --format asks for.
    pub fn packaging(self) -> natc::package::Packaging {
        match self {
            Format::CloudInit => natc::package::Packaging::CloudInit,
            Format::Ansible => natc::package::Packaging::Ansible,
            Format::Human | Format::Json | Format::Github => natc::package::Packaging::Native,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    Human,
    Json,
    Github,
}

#[derive(Subcommand)]
pub enum Command {
    /// Validate the intent and write the configs.
    Build {
        /// The intent file (TOML).
        intent: PathBuf,
        /// Target, optionally with a profile: iptables, nftables, firewalld, vyos[@1.4|1.5], rtx[@MODEL].
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
        /// Warnings are errors: exit 1 and write nothing (an item's `accept` keeps one).
        #[arg(long)]
        strict: bool,
        /// placeholder: pre-shared keys become `@@natc-secret:env:NAME@@` for a deployment
        /// tool to fill in. inline: the values from the environment or files the intent names.
        #[arg(long, value_enum, default_value_t = Secrets::Placeholder)]
        secrets: Secrets,
    },
    /// Load and validate the intent; print diagnostics only.
    Check {
        intent: PathBuf,
        /// Warnings are errors: exit 1 (an item's `accept` keeps one).
        #[arg(long)]
        strict: bool,
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
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print natc's man page (roff) to stdout: `natc man > /usr/local/share/man/man1/natc.1`.
    Man,
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
    },
    /// Walk the [[expect]] probes through the compiled rules and the lab, or one packet
    /// through one gateway, and print every step in netfilter order: no root, no network
    /// (exit 3 when an expectation fails).
    Trace {
        /// The intent file (TOML); with [lab] and [[expect]] unless --gateway is given.
        intent: PathBuf,
        /// Trace one packet at this gateway instead of the expectations.
        #[arg(long, short = 'g', requires_all = ["from", "to"])]
        gateway: Option<String>,
        /// The packet's source address.
        #[arg(long, requires = "gateway")]
        from: Option<Ipv4Addr>,
        /// The packet's destination address.
        #[arg(long, requires = "gateway")]
        to: Option<Ipv4Addr>,
        /// The packet's protocol.
        #[arg(long, value_enum, default_value_t = TraceProtocol::Icmp, requires = "gateway")]
        protocol: TraceProtocol,
        /// The destination port (tcp and udp).
        #[arg(long, requires = "gateway")]
        port: Option<u16>,
        /// The interface the packet comes in on. Default: the one the gateway routes
        /// --from out of.
        #[arg(long = "in-interface", requires = "gateway")]
        in_interface: Option<String>,
    },
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

#[derive(Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

fn parse_target(text: &str) -> Result<TargetSpec, String> {
    text.parse().map_err(|e: natc::vocab::SpecError| e.to_string())
}
