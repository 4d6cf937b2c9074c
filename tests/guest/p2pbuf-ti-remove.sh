#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test importer's edu device goes away under open files, a DMA in
# flight and a sync_file holding its fence (tests/uapi/p2pbuf_ti_remove):
# first an unbind, then the device is bound again and works; then a hot
# removal of the PCI function, after which the module must unload, load
# again and, after a PCI rescan, drive the edu device again. A subtest
# that skips (it needs a p2pgem device) is not followed by the checks of
# what it would have done; with both skipped the test skips. Leaves the
# machine as it found it: the module loaded, the edu device bound to it.
# Scope: every topology (its outcome depends on the PCI topology).
set -uo pipefail

repo=$P2PBUF_REPO
mod=p2pbuf_test_importer
ko=$repo/tests/importer/$mod.ko
if [ ! -d /sys/module/$mod ] || [ ! -d /sys/module/p2pgem ]; then
	echo "$mod.ko or p2pgem.ko is not loaded"
	exit 77
fi
edu=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=$(basename "$d")
		break
	fi
done
if [ -z "$edu" ] || [ ! -e "/sys/bus/pci/drivers/$mod/$edu" ]; then
	echo "no edu device bound to $mod"
	exit 77
fi

# After a rescan another driver that matches the edu device (the topology
# probe, registered before the reloaded module) may take it: hand it over.
bind_edu() {
	local drv=

	[ -e "/sys/bus/pci/drivers/$mod/$edu" ] && return 0
	if [ -e "/sys/bus/pci/devices/$edu/driver" ]; then
		drv=$(basename "$(readlink "/sys/bus/pci/devices/$edu/driver")")
		echo "$edu" > "/sys/bus/pci/drivers/$drv/unbind"
	fi
	echo "$edu" > "/sys/bus/pci/drivers/$mod/bind"
}

restore() {
	[ -e "/sys/bus/pci/devices/$edu" ] || echo 1 > /sys/bus/pci/rescan
	[ -d /sys/module/$mod ] || insmod "$ko"
	bind_edu
}
trap restore EXIT

bound() {
	if [ ! -e "/sys/bus/pci/drivers/$mod/$edu" ]; then
		echo "$edu is not bound to $mod"
		return 1
	fi
	echo "$edu bound to $mod"
}

dma_works() {
	"$repo/tests/uapi/p2pbuf_dmabuf" --run edu-dma-vram-p2p
}

# subtest NAME: run p2pbuf_ti_remove's subtest NAME. Status 0 when it ran
# and passed, 77 when it skipped (the reason in $skipped), 1 when it failed.
skipped=
subtest() {
	local out rc=0

	out=$("$repo/tests/uapi/p2pbuf_ti_remove" --run "$1") || rc=1
	echo "$out"
	[ $rc = 0 ] || return 1
	if grep -q "^skip $1\b" <<< "$out"; then
		skipped=$(sed -n "s/^skip $1: //p" <<< "$out")
		return 77
	fi
	return 0
}

rc=0 ran=0
subtest unbind
case $? in
0) ran=$((ran + 1)) ;;
77) ;;
*) rc=1 ;;
esac
bind_edu
bound || exit 1
dma_works || rc=1

subtest remove
case $? in
0)
	ran=$((ran + 1))
	if [ -e "/sys/bus/pci/devices/$edu" ]; then
		echo "$edu is still there after its removal"
		rc=1
	fi ;;
77) ;;
*) rc=1 ;;
esac
if ! rmmod $mod; then
	echo "rmmod $mod failed once nothing held it"
	exit 1
fi
if ! insmod "$ko"; then
	echo "insmod $ko failed"
	exit 1
fi
echo 1 > /sys/bus/pci/rescan
bind_edu
bound || exit 1
dma_works || rc=1
if [ $rc = 0 ] && [ $ran = 0 ]; then
	echo "unbind and remove skipped: ${skipped:-no reason given}"
	exit 77
fi
exit $rc
