#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scope: every topology
# The RDMA importer's commands over soft-RoCE on the topology's NIC:
# p2pbuf alloc --hold a 16 MiB VRAM buffer, p2pbuf serve it, rdma-write a
# file of 12 MiB into it at an offset with the project's protocol, check
# the buffer with p2pbuf verify, rdma-read it back into another file and
# compare; usage errors exit 2; a range outside the served one fails with
# exit 1 and the server goes on; SIGTERM stops serve, which prints its
# counters (--json). The module is loaded here, as in p2pbuf-rdma-rping.sh.
set -uo pipefail

repo=$P2PBUF_REPO
# shellcheck source=lib/kconfig
. "$repo/tests/guest/lib/kconfig"
# shellcheck source=lib/rxe-nic
. "$repo/tests/guest/lib/rxe-nic"
# shellcheck source=lib/hold
. "$repo/tests/guest/lib/hold"

if [ ! -d /sys/module/p2pgem ]; then
	echo "p2pgem.ko is not loaded"
	exit 77
fi
fail=0
bad() { echo "FAIL: $*"; fail=1; }
good() { echo "ok: $*"; }
tmp=$(mktemp -d)
loaded=
srv=
# shellcheck disable=SC2317 # the EXIT trap runs it
cleanup() {
	[ -z "$srv" ] || kill "$srv" 2>/dev/null
	release_all
	[ -z "$loaded" ] || rmmod p2pbuf_rdma || echo "FAIL: rmmod p2pbuf_rdma"
	rxe_nic_down
	rm -rf "$tmp"
}
rxe_nic_up || { echo "FAIL: setting up rxe on the NIC"; exit 1; }
if [ ! -d /sys/module/p2pbuf_rdma ]; then
	insmod "$repo/rdma-importer/p2pbuf_rdma.ko" || { rxe_nic_down; echo "FAIL: insmod p2pbuf_rdma.ko"; exit 1; }
	loaded=1
fi
trap cleanup EXIT
port=7177
peer=$RXE_NIC_ADDR:$port

hold buf --device p2pgem --placement vram --size 16M --pattern 0
ref=${hold_ref[buf]}
p2pbuf serve "$ref" --port $port --offset 1M --length 14M --json > "$tmp/serve.json" &
srv=$!
# Listening once a client gets through.
head -c 12M /dev/urandom > "$tmp/in"
ok=
for _ in $(seq 50); do
	if p2pbuf rdma-write "$peer" 0 4K "$tmp/in" > /dev/null 2>&1; then ok=1; break; fi
	sleep 0.2
done
[ -n "$ok" ] || bad "serve never answered"

# expect WANT-EXIT WHAT CMD...: CMD's exit status is WANT-EXIT.
expect() {
	local want=$1 what=$2 rc
	shift 2
	"$@" > /dev/null 2>&1
	rc=$?
	if [ $rc = "$want" ]; then good "$what: exit $rc"; else bad "$what: exit $rc, want $want"; fi
}
# moved OUT BYTES: a command's --json says it moved BYTES.
moved() {
	[ "$(jq -r ".ok and .done == $2" <<< "$1")" = true ]
}

if out=$(p2pbuf rdma-write "$peer" 1M 12M "$tmp/in" --json) && moved "$out" 12582912; then
	good "rdma-write 12 MiB"
else
	bad "rdma-write: $out"
fi
if out=$(p2pbuf rdma-read "$peer" 1M 12M "$tmp/out" --json) && moved "$out" 12582912; then
	good "rdma-read 12 MiB"
else
	bad "rdma-read: $out"
fi
if cmp -s "$tmp/in" "$tmp/out"; then good "read back: bytes equal"; else bad "read back differs"; fi
# The buffer has the bytes at 2 MiB (the range's 1 MiB + 1 MiB).
if p2pbuf write "$tmp/buf" "$ref" --create --offset 2M --length 12M > /dev/null &&
	cmp -s "$tmp/in" "$tmp/buf"; then
	good "the buffer holds the bytes"
else
	bad "the buffer does not hold the bytes written"
fi

expect 2 "missing arguments" p2pbuf rdma-read "$peer" 1M
expect 2 "no port" p2pbuf rdma-read nowhere 0 4K "$tmp/x"
expect 2 "serve without --port" p2pbuf serve "$ref"
expect 1 "outside the range" p2pbuf rdma-read "$peer" 13M 2M "$tmp/x"
expect 0 "served after" p2pbuf rdma-read "$peer" 0 4K "$tmp/x"

kill -TERM "$srv"
wait "$srv" || bad "serve: exit $?"
srv=
if [ "$(jq -r '.ok and .requests >= 4 and .errors == 1 and .bytes_read >= 12582912 and .bytes_written >= 12582912' "$tmp/serve.json")" = true ]; then
	good "serve's counters"
else
	bad "serve's counters: $(cat "$tmp/serve.json")"
fi
release buf
exit $fail
