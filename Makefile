# SPDX-License-Identifier: GPL-2.0
#
# p2pbuf top-level Makefile.
#
#   make            build the kernel modules and libp2pbuf
#   make demo       boot the emulated machine and show what p2pbuf does
#   make check      build, check and run the tests on every test kernel
#                   (KERNEL=debug|distro|debian to pick; TOPO, TESTS)
#   make check-harness   prove that a kernel WARN in the guest fails a run
#   make bench      p2pbuf against its alternatives, side by side in one boot
#                   (TOPO="switch hostbridge blocked iommu" for every
#                   topology); make bench-report A=old.json B=new.json
#   make bench-floor     the NVMe importer's 4 KiB cost against its floor
#                   (an experiment: tests/bench/nvme-floor/run.sh)
#
# The modules build against KDIR. Without it, the cached p2pbuf test kernel
# is used (built on first use, see tests/kernel/build-kernel.sh); to build
# against your own P2P-enabled kernel: make KDIR=/lib/modules/$(uname -r)/build

KDIR ?=
kdir = $(if $(KDIR),$(KDIR),$$(tests/kernel/build-kernel.sh))

all: modules libp2pbuf

deps:
	tests/install-deps.sh

kernel: deps
	tests/kernel/build-kernel.sh $(if $(KERNEL),$(KERNEL),debug)

modules:
	$(MAKE) -C "$(kdir)" M=$(CURDIR) W=1 modules

libp2pbuf:
	$(MAKE) -C libp2pbuf

check:
	KERNEL="$(KERNEL)" TOPO="$(TOPO)" TESTS="$(TESTS)" KDIR="$(KDIR)" tests/check.sh

check-harness:
	TOPO="$(TOPO)" KDIR="$(KDIR)" tests/check-harness.sh

demo:
	TOPO="$(TOPO)" KDIR="$(KDIR)" tests/demo/run-demo.sh

bench:
	TOPO="$(TOPO)" KERNEL="$(KERNEL)" KDIR="$(KDIR)" tests/bench/run-bench.sh

bench-floor:
	KDIR="$(KDIR)" tests/bench/nvme-floor/run.sh

# Two results.json side by side: make bench-report A=old.json B=new.json
bench-report:
	@[ -n "$(A)" ] && [ -n "$(B)" ] || \
		{ echo "usage: make bench-report A=old.json B=new.json" >&2; exit 2; }
	tests/bench/report.py compare "$(A)" "$(B)"

clean:
	-[ -z "$(KDIR)" ] || $(MAKE) -C "$(KDIR)" M=$(CURDIR) clean
	find . -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \
		| grep -v '^./.out/' | xargs rm -f
	$(MAKE) -C libp2pbuf clean
	rm -rf .out

.PHONY: all deps kernel modules libp2pbuf check check-harness demo bench bench-floor bench-report clean
