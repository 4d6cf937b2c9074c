#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: build everything, check the kernel code, boot every topology and
# run the tests in it. One line per test, then "N passed, N failed, N skipped".
#
# Environment (all optional):
#   TOPO       topologies to boot, space separated (default: all four)
#   TESTS      shell glob of test names to run in the guest (default: *)
#   KDIR       a kernel build to use instead of the cached test kernel
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

topos=${TOPO:-$P2PBUF_TOPOLOGIES}
out=${P2PBUF_OUT:-$repo/.out}
mode=check
[ -n "${HARNESS:-}" ] && mode=harness
export P2PBUF_TESTS=${TESTS:-*}

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

if [ -z "${KDIR:-}" ]; then
	if ! KDIR=$(tests/kernel/build-kernel.sh 2> "$out/kernel-build.log"); then
		fail build:kernel "$(tail -n 30 "$out/kernel-build.log")"
		summary
	fi
fi
export KDIR
pass build:kernel

# Modules, W=1 and warnings as errors.
if log=$(make -s -C "$KDIR" M="$repo" W=1 KCFLAGS=-Werror modules 2>&1); then
	pass build:modules
else
	fail build:modules "$log"
	summary
fi

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

for topo in $topos; do
	dir=$out/$topo
	rc=0
	tests/vm/run-vm.sh "$topo" "$dir" "$mode" 2> "$out/$topo.vm.log" || rc=$?
	if [ ! -f "$dir/status" ]; then
		fail "$topo/boot" "$(cat "$out/$topo.vm.log"; echo '--- console (last 40 lines):'; tail -n 40 "$dir/console.log" 2>/dev/null)"
		continue
	fi
	pass "$topo/boot"

	while IFS= read -r line; do
		case "$line" in
		"PASS "*) pass "$topo/${line#PASS }" ;;
		"SKIP "*) skip "$topo/${line#SKIP }" ;;
		"FAIL "*) fail "$topo/${line#FAIL }" ;;
		*) echo "$line" ;;
		esac
	done < <(cat "$dir/results" 2>/dev/null)
	if [ "$rc" != 0 ]; then
		fail "$topo/guest-run" "guest exit status $rc; end of $dir/guest-stderr.log:
$(tail -n 20 "$dir/guest-stderr.log" 2>/dev/null)"
	fi

	# The guest's dmesg, or the console when the guest died before saving it.
	log=$dir/dmesg.txt
	[ -s "$log" ] || log=$dir/console.log
	if reports=$(tests/vm/scan-dmesg "$log"); then
		pass "$topo/dmesg-clean"
	else
		fail "$topo/dmesg-clean" "$(head -n 40 <<< "$reports")"
	fi
done

summary
