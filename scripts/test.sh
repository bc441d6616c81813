#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs what the kernel and Ansible tests
# need when it is missing (Debian packages; needs root), then runs every test. The kernel tests
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
# tests/ansible.rs: ansible-core plus the community collections (vyos.vyos, ansible.netcommon).
command -v ansible-community >/dev/null 2>&1 || missing+=(ansible)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/test.sh: the kernel tests need ${missing[*]}; run as root so they can be installed" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cargo test --all-targets
