#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [SEED]: the fuzz harness's long run (docs/reliability.md).
# Generates and mutates intents for SECONDS (default 60) from SEED (default: the clock),
# judges each in-process (compile, check, every target, cloud-init, Ansible, trace, diff)
# and loads a sample of the Linux outputs in a throwaway network namespace (root; set
# FUZZ_KERNEL=0 to leave it out). New corpus entries go to fuzz/corpus/run/, minimised
# findings to fuzz/crashes/; it ends with executions per second and totals, and exits 1
# when it found something.
# FUZZ_DEVICE_CHECKERS=DIR, a folder holding the external `vyos-check` and `rtx-check`
# grammar checkers, has VyOS and RTX outputs judged by them too (off when unset).
#
# Built with the `fuzz` profile (Cargo.toml): optimised, but with overflow checks and
# debug assertions on, so that an arithmetic overflow is a panic the run finds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
seed=${2:-$(date +%s)}
case "$seconds$seed" in *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [SEED] (whole numbers)" >&2; exit 2;; esac
export FUZZ_DEVICE_CHECKERS="${FUZZ_DEVICE_CHECKERS:-}"
echo "fuzz: building (profile fuzz)…" >&2
cargo test --profile fuzz --test fuzz --no-run >&2
status=0
FUZZ_SECONDS=$seconds FUZZ_SEED=$seed cargo test --profile fuzz --test fuzz long_run -- --ignored --nocapture --test-threads 1 || status=$?
if [ -d fuzz/crashes ] && [ -n "$(ls -A fuzz/crashes)" ]; then
    echo "fuzz: minimised findings (all runs) in fuzz/crashes/: $(ls fuzz/crashes | wc -l)" >&2
fi
exit "$status"
