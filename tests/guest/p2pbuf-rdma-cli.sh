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
# p2pbuf explain rdma:DEV PID:FD for the rxe link: cpu-copy, attached for
# the NIC's PCI function, the buffer in VRAM or system memory as the
# exporter's own answer for that function says; a system-memory buffer, a
# udmabuf; either order of the arguments; bad input; the module unloaded.
# Passive registration: rdma-write/rdma-read --passive against a server
# without --passive fail in words, and against serve --passive move 3 MiB
# each way with this side's own RDMA, the buffer holding the bytes.
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
	insmod "$repo/rdma-importer/p2pbuf_rdma.ko" op_timeout_ms="$RDMA_TEST_TIMEOUT_MS" || { rxe_nic_down; echo "FAIL: insmod p2pbuf_rdma.ko"; exit 1; }
	loaded=1
fi
trap cleanup EXIT
port=7177
peer=$RXE_NIC_ADDR:$port

hold buf --device p2pgem --placement vram --size 16M --pattern 0
ref=${hold_ref[buf]}
p2pbuf serve "$ref" --port $port --offset 1M --length 14M --json > "$tmp/serve.json" &
srv=$!
head -c 12M /dev/urandom > "$tmp/in"
# served HOST:PORT: the server listens once a client gets through (10 s).
served() {
	for _ in $(seq 50); do
		p2pbuf rdma-write "$1" 0 4K "$tmp/in" > /dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
served "$peer" || bad "serve never answered"

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

# Passive: refused by a server that does not allow it, in words; a second
# server of the same buffer with --passive lets this side move the bytes
# with its own RDMA READ and WRITE.
out=$(p2pbuf rdma-write "$peer" 0 4K "$tmp/in" --passive 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q 'serve --passive' <<< "$out"; then
	good "passive refused without serve --passive"
else
	bad "passive without serve --passive: exit $rc: $out"
fi
pport=$((port + 1))
p2pbuf serve "$ref" --port $pport --passive --json > "$tmp/pserve.json" &
psrv=$!
served "$RXE_NIC_ADDR:$pport" || bad "serve --passive never answered"
head -c 3M /dev/urandom > "$tmp/pin"
if out=$(p2pbuf rdma-write "$RXE_NIC_ADDR:$pport" 5M 3M "$tmp/pin" --passive --json) &&
	moved "$out" 3145728 && [ "$(jq -r .mode <<< "$out")" = passive ]; then
	good "rdma-write --passive 3 MiB"
else
	bad "rdma-write --passive: $out"
fi
if out=$(p2pbuf rdma-read "$RXE_NIC_ADDR:$pport" 5M 3M "$tmp/pout" --passive --json) &&
	moved "$out" 3145728; then
	good "rdma-read --passive 3 MiB"
else
	bad "rdma-read --passive: $out"
fi
if cmp -s "$tmp/pin" "$tmp/pout" &&
	p2pbuf write "$tmp/pbuf" "$ref" --create --offset 5M --length 3M > /dev/null &&
	cmp -s "$tmp/pin" "$tmp/pbuf"; then
	good "passive: the buffer holds the bytes, read back equal"
else
	bad "passive: the bytes differ"
fi
kill -TERM $psrv
wait $psrv
if [ "$(jq -r '.registrations >= 2' "$tmp/pserve.json" 2>/dev/null)" = true ]; then
	good "serve --passive counted its registrations"
else
	bad "serve --passive: $(cat "$tmp/pserve.json")"
fi

# explain rdma:DEV PID:FD. The NIC's PCI function: the nearest above its
# netdev's device (virtio0 below the virtio-net function).
nic_pci=
d=$(readlink -f "/sys/class/net/$RXE_NETDEV/device")
while [ -n "$d" ] && [ "$d" != / ]; do
	if [[ ${d##*/} =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$ ]] &&
		[ -e "/sys/bus/pci/devices/${d##*/}" ]; then
		nic_pci=${d##*/}
		break
	fi
	d=${d%/*}
done
[ -n "$nic_pci" ] || bad "no PCI function above $RXE_NETDEV"
# The exporter's own answer for that function: where the buffer would be.
want_memory=system
map=$(p2pbuf explain "$ref" "$nic_pci" --json | jq -r .map)
case $map in
bus-address|host-bridge|iommu) want_memory=device ;;
none|error) ;;
*) want_memory=unknown ;;
esac
if out=$(p2pbuf explain "rdma:$RXE_LINK" "$ref" --json) &&
	jq -e --arg dev "$RXE_LINK" --arg ref "$ref" --arg nd "$RXE_NETDEV" \
		--arg pci "$nic_pci" --arg mem "$want_memory" --arg map "$map" '
		.rdma_device == $dev and .buffer == $ref and
		.path == "cpu-copy" and .reason == "software-device" and
		.software == true and .driver == "rxe" and .netdev == $nd and
		.pci == $pci and .memory == $mem and .map == $map and
		.dmabuf_mr == false and .module_loaded == true and
		(.exporter | test("^[0-9a-f]{4}:")) and
		(.text | contains("copies with the CPU"))' <<< "$out" > /dev/null; then
	good "explain rdma:$RXE_LINK: cpu-copy, attached for $nic_pci, memory $want_memory (map $map)"
	echo "$out"
else
	bad "explain rdma:$RXE_LINK $ref: $out (want pci $nic_pci, memory $want_memory, map $map)"
fi
# On switch the NIC sits below the switch with the VRAM: P2P for it, on
# kernels with PCI P2PDMA (not Debian's).
if [ "${P2PBUF_TOPO:-}" = switch ] && [ "$(kconfig PCI_P2PDMA)" = y ] &&
	[ "$want_memory" != device ]; then
	bad "switch: the exporter's answer for $nic_pci is $map, not P2P"
fi
# Text, and the buffer first.
if out=$(p2pbuf explain "$ref" "rdma:$RXE_LINK") &&
	grep -q "^$RXE_LINK <-> $ref (exported by .*): cpu-copy$" <<< "$out" &&
	grep -q "^  attached for PCI function $nic_pci: $map" <<< "$out" &&
	grep -q "^  dma-buf MRs from userspace (ibv_reg_dmabuf_mr): no " <<< "$out" &&
	grep -q "^  p2pbuf_rdma.ko: loaded$" <<< "$out"; then
	good "explain PID:FD rdma:DEV, text"
	echo "$out"
else
	bad "explain $ref rdma:$RXE_LINK: $out"
fi
# A buffer in system memory: the CPU copies system pages.
hold sys --device p2pgem --placement system --size 4M
if out=$(p2pbuf explain "rdma:$RXE_LINK" "${hold_ref[sys]}" --json) &&
	jq -e '.path == "cpu-copy" and .memory == "system" and
		.p2p_reason == "in-system-memory"' <<< "$out" > /dev/null; then
	good "explain rdma: a system-memory buffer"
else
	bad "explain rdma: system-memory buffer: $out"
fi
release sys
# udmabuf gives the module no pages: none.
if [ -c /dev/udmabuf ]; then
	hold ubuf --udmabuf --size 4M
	if out=$(p2pbuf explain "rdma:$RXE_LINK" "${hold_ref[ubuf]}" --json) &&
		jq -e '.path == "none" and .reason == "exporter-without-pages" and
			.exporter == "udmabuf"' <<< "$out" > /dev/null; then
		good "explain rdma: udmabuf, none"
	else
		bad "explain rdma: udmabuf: $out"
	fi
	release ubuf
else
	echo "no /dev/udmabuf: the udmabuf case not run"
fi
expect 3 "explain rdma: no such device" p2pbuf explain rdma:p2pbuf_nosuch "$ref"
expect 2 "explain rdma: bad PID:FD" p2pbuf explain "rdma:$RXE_LINK" 1:x
expect 2 "explain rdma: bad device" p2pbuf explain rdma: "$ref"
expect 3 "explain rdma: no such process" p2pbuf explain "rdma:$RXE_LINK" 2147483647:3
if out=$(p2pbuf explain rdma:p2pbuf_nosuch "$ref" --json); [ $? = 3 ] &&
	jq -e '.ok == false and .exit == 3 and (.error | contains("RDMA device p2pbuf_nosuch"))' <<< "$out" > /dev/null; then
	good "explain rdma: the JSON error object"
else
	bad "explain rdma: no such device, --json: $out"
fi

kill -TERM "$srv"
wait "$srv" || bad "serve: exit $?"
srv=
# Two refused requests: the range outside, and the passive REGISTER.
if [ "$(jq -r '.ok and .requests >= 4 and .errors == 2 and .bytes_read >= 12582912 and .bytes_written >= 12582912' "$tmp/serve.json")" = true ]; then
	good "serve's counters"
else
	bad "serve's counters: $(cat "$tmp/serve.json")"
fi
# Unloaded (when this test loaded it): explain says so.
if [ -n "$loaded" ]; then
	if rmmod p2pbuf_rdma; then
		loaded=
		if out=$(p2pbuf explain "rdma:$RXE_LINK" "$ref" --json) &&
			jq -e '.module_loaded == false and .path == "cpu-copy"' <<< "$out" > /dev/null; then
			good "explain rdma: p2pbuf_rdma.ko not loaded"
		else
			bad "explain rdma after rmmod: $out"
		fi
	else
		bad "rmmod p2pbuf_rdma"
	fi
fi
release buf
exit $fail
