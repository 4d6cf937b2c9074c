# SPDX-License-Identifier: GPL-2.0
#
# The emulated machines. Sourced by run-vm.sh; defines topo_args TOPO, which
# sets the arrays QEMU_MACHINE (machine, CPU, IOMMU) and QEMU_DEVICES (the
# PCIe tree) and the string TOPO_CMDLINE (extra kernel parameters).
#
# Every topology has the same five devices:
#   two VRAM devices  ivshmem-plain, BAR 2 = 256 MiB RAM-backed memory
#   one NVMe          file-backed namespace, 64 MiB controller memory buffer
#   one edu           QEMU's DMA-capable test device, 64-bit DMA mask
#   one NIC           virtio-net on a restricted user-mode network (no
#                     traffic leaves the guest; soft-RoCE runs on it),
#                     without MSI-X (vectors=0): 6.1's virtnet_probe sets
#                     its queues' MSI-X affinity under cpus_read_lock, which
#                     lockdep reports as a possible deadlock at boot behind
#                     the vIOMMU's interrupt remapping (cpu_hotplug_lock ->
#                     msi_desc mutex)
# and differs only in where they sit and what the CPU/host bridge allows.
# The NIC came last, on a port of its own after the others (ds4 below the
# switch, rp4 on the root complex), so that the four older devices kept
# their bus numbers and addresses.

P2PBUF_TOPOLOGIES="switch hostbridge blocked iommu"

# _devices PARENT0 PARENT1 PARENT2 PARENT3 PARENT4: the five devices on
# five buses
_devices() {
	QEMU_DEVICES+=(
		-object memory-backend-ram,id=vram0,size=256M,share=on
		-object memory-backend-ram,id=vram1,size=256M,share=on
		-device ivshmem-plain,memdev=vram0,bus="$1",id=vram0dev
		-device ivshmem-plain,memdev=vram1,bus="$2",id=vram1dev
		-drive file="$NVME_IMAGE",if=none,id=nvm0,format=raw
		-device nvme,serial=p2pbuf0,drive=nvm0,cmb_size_mb=64,bus="$3"
		-device edu,dma_mask=0xffffffffffffffff,bus="$4"
		-netdev user,id=net0,restrict=on
		-device virtio-net-pci,netdev=net0,bus="$5",mac=52:54:00:77:00:01,romfile=,vectors=0
	)
}

_root_ports() {
	local i
	for i in 0 1 2 3 4; do
		QEMU_DEVICES+=(-device pcie-root-port,id=rp$i,chassis=$((i + 1)),slot=$((i + 1)),bus=pcie.0)
	done
	_devices rp0 rp1 rp2 rp3 rp4
}

topo_args() {
	QEMU_MACHINE=()
	QEMU_DEVICES=()
	TOPO_CMDLINE=""
	case "$1" in
	switch)
		# one PCIe switch: peers reach each other by PCI bus address
		QEMU_MACHINE=(-machine q35 -cpu max)
		QEMU_DEVICES=(
			-device pcie-root-port,id=rp0,chassis=1,slot=1,bus=pcie.0
			-device x3130-upstream,id=up0,bus=rp0
		)
		local i
		for i in 0 1 2 3 4; do
			QEMU_DEVICES+=(-device xio3130-downstream,id=ds$i,bus=up0,chassis=$((i + 2)),slot=$i)
		done
		_devices ds0 ds1 ds2 ds3 ds4
		;;
	hostbridge)
		# separate root ports, AMD Zen host bridge: P2P through the host bridge
		QEMU_MACHINE=(-machine q35 -cpu EPYC)
		_root_ports
		;;
	blocked)
		# separate root ports, Intel host bridge not on the whitelist: no P2P
		QEMU_MACHINE=(-machine q35 -cpu Skylake-Server)
		_root_ports
		;;
	iommu)
		# as hostbridge, with a translating vIOMMU: P2P by IOVA
		QEMU_MACHINE=(-machine q35,kernel-irqchip=split -cpu EPYC
			      -device intel-iommu,intremap=on)
		TOPO_CMDLINE="intel_iommu=on iommu=nopt"
		_root_ports
		;;
	*)
		echo "unknown topology '$1' (known: $P2PBUF_TOPOLOGIES)" >&2
		return 1
		;;
	esac
}
