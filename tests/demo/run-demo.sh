#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build what is needed, boot the emulated machine (TOPO, default
# switch) and show what p2pbuf does there.
set -euo pipefail
# Variables given to the top-level make (TOPO, TESTS) reach this script in
# the environment; keep them out of the sub-makes below, where MAKEFLAGS
# would override those makefiles' own variables (libp2pbuf's TESTS).
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
topo=${TOPO:-switch}
out=${P2PBUF_OUT:-$repo/.out}/demo-$topo

tests/install-deps.sh
if [ -z "${KDIR:-}" ]; then
	echo "demo: preparing the test kernel (built once, then cached)" >&2
	KDIR=$(tests/kernel/build-kernel.sh)
fi
export KDIR
make -s -C "$KDIR" M="$repo" modules
make -s -C libp2pbuf
make -s -C tests/uapi

echo "demo: booting the '$topo' machine under QEMU (TCG, 2 CPUs)" >&2
rc=0
tests/vm/run-vm.sh "$topo" "$out" demo || rc=$?
cat "$out/results" 2>/dev/null
if [ $rc != 0 ]; then
	echo "demo: the guest failed (status $rc); console log: $out/console.log" >&2
	tail -n 30 "$out/guest-stderr.log" "$out/console.log" >&2 2>/dev/null
	exit 1
fi
