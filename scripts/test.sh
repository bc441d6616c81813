#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs what the kernel tests need when
# it is missing (Debian packages; needs root), then runs every test. The kernel tests
# never skip: without root or the tools they fail and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v iptables-restore >/dev/null 2>&1 || missing+=(iptables)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v sysctl >/dev/null 2>&1 || missing+=(procps)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus-daemon)
command -v firewalld >/dev/null 2>&1 || missing+=(firewalld)
command -v conntrack >/dev/null 2>&1 || missing+=(conntrack)
command -v git >/dev/null 2>&1 || missing+=(git)
python3 -c 'import yaml' >/dev/null 2>&1 || missing+=(python3-yaml)
# cloud-init schema and its YAML loader judge --format cloud-init (it brings python3-yaml).
command -v cloud-init >/dev/null 2>&1 || missing+=(cloud-init)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/test.sh: the kernel tests need ${missing[*]}; run as root so they can be installed" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cargo test --all-targets
