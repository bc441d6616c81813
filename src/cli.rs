//! The command line (INTENT.md §3).

use clap::{Parser, Subcommand, ValueEnum};
use natc::target::TargetSpec;
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
    },
    /// Load and validate the intent; print diagnostics only.
    Check {
        intent: PathBuf,
        /// Warnings are errors: exit 1 (an item's `accept` keeps one).
        #[arg(long)]
        strict: bool,
    },
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
    text.parse().map_err(|e: natc::target::spec::SpecError| e.to_string())
}
