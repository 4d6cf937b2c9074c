#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the Debian trixie root the Vulkan tests run in.
#
#   build-root.sh            prints the root's directory on stdout
#   build-root.sh --path     only prints it; fails if it is not built
#
# Bookworm's Mesa (22.3) lavapipe cannot import dma-bufs; trixie's (25.0)
# can. Rather than touch the host, the tests run in a trixie root made with
# debootstrap --variant=minbase from Debian's own packages, entered with
# chroot (tests/vulkan/enter-root). The root lives outside the repository,
# like the test kernels, in $P2PBUF_CACHE (default /var/cache/p2pbuf),
# keyed by the hash of its package list and this recipe:
#
#   $P2PBUF_CACHE/vulkan-root-<hash>/      the root, .p2pbuf-done when whole
#
# It is built in a temporary directory next to it and renamed when complete,
# so an interrupted build leaves no half root behind. The mirror is the one
# apt uses on the host (P2PBUF_DEBIAN_MIRROR overrides it). The test programs
# are not part of the root: tests/vulkan/build-progs compiles them inside it.
set -euo pipefail

suite=trixie
packages=(
	mesa-vulkan-drivers libvulkan-dev libvulkan1
	gcc libc6-dev libdrm-dev make glslang-tools
)
# Change this line when the steps below change what gets built.
recipe="debootstrap minbase $suite v1"
cache=${P2PBUF_CACHE:-/var/cache/p2pbuf}
hash=$( { echo "$recipe"; printf '%s\n' "${packages[@]}"; } | sha256sum | cut -c1-12)
root=$cache/vulkan-root-$hash

log() { echo "vulkan-root: $*" >&2; }

if [ "${1:-}" = --path ]; then
	echo "$root"
	[ -f "$root/.p2pbuf-done" ]
	exit
fi
if [ -f "$root/.p2pbuf-done" ]; then
	echo "$root"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	log "building $root needs root (debootstrap)"
	exit 1
fi
if ! command -v debootstrap > /dev/null; then
	log "missing debootstrap (tests/install-deps.sh)"
	exit 1
fi

mirror=${P2PBUF_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	# The first Debian archive apt is configured with (deb822 or one-line).
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
		grep -v -- '-security' | head -n 1 || true)
	[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' |
		head -n 1 || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

mkdir -p "$cache"
exec 9>"$cache/.lock-vulkan-root"
flock 9
if [ -f "$root/.p2pbuf-done" ]; then
	echo "$root"
	exit 0
fi

tmp=$root.tmp
rm -rf "$tmp"
start=$(date +%s)
log "building $root from $mirror (${packages[*]})"
keyring=()
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] &&
	keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
debootstrap --variant=minbase "${keyring[@]}" \
	--include="$(IFS=,; echo "${packages[*]}")" \
	"$suite" "$tmp" "$mirror" >&2
# Nothing in the root runs services or needs the package lists again.
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
mkdir -p "$tmp/p2pbuf"
echo "$recipe" > "$tmp/.p2pbuf-recipe"
printf '%s\n' "${packages[@]}" >> "$tmp/.p2pbuf-recipe"
touch "$tmp/.p2pbuf-done"
mv "$tmp" "$root"
log "built $root in $(( $(date +%s) - start )) s"
echo "$root"
