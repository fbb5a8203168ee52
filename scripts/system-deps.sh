#!/usr/bin/env bash
# Install the system packages the QEMU driver and its tests need, when missing:
# qemu-system-x86 (the hypervisor), qemu-utils (qemu-img), nftables (security groups).
# Idempotent: apt-get runs only for what is missing, `apt-get update` only when needed.
set -euo pipefail

packages=(qemu-system-x86 qemu-utils nftables)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing ${missing[*]}"
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
