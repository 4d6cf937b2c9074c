// SPDX-License-Identifier: MIT
/*
 * p2pgem_basic: create, map, write, read and close buffer objects in every
 * placement; buffer info, device info, wait, forced eviction.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "p2pgem_test_lib.h"

#define MiB (1024ull * 1024)

static int open_dev(int *fd)
{
	*fd = p2p_open(0);
	SKIP_UNLESS(*fd >= 0, "no p2pgem device");
	return 0;
}

static int device_info(void)
{
	struct drm_p2pgem_device_info di;
	int fd, ret;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK_RET(p2p_dev_info(fd, &di), 0);
	CHECK(di.vram_size >= MiB, "vram_size %llu", (unsigned long long)di.vram_size);
	CHECK(di.visible_size && di.visible_size <= di.vram_size,
	      "visible_size %llu", (unsigned long long)di.visible_size);
	CHECK(di.vram_used <= di.vram_size, "vram_used %llu",
	      (unsigned long long)di.vram_used);
	CHECK(di.visible_used <= di.visible_size, "visible_used");
	printf("# vram %llu MiB, visible %llu MiB, used %llu KiB, evictions %llu\n",
	       (unsigned long long)(di.vram_size / MiB),
	       (unsigned long long)(di.visible_size / MiB),
	       (unsigned long long)(di.vram_used / 1024),
	       (unsigned long long)di.evictions);
	return 0;
}

/* Create, check zero, write, read back, check placement, close. */
static int create_rw(uint32_t placement, uint32_t flags, uint32_t want)
{
	const size_t size = 2 * MiB + 4096;
	struct drm_p2pgem_gem_info info;
	uint32_t handle;
	long off;
	void *p;
	int fd, ret;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, size, placement, flags, &handle), 0);
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.size == size, "size %llu", (unsigned long long)info.size);
	CHECK(info.requested_placement == placement, "requested_placement %u",
	      info.requested_placement);
	CHECK(info.create_flags == flags, "create_flags %x", info.create_flags);
	CHECK(info.pin_count == 0 && info.attachments == 0, "pins/attachments");
	CHECK(info.move_count == 0, "move_count %llu at creation",
	      (unsigned long long)info.move_count);
	CHECK(info.placement == want, "placement %u, want %u", info.placement,
	      want);
	if (flags & P2PGEM_CREATE_CPU_ACCESS)
		CHECK(info.cpu_visible, "CPU_ACCESS buffer not in the window");

	p = p2p_map(fd, handle, size);
	CHECK(p, "mmap: %s", strerror(errno));
	off = check_zero(p, size);
	CHECK(off < 0, "new buffer not zero at %ld", off);
	fill_pattern(p, size, handle);
	off = check_pattern(p, size, handle);
	CHECK(off < 0, "mismatch at %ld", off);

	CHECK_RET(p2p_info(fd, handle, &info), 0);
	if (info.placement == P2PGEM_PLACEMENT_VRAM)
		CHECK(info.cpu_visible, "mapped VRAM outside the visible window");
	CHECK(munmap(p, size) == 0, "munmap");

	/* A second mapping sees the same data. */
	p = p2p_map(fd, handle, size);
	CHECK(p, "mmap again: %s", strerror(errno));
	off = check_pattern(p, size, handle);
	CHECK(off < 0, "second mapping mismatch at %ld", off);
	munmap(p, size);
	CHECK_RET(p2p_close_bo(fd, handle), 0);
	close(fd);
	return 0;
}

static int create_vram(void)
{
	return create_rw(P2PGEM_PLACEMENT_VRAM, 0, P2PGEM_PLACEMENT_VRAM);
}

static int create_system(void)
{
	return create_rw(P2PGEM_PLACEMENT_SYSTEM, 0, P2PGEM_PLACEMENT_SYSTEM);
}

static int create_vram_preferred(void)
{
	return create_rw(P2PGEM_PLACEMENT_VRAM_PREFERRED, 0,
			 P2PGEM_PLACEMENT_VRAM);
}

static int create_vram_contiguous(void)
{
	return create_rw(P2PGEM_PLACEMENT_VRAM, P2PGEM_CREATE_CONTIGUOUS,
			 P2PGEM_PLACEMENT_VRAM);
}

static int create_vram_cpu_access(void)
{
	return create_rw(P2PGEM_PLACEMENT_VRAM, P2PGEM_CREATE_CPU_ACCESS,
			 P2PGEM_PLACEMENT_VRAM);
}

static int create_preferred_contiguous_cpu(void)
{
	return create_rw(P2PGEM_PLACEMENT_VRAM_PREFERRED,
			 P2PGEM_CREATE_CONTIGUOUS | P2PGEM_CREATE_CPU_ACCESS,
			 P2PGEM_PLACEMENT_VRAM);
}

/* Outside the window until the CPU touches it; the fault moves it in. */
static int visible_window(void)
{
	struct drm_p2pgem_device_info di;
	struct drm_p2pgem_gem_info info;
	const size_t size = MiB;
	uint32_t handle;
	long off;
	void *p;
	int fd, ret;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK_RET(p2p_dev_info(fd, &di), 0);
	SKIP_UNLESS(di.visible_size < di.vram_size,
		    "the whole VRAM is CPU-visible (visible_mb not set)");
	SKIP_UNLESS(di.vram_size - di.vram_used > di.vram_size - di.visible_size,
		    "VRAM is in use");
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_VRAM, "not in VRAM");
	CHECK(!info.cpu_visible, "placed in the visible window, want top-down");

	p = p2p_map(fd, handle, size);
	CHECK(p, "mmap: %s", strerror(errno));
	fill_pattern(p, size, 7);
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_VRAM && info.cpu_visible,
	      "after the fault: placement %u visible %u", info.placement,
	      info.cpu_visible);
	CHECK(info.move_count == 1, "move_count %llu, want 1",
	      (unsigned long long)info.move_count);
	off = check_pattern(p, size, 7);
	CHECK(off < 0, "mismatch at %ld", off);
	munmap(p, size);
	close(fd);
	return 0;
}

static int evict_fault_back(void)
{
	struct drm_p2pgem_device_info before, after;
	struct drm_p2pgem_gem_info info;
	const size_t size = 4 * MiB;
	uint32_t handle;
	long off;
	void *p;
	int fd, ret;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM,
			     P2PGEM_CREATE_CPU_ACCESS, &handle), 0);
	p = p2p_map(fd, handle, size);
	CHECK(p, "mmap: %s", strerror(errno));
	fill_pattern(p, size, 42);

	CHECK_RET(p2p_dev_info(fd, &before), 0);
	CHECK_RET(p2p_evict(fd, handle), 0);
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM, "not evicted");
	CHECK(info.move_count == 1, "move_count %llu",
	      (unsigned long long)info.move_count);
	CHECK_RET(p2p_dev_info(fd, &after), 0);
	CHECK(after.evictions == before.evictions + 1 ||
	      after.evictions > before.evictions, "evictions did not grow");
	/* Evicting again is a no-op. */
	CHECK_RET(p2p_evict(fd, handle), 0);
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.move_count == 1, "second evict moved");

	off = check_pattern(p, size, 42);
	CHECK(off < 0, "mismatch after eviction at %ld", off);
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_VRAM,
	      "the fault did not bring it back to VRAM");
	CHECK(info.move_count == 2, "move_count %llu, want 2",
	      (unsigned long long)info.move_count);
	munmap(p, size);
	close(fd);
	return 0;
}

static int system_never_moves(void)
{
	struct drm_p2pgem_gem_info info;
	const size_t size = MiB;
	uint32_t handle;
	void *p;
	int fd, ret;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_SYSTEM, 0, &handle), 0);
	p = p2p_map(fd, handle, size);
	CHECK(p, "mmap: %s", strerror(errno));
	fill_pattern(p, size, 3);
	CHECK_RET(p2p_evict(fd, handle), 0);
	CHECK(check_pattern(p, size, 3) < 0, "mismatch");
	CHECK_RET(p2p_info(fd, handle, &info), 0);
	CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM && !info.move_count,
	      "placement %u moves %llu", info.placement,
	      (unsigned long long)info.move_count);
	close(fd);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Idle after creation's clear completes; busy while a move is queued. */
static int wait_idle(void)
{
	const size_t size = 16 * MiB;
	struct drm_p2pgem_gem_info info;
	int fd, ret, busy = 0, i;
	uint32_t handle;
	int64_t t0;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);
	CHECK_RET(p2p_wait(fd, handle, 10000000000ll), 0);
	CHECK_RET(p2p_wait(fd, handle, 0), 0);

	for (i = 0; i < 4; i++) {
		/* Evict and return: each queues a 16 MiB copy. */
		CHECK_RET(p2p_evict(fd, handle), 0);
		ret = p2p_wait(fd, handle, 0);
		CHECK(ret == 0 || ret == -EBUSY, "poll: %d", ret);
		busy += ret == -EBUSY;
		ret = p2p_wait(fd, handle, 1);
		CHECK(ret == 0 || ret == -ETIME, "1 ns wait: %d", ret);
		t0 = now_ns();
		CHECK_RET(p2p_wait(fd, handle, 30000000000ll), 0);
		CHECK(now_ns() - t0 < 30000000000ll, "wait took too long");
		CHECK_RET(p2p_wait(fd, handle, 0), 0);
		CHECK_RET(p2p_info(fd, handle, &info), 0);
		CHECK(info.placement == P2PGEM_PLACEMENT_SYSTEM, "not evicted");
		/* Bring it back through a mapping. */
		{
			void *p = p2p_map(fd, handle, size);

			CHECK(p, "mmap: %s", strerror(errno));
			CHECK(check_zero(p, size) < 0, "not zero");
			munmap(p, size);
		}
	}
	printf("# busy right after %d of 4 evictions\n", busy);
	close(fd);
	return 0;
}

/* Closing the file frees every buffer object it held. */
static int close_frees(void)
{
	struct drm_p2pgem_device_info before, after;
	const size_t size = 2 * MiB;
	int fd, fd2, ret, i;
	uint32_t handle;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK_RET(p2p_dev_info(fd, &before), 0);
	fd2 = p2p_open(0);
	CHECK(fd2 >= 0, "second open");
	for (i = 0; i < 8; i++) {
		CHECK_RET(p2p_create(fd2, size, P2PGEM_PLACEMENT_VRAM_PREFERRED,
				     0, &handle), 0);
		if (i & 1) {
			void *p = p2p_map(fd2, handle, size);

			CHECK(p, "mmap");
			fill_pattern(p, size, i);
			munmap(p, size);
		}
	}
	CHECK_RET(p2p_dev_info(fd, &after), 0);
	CHECK(after.vram_used > before.vram_used, "nothing allocated?");
	close(fd2);
	/* Destruction waits for the buffers' last moves: poll a while. */
	for (i = 0; i < 100; i++) {
		CHECK_RET(p2p_dev_info(fd, &after), 0);
		if (after.vram_used <= before.vram_used)
			break;
		usleep(50000);
	}
	CHECK(after.vram_used <= before.vram_used,
	      "vram_used %llu after close, was %llu",
	      (unsigned long long)after.vram_used,
	      (unsigned long long)before.vram_used);
	close(fd);
	return 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/* debugfs lists the buffer object with its placement and moves. */
static int debugfs(void)
{
	static char buf[1 << 20];
	const size_t size = 5 * 4096 + 17;
	char path[128], want[128];
	struct stat st;
	uint32_t handle;
	int fd, ret;

	ret = open_dev(&fd);
	if (ret)
		return ret;
	CHECK(fstat(fd, &st) == 0, "fstat");
	snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%u/p2pgem_vram",
		 minor(st.st_rdev));
	ret = read_file(path, buf, sizeof(buf));
	SKIP_UNLESS(ret == 0, "%s: %s", path, strerror(-ret));
	CHECK(strstr(buf, "chunk_size") && strstr(buf, "visible_size"),
	      "p2pgem_vram lacks the buddy state: %.200s", buf);

	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);
	CHECK_RET(p2p_evict(fd, handle), 0);
	snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%u/p2pgem_bos",
		 minor(st.st_rdev));
	CHECK_RET(read_file(path, buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), " %u vram 0x0 system 1 0\n", 6 * 4096);
	CHECK(strstr(buf, want), "no line with '%s' in:\n%.300s", want, buf);
	close(fd);
	return 0;
}

static const struct subtest tests[] = {
	{ "device-info", device_info },
	{ "create-vram", create_vram },
	{ "create-system", create_system },
	{ "create-vram-preferred", create_vram_preferred },
	{ "create-vram-contiguous", create_vram_contiguous },
	{ "create-vram-cpu-access", create_vram_cpu_access },
	{ "create-preferred-contiguous-cpu", create_preferred_contiguous_cpu },
	{ "visible-window", visible_window },
	{ "evict-fault-back", evict_fault_back },
	{ "system-never-moves", system_never_moves },
	{ "wait-idle", wait_idle },
	{ "close-frees", close_frees },
	{ "debugfs", debugfs },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
