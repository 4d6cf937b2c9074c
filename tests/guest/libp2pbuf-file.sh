#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# libp2pbuf's file API through the p2pbuf tool: read, write and explain
# FILE PID:FD between the NVMe namespace (raw, and a file on ext4 on it),
# a file on tmpfs, and p2pgem buffers held by other processes. The path of
# each I/O follows the topology and the kernel (p2p where the NVMe
# function reaches VRAM, direct-system where not, compat where the module
# cannot help); every byte is checked with the test pattern, and the
# device's bytes are read back on the compat path, apart from the module.
# Then p2pbuf_nvme is unloaded: everything goes compat, --no-compat fails;
# the module is loaded again. Last, ext4 is made on the namespace.
# Scope: every topology (the paths depend on the PCI topology).
set -uo pipefail
# shellcheck source=lib/kconfig
. "$P2PBUF_REPO/tests/guest/lib/kconfig"
# shellcheck source=lib/hold
. "$P2PBUF_REPO/tests/guest/lib/hold"

ns=/dev/nvme0n1
mnt=/tmp/p2pbuf-file-mnt
if [ ! -b $ns ] || [ ! -e /dev/p2pbuf_nvme ] || [ ! -d /sys/module/p2pgem ]; then
	echo "needs the NVMe namespace, p2pbuf_nvme.ko and p2pgem.ko"
	exit 77
fi
params=()
for p in /sys/module/p2pbuf_nvme/parameters/*; do
	params+=("$(basename "$p")=$(cat "$p")")
done

fail=0
bad() { echo "FAIL: $*"; fail=1; }
good() { echo "ok: $*"; }
tmp=$(mktemp -d)
cleanup() {
	release_all
	! mountpoint -q "$mnt" || umount "$mnt"
	[ -d /sys/module/p2pbuf_nvme ] ||
		insmod "$P2PBUF_REPO/nvme-importer/p2pbuf_nvme.ko" "${params[@]}"
	rm -rf "$tmp"
}
trap cleanup EXIT

# What a VRAM buffer's I/O with the namespace must take here.
want=p2p
if ! kconfig_on PCI_P2PDMA || [ "$P2PBUF_TOPO" = blocked ]; then
	want=direct-system
fi

# io CMD FILE REF WANT-PATH [ARGS]: p2pbuf read/write, exit 0, the path,
# and what the CPU moved: nothing by DMA into or out of the buffer's own
# memory (no holes here), everything through a copy.
io() {
	local cmd=$1 file=$2 ref=$3 path=$4 out cpu='.cpu_bytes == .done'
	shift 4
	if ! out=$(p2pbuf "$cmd" "$file" "$ref" --json "$@"); then
		bad "p2pbuf $cmd $file $ref $*: exit $? ($out)"
		return
	fi
	case $path in p2p|direct-system) cpu='.cpu_bytes == 0' ;; esac
	jq -e --arg p "$path" '.ok and .paths == [$p]' <<< "$out" > /dev/null ||
		bad "p2pbuf $cmd $file $* took $(jq -c .paths <<< "$out"), want [\"$path\"]"
	jq -e "$cpu" <<< "$out" > /dev/null ||
		bad "p2pbuf $cmd $file $*: cpu_bytes $(jq .cpu_bytes <<< "$out"), want $cpu"
}

# verify REF SEED: the buffer holds the pattern.
verify() {
	p2pbuf verify "$1" --pattern "$2" > /dev/null || bad "${3:-}: buffer $1 lacks pattern $2"
}

# explain FILE REF WANT-PATH [WANT-REASON]
explain() {
	local out
	if ! out=$(p2pbuf explain "$1" "$2" --json); then
		bad "p2pbuf explain $1 $2: exit $?"
		return
	fi
	jq -e --arg p "$3" '.path == $p' <<< "$out" > /dev/null ||
		bad "explain $1: $(jq -c '{path, reason, text}' <<< "$out"), want path $3"
	[ -z "${4:-}" ] || jq -e --arg r "$4" '.reason == $r' <<< "$out" > /dev/null ||
		bad "explain $1: reason $(jq -r .reason <<< "$out"), want $4"
	echo "# explain $1: $(jq -r '"\(.path) (\(.reason)): \(.text)"' <<< "$out")"
}

# --- the raw namespace ---
hold src --device p2pgem --placement vram --size 8M --pattern 7
explain $ns "${hold_ref[src]}" $want
io write $ns "${hold_ref[src]}" $want --file-offset 8M
hold dst --device p2pgem --placement vram --size 8M
io read $ns "${hold_ref[dst]}" $want --file-offset 8M
verify "${hold_ref[dst]}" 7 "read back"
# The namespace's bytes, read with O_DIRECT into RAM and copied (compat).
hold chk --device p2pgem --placement system --size 8M
io read $ns "${hold_ref[chk]}" compat --file-offset 8M --compat
verify "${hold_ref[chk]}" 7 "compat read back"
release chk
# Unaligned pieces take the compat path; together they are the whole.
hold part --device p2pgem --placement vram --size 8M
io read $ns "${hold_ref[part]}" compat --file-offset 8M --length 1000
io read $ns "${hold_ref[part]}" compat --file-offset $((8 * 1048576 + 1000)) --offset 1000
verify "${hold_ref[part]}" 7 "unaligned pieces"
p2pbuf read $ns "${hold_ref[part]}" --length 1000 --no-compat > /dev/null 2>&1 &&
	bad "an unaligned read with --no-compat did not fail"
release part
good "raw namespace: $want, compat, unaligned"
# A dma-buf fd number closed and reused for another buffer.
if out=$(p2pbuf-test-peer file-reuse $ns); then
	echo "$out"
	[ "$want" = compat ] || grep -q "path [12])$" <<< "$out" ||
		bad "file-reuse did not take the module's path: $out"
else
	bad "file-reuse: $out"
fi

# --- exporters without pages: vgem (bounce in the kernel, or compat) and
# udmabuf (compat). Only explained for udmabuf: 6.1's udmabuf maps its
# pages for its own device at the first DMA_BUF_IOCTL_SYNC, with that
# call's direction and segments longer than the device's limit, and syncs
# later calls with another direction; DMA-API debugging reports each.
hold vg --device vgem --size 8M
io read $ns "${hold_ref[vg]}" bounce --file-offset 8M
verify "${hold_ref[vg]}" 7 "vgem buffer"
explain $ns "${hold_ref[vg]}" bounce exporter-without-pages
release vg
hold vgc --device vgem --size 8M
io read $ns "${hold_ref[vgc]}" compat --file-offset 8M --compat
verify "${hold_ref[vgc]}" 7 "vgem buffer, compat"
release vgc
if kconfig_on UDMABUF; then
	hold ud --udmabuf --size 8M
	explain $ns "${hold_ref[ud]}" compat exporter-without-pages
	release ud
fi
good "foreign exporters: bounce and compat (vgem), compat (udmabuf)"

# --- bad input ---
p2pbuf read $ns "${hold_ref[dst]}" --length 9M > /dev/null 2>&1
[ $? = 1 ] || bad "--length past the buffer: not exit 1"
p2pbuf read /nonexistent "${hold_ref[dst]}" > /dev/null 2>&1
[ $? = 1 ] || bad "a missing file: not exit 1"
p2pbuf read $ns 1:99 > /dev/null 2>&1
[ $? != 0 ] || bad "a buffer that is not there: exit 0"
p2pbuf read $ns "${hold_ref[dst]}" --compat --no-compat > /dev/null 2>&1
[ $? = 2 ] || bad "--compat --no-compat: not exit 2"
# write makes no file without --create (a mistyped device name)...
p2pbuf write "$tmp/no-such-file" "${hold_ref[src]}" > /dev/null 2>&1
[ $? = 1 ] || bad "write to a missing file without --create: not exit 1"
[ ! -e "$tmp/no-such-file" ] || bad "write without --create made a file"
# ... and stays within a block device: 2 MiB fit at 62 MiB of 64.
out=$(p2pbuf write $ns "${hold_ref[src]}" --file-offset 62M --json) ||
	bad "write at the device's end: exit $?"
jq -e '.length == 2097152 and .ok' <<< "$out" > /dev/null ||
	bad "write at the device's end: $out"
for c in read write; do
	out=$(p2pbuf $c --help) || bad "p2pbuf $c --help exit $?"
	grep -q "^usage: p2pbuf $c" <<< "$out" || bad "p2pbuf $c --help: no usage line"
done
good "bad input"

# --- a file on tmpfs: no direct I/O, compat ---
io write "$tmp/file.bin" "${hold_ref[src]}" compat --create
explain "$tmp/file.bin" "${hold_ref[src]}" compat no-direct-io
hold tfs --device p2pgem --placement vram --size 8M
io read "$tmp/file.bin" "${hold_ref[tfs]}" compat
verify "${hold_ref[tfs]}" 7 "tmpfs file"
release tfs
good "tmpfs file: compat"

# --- without the module: compat, or a clean failure ---
if rmmod p2pbuf_nvme; then
	explain $ns "${hold_ref[src]}" compat no-p2pbuf-nvme
	hold nom --device p2pgem --placement vram --size 8M
	io read $ns "${hold_ref[nom]}" compat --file-offset 8M
	verify "${hold_ref[nom]}" 7 "without the module"
	p2pbuf read $ns "${hold_ref[nom]}" --file-offset 8M --no-compat > /dev/null 2>&1
	[ $? = 1 ] || bad "--no-compat without the module: not exit 1"
	release nom
	insmod "$P2PBUF_REPO/nvme-importer/p2pbuf_nvme.ko" "${params[@]}" ||
		bad "insmod p2pbuf_nvme.ko"
	good "without p2pbuf_nvme: compat"
else
	bad "rmmod p2pbuf_nvme"
fi
# --- a file on ext4 on the namespace ---
if command -v mkfs.ext4 > /dev/null && mkfs.ext4 -q -F $ns && mkdir -p "$mnt" &&
	mount -t ext4 $ns "$mnt"; then
	io write $mnt/data "${hold_ref[src]}" $want --create
	explain $mnt/data "${hold_ref[src]}" $want
	hold e4 --device p2pgem --placement vram --size 8M
	io read $mnt/data "${hold_ref[e4]}" $want
	verify "${hold_ref[e4]}" 7 "ext4 file"
	release e4
	# A hole reads as zeros, which the filesystem writes with the CPU:
	# the tool says so.
	truncate -s 16M $mnt/data
	hold e4h --device p2pgem --placement vram --size 8M --pattern 9
	if out=$(p2pbuf read $mnt/data "${hold_ref[e4h]}" --file-offset 8M --json); then
		jq -e --arg p $want '.ok and .paths == [$p] and .cpu_bytes == 8388608' \
			<<< "$out" > /dev/null ||
			bad "a hole: $(jq -c '{paths, cpu_bytes}' <<< "$out"), want [$want], 8 MiB by the CPU"
	else
		bad "p2pbuf read of a hole: exit $?"
	fi
	p2pbuf read $mnt/data "${hold_ref[e4h]}" --file-offset 4M | grep "by the CPU" ||
		bad "a read of half data, half hole: no word of the CPU"
	io write $mnt/zeros "${hold_ref[e4h]}" $want --create --offset 4M --length 4M
	cmp -s -n 4194304 $mnt/zeros /dev/zero || bad "a hole did not read as zeros"
	release e4h
	umount "$mnt"
	good "ext4 file: $want, a hole by the CPU"
else
	bad "could not make and mount ext4 on $ns"
fi

release dst
release src
exit $fail
