#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's own kernel, unmodified, for the harness (make check KERNEL=debian).
#
#   debian-kernel.sh
#
# The image is the linux-image-amd64 package of the same version as the
# installed linux-headers-amd64 (tests/install-deps.sh), so that the
# modules built against /lib/modules/RELEASE/build load into it. Nothing
# gets installed on the host (no second kernel, no initramfs-tools): the
# packages are only downloaded (apt-get download) and unpacked into
# $P2PBUF_CACHE (default /var/cache/p2pbuf):
#
#   $P2PBUF_CACHE/debian/<package version>/
#       debs/                   the downloaded linux-image and busybox-static
#       modroot/boot/vmlinuz-RELEASE, modroot/boot/config-RELEASE
#       modroot/lib/modules/RELEASE/   with modules.dep (depmod)
#       modroot/.p2pbuf-unpacked
#       initrd.img              busybox, the 9p root's modules, /init
#       .p2pbuf-done            the hash of the recipe it was made with
#
# Debian builds 9p, netfs and virtio as modules, so the harness's 9p root
# needs an initramfs: busybox (from busybox-static, which conflicts with
# the busybox package, so it is unpacked rather than installed), those
# modules in dependency order, and tests/kernel/debian-init as /init.
#
# On success prints shell assignments for tests/check.sh to eval:
#   KDIR=/lib/modules/RELEASE/build KIMAGE=... KINITRD=... KMODROOT=...
# Messages go to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${P2PBUF_CACHE:-/var/cache/p2pbuf}
init=$here/debian-init
# The root of the harness is virtio-9p (tests/vm/run-vm.sh): the 9p
# filesystem, its virtio transport and the virtio PCI transport, with
# whatever they depend on.
root_modules=(9p 9pnet_virtio virtio_pci)
# Change this line when the steps below change what gets made.
recipe="modroot depmod initramfs(${root_modules[*]}) busybox v1"

log() { echo "debian-kernel: $*" >&2; }

# NAME VERSION of an installed package, or nothing.
installed_version() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null |
		sed -n 's/^ii  *//p'
}

# The first package a package version depends on ("NAME (= VERSION)" with
# the version dropped); a metapackage such as linux-image-amd64 has just one.
first_depends() {
	sed -n 's/^Depends: //p' | head -n 1 | sed 's/[ ,|(].*//'
}

headers_version=$(installed_version linux-headers-amd64)
if [ -z "$headers_version" ]; then
	log "linux-headers-amd64 is not installed (tests/install-deps.sh installs it)"
	exit 1
fi
headers_pkg=$(dpkg-query -W -f='Depends: ${Depends}\n' linux-headers-amd64 | first_depends)
release=${headers_pkg#linux-headers-}
kdir=/lib/modules/$release/build
if [ ! -f "$kdir/Makefile" ]; then
	log "no $kdir (from $headers_pkg)"
	exit 1
fi

# linux-image-amd64 of the headers' version. The package lists may predate
# the headers (installed from newer lists since): update them once.
image_meta() {
	apt-cache show "linux-image-amd64=$headers_version" 2>/dev/null
}
if ! meta=$(image_meta) || [ -z "$meta" ]; then
	log "updating the package lists for linux-image-amd64 $headers_version"
	apt-get update -q >&2
	if ! meta=$(image_meta) || [ -z "$meta" ]; then
		log "linux-image-amd64 $headers_version is not in the archive any more;" \
			"upgrade the headers (apt-get install linux-headers-amd64) to follow it"
		exit 1
	fi
fi
candidate=$(apt-cache policy linux-image-amd64 | sed -n 's/^ *Candidate: //p')
if [ "$candidate" != "$headers_version" ]; then
	log "note: linux-image-amd64's candidate is $candidate; using $headers_version," \
		"the version of the installed linux-headers-amd64"
fi
image_pkg=$(first_depends <<< "$meta")
if [ "$image_pkg" != "linux-image-$release" ]; then
	log "linux-image-amd64 $headers_version depends on $image_pkg, not linux-image-$release"
	exit 1
fi

dir=$cache/debian/$headers_version
modroot=$dir/modroot
initrd=$dir/initrd.img
key=$( { echo "$recipe"; cat "$init"; } | sha256sum | cut -c1-12)

print_vars() {
	printf 'KDIR=%q KIMAGE=%q KINITRD=%q KMODROOT=%q\n' "$kdir" \
		"$modroot/boot/vmlinuz-$release" "$initrd" "$modroot"
}

done_key() { cat "$dir/.p2pbuf-done" 2>/dev/null || true; }

if [ "$(done_key)" = "$key" ]; then
	log "reusing $dir"
	print_vars
	exit 0
fi

mkdir -p "$cache/debian"
# Our own lock, not build-kernel.sh's: a kernel build holds that one for
# half an hour, and this needs none of it.
exec 9>"$cache/debian/.lock"
flock 9
# Another run may have made it while we waited.
if [ "$(done_key)" = "$key" ]; then
	log "reusing $dir"
	print_vars
	exit 0
fi
rm -f "$dir/.p2pbuf-done"
mkdir -p "$dir/debs"

# apt-get download PKG=VERSION...: into debs/, unless already there. apt
# downloads as the unprivileged _apt user, which must be able to write to
# the directory; the cache is root's, so download into a directory of its
# own and move the result.
fetch() {
	local tmp spec missing=()

	for spec in "$@"; do
		if ! compgen -G "$dir/debs/${spec%%=*}_*.deb" > /dev/null; then
			missing+=("$spec")
		fi
	done
	[ ${#missing[@]} != 0 ] || return 0
	tmp=$(mktemp -d "$dir/debs.XXXXXX")
	! id _apt > /dev/null 2>&1 || chown _apt "$tmp"
	log "downloading ${missing[*]}"
	(cd "$tmp" && apt-get download -q "${missing[@]}" >&2) || {
		rm -rf "$tmp"
		return 1
	}
	mv "$tmp"/*.deb "$dir/debs/"
	rmdir "$tmp"
}
fetch "$image_pkg=$headers_version" busybox-static

image_deb=$(compgen -G "$dir/debs/${image_pkg}_*.deb" | head -n 1)
busybox_deb=$(compgen -G "$dir/debs/busybox-static_*.deb" | head -n 1)

# The module tree depends on the package only: kept when just the
# initramfs is remade (a guest may be running from it).
if [ ! -f "$modroot/.p2pbuf-unpacked" ]; then
	log "unpacking $(basename "$image_deb")"
	rm -rf "$modroot" "$modroot.tmp"
	mkdir -p "$modroot.tmp"
	dpkg-deb -x "$image_deb" "$modroot.tmp"
	for f in "boot/vmlinuz-$release" "boot/config-$release" "lib/modules/$release"; do
		if [ ! -e "$modroot.tmp/$f" ]; then
			log "$(basename "$image_deb") has no /$f"
			exit 1
		fi
	done
	# The package leaves modules.dep and the other indexes to its postinst.
	depmod -b "$modroot.tmp" "$release"
	touch "$modroot.tmp/.p2pbuf-unpacked"
	mv "$modroot.tmp" "$modroot"
fi

log "building $initrd"
staging=$dir/initramfs.tmp
rm -rf "$staging"
mkdir -p "$staging/bin" "$staging/lib/modules" "$staging/proc" "$staging/sys" \
	"$staging/dev" "$staging/newroot"
bbdir=$dir/busybox.tmp
rm -rf "$bbdir"
dpkg-deb -x "$busybox_deb" "$bbdir"
cp "$bbdir/bin/busybox" "$staging/bin/busybox"
rm -rf "$bbdir"
# Every applet as a link, so that rdinit=/bin/sh gives a usable shell too.
for applet in $("$staging/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$staging/bin/$applet"
done
install -m 0755 "$init" "$staging/init"

# The modules in load order, from modules.dep (modprobe --show-depends
# lists a module's dependencies before it; -C /dev/null keeps the host's
# modprobe.d options out). Uncompressed, for busybox's insmod.
: > "$staging/modules"
declare -A seen=()
while read -r what path _; do
	if [ "$what" = builtin ]; then
		continue
	fi
	[ "$what" = insmod ] || { log "unexpected modprobe output: $what $path"; exit 1; }
	name=${path##*/}
	name=${name%%.ko*}.ko
	[ -z "${seen[$name]:-}" ] || continue
	seen[$name]=1
	case $path in
	*.ko.xz) xz -dc "$path" > "$staging/lib/modules/$name" ;;
	*.ko.zst) zstd -qdc "$path" > "$staging/lib/modules/$name" ;;
	*.ko.gz) gzip -dc "$path" > "$staging/lib/modules/$name" ;;
	*.ko) cp "$path" "$staging/lib/modules/$name" ;;
	*) log "unexpected module file $path"; exit 1 ;;
	esac
	echo "$name" >> "$staging/modules"
done < <(modprobe -C /dev/null -d "$modroot" -S "$release" --show-depends \
		-a "${root_modules[@]}")
log "initramfs modules: $(paste -sd ' ' "$staging/modules")"

(cd "$staging" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9 > "$initrd.tmp"
mv "$initrd.tmp" "$initrd"
rm -rf "$staging"

echo "$key" > "$dir/.p2pbuf-done"
log "ready in $dir"
print_vars
