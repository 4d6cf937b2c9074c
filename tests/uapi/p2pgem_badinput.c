// SPDX-License-Identifier: MIT
/*
 * p2pgem_badinput: every field of every ioctl with bad values gets a
 * precise errno (and nothing in dmesg, which the harness checks).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "p2pgem_test_lib.h"

#define MiB (1024ull * 1024)
#define BAD_HANDLE 0x7fffffffu

static int fd;
static struct drm_p2pgem_device_info di;

static int setup(void)
{
	fd = p2p_open(0);
	SKIP_UNLESS(fd >= 0, "no p2pgem device");
	CHECK_RET(p2p_dev_info(fd, &di), 0);
	return 0;
}

static int create_args(struct drm_p2pgem_gem_create *args)
{
	return p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_CREATE, args);
}

static int create_bad(void)
{
	struct drm_p2pgem_gem_create a;
	int ret = setup();

	if (ret)
		return ret;
#define BASE (struct drm_p2pgem_gem_create){ .size = 4096, \
		.placement = P2PGEM_PLACEMENT_VRAM }
	a = BASE; a.size = 0;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.placement = 0;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.placement = 4;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.placement = 0xffffffff;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.flags = 1u << 2;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.flags = 0x80000000u;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.placement = P2PGEM_PLACEMENT_SYSTEM;
	a.flags = P2PGEM_CREATE_CONTIGUOUS;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.placement = P2PGEM_PLACEMENT_SYSTEM;
	a.flags = P2PGEM_CREATE_CPU_ACCESS;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.pad = 1;
	CHECK_RET(create_args(&a), -EINVAL);
	a = BASE; a.handle = 5;	/* output only: ignored */
	CHECK_RET(create_args(&a), 0);
	CHECK_RET(p2p_close_bo(fd, a.handle), 0);
#undef BASE
	return 0;
}

static int create_huge(void)
{
	static const uint64_t sizes[] = {
		UINT64_MAX, UINT64_MAX - 4095, UINT64_MAX - 4096 + 2,
		1ull << 63, 1ull << 62, 1ull << 44, 1ull << 40,
	};
	static const uint32_t placements[] = {
		P2PGEM_PLACEMENT_VRAM, P2PGEM_PLACEMENT_SYSTEM,
		P2PGEM_PLACEMENT_VRAM_PREFERRED,
	};
	unsigned int i, j;
	int ret = setup();

	if (ret)
		return ret;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < 3; j++)
			CHECK_RET(p2p_create(fd, sizes[i], placements[j], 0,
					     NULL), -E2BIG);
	/* More than VRAM, VRAM only; contiguous above the largest block. */
	CHECK_RET(p2p_create(fd, di.vram_size + 4096, P2PGEM_PLACEMENT_VRAM,
			     0, NULL), -E2BIG);
	CHECK_RET(p2p_create(fd, di.vram_size * 2, P2PGEM_PLACEMENT_VRAM,
			     P2PGEM_CREATE_CONTIGUOUS, NULL), -E2BIG);
	CHECK_RET(p2p_create(fd, di.visible_size + 4096, P2PGEM_PLACEMENT_VRAM,
			     P2PGEM_CREATE_CPU_ACCESS, NULL), -E2BIG);
	return 0;
}

static int bad_handles(void)
{
	struct drm_p2pgem_gem_mmap_offset mo = { .handle = BAD_HANDLE };
	struct drm_p2pgem_gem_info info;
	uint32_t handle;
	int fd2, ret = setup();

	if (ret)
		return ret;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &mo), -ENOENT);
	mo.handle = 0;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &mo), -ENOENT);
	CHECK_RET(p2p_info(fd, BAD_HANDLE, &info), -ENOENT);
	CHECK_RET(p2p_info(fd, 0, &info), -ENOENT);
	CHECK_RET(p2p_wait(fd, BAD_HANDLE, 0), -ENOENT);
	CHECK_RET(p2p_evict(fd, BAD_HANDLE), -ENOENT);

	/* A closed handle, and another file's handle. */
	CHECK_RET(p2p_create(fd, 4096, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);
	fd2 = p2p_open(0);
	CHECK(fd2 >= 0, "second open");
	CHECK_RET(p2p_info(fd2, handle, &info), -ENOENT);
	CHECK_RET(p2p_evict(fd2, handle), -ENOENT);
	CHECK_RET(p2p_close_bo(fd, handle), 0);
	CHECK_RET(p2p_info(fd, handle, &info), -ENOENT);
	CHECK_RET(p2p_wait(fd, handle, 0), -ENOENT);
	CHECK_RET(p2p_close_bo(fd, handle), -EINVAL);
	close(fd2);
	return 0;
}

static int bad_flags_pad(void)
{
	struct drm_p2pgem_gem_mmap_offset mo = { 0 };
	struct drm_p2pgem_device_info dinfo;
	struct drm_p2pgem_gem_evict ev = { 0 };
	struct drm_p2pgem_gem_wait w = { 0 };
	struct drm_p2pgem_gem_info info;
	uint32_t handle;
	int ret = setup();

	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, 4096, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);

	mo.handle = handle;
	mo.flags = 1;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &mo), -EINVAL);
	mo.flags = 0x80000000u;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &mo), -EINVAL);

	memset(&info, 0, sizeof(info));
	info.handle = handle;
	info.flags = 1;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_INFO, &info), -EINVAL);

	w.handle = handle;
	w.flags = 1;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_WAIT, &w), -EINVAL);
	w.flags = 0;
	w.timeout_ns = -1;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_WAIT, &w), -EINVAL);
	w.timeout_ns = INT64_MIN;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_WAIT, &w), -EINVAL);
	w.timeout_ns = INT64_MAX;	/* effectively forever: idle now */
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_WAIT, &w), 0);

	memset(&dinfo, 0, sizeof(dinfo));
	dinfo.flags = 1;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_DEVICE_INFO, &dinfo), -EINVAL);
	memset(&dinfo, 0, sizeof(dinfo));
	dinfo.pad = 1;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_DEVICE_INFO, &dinfo), -EINVAL);

	ev.handle = handle;
	ev.flags = 1;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_EVICT, &ev), -EINVAL);
	return 0;
}

/* The P2P query by dma-buf descriptor: only the exporting device answers. */
static int bad_p2p_query_fd(uint32_t handle)
{
	struct drm_p2pgem_gem_p2p_query q;
	int dmabuf, memfd, ub, vfd, other = -1;
	uint32_t vh;
	void *cpu;

	CHECK(!drmPrimeHandleToFD(fd, handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf),
	      "export");
	memfd = -1;
	ub = udmabuf_new(64 * 1024, &memfd);
	CHECK(ub >= 0, "udmabuf");
#define QUERY_FD(value, want) do {					\
	memset(&q, 0, sizeof(q));					\
	q.flags = P2PGEM_P2P_QUERY_DMABUF_FD;				\
	q.handle = (uint32_t)(value);					\
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q), want); \
} while (0)
	QUERY_FD(dmabuf, 0);
	CHECK(q.reason != P2PGEM_P2P_SYSTEM_PLACEMENT, "a VRAM buffer");
	QUERY_FD(-1, -EBADF);
	QUERY_FD(0x7ffffff0, -EBADF);
	QUERY_FD(0x80000000u, -EBADF);
	QUERY_FD(memfd, -EINVAL);
	QUERY_FD(ub, -ENOENT);
	vfd = vgem_open();
	if (vfd >= 0) {
		int vbuf;

		CHECK_RET(vgem_create(vfd, 4096, &vh, &cpu), 0);
		munmap(cpu, 4096);
		CHECK(!drmPrimeHandleToFD(vfd, vh, DRM_CLOEXEC, &vbuf), "vgem export");
		QUERY_FD(vbuf, -ENOENT);
		close(vbuf);
		close(vfd);
	}
	/* Another p2pgem device does not answer for this one's buffer. */
	if (p2p_count() > 1) {
		other = p2p_open(1);
		CHECK(other >= 0, "second p2pgem device");
		memset(&q, 0, sizeof(q));
		q.flags = P2PGEM_P2P_QUERY_DMABUF_FD;
		q.handle = (uint32_t)dmabuf;
		CHECK_RET(p2p_ioctl(other, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q),
			  -ENOENT);
		close(other);
	}
#undef QUERY_FD
	close(ub);
	close(memfd);
	close(dmabuf);
	return 0;
}

/* The P2P query: flags, pad, bus and devfn ranges, handles, devices. */
static int bad_p2p_query(void)
{
	struct drm_p2pgem_gem_p2p_query q;
	uint32_t handle;
	int ret = setup();

	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, 4096, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);
#define QUERY(field, value, want) do {					\
	memset(&q, 0, sizeof(q));					\
	q.handle = handle;						\
	q.field = value;						\
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q), want); \
} while (0)
	QUERY(flags, 2, -EINVAL);
	QUERY(flags, 0x80000000u, -EINVAL);
	QUERY(pad, 1, -EINVAL);
	QUERY(bus, 256, -EINVAL);
	QUERY(devfn, 256, -EINVAL);
	QUERY(handle, BAD_HANDLE, -ENOENT);
	QUERY(domain, 0x7777, -ENODEV);
	QUERY(bus, 0xfe, -ENODEV);
	/* 0000:00:00.0, the host bridge, exists: an answer, not an error. */
	QUERY(devfn, 0, 0);
#undef QUERY
	return bad_p2p_query_fd(handle);
}

/* The copy ioctl: every field; and import handles elsewhere. */
static int bad_copy(void)
{
	struct drm_p2pgem_gem_copy c;
	struct drm_p2pgem_gem_mmap_offset mo = { 0 };
	struct drm_p2pgem_gem_p2p_query q = { 0 };
	struct drm_p2pgem_gem_info info;
	uint32_t a, b, imp;
	int ub, memfd, ret = setup();

	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, 64 * 1024, P2PGEM_PLACEMENT_VRAM, 0, &a), 0);
	CHECK_RET(p2p_create(fd, 64 * 1024, P2PGEM_PLACEMENT_SYSTEM, 0, &b), 0);
#define COPY(field, value, want) do {					\
	c = (struct drm_p2pgem_gem_copy){ .src_handle = a,		\
		.dst_handle = b, .size = 4096 };			\
	c.field = value;						\
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_COPY, &c), want);	\
} while (0)
	COPY(flags, 1, -EINVAL);
	COPY(flags, 0x80000000u, -EINVAL);
	COPY(pad, 1, -EINVAL);
	COPY(size, 0, -EINVAL);
	COPY(size, 100, -EINVAL);
	COPY(size, 128 * 1024, -EINVAL);
	COPY(src_offset, 1, -EINVAL);
	COPY(dst_offset, 2048, -EINVAL);
	COPY(src_offset, 64 * 1024, -EINVAL);
	COPY(dst_offset, 64 * 1024 - 4096, 0);
	COPY(dst_offset, UINT64_MAX - 4095, -EINVAL);
	COPY(src_offset, UINT64_MAX & ~4095ull, -EINVAL);
	COPY(size, UINT64_MAX & ~4095ull, -EINVAL);
	COPY(src_handle, BAD_HANDLE, -ENOENT);
	COPY(dst_handle, BAD_HANDLE, -ENOENT);
	COPY(src_handle, 0, -ENOENT);
	/* One buffer: overlapping ranges refused, disjoint ones copied. */
	COPY(dst_handle, a, -EINVAL);
	c = (struct drm_p2pgem_gem_copy){ .src_handle = a, .dst_handle = a,
		.dst_offset = 4096, .size = 8192 };
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_COPY, &c), -EINVAL);
	c.dst_offset = 8192;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_COPY, &c), 0);
#undef COPY

	/* An imported dma-buf is for WAIT and COPY only. */
	ub = udmabuf_new(64 * 1024, &memfd);
	SKIP_UNLESS(ub >= 0, "no udmabuf: %s", strerror(-ub));
	CHECK(!drmPrimeFDToHandle(fd, ub, &imp), "import the udmabuf: %s",
	      strerror(errno));
	CHECK_RET(p2p_info(fd, imp, &info), -EOPNOTSUPP);
	CHECK_RET(p2p_evict(fd, imp), -EOPNOTSUPP);
	mo.handle = imp;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &mo),
		  -EOPNOTSUPP);
	q.handle = imp;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q),
		  -EOPNOTSUPP);
	CHECK_RET(p2p_wait(fd, imp, 1000000000ll), 0);
	CHECK_RET(p2p_copy(fd, imp, 0, imp, 4096, 8192), -EINVAL);
	CHECK_RET(p2p_copy(fd, a, 0, imp, 4096, 64 * 1024), -EINVAL);
	CHECK_RET(p2p_copy(fd, a, 0, imp, 0, 64 * 1024), 0);
	CHECK_RET(p2p_wait(fd, imp, 10000000000ll), 0);
	CHECK_RET(p2p_close_bo(fd, imp), 0);
	close(ub);
	close(memfd);
	return 0;
}

/* mmap: past the end, at a wrong offset, private. */
static int bad_mmap(void)
{
	struct drm_p2pgem_gem_mmap_offset mo = { 0 };
	const size_t size = 2 * 4096;
	uint32_t handle;
	void *p;
	int ret = setup();

	if (ret)
		return ret;
	CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0, &handle), 0);
	mo.handle = handle;
	CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &mo), 0);
	CHECK(mo.offset && !(mo.offset & 4095), "offset %llx",
	      (unsigned long long)mo.offset);

	p = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 mo.offset);
	CHECK(p == MAP_FAILED && errno == EINVAL,
	      "mapping past the end: %s", p == MAP_FAILED ? strerror(errno) : "mapped");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 mo.offset + size);
	CHECK(p == MAP_FAILED, "mapping at the end offset succeeded");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 mo.offset + (1ull << 40));
	CHECK(p == MAP_FAILED, "mapping at a bogus offset succeeded");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 mo.offset);
	CHECK(p == MAP_FAILED && errno == EINVAL, "private mapping: %s",
	      p == MAP_FAILED ? strerror(errno) : "mapped");

	/* A mapping keeps the object alive after its handle is closed. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, mo.offset);
	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	CHECK_RET(p2p_close_bo(fd, handle), 0);
	fill_pattern(p, size, 9);
	CHECK(check_pattern(p, size, 9) < 0, "mismatch");
	munmap(p, size);
	/* The second file cannot map the first file's object. */
	{
		int fd2 = p2p_open(0);

		CHECK_RET(p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM, 0,
				     &handle), 0);
		mo.handle = handle;
		CHECK_RET(p2p_ioctl(fd, DRM_IOCTL_P2PGEM_GEM_MMAP_OFFSET, &mo),
			  0);
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd2,
			 mo.offset);
		CHECK(p == MAP_FAILED && errno == EACCES,
		      "other file's object: %s",
		      p == MAP_FAILED ? strerror(errno) : "mapped");
		close(fd2);
	}
	return 0;
}

static const struct subtest tests[] = {
	{ "create-bad-args", create_bad },
	{ "create-huge", create_huge },
	{ "bad-handles", bad_handles },
	{ "bad-flags-pad", bad_flags_pad },
	{ "bad-p2p-query", bad_p2p_query },
	{ "bad-copy", bad_copy },
	{ "bad-mmap", bad_mmap },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
