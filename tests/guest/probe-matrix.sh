#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's P2P verdict for every provider/client pair of the test devices
# (two VRAM BARs, the NVMe CMB, the edu device) is what the topology models:
#   switch      bus-address, inside the provider's BAR
#   hostbridge  host-bridge, the CPU physical address inside the BAR
#   blocked     none, because the host bridge is not whitelisted
#   iommu       iommu, an IOVA outside the BAR
# A kernel built without CONFIG_PCI_P2PDMA has no P2P memory: no device can
# register any, so the probe must list the same devices, none of them a
# provider, and no pair (it gives no reason of its own; p2pbuf explain
# gives kernel-without-pci-p2pdma, checked by libp2pbuf-cli).
# Scope: every topology (its outcome depends on the PCI topology).
set -euo pipefail
# shellcheck source=lib/kconfig
. "$P2PBUF_REPO/tests/guest/lib/kconfig"

case "$P2PBUF_TOPO" in
switch) want=bus-address ;;
hostbridge) want=host-bridge ;;
blocked) want=none ;;
iommu) want=iommu ;;
*) echo "unknown topology $P2PBUF_TOPO"; exit 1 ;;
esac

p2pbuf topology >&2
json=$(p2pbuf topology --json)

# The devices under test, by kind.
ids() { jq -r --arg k "$1" '.devices[] | select(.kind == $k) | .device' <<< "$json"; }
mapfile -t vram < <(ids vram)
mapfile -t nvme < <(ids nvme)
mapfile -t edu < <(ids edu)
[ ${#vram[@]} = 2 ] || { echo "expected 2 VRAM devices, found ${#vram[@]}"; exit 1; }
[ ${#nvme[@]} = 1 ] || { echo "expected 1 NVMe controller, found ${#nvme[@]}"; exit 1; }
[ ${#edu[@]} = 1 ] || { echo "expected 1 edu device, found ${#edu[@]}"; exit 1; }

providers=("${vram[@]}" "${nvme[@]}")
clients=("${vram[@]}" "${nvme[@]}" "${edu[@]}")

if ! kconfig_on PCI_P2PDMA; then
	fail=0
	got=$(jq -c '{providers: [.devices[] | select(.provider) | .device], pairs: (.pairs | length)}' <<< "$json")
	if [ "$got" != '{"providers":[],"pairs":0}' ]; then
		echo "FAIL: kernel without CONFIG_PCI_P2PDMA, yet the probe reports $got"
		fail=1
	fi
	text=$(p2pbuf topology)
	if ! grep -q "^no PCI peer-to-peer providers found$" <<< "$text"; then
		echo "FAIL: p2pbuf topology does not say that there is no provider: $text"
		fail=1
	fi
	[ $fail = 1 ] || echo "ok: kernel without CONFIG_PCI_P2PDMA: the ${#clients[@]} test devices listed, no provider, no pair"
	exit $fail
fi

# BAR bounds of a provider's P2P memory, from sysfs (CPU physical addresses,
# equal to bus addresses on x86's q35): BAR 2 for VRAM, the CMB BAR for NVMe.
in_provider_bars() {
	local dev=$1 addr=$2 start end flags
	while read -r start end flags; do
		(( start != 0 )) || continue
		if (( addr >= start && addr <= end )); then
			return 0
		fi
	done < "/sys/bus/pci/devices/$dev/resource"
	return 1
}

fail=0 checked=0
for p in "${providers[@]}"; do
	provider=$(jq -r --arg p "$p" '.devices[] | select(.device == $p) | .provider' <<< "$json")
	if [ "$provider" != true ]; then
		echo "FAIL: $p is not a P2P provider"
		fail=1
		continue
	fi
	for c in "${clients[@]}"; do
		[ "$p" != "$c" ] || continue
		read -r map dma reason < <(jq -r --arg p "$p" --arg c "$c" \
			'.pairs[] | select(.provider == $p and .client == $c) | "\(.map) \(.dma) \(.reason)"' <<< "$json")
		checked=$((checked + 1))
		if [ "${map:-}" != "$want" ]; then
			echo "FAIL: $p -> $c: map ${map:-missing}, expected $want (reason ${reason:-})"
			fail=1
			continue
		fi
		case "$want" in
		bus-address|host-bridge)
			if ! in_provider_bars "$p" "$dma"; then
				printf 'FAIL: %s -> %s: dma 0x%x outside the provider BARs\n' "$p" "$c" "$dma"
				fail=1
			fi ;;
		iommu)
			if in_provider_bars "$p" "$dma"; then
				printf 'FAIL: %s -> %s: dma 0x%x is the BAR address, not an IOVA\n' "$p" "$c" "$dma"
				fail=1
			fi ;;
		none)
			if [ "$reason" != host-bridge-not-whitelisted ]; then
				echo "FAIL: $p -> $c: reason $reason, expected host-bridge-not-whitelisted"
				fail=1
			fi ;;
		esac
		echo "ok: $p -> $c: $map ($reason)"
	done
done

[ $checked = 9 ] || { echo "FAIL: checked $checked pairs, expected 9"; fail=1; }
exit $fail
