#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages p2pbuf needs to build and test, if missing.
# Idempotent: packages already present are not touched.
set -euo pipefail

packages=(
	# the test kernel
	linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev
	dwarves kmod cpio xz-utils perl patch
	# Debian's own kernel (KERNEL=debian): the headers its modules build
	# against; the image itself is only downloaded, never installed
	# (tests/kernel/debian-kernel.sh)
	linux-headers-amd64
	# kernel code checks
	sparse
	# the Vulkan tests' Debian trixie root (tests/vulkan/build-root.sh)
	debootstrap debian-archive-keyring
	# the emulated machine
	qemu-system-x86
	# userspace
	pkg-config libdrm-dev zlib1g-dev valgrind liburing-dev
	# libp2pbuf's make check: Debian's build flags (dpkg-buildflags), the
	# i386 build (gcc -m32; no foreign architecture needed) and C++
	dpkg-dev gcc-multilib g++
	# its man pages: made by a python3 script, checked with man(1)
	python3 man-db
	# clients that run in the guest
	rdma-core ibverbs-utils ibverbs-providers libibverbs-dev iproute2
	rdmacm-utils librdmacm-dev
	nvme-cli fio pciutils jq dmsetup
	# make bench: the plots
	gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root)" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q "${missing[@]}" >&2
