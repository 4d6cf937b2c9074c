// SPDX-License-Identifier: MIT
/*
 * p2pgem_eviction: overcommit, eviction churn and moves while mapped,
 * VRAM-preferred fallback, contiguous buffers under pressure, many
 * processes, two devices. Every byte is verified after every churn.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pgem_test_lib.h"

#define MiB (1024ull * 1024)

struct bo {
	uint32_t handle;
	size_t size;
	void *map;
};

static int open_info(int *fd, struct drm_p2pgem_device_info *di)
{
	*fd = p2p_open(0);
	SKIP_UNLESS(*fd >= 0, "no p2pgem device");
	CHECK_RET(p2p_dev_info(*fd, di), 0);
	return 0;
}

static int verify_all(struct bo *bos, int n, int order, uint64_t seed0)
{
	int k;

	for (k = 0; k < n; k++) {
		int i = order == 0 ? k : order == 1 ? n - 1 - k :
			(int)((k * 7 + 3) % n);
		long off = check_pattern(bos[i].map, bos[i].size, seed0 + i);

		CHECK(off < 0, "bo %d (of %d) mismatch at %ld, pass %d", i, n,
		      off, order);
	}
	return 0;
}

/* At least 3x VRAM in VRAM-only buffers; TTM evicts and brings back. */
static int overcommit(void)
{
	struct drm_p2pgem_device_info di, after;
	struct drm_p2pgem_gem_info info;
	int fd, ret, i, n, in_vram = 0;
	struct bo *bos;
	size_t size;

	ret = open_info(&fd, &di);
	if (ret)
		return ret;
	size = di.visible_size / 8;
	if (size > 32 * MiB)
		size = 32 * MiB;
	size &= ~4095ull;
	n = (int)((3 * di.vram_size) / size) + 2;
	printf("# %d buffers of %zu KiB = %llu MiB over %llu MiB of VRAM\n", n,
	       size >> 10, (unsigned long long)(n * size / MiB),
	       (unsigned long long)(di.vram_size / MiB));
	bos = calloc(n, sizeof(*bos));
	CHECK(bos, "calloc");
	for (i = 0; i < n; i++) {
		bos[i].size = size;
		CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0,
				     &bos[i].handle), 0);
		bos[i].map = p2p_map(fd, bos[i].handle, size);
		CHECK(bos[i].map, "mmap %d: %s", i, strerror(errno));
		fill_pattern(bos[i].map, size, 1000 + i);
	}
	for (i = 0; i < 3; i++) {
		ret = verify_all(bos, n, i, 1000);
		if (ret)
			return ret;
	}
	for (i = 0; i < n; i++) {
		CHECK_RET(p2p_info(fd, bos[i].handle, &info), 0);
		in_vram += info.placement == P2PGEM_PLACEMENT_VRAM;
	}
	CHECK_RET(p2p_dev_info(fd, &after), 0);
	printf("# evictions %llu, moves %llu, %d of %d in VRAM at the end\n",
	       (unsigned long long)(after.evictions - di.evictions),
	       (unsigned long long)(after.moves - di.moves), in_vram, n);
	CHECK(after.evictions - di.evictions >= (uint64_t)n,
	      "only %llu evictions",
	      (unsigned long long)(after.evictions - di.evictions));
	CHECK(in_vram > 0 && in_vram < n, "%d of %d in VRAM", in_vram, n);
	close(fd);
	return 0;
}

/* A child maps and reads; the parent evicts; the child's fault restores. */
static int evict_while_mapped(void)
{
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	int fd, ret, i, to_child[2], to_parent[2], status;
	const size_t size = 4 * MiB;
	uint32_t handle;
	char c = 0;
	pid_t pid;
	void *p;

	ret = open_info(&fd, &di);
	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);
	p = p2p_map(fd, handle, size);
	CHECK(p, "mmap: %s", strerror(errno));
	fill_pattern(p, size, 77);
	CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe");

	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		/* The child's own mapping, through the inherited file. */
		void *q = p2p_map(fd, handle, size);

		if (!q || check_pattern(q, size, 77) >= 0)
			_exit(1);
		for (i = 0; i < 4; i++) {
			if (write(to_parent[1], "r", 1) != 1 ||
			    read(to_child[0], &c, 1) != 1)
				_exit(2);
			/* Evicted meanwhile: this faults it back. */
			if (check_pattern(q, size, 77 + i) >= 0)
				_exit(3);
			fill_pattern(q, size, 78 + i);
		}
		_exit(0);
	}
	for (i = 0; i < 4; i++) {
		CHECK(read(to_parent[0], &c, 1) == 1, "child died");
		CHECK_RET(p2p_evict(fd, handle), 0);
		CHECK_RET(p2p_info(fd, handle, &info), 0);
		CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM, "not evicted");
		CHECK(write(to_child[1], "g", 1) == 1, "write");
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child failed (status %#x)", status);
	/* The parent's mapping sees the child's last writes. */
	CHECK(check_pattern(p, size, 78 + 3) < 0, "parent sees stale data");
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.move_count >= 8, "move_count %llu",
	      (unsigned long long)info.move_count);
	close(fd);
	return 0;
}

/* With VRAM full, VRAM-preferred falls back to system memory. */
static int preferred_fallback(void)
{
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	const size_t chunk = 4 * MiB;
	uint32_t handle, pref, first = 0;
	int fd, ret, i, n;
	void *p;

	ret = open_info(&fd, &di);
	if (ret)
		return ret;
	n = (int)(di.vram_size / chunk);
	for (i = 0; i < n; i++) {
		CHECK_RET(p2p_create(fd, chunk, P2PGEM_PLACEMENT_VRAM, 0,
				     &handle), 0);
		if (!i)
			first = handle;
	}
	CHECK_RET(p2p_dev_info(fd, &di), 0);
	SKIP_UNLESS(di.vram_size - di.vram_used < chunk,
		    "VRAM did not fill (%llu bytes free)",
		    (unsigned long long)(di.vram_size - di.vram_used));
	CHECK_RET(p2p_create(fd, chunk, P2PGEM_PLACEMENT_VRAM_PREFERRED, 0,
			     &pref), 0);
	CHECK_RET(p2p_info(fd, pref, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM,
	      "preferred evicted others instead of falling back");
	p = p2p_map(fd, pref, chunk);
	CHECK(p, "mmap");
	fill_pattern(p, chunk, 5);

	/*
	 * Free space appears: the next fault takes it. Pages already mapped
	 * in system memory stay mapped, so map the buffer afresh.
	 */
	CHECK(munmap(p, chunk) == 0, "munmap");
	CHECK_RET(p2p_close_bo(fd, first), 0);
	for (i = 0; i < 250; i++) {
		CHECK_RET(p2p_dev_info(fd, &di), 0);
		if (di.vram_size - di.vram_used >= chunk)
			break;
		usleep(20000);
	}
	p = p2p_map(fd, pref, chunk);
	CHECK(p, "mmap again");
	CHECK(check_pattern(p, chunk, 5) < 0, "mismatch");
	CHECK_RET(p2p_info(fd, pref, &info), 0);
	if (chunk <= di.visible_size - di.visible_used)
		CHECK(info.placement == P2PGEM_PLACEMENT_VRAM,
		      "did not return to free VRAM");
	close(fd);
	return 0;
}

/* A contiguous buffer of half of VRAM evicts fragmented small ones. */
static int contiguous_under_pressure(void)
{
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	const size_t small = MiB;
	struct bo big, *bos;
	int fd, ret, i, n;

	ret = open_info(&fd, &di);
	if (ret)
		return ret;
	n = (int)(di.vram_size / small);
	bos = calloc(n, sizeof(*bos));
	CHECK(bos, "calloc");
	for (i = 0; i < n; i++) {
		bos[i].size = small;
		CHECK_RET(p2p_create(fd, small, P2PGEM_PLACEMENT_VRAM,
				     P2PGEM_CREATE_CPU_ACCESS * (i & 1),
				     &bos[i].handle), 0);
		bos[i].map = p2p_map(fd, bos[i].handle, small);
		CHECK(bos[i].map, "mmap");
		fill_pattern(bos[i].map, small, 300 + i);
	}
	/* Free every other one: fragmentation. */
	for (i = 0; i < n; i += 2) {
		munmap(bos[i].map, small);
		CHECK_RET(p2p_close_bo(fd, bos[i].handle), 0);
	}
	big.size = di.vram_size / 2;
	/* The largest power of two not above half of VRAM. */
	while (big.size & (big.size - 1))
		big.size &= big.size - 1;
	CHECK_RET(p2p_create(fd, big.size, P2PGEM_PLACEMENT_VRAM,
			     P2PGEM_CREATE_CONTIGUOUS, &big.handle), 0);
	CHECK_RET(p2p_info(fd, big.handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_VRAM, "not in VRAM");
	big.map = p2p_map(fd, big.handle, big.size);
	CHECK(big.map, "mmap big");
	fill_pattern(big.map, big.size, 299);
	for (i = 1; i < n; i += 2)
		CHECK(check_pattern(bos[i].map, small, 300 + i) < 0,
		      "small bo %d mismatch", i);
	CHECK(check_pattern(big.map, big.size, 299) < 0, "big mismatch");
	close(fd);
	return 0;
}

/* Processes allocate, fill, evict and verify at the same time. */
static int child_work(int id, uint64_t vram_size)
{
	static const uint32_t placements[] = {
		P2PGEM_PLACEMENT_VRAM, P2PGEM_PLACEMENT_VRAM_PREFERRED,
		P2PGEM_PLACEMENT_SYSTEM,
	};
	size_t size = vram_size / 16;
	struct bo bos[8];
	int fd, round, i;

	if (size > 8 * MiB)
		size = 8 * MiB;
	fd = p2p_open(0);
	if (fd < 0)
		return 10;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 8; i++) {
			bos[i].size = size - 4096 * i;
			if (p2p_create(fd, bos[i].size, placements[(id + i) % 3],
				       0, &bos[i].handle))
				return 11;
			bos[i].map = p2p_map(fd, bos[i].handle, bos[i].size);
			if (!bos[i].map)
				return 12;
			fill_pattern(bos[i].map, bos[i].size,
				     id * 1000 + round * 10 + i);
			if (i % 3 == 2 && p2p_evict(fd, bos[i - 1].handle))
				return 13;
		}
		for (i = 0; i < 8; i++) {
			if (check_pattern(bos[i].map, bos[i].size,
					  id * 1000 + round * 10 + i) >= 0)
				return 14;
			munmap(bos[i].map, bos[i].size);
			if (round != 1 && p2p_close_bo(fd, bos[i].handle))
				return 15;
		}
	}
	close(fd);	/* frees round 1's buffers */
	return 0;
}

static int concurrent(void)
{
	struct drm_p2pgem_device_info di;
	int fd, ret, i, status, failed = 0;
	pid_t pids[6];

	ret = open_info(&fd, &di);
	if (ret)
		return ret;
	for (i = 0; i < 6; i++) {
		pids[i] = fork();
		CHECK(pids[i] >= 0, "fork");
		if (!pids[i])
			_exit(child_work(i, di.vram_size));
	}
	for (i = 0; i < 6; i++) {
		CHECK(waitpid(pids[i], &status, 0) == pids[i], "waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# child %d: status %#x\n", i, status);
			failed++;
		}
	}
	CHECK(!failed, "%d of 6 children failed", failed);
	close(fd);
	return 0;
}

/* Two devices: independent heaps, same process. */
static int two_devices(void)
{
	struct drm_p2pgem_device_info a0, b0, a1, b1;
	const size_t size = 8 * MiB;
	uint32_t ha, hb;
	int fa, fb;
	void *pa, *pb;

	SKIP_UNLESS(p2p_count() >= 2, "%d p2pgem device(s)", p2p_count());
	fa = p2p_open(0);
	fb = p2p_open(1);
	CHECK(fa >= 0 && fb >= 0, "open");
	CHECK_RET(p2p_dev_info(fa, &a0), 0);
	CHECK_RET(p2p_dev_info(fb, &b0), 0);
	CHECK_RET(p2p_create(fa, size, P2PGEM_PLACEMENT_VRAM, 0, &ha), 0);
	CHECK_RET(p2p_create(fb, size, P2PGEM_PLACEMENT_VRAM, 0, &hb), 0);
	CHECK_RET(p2p_dev_info(fa, &a1), 0);
	CHECK_RET(p2p_dev_info(fb, &b1), 0);
	CHECK(a1.vram_used >= a0.vram_used + size, "device 0 did not grow");
	CHECK(b1.vram_used >= b0.vram_used + size, "device 1 did not grow");
	pa = p2p_map(fa, ha, size);
	pb = p2p_map(fb, hb, size);
	CHECK(pa && pb, "mmap");
	fill_pattern(pa, size, 1);
	fill_pattern(pb, size, 2);
	CHECK_RET(p2p_evict(fa, ha), 0);
	CHECK(check_pattern(pa, size, 1) < 0, "device 0 mismatch");
	CHECK(check_pattern(pb, size, 2) < 0, "device 1 mismatch");
	/* Handles are per file, and so per device. */
	CHECK(p2p_evict(fb, ha) == -ENOENT || ha == hb, "cross-device handle");
	close(fa);
	close(fb);
	return 0;
}

static const struct subtest tests[] = {
	{ "overcommit", overcommit },
	{ "evict-while-mapped", evict_while_mapped },
	{ "preferred-fallback", preferred_fallback },
	{ "contiguous-under-pressure", contiguous_under_pressure },
	{ "concurrent", concurrent },
	{ "two-devices", two_devices },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
