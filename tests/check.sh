#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: build everything, check the kernel code, and for every test
# kernel boot its topologies and run the tests in them. One line per test,
# named KERNEL/TOPOLOGY/TEST for guest tests, then "N passed, N failed,
# N skipped".
#
# Environment (all optional):
#   KERNEL     test kernels, space separated: debug (KASAN, lockdep...: the
#              full matrix), distro (P2PDMA without DMABUF_MOVE_NOTIFY, as
#              distributions build), debian (Debian's own linux-image-amd64,
#              no P2PDMA). Default: all three; with HARNESS or KDIR, debug.
#   TOPO       topologies to boot, space separated (default: each kernel's
#              own list, below; given, every test runs on each of them)
#   TESTS      comma-separated shell globs of guest test names (default:
#              each kernel's own list, below)
#   KDIR       a kernel build to use instead of the cached debug kernel
#   P2PBUF_OUT where results and console logs go (default: .out/)
#   HARNESS    non-empty: plant the harness self-test's bugs (make check-harness)
set -uo pipefail
# Variables given to the top-level make (TOPO, TESTS) reach this script in
# the environment; keep them out of the sub-makes below, where MAKEFLAGS
# would override those makefiles' own variables (libp2pbuf's TESTS).
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=vm/topologies.sh
. tests/vm/topologies.sh

out=${P2PBUF_OUT:-$repo/.out}
mode=check
[ -n "${HARNESS:-}" ] && mode=harness

passed=0 failed=0 skipped=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
skip() { echo "SKIP $1"; skipped=$((skipped + 1)); }
fail() {
	echo "FAIL $1"
	failed=$((failed + 1))
	if [ -n "${2:-}" ]; then
		sed 's/^/    /' <<< "$2"
	fi
}

summary() {
	local line="$passed passed, $failed failed"
	[ $skipped = 0 ] || line+=", $skipped skipped"
	echo "$line"
	[ $failed = 0 ]
	exit
}

mkdir -p "$out"

if ! tests/install-deps.sh; then
	fail setup:packages
	summary
fi

# Userspace first: it does not depend on the kernel.
if log=$(make -s -C libp2pbuf 2>&1); then
	pass build:libp2pbuf
else
	fail build:libp2pbuf "$log"
	summary
fi

# libp2pbuf's host-side unit tests: ASan+UBSan, then valgrind.
if log=$(make -s -C libp2pbuf check 2>&1); then
	pass check:libp2pbuf
else
	fail check:libp2pbuf "$(grep -E '^(FAIL|    )|check:|rror' <<< "$log" || tail -n 30 <<< "$log")"
fi

if [ -f tests/uapi/Makefile ]; then
	if log=$(make -s -C tests/uapi 2>&1); then
		pass build:tests-uapi
	else
		fail build:tests-uapi "$log"
		summary
	fi
fi
# The benchmarks (guest test bench-smoke runs them once).
if log=$(make -s -C tests/bench 2>&1); then
	pass build:tests-bench
else
	fail build:tests-bench "$log"
	summary
fi

# make bench-floor's experiment patches the NVMe importer: it must still
# apply (tests/bench/nvme-floor/run.sh).
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	skip "check:bench-floor-patch (not a git checkout)"
elif log=$(git apply --check tests/bench/nvme-floor/floor.patch 2>&1); then
	pass check:bench-floor-patch
else
	fail check:bench-floor-patch "$log"
fi

# The Vulkan tests' Debian trixie root (Mesa's lavapipe), built on first
# use and cached like the kernels (tests/vulkan/build-root.sh), and their
# programs, compiled inside it. Without them vulkan-* fails (or skips, with
# no root): the run goes on.
if log=$(make -s -C tests/vulkan 2>&1); then
	pass build:tests-vulkan
else
	fail build:tests-vulkan "$(tail -n 30 <<< "$log")"
fi

# kernel_setup FLAVOUR: set KDIR, KIMAGE, KINITRD and KMODROOT for it,
# building or fetching it on first use (cached in /var/cache/p2pbuf).
kernel_setup() {
	local log=$out/kernel-$1.log vars

	KIMAGE='' KINITRD='' KMODROOT=''
	case $1 in
	debug|distro)
		if [ -n "${KDIR_GIVEN:-}" ]; then
			KDIR=$KDIR_GIVEN
		elif ! KDIR=$(tests/kernel/build-kernel.sh "$1" 2> "$log"); then
			fail "$1/build:kernel" "$(tail -n 30 "$log")"
			return 1
		fi ;;
	debian)
		if ! vars=$(tests/kernel/debian-kernel.sh 2> "$log"); then
			fail "$1/build:kernel" "$(tail -n 30 "$log")"
			return 1
		fi
		eval "$vars" ;;
	*)
		fail "$1/build:kernel" "no kernel flavour '$1' (debug, distro, debian)"
		return 1 ;;
	esac
	export KDIR KIMAGE KINITRD KMODROOT
	pass "$1/build:kernel"
}

# kernel_check FLAVOUR: build the modules against it, check the sources
# (once), and run the guest tests on its topologies.
kernel_check() {
	local k=$1 topo dir rc log reports findings ktopos

	# The first kernel was set up by the main loop already.
	[ "$k" = "$kernel_ready" ] && [ -n "$KDIR" ] || kernel_setup "$k" || return
	# The tree holds one kernel's modules at a time; the guest loads them
	# from here.
	make -s -C "$KDIR" M="$repo" clean > /dev/null 2>&1
	# Modules, W=1 and warnings as errors.
	if log=$(make -s -C "$KDIR" M="$repo" W=1 KCFLAGS=-Werror modules 2>&1); then
		pass "$k/build:modules"
	else
		fail "$k/build:modules" "$log"
		return
	fi

	if [ -z "$sources_checked" ]; then
		sources_checked=1
		check_sources
	fi

	ktopos=${TOPO:-${kernel_topos[$k]}}
	export P2PBUF_KERNEL=$k
	for topo in $ktopos; do
		dir=$out/$k/$topo
		P2PBUF_TESTS=${TESTS:-${kernel_topo_tests[$k/$topo]:-${kernel_tests[$k]}}}
		export P2PBUF_TESTS
		rc=0
		# Where the matrix is the default one, tests that do not depend on
		# the PCI topology run only on the topologies marked full.
		P2PBUF_SCOPE=full
		if [ -z "${TOPO:-}" ] && [[ " ${kernel_full[$k]} " != *" $topo "* ]]; then
			P2PBUF_SCOPE=topology
		fi
		export P2PBUF_SCOPE
		tests/vm/run-vm.sh "$topo" "$dir" "$mode" 2> "$out/$k-$topo.vm.log" || rc=$?
		if [ ! -f "$dir/status" ]; then
			fail "$k/$topo/boot" "$(cat "$out/$k-$topo.vm.log"; echo '--- console (last 40 lines):'; tail -n 40 "$dir/console.log" 2>/dev/null)"
			continue
		fi
		pass "$k/$topo/boot"

		while IFS= read -r line; do
			case "$line" in
			"PASS "*) pass "$k/$topo/${line#PASS }" ;;
			"SKIP "*) skip "$k/$topo/${line#SKIP }" ;;
			"FAIL "*) fail "$k/$topo/${line#FAIL }" ;;
			*) echo "$line" ;;
			esac
		done < <(cat "$dir/results" 2>/dev/null)
		if [ "$rc" != 0 ]; then
			fail "$k/$topo/guest-run" "guest exit status $rc; end of $dir/guest-stderr.log:
$(tail -n 20 "$dir/guest-stderr.log" 2>/dev/null)"
		fi

		# The guest's dmesg, or the console when the guest died before saving it.
		log=$dir/dmesg.txt
		[ -s "$log" ] || log=$dir/console.log
		if reports=$(tests/vm/scan-dmesg "$log"); then
			pass "$k/$topo/dmesg-clean"
		else
			fail "$k/$topo/dmesg-clean" "$(head -n 40 <<< "$reports")"
		fi
	done
}

# linux_source: print the directory of linux-source-6.1's sources in the
# kernel cache, unpacking them first as tests/kernel/build-kernel.sh does.
linux_source() {
	local cache=${P2PBUF_CACHE:-/var/cache/p2pbuf} version src

	version=$(dpkg-query -W -f='${Version}' linux-source-6.1) || return
	src=$cache/src/linux-source-6.1-$version
	if [ ! -f "$src/.p2pbuf-unpacked" ]; then
		mkdir -p "$cache/src"
		(
			flock 9
			[ -f "$src/.p2pbuf-unpacked" ] && exit
			rm -rf "$src" "$src.tmp"
			mkdir -p "$src.tmp"
			tar -C "$src.tmp" -xf /usr/src/linux-source-6.1.tar.xz &&
				mv "$src.tmp/linux-source-6.1" "$src" &&
				rmdir "$src.tmp" &&
				touch "$src/.p2pbuf-unpacked"
		) 9> "$cache/.lock" >&2
	fi
	echo "$src"
}

# checkpatch and sparse on the kernel sources, against the first kernel.
check_sources() {
	local log findings
	# Kernel sources: every .c/.h in a folder with a Kbuild file, and the uAPI.
	mapfile -t kernel_sources < <(
		{
			find . -name Kbuild -not -path './.out/*' -printf '%h\n' |
				while read -r d; do
					find "$d" -maxdepth 1 \( -name '*.c' -o -name '*.h' \) \
						-not -name '*.mod.c'
				done
			[ -d include/uapi ] && find include/uapi -name '*.h'
		} | sort -u)

	checkpatch=$KDIR/source/scripts/checkpatch.pl
	[ -x "$checkpatch" ] || checkpatch=$KDIR/scripts/checkpatch.pl
	# Debian's linux-headers have no checkpatch.pl: take it from the
	# linux-source-6.1 package (installed by install-deps.sh).
	[ -x "$checkpatch" ] || checkpatch=$(linux_source)/scripts/checkpatch.pl
	if log=$("$checkpatch" --strict --no-tree --terse --show-types \
			-f "${kernel_sources[@]}" 2>&1) &&
	   ! grep -qE ': (ERROR|WARNING|CHECK):' <<< "$log"; then
		pass checkpatch
	else
		fail checkpatch "$(grep -E ': (ERROR|WARNING|CHECK):' <<< "$log")"
	fi

	# sparse: re-check every source (C=2); any finding fails.
	log=$(make -s -C "$KDIR" M="$repo" C=2 CHECK=sparse modules 2>&1)
	findings=$(grep -E '(warning|error):' <<< "$log")
	if [ -z "$findings" ]; then
		pass sparse
	else
		fail sparse "$findings"
	fi
}

# What each kernel runs by default (Documentation/testing.rst explains the
# choice): topologies, the guest tests (comma-separated globs), and the
# topologies where every test runs (elsewhere only those that depend on the
# topology: see "Scope" in the tests' headers).
#
# CI gives .ci/run 90 minutes on two cores, and under the debug kernel
# every test runs 3 to 5 times longer than under distro: the debug kernel
# runs every kernel-facing test on switch, and on iommu those whose DMA
# mappings the IOMMU changes; the tests that are mostly the tool's and
# libp2pbuf's own work (libp2pbuf-cli, -file, -examples, the demo) run on
# the distro and Debian kernels. The distro kernel covers blocked and
# hostbridge (Documentation/testing.rst, "The default matrix").
declare -A kernel_topos=(
	[debug]="switch iommu"
	[distro]="switch blocked hostbridge"
	[debian]="switch"
)
declare -A kernel_tests=(
	[debug]='kunit:*,bench-smoke,p2pbuf-*,p2pgem-*,probe-matrix,vulkan-*,libp2pbuf-rdma,libp2pbuf-robust,libp2pbuf-share'
	[distro]='kunit:*,p2pbuf-*,libp2pbuf-*,demo,probe-matrix,p2pgem-*,vulkan-*'
	[debian]='kunit:*,p2pbuf-*,libp2pbuf-*,demo,probe-matrix,p2pgem-basic,p2pgem-eviction'
)
# Where set, a kernel's topology runs these instead of kernel_tests.
declare -A kernel_topo_tests=(
	[debug/iommu]='p2pbuf-dmabuf,p2pbuf-nvme,p2pbuf-ti-remove,p2pbuf-implicit-sync,probe-matrix,vulkan-*'
	[distro/hostbridge]='p2pbuf-dmabuf,p2pbuf-nvme,probe-matrix,libp2pbuf-cli,p2pbuf-rdma-client,vulkan-*'
)
declare -A kernel_full=(
	[debug]="switch iommu"
	[distro]="switch"
	[debian]="switch"
)

# build_ahead FLAVOUR: once FLAVOUR's kernel is there, build the other
# test kernels still to come in the background, at the lowest priority,
# while FLAVOUR's guests run: a TCG guest leaves part of the two cores
# idle, and a fresh machine builds every kernel. kernel_setup() then finds
# them built (build-kernel.sh waits for the build's lock and reuses it).
# Nothing happens when they are cached.
build_ahead() {
	local k

	[ -z "$KDIR_GIVEN" ] || return 0
	for k in $kernels; do
		case $k in
		"$1") ;;
		debug|distro)
			nice -n 19 tests/kernel/build-kernel.sh "$k" \
				> "$out/kernel-$k-ahead.log" 2>&1 &
			;;
		esac
	done
}

KDIR_GIVEN=${KDIR:-}
sources_checked=
kernels=${KERNEL:-debug distro debian}
[ -n "${KERNEL:-}" ] || { [ -z "${HARNESS:-}" ] && [ -z "$KDIR_GIVEN" ]; } || kernels=debug
kernel_ready=
for k in $kernels; do
	# The first kernel is set up here, so the others can build meanwhile.
	if [ -z "$kernel_ready" ]; then
		kernel_ready=$k
		kernel_setup "$k" || continue
		build_ahead "$k"
	fi
	kernel_check "$k"
done
wait

summary
