#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# The p2pbuf tool end to end, output checked: help for every command, info,
# alloc --hold + ls + fill/verify by pidfd, share/attach between two
# processes, explain against the kernel's own probe matrix, exit codes.
# Scope: every topology (its outcome depends on the PCI topology).
set -uo pipefail
# shellcheck source=lib/kconfig
. "$P2PBUF_REPO/tests/guest/lib/kconfig"

# shellcheck source=lib/hold
. "$P2PBUF_REPO/tests/guest/lib/hold"

fail=0
bad() { echo "FAIL: $*"; fail=1; }
good() { echo "ok: $*"; }
tmp=$(mktemp -d)
cleanup() {
	release_all
	rm -rf "$tmp"
}
trap cleanup EXIT

# What does not depend on the PCI topology runs where make check runs every
# test (P2PBUF_SCOPE=full); the explain cases below run on every topology.
info=$(p2pbuf info --json) || bad "info exit $?"
if [ "${P2PBUF_SCOPE:-full}" = full ]; then
	# --help for every command, exit 0; a bad option is exit 2 with a
	# message that names it (and no usage text), everywhere.
	for c in info topology explain alloc fill verify share attach read write ls serve rdma-read rdma-write; do
		out=$(p2pbuf "$c" --help) || bad "p2pbuf $c --help exit $?"
		grep -q "^usage: p2pbuf $c" <<< "$out" || bad "p2pbuf $c --help: no usage line"
		out=$(p2pbuf help "$c") || bad "p2pbuf help $c exit $?"
		grep -q "^usage: p2pbuf $c" <<< "$out" || bad "p2pbuf help $c: no usage line"
		err=$(p2pbuf "$c" --no-such-option 2>&1 > /dev/null)
		rc=$?
		[ $rc = 2 ] || bad "p2pbuf $c --no-such-option: exit $rc, expected 2"
		grep -q "^p2pbuf $c: unknown option '--no-such-option'$" <<< "$err" ||
			bad "p2pbuf $c --no-such-option does not name it: $err"
		! grep -q "usage:" <<< "$err" || bad "p2pbuf $c --no-such-option: the usage text: $err"
		# --json: the error as a JSON object on stdout too.
		out=$(p2pbuf "$c" --no-such-option --json 2> /dev/null)
		jq -e --arg c "$c" '.command == $c and .ok == false and .exit == 2 and (.error | test("--no-such-option"))' \
			<<< "$out" > /dev/null || bad "p2pbuf $c --no-such-option --json: $out"
	done
	p2pbuf > /dev/null 2>&1; [ $? = 2 ] || bad "p2pbuf without a command: not exit 2"
	p2pbuf nosuch > /dev/null 2>&1; [ $? = 2 ] || bad "p2pbuf nosuch: not exit 2"
	p2pbuf help > /dev/null || bad "p2pbuf help: exit $?"
	# --version, at the top and after any command.
	want=$(p2pbuf --version) || bad "p2pbuf --version: exit $?"
	grep -Eq '^p2pbuf [0-9]+\.[0-9]+\.[0-9]+ \(libp2pbuf [0-9]+\.[0-9]+\)$' <<< "$want" ||
		bad "p2pbuf --version: $want"
	out=$(p2pbuf ls --version) || bad "p2pbuf ls --version: exit $?"
	[ "$out" = "$want" ] || bad "p2pbuf ls --version: $out, p2pbuf --version: $want"
	# Each usage error names what is wrong or missing, exit 2.
	usage_err() {
		local want=$1 err rc
		shift
		err=$(p2pbuf "$@" 2>&1 > /dev/null)
		rc=$?
		if [ $rc != 2 ] || ! grep -qF -- "$want" <<< "$err" || grep -q "usage:" <<< "$err"; then
			bad "p2pbuf $*: exit $rc, expected 2 and \"$want\": $err"
		fi
	}
	usage_err "missing --size SIZE" alloc --device vgem
	usage_err "bad value '0' for --size" alloc --size=0
	usage_err "--size needs a value" alloc --size
	usage_err "unknown option '--siz'" alloc --siz 4K
	usage_err "missing --pattern SEED" fill 1:2
	usage_err "'x' is not PID:FD" verify x --pattern 1
	usage_err "missing SOCKET" share --size 4K
	usage_err "missing PEER" explain 00:00.0
	usage_err "unexpected argument '2'" ls 1 2
	usage_err "'-5' is not a process id" ls -- -5
	usage_err "unexpected argument 'x'" topology x
	usage_err "--probe-dir needs a value" topology --probe-dir
	# A process that is not there (pid_max is never a pid): exit 3, as a
	# JSON object with --json, in words.
	nopid=$(cat /proc/sys/kernel/pid_max)
	out=$(p2pbuf verify "$nopid:3" --pattern 1 --json 2> "$tmp/err")
	rc=$?
	[ $rc = 3 ] || bad "verify of no process: exit $rc, expected 3"
	jq -e '.ok == false and .exit == 3 and (.error | test("no such process"))' <<< "$out" > /dev/null ||
		bad "verify of no process --json: $out"
	grep -q "^p2pbuf verify: cannot take $nopid:3: no such process$" "$tmp/err" ||
		bad "verify of no process: $(cat "$tmp/err")"
	out=$(p2pbuf topology --probe-dir="$tmp/none" --json 2> /dev/null)
	rc=$?
	[ $rc = 3 ] || bad "topology without a probe: exit $rc, expected 3"
	jq -e '.ok == false and .exit == 3' <<< "$out" > /dev/null || bad "topology without a probe --json: $out"
	good "help and usage errors"

	# info: the kernel options as the booted kernel has them, udmabuf where
	# the kernel has it, and vgem (in every test kernel).
	p2pbuf info >&2
	for opt in PCI_P2PDMA DMABUF_MOVE_NOTIFY DMA_SHARED_BUFFER UDMABUF SYNC_FILE DRM_VGEM; do
		want=false
		! kconfig_on $opt || want=true
		jq -e --arg o $opt --argjson w $want '.config[$o] == $w' <<< "$info" > /dev/null ||
			bad "info: CONFIG_$opt $(jq -c --arg o $opt '.config[$o]' <<< "$info"), the kernel has $(kconfig $opt)"
	done
	udmabuf=false
	! kconfig_on UDMABUF || udmabuf=true
	jq -e --argjson u $udmabuf '.udmabuf == $u' <<< "$info" > /dev/null ||
		bad "info: udmabuf $(jq .udmabuf <<< "$info"), CONFIG_UDMABUF $(kconfig UDMABUF)"
	jq -e '[.devices[] | select(.driver == "vgem")] | length == 1' <<< "$info" > /dev/null ||
		bad "info: vgem not listed"
	good "info: $(jq -c '{udmabuf, probe, drivers: [.devices[].driver]}' <<< "$info")"

	# info says what the two options mean: P2P at all, and whether a
	# mapping pins (the dma-buf core pins on map without move_notify).
	p2p=false pins=true
	! kconfig_on PCI_P2PDMA || p2p=true
	! kconfig_on DMABUF_MOVE_NOTIFY || pins=false
	jq -e --argjson p $p2p --argjson m $pins '.peer_to_peer == $p and .pins_on_map == $m' \
		<<< "$info" > /dev/null ||
		bad "info: $(jq -c '{peer_to_peer, pins_on_map}' <<< "$info"), want $p2p, $pins"
	text=$(p2pbuf info)
	if [ $pins = true ]; then
		grep -q "^dma-buf pins: this kernel pins a dynamic importer's buffer for as long as it is mapped, because CONFIG_DMABUF_MOVE_NOTIFY is off" <<< "$text" ||
			bad "info does not say that mappings pin: $text"
	else
		grep -q "^dma-buf pins: dynamic importers follow moves" <<< "$text" ||
			bad "info on pins: $text"
	fi
	if [ $p2p = false ]; then
		grep -q "^peer-to-peer: never: the kernel is built without CONFIG_PCI_P2PDMA" <<< "$text" ||
			bad "info does not say that there is no P2P: $text"
	fi
	good "info: peer_to_peer $p2p, pins_on_map $pins, said in words"

	# alloc --hold, then look at the buffer from other processes. udmabuf
	# buffers stay at 64 KiB: a longer physically contiguous run makes 6.1's
	# DMA-API debug WARN in DMA_BUF_IOCTL_SYNC (udmabuf's 64 KiB segment limit).
	alloc_devs=("--device vgem")
	! kconfig_on UDMABUF || alloc_devs=(--udmabuf "${alloc_devs[@]}")
	for dev in "${alloc_devs[@]}"; do
		size=3M bytes=3145728
		[ "$dev" = --udmabuf ] && size=64K bytes=65536
		# shellcheck disable=SC2086
		hold buf --size $size $dev --name "cli test" --pattern 11
		holder=${hold_pid[buf]}
		alloc=$(cat "$tmp/alloc.buf")
		pid=$(jq -r .pid <<< "$alloc")
		fd=$(jq -r .fd <<< "$alloc")
		[ "$pid" = "$holder" ] || bad "alloc $dev: pid $pid, expected $holder"
		jq -e --argjson b "$bytes" '.size == $b and .name == "cli test"' <<< "$alloc" > /dev/null ||
			bad "alloc $dev: $alloc"

		# Without a PID: every process's, the holder's buffer among them.
		ls=$(p2pbuf ls --json) || bad "ls exit $?"
		jq -e --argjson p "$pid" --argjson fd "$fd" --argjson b "$bytes" \
			'[.dmabufs[] | select(.pid == $p and .fd == $fd and .size == $b and .name == "cli test" and .command == "p2pbuf")] | length == 1' \
			<<< "$ls" > /dev/null || bad "ls without a PID does not show $pid:$fd: $ls"
		jq -e '.processes > 1' <<< "$ls" > /dev/null ||
			bad "ls without a PID: $(jq -c '{processes, unreadable}' <<< "$ls")"
		out=$(p2pbuf ls) || bad "ls exit $?"
		grep -q "^$pid *p2pbuf *$fd " <<< "$out" || bad "ls without a PID, as text: $out"
		# Another user sees none of root's, and says how many it could not read.
		ls=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$(command -v p2pbuf)" ls --json) ||
			bad "ls as nobody: exit $?"
		jq -e --argjson p "$pid" '([.dmabufs[] | select(.pid == $p)] | length == 0) and .unreadable > 0' \
			<<< "$ls" > /dev/null || bad "ls as nobody: $(jq -c '{n: (.dmabufs | length), unreadable}' <<< "$ls")"
		ls=$(p2pbuf ls --json -- "$pid") || bad "ls -- $pid exit $?"
		[ "$(jq -c .dmabufs <<< "$ls")" = "$(p2pbuf ls "$pid" --json | jq -c .dmabufs)" ] ||
			bad "ls --json -- $pid: $ls"
		ls=$(p2pbuf ls "$pid" --json) || bad "ls $pid exit $?"
		p2pbuf ls "$pid" >&2
		jq -e --argjson fd "$fd" --argjson b "$bytes" '.dmabufs | length == 1 and .[0].fd == $fd and .[0].size == $b and .[0].name == "cli test"' \
			<<< "$ls" > /dev/null || bad "ls $dev: $ls"

		p2pbuf verify "$pid:$fd" --pattern 11 > /dev/null || bad "verify $dev pattern 11"
		out=$(p2pbuf verify "$pid:$fd" --pattern 12 --json)
		rc=$?
		[ $rc = 1 ] || bad "verify with the wrong pattern: exit $rc"
		jq -e '.ok == false' <<< "$out" > /dev/null || bad "verify wrong pattern: $out"
		out=$(p2pbuf fill "$pid:$fd" --pattern 12 --json) || bad "fill $dev"
		jq -e --arg b "$pid:$fd" '.buffer == $b and .pattern == 12 and .ok' <<< "$out" > /dev/null ||
			bad "fill --json: $out"
		p2pbuf verify "$pid:$fd" --pattern 12 > /dev/null || bad "verify $dev after fill"
		out=$(p2pbuf verify "$pid:0" --pattern 1 2>&1)
		rc=$?
		if [ $rc != 1 ] || ! grep -q "^p2pbuf verify: cannot take $pid:0: not a dma-buf$" <<< "$out"; then
			bad "verify of a non-dma-buf: exit $rc: $out"
		fi
		out=$(p2pbuf fill "$pid:999" --pattern 1 2>&1)
		rc=$?
		if [ $rc != 3 ] || ! grep -q "the process has no such descriptor" <<< "$out"; then
			bad "fill of a descriptor that is not there: exit $rc: $out"
		fi
		# Without ptrace rights over the holder, pidfd_getfd is refused,
		# and the user is told what is needed.
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$(command -v p2pbuf)" verify "$pid:$fd" --pattern 12 2>&1)
		rc=$?
		if [ $rc != 1 ] || ! grep -q "needs ptrace rights over it" <<< "$out"; then
			bad "verify as nobody: exit $rc: $out"
		fi
		release buf
		good "alloc $dev, ls, fill and verify through pidfd_getfd"
	done

	# alloc --hold as a background job of a script: its stdin is /dev/null,
	# at EOF from the start; the buffer stays until a signal. Options in
	# the --opt=VALUE form.
	( p2pbuf alloc --device=vgem --size=64K --pattern=4 --hold --json > "$tmp/bg.json" &
	  echo $! > "$tmp/bg.pid" )
	bgpid=$(cat "$tmp/bg.pid")
	hold_holders+=("$bgpid")	# for the trap, should a check below fail
	for _ in $(seq 50); do [ -s "$tmp/bg.json" ] && break; sleep 0.1; done
	[ "$(readlink "/proc/$bgpid/fd/0")" = /dev/null ] || bad "background alloc: stdin is $(readlink "/proc/$bgpid/fd/0")"
	sleep 1
	if kill -0 "$bgpid" 2> /dev/null; then
		ref=$(jq -r '"\(.pid):\(.fd)"' < "$tmp/bg.json")
		[ "${ref%%:*}" = "$bgpid" ] || bad "background alloc: $ref, pid $bgpid"
		p2pbuf verify "$ref" --pattern 4 > /dev/null || bad "background alloc: verify $ref"
		kill -TERM "$bgpid"
		for _ in $(seq 50); do kill -0 "$bgpid" 2> /dev/null || break; sleep 0.1; done
		! kill -0 "$bgpid" 2> /dev/null || bad "background alloc: still there after SIGTERM"
		good "alloc --hold in the background (stdin /dev/null) holds $ref until SIGTERM"
	else
		bad "alloc --hold in the background: gone at once ($(cat "$tmp/bg.json"))"
	fi
	# stdin a pipe: released when its writer closes it (here at once).
	out=$(echo | timeout 10 p2pbuf alloc --device vgem --size 64K --hold --json)
	rc=$?
	[ $rc = 0 ] || bad "alloc --hold with stdin a closed pipe: exit $rc: $out"

	# alloc's errors in words, as JSON objects with --json.
	out=$(p2pbuf alloc --device no-such-device --size 64K --json 2> "$tmp/err")
	rc=$?
	[ $rc = 3 ] || bad "alloc on no device: exit $rc, expected 3"
	jq -e '.exit == 3 and (.error | test("no such device"))' <<< "$out" > /dev/null ||
		bad "alloc on no device --json: $out"

	# The progress line: on a terminal (script(1) gives one), for work longer
	# than a second. Whether it shows depends on speed, so the check follows
	# the time the command took: none under a second, one from four seconds
	# (the time measured includes starting script, a shell and p2pbuf, and
	# opening the buffer, which the tool's one-second rule does not count).
	if [ "$P2PBUF_TOPO" = switch ]; then
		hold big --device vgem --size 128M
		start=$(date +%s%N)
		out=$(script -qec "p2pbuf fill ${hold_ref[big]} --pattern 3" /dev/null | tr '\r' '\n')
		ms=$((($(date +%s%N) - start) / 1000000))
		if [ $ms -ge 4000 ]; then
			grep -q "^filling: done" <<< "$out" || bad "fill took ${ms} ms, no progress line: $out"
			grep -q "^filling: *[0-9]*%" <<< "$out" || bad "fill took ${ms} ms, no percentage: $out"
		elif [ $ms -lt 1000 ]; then
			! grep -q "filling:" <<< "$out" || bad "fill took ${ms} ms, progress shown: $out"
		fi
		grep -q "filled with pattern 3" <<< "$out" || bad "fill on a terminal: $out"
		# Not on a terminal: no progress line, whatever the time.
		out=$(p2pbuf verify "${hold_ref[big]}" --pattern 3 2>&1)
		! grep -q "verifying:" <<< "$out" || bad "progress line without a terminal: $out"
		release big
		good "progress line on a terminal (fill of 128 MiB took $ms ms), none without"
	fi

	# share / attach: two processes, several buffers, patterns checked; VRAM
	# buffers too when p2pgem is there.
	share_devs=("--device vgem")
	! kconfig_on UDMABUF || share_devs=(--udmabuf "${share_devs[@]}")
	[ ! -d /sys/module/p2pgem ] || share_devs+=("--device p2pgem --placement vram")
	for dev in "${share_devs[@]}"; do
		sock=$tmp/share.sock
		size=1M bytes=1048576
		[ "$dev" = --udmabuf ] && size=64K bytes=65536
		# shellcheck disable=SC2086
		p2pbuf share "$sock" --size $size --count 4 $dev --pattern 500 --name shared \
			> "$tmp/share.out" &
		sharer=$!
		for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
		att=$(p2pbuf attach "$sock" --pattern 500 --json) || bad "attach $dev exit $?"
		wait $sharer || bad "share $dev exit $?"
		jq -e --argjson b "$bytes" '.ok and (.buffers | length == 4) and all(.buffers[]; .pattern_ok and .name == "shared" and .size == $b)' \
			<<< "$att" > /dev/null || bad "attach $dev: $att"
		case $dev in
		*vram) jq -e 'all(.buffers[]; .placement == "vram")' <<< "$att" > /dev/null ||
			bad "attach $dev: not in VRAM: $att" ;;
		esac
		grep -q "received 4 buffers intact" "$tmp/share.out" || bad "share $dev: $(cat "$tmp/share.out")"
		[ ! -e "$sock" ] || bad "share left its socket behind"
		good "share/attach $dev: 4 buffers, patterns intact"
	done
	out=$(p2pbuf attach "$tmp/nothing.sock" 2>&1)
	rc=$?
	if [ $rc != 1 ] || ! grep -q "no such socket (is 'p2pbuf share' running?)" <<< "$out"; then
		bad "attach to no socket: exit $rc: $out"
	fi
	# share onto a file given by mistake: refused in words, the file kept.
	echo mine > "$tmp/notasocket"
	out=$(p2pbuf share "$tmp/notasocket" --device vgem --size 64K --json 2> "$tmp/err")
	rc=$?
	[ $rc = 1 ] || bad "share onto a file: exit $rc"
	grep -q "something is there already" "$tmp/err" || bad "share onto a file: $(cat "$tmp/err")"
	jq -e '.ok == false and .exit == 1' <<< "$out" > /dev/null || bad "share onto a file --json: $out"
	[ "$(cat "$tmp/notasocket")" = mine ] || bad "share onto a file changed or removed it"
	good "share and attach errors in words; a file at SOCKET stays"
fi

# p2pgem, when loaded: its VRAM in info, a VRAM buffer from alloc, explain
# of the device against its peers.
if jq -e '[.devices[] | select(.driver == "p2pgem")] | length > 0' <<< "$info" > /dev/null; then
	jq -e '[.devices[] | select(.driver == "p2pgem")] | all(.vram_size > 0 and .pci_address != "")' \
		<<< "$info" > /dev/null || bad "info: p2pgem without VRAM or PCI address: $info"
	out=$(p2pbuf alloc --device p2pgem --placement vram --size 1M --pattern 3 --json 2>&1) ||
		bad "alloc on p2pgem: exit $?: $out"
	jq -e '.placement == "vram" and .size == 1048576' <<< "$out" > /dev/null ||
		bad "alloc on p2pgem: $out"
	out=$(p2pbuf alloc --device p2pgem --placement system --size 1M --json) ||
		bad "alloc system on p2pgem: exit $?"
	jq -e '.placement == "system"' <<< "$out" > /dev/null ||
		bad "alloc system on p2pgem: $out"
	# The device by its render node, as info lists it.
	node=$(jq -r '[.devices[] | select(.driver == "p2pgem")][0].render_node' <<< "$info")
	out=$(p2pbuf alloc --device "$node" --placement vram --size 64K --json) ||
		bad "alloc on $node: exit $?"
	jq -e '.placement == "vram"' <<< "$out" > /dev/null || bad "alloc on $node: $out"
	good "p2pgem: info shows VRAM, alloc places in VRAM and system memory, also by render node ($node)"
fi

# The verdicts explain must give, as "PROVIDER CLIENT MAP REASON VERDICT"
# lines (only PROVIDER's when given). With CONFIG_PCI_P2PDMA, the kernel's
# probe matrix, pair by pair. Without it there are no P2P pages, the probe
# lists no provider, and explain answers from the kernel configuration:
# none, kernel-without-pci-p2pdma, for the devices that would be providers
# (VRAM BARs, the NVMe CMB) against every other device.
p2pdma=false
! kconfig_on PCI_P2PDMA || p2pdma=true
expected_pairs() {
	local topo=$1 only=${2:-}

	if [ $p2pdma = true ]; then
		jq -r --arg p "$only" '.pairs[] | select($p == "" or .provider == $p) |
			"\(.provider) \(.client) \(.map) \(.reason) true"' <<< "$topo"
	else
		jq -r --arg p "$only" '.devices as $d | $d[] |
			select(if $p == "" then .kind == "vram" or .kind == "nvme" else .device == $p end) |
			.device as $q | $d[] | select(.device != $q) |
			"\($q) \(.device) none kernel-without-pci-p2pdma false"' <<< "$topo"
	fi
}

# jfield JSON KEY: KEY's value in explain's one-line JSON (flat; "text",
# the only free text, comes last and is escaped), in REPLY: a string
# without its quotes, or a number, true, false or null. Bash alone: a jq
# process per pair costs about a second on the debug kernel under TCG.
jfield() {
	local re="\"$2\":(\"([^\"]*)\"|([^,}]*))"

	REPLY='?'
	[[ $1 =~ $re ]] && REPLY=${BASH_REMATCH[2]}${BASH_REMATCH[3]}
}

# explain PID:FD: buffers held by other processes, explained as they are.
# VRAM buffers of each p2pgem device agree with the expected verdicts for
# every peer (the CLI finds the exporting device itself), a p2pgem system
# buffer and a udmabuf are in-system-memory, vgem and non-dma-bufs get no
# answer. CLIENT is the peer for the single cases.
explain_buffers() {
	local topo=$1 c=$2 gem p map reason verdict ex got n=0 gems pairs line b f
	mapfile -t gems <<< "$(jq -r '.devices[] | select(.driver == "p2pgem") | .pci_address' <<< "$info")"
	[ -n "${gems[0]}" ] || gems=()
	for gem in "${gems[@]}"; do
		hold vram --device "$gem" --placement vram --size 1M --pattern 5
		mapfile -t pairs <<< "$(expected_pairs "$topo" "$gem")"
		for line in "${pairs[@]}"; do
			[ -n "$line" ] || continue
			read -r p c map reason verdict <<< "$line"
			ex=$(p2pbuf explain "${hold_ref[vram]}" "$c" --json) ||
				{ bad "explain ${hold_ref[vram]} $c: exit $?"; continue; }
			got=
			for f in buffer provider map kernel_reason; do
				jfield "$ex" $f
				got+="${got:+ }$REPLY"
			done
			[ "$got" = "${hold_ref[vram]} $gem $map $reason" ] ||
				bad "explain VRAM buffer of $gem for $c: $got, expected $map $reason"
			n=$((n + 1))
		done
		p2pbuf explain "${hold_ref[vram]}" "$c" >&2
		p2pbuf verify "${hold_ref[vram]}" --pattern 5 > /dev/null ||
			bad "VRAM buffer of $gem changed by explain"
		release vram
	done
	[ ${#gems[@]} = 0 ] || [ $n -gt 0 ] || bad "explain PID:FD: no pairs for the p2pgem devices"

	c=$2
	[ ${#gems[@]} = 0 ] || hold sys --device p2pgem --placement system --size 1M
	! kconfig_on UDMABUF || hold udma --udmabuf --size 64K
	hold vgem --device vgem --size 64K
	for b in sys udma; do
		[ -n "${hold_ref[$b]:-}" ] || continue
		ex=$(p2pbuf explain "${hold_ref[$b]}" "$c" --json) || bad "explain $b buffer: exit $?"
		jq -e '.map == "none" and .reason == "in-system-memory"' <<< "$ex" > /dev/null ||
			bad "explain $b buffer: $ex"
	done
	if [ -n "${hold_ref[udma]:-}" ]; then
		ex=$(p2pbuf explain "${hold_ref[udma]}" "$c")
		grep -q "^buffer ${hold_ref[udma]}, exported by udmabuf$" <<< "$ex" || bad "explain udmabuf: $ex"
	fi
	ex=$(p2pbuf explain "${hold_ref[vgem]}" "$c" 2>&1)
	rc=$?
	if [ $rc != 1 ] || ! grep -q "not exported by a p2pgem device or udmabuf" <<< "$ex"; then
		bad "explain vgem buffer: exit $rc: $ex"
	fi
	ex=$(p2pbuf explain "${hold_pid[vgem]}:0" "$c" 2>&1)
	rc=$?
	if [ $rc != 1 ] || ! grep -q "not a dma-buf" <<< "$ex"; then
		bad "explain of a fifo: exit $rc: $ex"
	fi
	p2pbuf explain "${hold_ref[udma]:-${hold_ref[vgem]}}" zz > /dev/null 2>&1
	[ $? = 2 ] || bad "explain PID:FD with a malformed peer: not exit 2"
	for b in sys udma vgem; do [ -z "${hold_w[$b]:-}" ] || release $b; done
	good "explain PID:FD: VRAM buffers of ${#gems[@]} p2pgem devices agree on $n pairs;$([ -z "${hold_ref[sys]:-}" ] || echo " system,")$([ -z "${hold_ref[udma]:-}" ] || echo " udmabuf,") vgem and non-dma-buf answers"
}

# explain agrees with the kernel's probe matrix, pair by pair; without
# CONFIG_PCI_P2PDMA the probe has no pairs, and explain says why.
if topo=$(p2pbuf topology --json 2>/dev/null); then
	if [ $p2pdma = false ]; then
		jq -e '(.pairs | length == 0) and all(.devices[]; .provider == false)' <<< "$topo" > /dev/null ||
			bad "kernel without CONFIG_PCI_P2PDMA, yet the probe has providers or pairs: $(jq -c '{pairs: (.pairs | length), providers: [.devices[] | select(.provider) | .device]}' <<< "$topo")"
	fi
	n=0
	# No process substitution: the guest has no /dev/fd.
	mapfile -t pairs <<< "$(expected_pairs "$topo")"
	for line in "${pairs[@]}"; do
		[ -n "$line" ] || continue
		read -r p c map reason verdict <<< "$line"
		ex=$(p2pbuf explain "$p" "$c" --json) || { bad "explain $p $c exit $?"; continue; }
		got=
		for f in map kernel_reason kernel_verdict; do
			jfield "$ex" $f
			got+="${got:+ }$REPLY"
		done
		[ "$got" = "$map $reason $verdict" ] || bad "explain $p $c: $got, expected $map $reason $verdict"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || bad "no provider/client pairs to explain"
	# One pair for the single cases below.
	read -r p0 c0 _ <<< "${pairs[0]}"
	p2pbuf explain "$p0" "$c0" >&2
	if [ $p2pdma = true ]; then
		good "explain agrees with the probe on $n pairs"
	else
		good "explain: no P2P on $n pairs, kernel-without-pci-p2pdma"
	fi
	# The importer's kind: only a P2P-capable importer gets device memory.
	read -r p c <<< "$(jq -r '[.pairs[] | select(.map != "none")][0] | "\(.provider) \(.client)"' <<< "$topo")"
	if [ "$p" != null ]; then
		for k in dynamic static; do
			ex=$(p2pbuf explain "$p" "$c" --importer $k --json) || bad "explain --importer $k: exit $?"
			jq -e '.map == "none" and .reason == "importer-without-p2p"' <<< "$ex" > /dev/null ||
				bad "explain $p $c --importer $k: $ex"
		done
		ex=$(p2pbuf explain "$p" "$c" --importer p2p --json)
		jq -e '.map != "none"' <<< "$ex" > /dev/null || bad "explain --importer p2p: $ex"
		good "explain $p $c: P2P for a p2p importer, importer-without-p2p for dynamic and static ones"
	elif [ $p2pdma = false ]; then
		# A "none" keeps its own reason whatever the importer.
		for k in p2p dynamic static; do
			ex=$(p2pbuf explain "$p0" "$c0" --importer $k --json) || bad "explain --importer $k: exit $?"
			jq -e '.map == "none" and .reason == "kernel-without-pci-p2pdma"' <<< "$ex" > /dev/null ||
				bad "explain $p0 $c0 --importer $k: $ex"
		done
		good "explain $p0 $c0: kernel-without-pci-p2pdma for every kind of importer"
	fi
	p2pbuf explain "$p0" "$c0" --importer none > /dev/null 2>&1
	[ $? = 2 ] || bad "explain --importer none: not exit 2"
	# Without the probe, explain derives from sysfs and says so; without
	# CONFIG_PCI_P2PDMA the configuration answers first.
	want=no-kernel-verdict
	[ $p2pdma = true ] || want=kernel-without-pci-p2pdma
	ex=$(p2pbuf explain "$p0" "$c0" --probe-dir "$tmp/none" --json)
	jq -e --arg r $want '.kernel_verdict == false and .reason == $r' <<< "$ex" > /dev/null ||
		bad "explain without the probe: $ex"
	ex=$(p2pbuf explain vgem "$c0" 2>&1) || bad "explain vgem: exit $?"
	grep -q "not a PCI device" <<< "$ex" || bad "explain vgem: $ex"
	ex=$(p2pbuf explain vgem "$c0" --json) || bad "explain vgem --json: exit $?"
	jq -e '.driver == "vgem" and .map == "none" and .reason == "not-a-pci-device"' <<< "$ex" > /dev/null ||
		bad "explain vgem --json: $ex"
	explain_buffers "$topo" "$c0"
else
	echo "no probe matrix: explain checks skipped"
fi
p2pbuf explain nonsense 00:01.0 > /dev/null 2>&1
[ $? = 3 ] || bad "explain of a device that is not there: not exit 3"
p2pbuf explain 00:01.0 zz > /dev/null 2>&1
[ $? = 2 ] || bad "explain with a malformed address: not exit 2"
# A PCI function that is not there, as PROVIDER or as PEER: exit 3 like a
# missing DRM device, naming which (ff:1f.7 is on no test topology).
if [ ! -e /sys/bus/pci/devices/0000:ff:1f.7 ]; then
	devs=(/sys/bus/pci/devices/*)
	host=${devs[0]##*/}
	for args in "ff:1f.7 $host PROVIDER" "$host ff:1f.7 PEER" "vgem ff:1f.7 PEER"; do
		read -r a b which <<< "$args"
		out=$(p2pbuf explain "$a" "$b" --json 2> "$tmp/err")
		rc=$?
		[ $rc = 3 ] || bad "explain $a $b: exit $rc, expected 3"
		grep -q "$which ff:1f.7: no such PCI device" "$tmp/err" || bad "explain $a $b: $(cat "$tmp/err")"
		jq -e '.exit == 3' <<< "$out" > /dev/null || bad "explain $a $b --json: $out"
	done
	p2pbuf explain vgem zz > /dev/null 2>&1
	[ $? = 2 ] || bad "explain vgem zz: not exit 2"
	good "explain: exit 3 for a PCI function that is not there, 2 for a malformed one"
fi

exit $fail
