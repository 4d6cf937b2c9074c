// SPDX-License-Identifier: MIT
/*
 * p2pgem_defects: the defects of issue 10, each as a subtest that failed
 * before its fix.
 *
 * - zap-only-moved: moving one exported buffer object zaps its CPU
 *   mappings (of the DRM file and of the dma-buf) and no other buffer
 *   object's: no refaults elsewhere (getrusage's ru_minflt), and the moved
 *   one's dma-buf mapping sees its data afterwards;
 *
 * The test-only module tests/oddexp/p2pbuf_oddexp.ko exports odd and P2P
 * dma-bufs and holds vmaps; tests/importer/p2pbuf_test_importer.ko
 * attaches and maps for PCI functions.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pbuf_ti_lib.h"
#include "../oddexp/p2pbuf_oddexp.h"

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Read every page; returns a sum so that the reads happen. */
static uint64_t touch(const volatile uint8_t *p, size_t size)
{
	uint64_t sum = 0;

	for (size_t off = 0; off < size; off += 4096)
		sum += p[off];
	return sum;
}

/* ---- defect 2: a move zaps only the moved buffer object's mappings ---- */

static int zap_only_moved(void)
{
	const size_t size = 2 * MiB;
	struct drm_p2pgem_gem_info info;
	uint8_t *a_dmabuf, *b_dmabuf;
	volatile uint64_t sink = 0;
	struct bo a, b;
	long before, faults;
	int ret;

	ret = bo_new(&a, size, P2PGEM_PLACEMENT_VRAM, 0);
	if (ret)
		return ret;
	CHECK_RET(bo_new(&b, size, P2PGEM_PLACEMENT_VRAM, 0), 0);
	a_dmabuf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			a.dmabuf, 0);
	b_dmabuf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			b.dmabuf, 0);
	CHECK(a_dmabuf != MAP_FAILED && b_dmabuf != MAP_FAILED,
	      "mmap of the dma-bufs: %s", strerror(errno));

	/* Every page of all four mappings mapped, both buffers in VRAM. */
	fill_pattern(a.cpu, size, 1);
	fill_pattern(b.cpu, size, 2);
	CHECK(check_pattern(a_dmabuf, size, 1) == -1, "A's dma-buf mapping");
	CHECK(check_pattern(b_dmabuf, size, 2) == -1, "B's dma-buf mapping");
	CHECK(bo_placement(&a) == P2PGEM_PLACEMENT_VRAM &&
	      bo_placement(&b) == P2PGEM_PLACEMENT_VRAM, "not in VRAM");
	before = minflt();
	sink += touch(b.cpu, size) + touch(b_dmabuf, size);
	faults = minflt() - before;
	CHECK(faults < 8, "%ld faults touching mapped pages", faults);

	/* Move A only: B's mappings stay. */
	CHECK_RET(p2p_evict(a.fd, a.handle), 0);
	CHECK_RET(p2p_info(a.fd, a.handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM, "A not evicted");
	before = minflt();
	sink += touch(b.cpu, size) + touch(b_dmabuf, size);
	faults = minflt() - before;
	printf("# %ld faults touching B's %zu pages twice after A moved\n",
	       faults, size / 4096);
	CHECK(faults < 8, "moving A made B refault: %ld faults", faults);
	CHECK(bo_placement(&b) == P2PGEM_PLACEMENT_VRAM, "B moved");

	/* A's dma-buf mapping was zapped: it writes A's memory now. */
	fill_pattern(a_dmabuf, size, 3);
	CHECK(check_pattern(a.cpu, size, 3) == -1,
	      "A's DRM mapping misses what A's dma-buf mapping wrote");
	CHECK(check_pattern(a_dmabuf, size, 3) == -1,
	      "A's dma-buf mapping reads other bytes");
	CHECK(check_pattern(b_dmabuf, size, 2) == -1, "B changed");
	munmap(a_dmabuf, size);
	munmap(b_dmabuf, size);
	bo_free(&a);
	bo_free(&b);
	return 0;
}

static const struct subtest tests[] = {
	{ "zap-only-moved", zap_only_moved },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
