#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) a p2pbuf test kernel from Debian's linux-source-6.1.
#
#   build-kernel.sh [FLAVOUR]      FLAVOUR: debug (default) or distro
#
# allnoconfig + base.config + kvm_guest.config + common.config +
# FLAVOUR.config, from the sources with tests/kernel/patches/FLAVOUR/*.patch
# applied (fixes from later kernels that a test needs; each patch says why).
# The build lives outside the repository, in $P2PBUF_CACHE (default
# /var/cache/p2pbuf), keyed by the linux-source package version and the hash
# of the recipe (the three fragments, the flavour's patches and the
# $recipe line below):
#
#   $P2PBUF_CACHE/src/linux-source-6.1-<version>/    unpacked sources
#   $P2PBUF_CACHE/src/linux-source-6.1-<version>-<flavour>-<hash>/
#       a copy with the flavour's patches applied (hard links, but for the
#       files the patches change)
#   $P2PBUF_CACHE/kernel/<version>-<hash>/            O= build directory
#       arch/x86/boot/bzImage, Module.symvers, .config, .p2pbuf-done,
#       modroot/lib/modules/<release>/   the kernel's modules (modprobe)
#       modroot/boot/config-<release>    its configuration, as Debian's
#
# On success the build directory is printed on stdout (use it as KDIR).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
flavour=${1:-debug}
fragment=$here/$flavour.config
common=$here/common.config
base=$here/base.config
[ -f "$fragment" ] || { echo "build-kernel: no kernel flavour '$flavour'" >&2; exit 2; }
# Change this line when the steps below change what gets built.
recipe="allnoconfig base kvm_guest.config common $flavour modroot v3"
cache=${P2PBUF_CACHE:-/var/cache/p2pbuf}
jobs=${JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }

tarball=/usr/src/linux-source-6.1.tar.xz
if [ ! -f "$tarball" ]; then
	log "missing $tarball (apt-get install linux-source-6.1)"
	exit 1
fi
version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
patches=()
[ -d "$here/patches/$flavour" ] &&
	mapfile -t patches < <(find "$here/patches/$flavour" -name '*.patch' | sort)
hash=$( { echo "$recipe"; cat "$base" "$common" "$fragment" "${patches[@]}"; } | sha256sum | cut -c1-12)
pristine=$cache/src/linux-source-6.1-$version
src=$pristine
[ ${#patches[@]} = 0 ] || src=$pristine-$flavour-$hash
out=$cache/kernel/$version-$hash

if [ -f "$out/.p2pbuf-done" ] && [ -f "$out/arch/x86/boot/bzImage" ]; then
	log "reusing $out"
	echo "$out"
	exit 0
fi

mkdir -p "$cache/src" "$cache/kernel"
exec 9>"$cache/.lock"
flock 9
# Built meanwhile by the holder of the lock (tests/check.sh builds the
# next kernel in the background).
if [ -f "$out/.p2pbuf-done" ] && [ -f "$out/arch/x86/boot/bzImage" ]; then
	log "reusing $out"
	echo "$out"
	exit 0
fi

if [ ! -f "$pristine/.p2pbuf-unpacked" ]; then
	log "unpacking $tarball"
	rm -rf "$pristine" "$pristine.tmp"
	mkdir -p "$pristine.tmp"
	tar -C "$pristine.tmp" -xf "$tarball"
	mv "$pristine.tmp/linux-source-6.1" "$pristine"
	rmdir "$pristine.tmp"
	touch "$pristine/.p2pbuf-unpacked"
fi
# patch(1) writes each file it changes anew, so the pristine tree's links
# are left alone.
if [ "$src" != "$pristine" ] && [ ! -f "$src/.p2pbuf-patched" ]; then
	rm -rf "$src" "$src.tmp"
	cp -al "$pristine" "$src.tmp"
	for p in "${patches[@]}"; do
		log "applying $(basename "$p")"
		patch -s -p1 -d "$src.tmp" < "$p" >&2
	done
	mv "$src.tmp" "$src"
	touch "$src/.p2pbuf-patched"
fi

mkdir -p "$out"
log "configuring $out"
make -s -C "$src" O="$out" allnoconfig >&2
(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m .config "$base" \
	"$src/kernel/configs/kvm_guest.config" "$common" "$fragment" >&2)
make -s -C "$src" O="$out" olddefconfig >&2

# Every option the fragment asks for must have survived olddefconfig.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		if ! grep -qxF "$line" "$out/.config"; then
			log "config: wanted '$line', got '$(grep "^${line%%=*}=" "$out/.config" || echo unset)'"
			missing=1
		fi ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$out/.config"; then
			log "config: wanted $opt off, got $(grep "^$opt=" "$out/.config")"
			missing=1
		fi ;;
	esac
done < <(cat "$base" "$common" "$fragment")
[ $missing = 0 ] || { log "config fragment not satisfied"; exit 1; }

log "building $flavour with -j$jobs (see Documentation/testing.rst for the time; once per recipe)"
start=$(date +%s)
make -s -C "$src" O="$out" -j"$jobs" >&2
make -s -C "$src" O="$out" modules_prepare >&2
# The guest finds the modules (and modprobe their dependencies) here.
release=$(make -s -C "$src" O="$out" kernelrelease)
rm -rf "$out/modroot"
make -s -C "$src" O="$out" INSTALL_MOD_PATH="$out/modroot" \
	INSTALL_MOD_STRIP=1 DEPMOD=/sbin/depmod modules_install >&2
rm -f "$out/modroot/lib/modules/$release/build" "$out/modroot/lib/modules/$release/source"
mkdir -p "$out/modroot/boot"
cp "$out/.config" "$out/modroot/boot/config-$release"
echo $(( $(date +%s) - start )) > "$out/.p2pbuf-build-seconds"
touch "$out/.p2pbuf-done"
log "built in $(cat "$out/.p2pbuf-build-seconds")s"
echo "$out"
