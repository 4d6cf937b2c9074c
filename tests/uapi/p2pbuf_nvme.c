// SPDX-License-Identifier: MIT
/*
 * p2pbuf_nvme.ko in the guest: block I/O between the emulated NVMe
 * namespace and p2pgem buffers, by the NVMe device's own DMA.
 *
 *   bind-bad        every field of BIND: the errno each bad value gets
 *   io-bad          every field of IO and UNBIND, and the fds' rights
 *   roundtrip-vram  buffer -> device -> buffer at several sizes and
 *                   offsets; the device's bytes read back with O_DIRECT,
 *                   apart from the module; the path is p2p where the
 *                   P2P query says the NVMe function reaches VRAM
 *   roundtrip-system  the same from a system-memory buffer (direct-system)
 *   fences          an in-fence holds an I/O back; its fence is in the
 *                   buffer before it starts and signals when the data is
 *                   there; eight asynchronous I/Os at once
 *   sync-signals    a synchronous I/O is not ended by a pending SIGALRM
 *   dep-timeout     an in-fence that never signals fails the I/O with
 *                   ETIMEDOUT after dep_timeout_ms
 *   close-cancels   closing the file, or UNBIND, cancels an I/O that has
 *                   not started and detaches: the buffer moves at once
 *   pin-linger      without move_notify, a binding keeps the buffer
 *                   pinned pin_linger_ms after its last I/O, then lets go;
 *                   more than 1000 ms is refused (EINVAL)
 *   evict-race      eight reads in flight while the buffer is evicted
 *                   again and again: not one byte wrong
 *   threads         eight threads' synchronous I/Os on one binding, one
 *                   ioctl starting the others' too: none overtakes an I/O
 *                   held back at the head of the queue, all go on after
 *   threads-unbind  UNBIND while eight threads keep one binding busy:
 *                   it returns, every thread's ioctl ends with ECANCELED,
 *                   ENODEV or ENOENT, and a new binding works
 *   io-error        failed requests (fail_make_request) give EIO, on the
 *                   ioctl and on the fence
 *   bounce          a vgem buffer (no pages, but vmap): through the
 *                   module's own pages and a CPU copy, path bounce,
 *                   every byte counted in cpu_bytes
 *   uring           the same I/O through io_uring (IORING_OP_URING_CMD):
 *                   batches, the path as res, an in-fence, bad commands
 *   dm-linear       through dm-linear on the namespace: no P2P in the
 *                   queue, so direct-system; the bytes checked on the
 *                   namespace
 *   dma-trace       reads into VRAM and into system memory, for the
 *                   host to find in QEMU's trace of the NVMe device: in
 *                   the BAR for p2p, in RAM for direct-system
 *   file-ext4       a file on ext4 on the namespace (made here): read
 *                   into VRAM and written from it by ext4's direct I/O,
 *                   holes, extension, the file's limits and rights;
 *                   cpu_bytes for holes (ioctl and io_uring CQE32) and
 *                   for ext4 mounted data=journal
 *   controller-remove  the NVMe function removed with reads in flight and
 *                   one held back: ENODEV, nothing left mapped; rescan
 *   exporter-unbind p2pgem unbound with reads in flight and an io_uring
 *                   read held by an in-fence (ETIMEDOUT), then rmmod of
 *                   p2pbuf_nvme with their sync_files held, and a vgem
 *                   buffer a bounce read went into with its sync_file
 *                   (last: the script loads the module again)
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <liburing.h>
#include <linux/p2pbuf_nvme.h>
#include <xf86drm.h>

#include "../lib/sw_sync.h"
#include "p2pgem_test_lib.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define NVME_DEV "/dev/p2pbuf_nvme"
#define PARAM_DIR "/sys/module/p2pbuf_nvme/parameters/"

/* The namespace's block device and its PCI function, found once. */
static char ns_path[64], ns_pci[32];

static int find_namespace(void)
{
	char link[PATH_MAX], *base;
	ssize_t n;

	if (ns_path[0])
		return 0;
	if (access("/sys/class/nvme/nvme0", F_OK))
		return -ENOENT;
	snprintf(ns_path, sizeof(ns_path), "/dev/nvme0n1");
	n = readlink("/sys/class/nvme/nvme0/device", link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	base = strrchr(link, '/');
	snprintf(ns_pci, sizeof(ns_pci), "%.31s", base ? base + 1 : link);
	return access(ns_path, F_OK) ? -ENOENT : 0;
}

#define NEED_NVME() do {						\
	SKIP_UNLESS(!access(NVME_DEV, F_OK), "p2pbuf_nvme.ko is not loaded"); \
	SKIP_UNLESS(!find_namespace(), "no NVMe namespace");		\
	SKIP_UNLESS(p2p_count() >= 1, "no p2pgem device");		\
} while (0)

static int nv_bind(int nv, int dmabuf, int fd, uint32_t flags,
		   uint32_t *handle, uint32_t *p2p)
{
	struct p2pbuf_nvme_bind b = { .dmabuf_fd = dmabuf, .fd = fd,
				      .flags = flags };

	if (ioctl(nv, P2PBUF_NVME_IOC_BIND, &b))
		return -errno;
	if (handle)
		*handle = b.handle;
	if (p2p)
		*p2p = b.p2p;
	return 0;
}

static int nv_io(int nv, struct p2pbuf_nvme_io *io)
{
	return ioctl(nv, P2PBUF_NVME_IOC_IO, io) ? -errno : 0;
}

/*
 * A synchronous I/O; the path it took in *path and the bytes the CPU moved
 * in *cpu, each when not NULL.
 */
static int nv_rw_cpu(int nv, uint32_t handle, uint32_t op,
		     uint64_t buf_offset, uint64_t length, uint64_t dev_offset,
		     uint32_t *path, uint64_t *cpu)
{
	struct p2pbuf_nvme_io io = { .handle = handle, .op = op,
				     .buf_offset = buf_offset,
				     .length = length,
				     .dev_offset = dev_offset };
	int ret = nv_io(nv, &io);

	if (!ret && path)
		*path = io.path;
	if (!ret && cpu)
		*cpu = io.cpu_bytes;
	return ret;
}

static int nv_rw(int nv, uint32_t handle, uint32_t op, uint64_t buf_offset,
		 uint64_t length, uint64_t dev_offset, uint32_t *path)
{
	return nv_rw_cpu(nv, handle, op, buf_offset, length, dev_offset, path,
			 NULL);
}

/* An asynchronous I/O: its out-fence, or -errno. */
static int nv_async(int nv, uint32_t handle, uint32_t op, uint64_t buf_offset,
		    uint64_t length, uint64_t dev_offset, int in_fence)
{
	struct p2pbuf_nvme_io io = { .handle = handle, .op = op,
				     .buf_offset = buf_offset,
				     .length = length,
				     .dev_offset = dev_offset,
				     .flags = P2PBUF_NVME_IO_ASYNC };
	int ret;

	if (in_fence >= 0) {
		io.flags |= P2PBUF_NVME_IO_IN_FENCE;
		io.in_fence_fd = in_fence;
	}
	ret = nv_io(nv, &io);
	return ret ? ret : io.out_fence_fd;
}

/* Wait for a sync_file: 0 when signalled in time. */
static int fence_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 ? 0 : -ETIME;
}

static int param_set(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return write_file(path, value);
}

/* A p2pgem buffer object with its dma-buf and a CPU mapping. */
struct buf {
	int fd;
	uint32_t handle;
	int dmabuf;
	uint8_t *cpu;
	uint64_t size;
};

static int buf_new(struct buf *b, uint64_t size, uint32_t placement)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->dmabuf = -1;
	b->size = size;
	b->fd = p2p_open(0);
	if (b->fd < 0)
		return b->fd;
	ret = p2p_create(b->fd, size, placement,
			 placement == P2PGEM_PLACEMENT_SYSTEM ? 0 :
			 P2PGEM_CREATE_CPU_ACCESS, &b->handle);
	if (ret)
		return ret;
	b->cpu = p2p_map(b->fd, b->handle, size);
	if (!b->cpu)
		return -ENOMEM;
	b->dmabuf = export_bo(b->fd, b->handle);
	return b->dmabuf < 0 ? b->dmabuf : 0;
}

/*
 * A new p2pgem buffer of @size in @placement, /dev/p2pbuf_nvme and the
 * namespace opened, and the buffer bound to the namespace: 0 or -errno.
 */
static int bound_new(struct buf *buf, uint64_t size, uint32_t placement,
		     int *nv, int *blk, uint32_t *h, uint32_t *qp2p)
{
	int ret = buf_new(buf, size, placement);

	if (ret)
		return ret;
	*nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	*blk = open(ns_path, O_RDWR | O_CLOEXEC);
	if (*nv < 0 || *blk < 0)
		return -errno;
	return nv_bind(*nv, buf->dmabuf, *blk, 0, h, qp2p);
}

static void buf_free(struct buf *b)
{
	if (b->cpu)
		munmap(b->cpu, b->size);
	if (b->dmabuf >= 0)
		close(b->dmabuf);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->cpu = NULL;
	b->dmabuf = -1;
}

/* What the NVMe function should get for a VRAM buffer: the P2P query. */
static uint32_t expected_path(struct buf *b, uint32_t queue_p2p)
{
	struct drm_p2pgem_gem_p2p_query q = { .handle = b->handle };
	unsigned int dom, bus, dev, fn;

	if (queue_p2p != P2PBUF_NVME_QUEUE_P2P ||
	    sscanf(ns_pci, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return P2PBUF_NVME_PATH_DIRECT_SYSTEM;
	q.domain = dom;
	q.bus = bus;
	q.devfn = dev << 3 | fn;
	if (p2p_ioctl(b->fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q))
		return 0;
	return q.reason == P2PGEM_P2P_OK ? P2PBUF_NVME_PATH_P2P :
		P2PBUF_NVME_PATH_DIRECT_SYSTEM;
}

/* Read a file or the device with O_DIRECT, apart from the module. */
static int read_direct(const char *path, uint64_t offset, void *dst,
		       size_t len)
{
	void *bounce;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (posix_memalign(&bounce, 4096, len)) {
		close(fd);
		return -ENOMEM;
	}
	if (pread(fd, bounce, len, offset) != (ssize_t)len)
		ret = -EIO;
	else
		memcpy(dst, bounce, len);
	free(bounce);
	close(fd);
	return ret;
}

/* ---- bind-bad ---- */

static int bind_bad(void)
{
	struct p2pbuf_nvme_bind b;
	int nv, blk, null, reg, udma, memfd;
	struct buf buf;

	NEED_NVME();
	CHECK_RET(buf_new(&buf, 64 * KiB, P2PGEM_PLACEMENT_VRAM), 0);
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	blk = open(ns_path, O_RDWR | O_CLOEXEC);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	reg = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(nv >= 0 && blk >= 0 && null >= 0 && reg >= 0, "open: %s",
	      strerror(errno));

#define BIND_EXPECT(field, value, err) do {				\
	memset(&b, 0, sizeof(b));					\
	b.dmabuf_fd = buf.dmabuf;					\
	b.fd = blk;							\
	b.field = value;						\
	CHECK(ioctl(nv, P2PBUF_NVME_IOC_BIND, &b) && errno == (err),	\
	      "BIND with " #field " = " #value ": want %s, got %s",	\
	      strerror(err), strerror(errno));				\
} while (0)
	BIND_EXPECT(flags, 2, EINVAL);
	BIND_EXPECT(flags, 0x80000000u, EINVAL);
	BIND_EXPECT(handle, 1, EINVAL);
	BIND_EXPECT(p2p, 1, EINVAL);
	BIND_EXPECT(pad, 1, EINVAL);
	BIND_EXPECT(reserved[0], 1, EINVAL);
	BIND_EXPECT(reserved[1], 1, EINVAL);
	BIND_EXPECT(fd, -1, EBADF);
	BIND_EXPECT(fd, 9999, EBADF);
	BIND_EXPECT(fd, null, ENOTBLK);
	/* A regular file on a filesystem without a block device (9p). */
	BIND_EXPECT(fd, reg, EOPNOTSUPP);
	BIND_EXPECT(dmabuf_fd, -1, EBADF);
	BIND_EXPECT(dmabuf_fd, null, EINVAL);
	BIND_EXPECT(dmabuf_fd, blk, EINVAL);
	/* An exporter that does not give its pages: udmabuf. */
	udma = udmabuf_new(1 * MiB, &memfd);
	if (udma >= 0) {
		BIND_EXPECT(dmabuf_fd, udma, EOPNOTSUPP);
		close(udma);
		close(memfd);
	}
#undef BIND_EXPECT
	/* A good one after all that. */
	CHECK_RET(nv_bind(nv, buf.dmabuf, blk, 0, NULL, NULL), 0);
	CHECK(ioctl(nv, _IO(P2PBUF_NVME_IOC_MAGIC, 0x7f)) && errno == ENOTTY,
	      "unknown ioctl: %s", strerror(errno));
	close(reg);
	close(null);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- io-bad ---- */

static int io_bad(void)
{
	struct p2pbuf_nvme_unbind u = { 0 };
	struct p2pbuf_nvme_io io, good;
	uint32_t h = 0, hro = 0, hbufro = 0, ro;
	int nv, blk, blkro, bufro;
	struct buf buf;
	off_t devsize;

	NEED_NVME();
	CHECK_RET(buf_new(&buf, 64 * KiB, P2PGEM_PLACEMENT_VRAM), 0);
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	blk = open(ns_path, O_RDWR | O_CLOEXEC);
	blkro = open(ns_path, O_RDONLY | O_CLOEXEC);
	CHECK(nv >= 0 && blk >= 0 && blkro >= 0, "open: %s", strerror(errno));
	devsize = lseek(blk, 0, SEEK_END);
	CHECK(devsize > (off_t)(1 * MiB), "device size %lld",
	      (long long)devsize);
	/*
	 * A dma-buf's rights are those of its first export (DRM hands out
	 * the same file again): a buffer object of its own, exported
	 * read-only first.
	 */
	CHECK_RET(p2p_create(buf.fd, 64 * KiB, P2PGEM_PLACEMENT_VRAM, 0, &ro),
		  0);
	CHECK(!drmPrimeHandleToFD(buf.fd, ro, DRM_CLOEXEC, &bufro),
	      "read-only export: %s", strerror(errno));
	CHECK_RET(nv_bind(nv, buf.dmabuf, blk, 0, &h, NULL), 0);
	CHECK_RET(nv_bind(nv, buf.dmabuf, blkro, 0, &hro, NULL), 0);
	CHECK_RET(nv_bind(nv, bufro, blk, 0, &hbufro, NULL), 0);

	good = (struct p2pbuf_nvme_io){ .handle = h, .op = P2PBUF_NVME_WRITE,
					.length = 4096 };
#define IO_EXPECT(field, value, err) do {				\
	io = good;							\
	io.field = value;						\
	CHECK_RET(nv_io(nv, &io), -(err));				\
} while (0)
	IO_EXPECT(handle, 12345, ENOENT);
	IO_EXPECT(op, 2, EINVAL);
	IO_EXPECT(flags, 8, EINVAL);
	IO_EXPECT(flags, 0x80000000u, EINVAL);
	IO_EXPECT(length, 0, EINVAL);
	IO_EXPECT(length, 100, EINVAL);
	IO_EXPECT(buf_offset, 1, EINVAL);
	IO_EXPECT(dev_offset, 100, EINVAL);
	IO_EXPECT(buf_offset, 64 * KiB, EINVAL);
	IO_EXPECT(buf_offset, UINT64_MAX - 511, EINVAL);
	IO_EXPECT(length, 64 * KiB + 4096, EINVAL);
	IO_EXPECT(dev_offset, (uint64_t)devsize, EINVAL);
	IO_EXPECT(dev_offset, UINT64_MAX - 511, EINVAL);
	IO_EXPECT(in_fence_fd, 3, EINVAL);
	IO_EXPECT(out_fence_fd, 3, EINVAL);
	IO_EXPECT(path, 1, EINVAL);
	IO_EXPECT(cpu_bytes, 1, EINVAL);
	IO_EXPECT(reserved, 1, EINVAL);
	io = good;
	io.flags = P2PBUF_NVME_IO_IN_FENCE;
	io.in_fence_fd = -1;
	CHECK_RET(nv_io(nv, &io), -EINVAL);
	io.in_fence_fd = blk; /* not a sync_file */
	CHECK_RET(nv_io(nv, &io), -EINVAL);
	/* P2PBUF_NVME_IO_DMABUF_FD: zero without it; the binding's buffer. */
	IO_EXPECT(dmabuf_fd, buf.dmabuf, EINVAL);
	io = good;
	io.flags = P2PBUF_NVME_IO_DMABUF_FD;
	io.dmabuf_fd = -1;
	CHECK_RET(nv_io(nv, &io), -EBADF);
	io.dmabuf_fd = blk;		/* open, but not the buffer */
	CHECK_RET(nv_io(nv, &io), -ESTALE);
	io.dmabuf_fd = bufro;		/* another buffer */
	CHECK_RET(nv_io(nv, &io), -ESTALE);
	io.dmabuf_fd = buf.dmabuf;
	CHECK_RET(nv_io(nv, &io), 0);
	CHECK(!io.cpu_bytes && io.path, "DMABUF_FD: path %u", io.path);
#undef IO_EXPECT
	/* Rights: the block device's fd, and the dma-buf's. */
	CHECK_RET(nv_rw(nv, hro, P2PBUF_NVME_WRITE, 0, 4096, 0, NULL), -EBADF);
	CHECK_RET(nv_rw(nv, hro, P2PBUF_NVME_READ, 0, 4096, 0, NULL), 0);
	CHECK_RET(nv_rw(nv, hbufro, P2PBUF_NVME_READ, 0, 4096, 0, NULL),
		  -EBADF);
	CHECK_RET(nv_rw(nv, hbufro, P2PBUF_NVME_WRITE, 0, 4096, 0, NULL), 0);

	u.handle = 12345;
	CHECK(ioctl(nv, P2PBUF_NVME_IOC_UNBIND, &u) && errno == ENOENT,
	      "UNBIND of an unknown handle: %s", strerror(errno));
	u.handle = h;
	u.pad = 1;
	CHECK(ioctl(nv, P2PBUF_NVME_IOC_UNBIND, &u) && errno == EINVAL,
	      "UNBIND with pad: %s", strerror(errno));
	u.pad = 0;
	CHECK(!ioctl(nv, P2PBUF_NVME_IOC_UNBIND, &u), "UNBIND: %s",
	      strerror(errno));
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 4096, 0, NULL), -ENOENT);
	close(bufro);
	close(blkro);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- round trips ---- */

struct rt_case {
	uint64_t buf_offset, length, dev_offset;
};

static const struct rt_case rt_cases[] = {
	{ 0, 4 * KiB, 0 },
	{ 512, 64 * KiB, 3 * 4096 + 512 },
	{ 4096, 1 * MiB + 512, 1 * MiB },
	{ 0, 2 * MiB + 4 * KiB, 8 * MiB },	/* several bios */
};

static int roundtrip(uint32_t placement)
{
	uint64_t size = 4 * MiB;
	uint32_t h = 0, qp2p = 0, path = 0, want;
	struct buf buf;
	unsigned int i;
	uint8_t *back;
	int nv, blk;
	long off;

	NEED_NVME();
	CHECK_RET(bound_new(&buf, size, placement, &nv, &blk, &h, &qp2p), 0);
	back = malloc(4 * MiB);
	CHECK(back, "malloc");

	for (i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		const struct rt_case *c = &rt_cases[i];

		fill_pattern(buf.cpu + c->buf_offset, c->length, 1000 + i);
		want = placement == P2PGEM_PLACEMENT_SYSTEM ?
			P2PBUF_NVME_PATH_DIRECT_SYSTEM :
			expected_path(&buf, qp2p);
		CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, c->buf_offset,
				c->length, c->dev_offset, &path), 0);
		CHECK(path == want, "case %u: write path %u, want %u", i, path,
		      want);
		/* The device's bytes, read apart from the module. */
		CHECK_RET(read_direct(ns_path, c->dev_offset, back,
				      c->length), 0);
		off = check_pattern(back, c->length, 1000 + i);
		CHECK(off < 0, "case %u: device differs at byte %ld", i, off);

		memset(buf.cpu + c->buf_offset, 0, c->length);
		want = placement == P2PGEM_PLACEMENT_SYSTEM ?
			P2PBUF_NVME_PATH_DIRECT_SYSTEM :
			expected_path(&buf, qp2p);
		CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, c->buf_offset,
				c->length, c->dev_offset, &path), 0);
		CHECK(path == want, "case %u: read path %u, want %u", i, path,
		      want);
		off = check_pattern(buf.cpu + c->buf_offset, c->length,
				    1000 + i);
		CHECK(off < 0, "case %u: buffer differs at byte %ld", i, off);
		printf("# case %u: %llu bytes, path %s\n", i,
		       (unsigned long long)c->length,
		       path == P2PBUF_NVME_PATH_P2P ? "p2p" : "direct-system");
	}
	free(back);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

static int roundtrip_vram(void)
{
	return roundtrip(P2PGEM_PLACEMENT_VRAM);
}

static int roundtrip_system(void)
{
	return roundtrip(P2PGEM_PLACEMENT_SYSTEM);
}

/* ---- fences ---- */

static int fences(void)
{
	int nv, blk, tl, in, out, outs[8], i, fences_fd;
	uint32_t path = 0;
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_WRITE };
	struct buf buf;
	uint32_t h = 0;
	long off;

	NEED_NVME();
	tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	SKIP_UNLESS(tl >= 0, "no sw_sync");
	CHECK_RET(bound_new(&buf, 2 * MiB, P2PGEM_PLACEMENT_VRAM,
			    &nv, &blk, &h, NULL), 0);

	/* Put a pattern on the device, then read it behind an in-fence. */
	fill_pattern(buf.cpu, 1 * MiB, 77);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 1 * MiB, 0, &path), 0);
	memset(buf.cpu, 0, 1 * MiB);
	in = sw_fence(tl, 1);
	CHECK(in >= 0, "sw_fence: %s", strerror(-in));
	out = nv_async(nv, h, P2PBUF_NVME_READ, 0, 1 * MiB, 0, in);
	CHECK(out >= 0, "async read: %s", strerror(-out));
	CHECK(fence_wait(out, 300) == -ETIME,
	      "the I/O finished before its in-fence signalled");
	/* Its fence is in the buffer, as a writer, before it starts. */
	CHECK(!ioctl(buf.dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp),
	      "export sync file: %s", strerror(errno));
	fences_fd = exp.fd;
	CHECK(fence_status(fences_fd) == 0,
	      "the buffer's fences are signalled with the read held back");
	/*
	 * In VRAM a CPU read maps the buffer where it is. In system memory
	 * (no P2P here) p2pgem's fault would move it back to VRAM, and that
	 * move waits for the held-back read: not while it is held back.
	 */
	CHECK(path != P2PBUF_NVME_PATH_P2P || check_zero(buf.cpu, 1 * MiB) < 0,
	      "bytes arrived before the in-fence signalled");
	CHECK(!ioctl(tl, SW_SYNC_IOC_INC, &(uint32_t){ 1 }), "sw_sync inc");
	CHECK(!fence_wait(out, 20000), "the I/O did not finish");
	CHECK(fence_status(out) == 1, "out-fence status %d",
	      fence_status(out));
	CHECK(!fence_wait(fences_fd, 1000), "the buffer's fences");
	off = check_pattern(buf.cpu, 1 * MiB, 77);
	CHECK(off < 0, "buffer differs at byte %ld", off);
	close(fences_fd);
	close(out);
	close(in);

	/* Eight at once, on disjoint ranges; they signal in order. */
	fill_pattern(buf.cpu, 2 * MiB, 78);
	for (i = 0; i < 8; i++) {
		outs[i] = nv_async(nv, h, P2PBUF_NVME_WRITE, i * 256 * KiB,
				   256 * KiB, 16 * MiB + i * 256 * KiB, -1);
		CHECK(outs[i] >= 0, "async write %d: %s", i,
		      strerror(-outs[i]));
	}
	for (i = 7; i >= 0; i--) {
		CHECK(!fence_wait(outs[i], 20000), "write %d did not finish", i);
		CHECK(fence_status(outs[i]) == 1, "write %d: status %d", i,
		      fence_status(outs[i]));
		/* In order: every earlier one is signalled too. */
		CHECK(i == 0 || fence_status(outs[i - 1]) == 1,
		      "write %d signalled before write %d", i, i - 1);
		close(outs[i]);
	}
	memset(buf.cpu, 0, 2 * MiB);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 2 * MiB, 16 * MiB, NULL),
		  0);
	off = check_pattern(buf.cpu, 2 * MiB, 78);
	CHECK(off < 0, "buffer differs at byte %ld", off);
	close(blk);
	close(nv);
	close(tl);
	buf_free(&buf);
	return 0;
}

/* ---- sync-signals ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * Signals that do not kill do not end a synchronous I/O: with SIGALRM
 * every millisecond, caught by a handler without SA_RESTART, a read held
 * back for 300 ms by an in-fence (a child signals it) returns 0 with its
 * bytes, not EINTR for an I/O that goes on.
 */
static int sync_signals(void)
{
	struct itimerval it = { .it_interval = { 0, 1000 },
				.it_value = { 0, 1000 } };
	struct itimerval off_timer = { 0 };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct p2pbuf_nvme_io io;
	int nv, blk, tl, in, ret, status;
	double start, took;
	struct buf buf;
	uint32_t h = 0;
	pid_t pid;

	NEED_NVME();
	tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	SKIP_UNLESS(tl >= 0, "no sw_sync");
	/*
	 * In system memory: a VRAM buffer the NVMe function cannot reach
	 * (blocked) moves at each map after a CPU fault moved it back, and
	 * the map's interruptible wait for that move ends, before anything
	 * is queued, with EINTR, as any system call's wait may.
	 */
	CHECK_RET(bound_new(&buf, 1 * MiB, P2PGEM_PLACEMENT_SYSTEM,
			    &nv, &blk, &h, NULL), 0);
	fill_pattern(buf.cpu, 1 * MiB, 78);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 1 * MiB, 0, NULL), 0);
	memset(buf.cpu, 0, 1 * MiB);

	in = sw_fence(tl, 1);
	CHECK(in >= 0, "sw_fence: %s", strerror(-in));
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		usleep(300000);
		_exit(ioctl(tl, SW_SYNC_IOC_INC, &(uint32_t){ 1 }) ? 1 : 0);
	}
	alarms = 0;
	sigemptyset(&sa.sa_mask);
	CHECK(!sigaction(SIGALRM, &sa, &old), "sigaction");
	start = now();
	CHECK(!setitimer(ITIMER_REAL, &it, NULL), "setitimer");
	io = (struct p2pbuf_nvme_io){ .handle = h, .op = P2PBUF_NVME_READ,
				      .length = 1 * MiB,
				      .flags = P2PBUF_NVME_IO_IN_FENCE,
				      .in_fence_fd = in };
	ret = nv_io(nv, &io);
	took = now() - start;
	setitimer(ITIMER_REAL, &off_timer, NULL);
	sigaction(SIGALRM, &old, NULL);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "the child did not signal the in-fence");
	printf("# a read held %.2f s with SIGALRM pending\n", took);
	CHECK_RET(ret, 0);
	/* Pending from the first millisecond on, delivered after the read. */
	CHECK(alarms >= 1 && took >= 0.25,
	      "%d signals, the read took %.2f s", (int)alarms, took);
	CHECK(check_pattern(buf.cpu, 1 * MiB, 78) < 0,
	      "the buffer differs after the read");
	close(in);
	close(tl);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- dep-timeout, close-cancels ---- */

/* A read held back by an in-fence that nobody signals. */
struct held {
	struct buf buf;
	int nv, blk, tl, in, out;
	uint32_t handle;
};

static int held_read(struct held *r)
{
	int ret;

	r->nv = r->blk = r->in = r->out = -1;
	r->buf.fd = -1;
	r->tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (r->tl < 0)
		return SKIP;
	ret = bound_new(&r->buf, 1 * MiB, P2PGEM_PLACEMENT_VRAM, &r->nv,
			&r->blk, &r->handle, NULL);
	if (ret)
		return ret;
	r->in = sw_fence(r->tl, 1);
	if (r->in < 0)
		return r->in;
	r->out = nv_async(r->nv, r->handle, P2PBUF_NVME_READ, 0, 1 * MiB, 0,
			  r->in);
	return r->out < 0 ? r->out : 0;
}

static void held_free(struct held *r)
{
	int *fds[] = { &r->out, &r->in, &r->blk, &r->nv, &r->tl };
	unsigned int i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	buf_free(&r->buf);
}

static int dep_timeout(void)
{
	struct held r;
	int ret, status;

	NEED_NVME();
	CHECK_RET(param_set("dep_timeout_ms", "500"), 0);
	ret = held_read(&r);
	if (!ret && fence_wait(r.out, 20000))
		ret = -ETIME;
	status = ret ? 0 : fence_status(r.out);
	param_set("dep_timeout_ms", "10000");
	SKIP_UNLESS(ret != SKIP, "no sw_sync");
	CHECK_RET(ret, 0);
	CHECK(status == -ETIMEDOUT, "status %d, want %d", status, -ETIMEDOUT);
	/* The binding goes on. */
	CHECK_RET(nv_rw(r.nv, r.handle, P2PBUF_NVME_READ, 0, 4096, 0, NULL),
		  0);
	held_free(&r);
	return 0;
}

/*
 * Even rounds close the file, odd ones UNBIND. Either returns with the
 * binding detached: the buffer moves at once, even on a kernel without
 * move_notify, whose mapping pins it.
 */
static int close_cancels(void)
{
	struct p2pbuf_nvme_unbind u = { 0 };
	int ret, status, round;
	struct held r;

	NEED_NVME();
	for (round = 0; round < 8; round++) {
		ret = held_read(&r);
		SKIP_UNLESS(ret != SKIP, "no sw_sync");
		CHECK_RET(ret, 0);
		if (round & 1) {
			u.handle = r.handle;
			CHECK(!ioctl(r.nv, P2PBUF_NVME_IOC_UNBIND, &u),
			      "UNBIND: %s", strerror(errno));
		} else {
			close(r.nv);
			r.nv = -1;
		}
		CHECK(!fence_wait(r.out, 2000), "round %d: the I/O goes on",
		      round);
		status = fence_status(r.out);
		CHECK(status == -ECANCELED, "round %d: status %d, want %d",
		      round, status, -ECANCELED);
		CHECK_RET(p2p_evict(r.buf.fd, r.buf.handle), 0);
		held_free(&r);
	}
	return 0;
}

/* ---- pin-linger ---- */

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Evict until it works or @ms pass: the milliseconds it took, or -1. */
static double evict_within(struct buf *buf, double ms)
{
	double t0 = mono_ms();

	while (p2p_evict(buf->fd, buf->handle)) {
		if (errno != EBUSY || mono_ms() - t0 > ms)
			return -1;
		usleep(5000);
	}
	return mono_ms() - t0;
}

/* The value of a module parameter of p2pbuf_nvme, or -1. */
static long param_get(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * Without move_notify a mapping pins the buffer: the binding keeps it
 * pin_linger_ms after its last I/O (for the next one, which starts the
 * time again), then lets go, and the buffer moves again. With 0 it lets
 * go at once. With move_notify, nothing is pinned. The times are taken
 * before each I/O, so that a slow machine can only make them longer.
 */
static int pin_linger(void)
{
	double t1, t2, t_moved = -1, t_zero = -1;
	const char *bad = NULL;
	char old[24];
	int nv, blk, ret;
	struct buf buf;
	uint32_t h = 0;
	long linger;

	NEED_NVME();
	/* More than a second is refused, and changes nothing. */
	linger = param_get("pin_linger_ms");
	CHECK(linger >= 0, "pin_linger_ms cannot be read");
	CHECK_RET(param_set("pin_linger_ms", "1001"), -EINVAL);
	CHECK(param_get("pin_linger_ms") == linger,
	      "pin_linger_ms changed by a refused write");
	CHECK_RET(bound_new(&buf, 64 * KiB, P2PGEM_PLACEMENT_VRAM,
			    &nv, &blk, &h, NULL), 0);
	if (!pins_on_map()) {
		CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 4096, 0, NULL), 0);
		CHECK_RET(p2p_evict(buf.fd, buf.handle), 0);
		printf("# move_notify: the mapping pins nothing\n");
		goto out;
	}
	snprintf(old, sizeof(old), "%ld", linger);
	/* The most the module allows. */
	CHECK_RET(param_set("pin_linger_ms", "1000"), 0);
	t1 = mono_ms();
	ret = nv_rw(nv, h, P2PBUF_NVME_READ, 0, 4096, 0, NULL);
	if (!ret && !p2p_evict(buf.fd, buf.handle))
		bad = "moved right after the I/O";
	else if (!ret && errno != EBUSY)
		bad = "eviction failed, not with EBUSY";
	/* A second I/O within the time starts it again. */
	if (!ret && !bad) {
		usleep(600 * 1000);
		t2 = mono_ms();
		if (!p2p_evict(buf.fd, buf.handle) && t2 - t1 < 950)
			bad = "moved before pin_linger_ms";
		else
			ret = nv_rw(nv, h, P2PBUF_NVME_READ, 4096, 4096, 4096,
				    NULL);
		if (!ret && !bad) {
			t_moved = evict_within(&buf, 10000);
			if (t_moved >= 0)
				t_moved = mono_ms() - t2;
		}
	}
	/* With no time to linger, it lets go as soon as the I/O is freed. */
	if (!ret && !bad) {
		param_set("pin_linger_ms", "0");
		ret = nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 4096, 8192, NULL);
		t_zero = ret ? -1 : evict_within(&buf, 2000);
	}
	param_set("pin_linger_ms", old);
	CHECK_RET(ret, 0);
	CHECK(!bad, "%s", bad);
	CHECK(t_moved >= 950 && t_moved < 10000,
	      "moved %.0f ms after the second I/O began, want 1000 or a little more",
	      t_moved);
	CHECK(t_zero >= 0, "still pinned 2 s after the last I/O (linger 0)");
	printf("# moved %.0f ms after the second I/O began (linger 1000), %.0f ms after the I/O (linger 0)\n",
	       t_moved, t_zero);
out:
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- evict-race ---- */

struct evictor {
	int fd;
	uint32_t handle;
	volatile int stop;
	int evictions, errors;
};

static void *evict_loop(void *arg)
{
	struct evictor *e = arg;

	while (!e->stop) {
		if (p2p_evict(e->fd, e->handle))
			e->errors++;
		else
			e->evictions++;
		usleep(2000);
	}
	return NULL;
}

static void evictor_stop(struct evictor *e, pthread_t th)
{
	if (e->stop)
		return;
	e->stop = 1;
	pthread_join(th, NULL);
}

static int evict_race(void)
{
	struct evictor e = { 0 };
	int nv, blk, outs[8], i, n, round, failed;
	struct buf buf;
	pthread_t th;
	uint32_t h = 0;
	long off;

	NEED_NVME();
	CHECK_RET(bound_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM,
			    &nv, &blk, &h, NULL), 0);
	fill_pattern(buf.cpu, 4 * MiB, 79);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 4 * MiB, 32 * MiB, NULL),
		  0);

	e.fd = buf.fd;
	e.handle = buf.handle;
	CHECK(!pthread_create(&th, NULL, evict_loop, &e), "pthread_create");
	for (round = 0; round < 3; round++) {
		memset(buf.cpu, 0, 4 * MiB);
		for (n = 0; n < 8; n++) {
			outs[n] = nv_async(nv, h, P2PBUF_NVME_READ, n * 512 * KiB,
					   512 * KiB, 32 * MiB + n * 512 * KiB,
					   -1);
			if (outs[n] < 0)
				break;
		}
		failed = n < 8 ? n : -1;
		for (i = 0; i < n; i++) {
			if ((fence_wait(outs[i], 30000) ||
			     fence_status(outs[i]) != 1) && failed < 0)
				failed = i;
			close(outs[i]);
		}
		off = failed < 0 ? check_pattern(buf.cpu, 4 * MiB, 79) : -1;
		if (failed >= 0 || off >= 0)
			evictor_stop(&e, th);
		CHECK(failed < 0, "round %d: read %d failed", round, failed);
		CHECK(off < 0, "round %d: byte %ld is wrong", round, off);
	}
	evictor_stop(&e, th);
	printf("# %d evictions during the reads, %d refused\n", e.evictions,
	       e.errors);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- threads ---- */

#define THREADS 8

struct io_thread {
	int nv;
	uint32_t h;
	unsigned int t;
	volatile int *stop;
	unsigned int done;	/* round trips, read with __atomic */
	int err;
	pthread_t th;
};

/*
 * One thread of several sharing a binding: round trips of 4 and 64 KiB
 * between its own source range of the buffer, its own range of the
 * namespace and its own destination range, synchronously.
 */
static void *io_thread_run(void *arg)
{
	struct io_thread *it = arg;
	uint64_t src = it->t * 256 * KiB, dst = src + 128 * KiB;
	uint64_t dev = 40 * MiB + it->t * 256 * KiB;
	unsigned int i;

	for (i = 0; !*it->stop; i++) {
		uint64_t len = i % 2 ? 64 * KiB : 4 * KiB;

		int err = nv_rw(it->nv, it->h, P2PBUF_NVME_WRITE, src, len,
				dev, NULL);

		if (!err)
			err = nv_rw(it->nv, it->h, P2PBUF_NVME_READ, dst, len,
				    dev, NULL);
		if (err) {
			/* Read by the main thread while this one runs. */
			__atomic_store_n(&it->err, err, __ATOMIC_RELAXED);
			break;
		}
		__atomic_add_fetch(&it->done, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static unsigned int io_threads_done(struct io_thread *its)
{
	unsigned int t, sum = 0;

	for (t = 0; t < THREADS; t++)
		sum += __atomic_load_n(&its[t].done, __ATOMIC_RELAXED);
	return sum;
}

/* THREADS io_thread_run()s on binding @h; -1 when one cannot start. */
static int io_threads_start(struct io_thread *its, int nv, uint32_t h,
			    volatile int *stop)
{
	unsigned int t;

	for (t = 0; t < THREADS; t++) {
		its[t] = (struct io_thread){ .nv = nv, .h = h, .t = t,
					     .stop = stop };
		if (pthread_create(&its[t].th, NULL, io_thread_run, &its[t])) {
			*stop = 1;
			while (t--)
				pthread_join(its[t].th, NULL);
			return -1;
		}
	}
	return 0;
}

/* Until the threads made @n round trips in all, 30 s at most. */
static void io_threads_wait(struct io_thread *its, unsigned int n)
{
	int i;

	for (i = 0; i < 300 && io_threads_done(its) < n; i++)
		usleep(100 * 1000);
}

/*
 * Eight threads share one binding, each with synchronous I/Os of its own:
 * one ioctl starts the I/Os that others queued meanwhile behind its own
 * (p2pbuf_nvme_start_now()). While an I/O held back by an in-fence waits
 * at the head of the queue, none of theirs may finish; once it is let
 * go, they all go on (the queue is handed back and forth between the
 * ioctls and the worker without a lost wake-up), and every byte arrives.
 */
static int threads(void)
{
	struct io_thread its[THREADS];
	volatile int stop = 0;
	unsigned int t, before, at[THREADS], n = 0, worst = 0, late = 0;
	int nv, blk, tl, in, out, failed = 0, i;
	struct buf buf;
	uint32_t h = 0;
	long off;

	NEED_NVME();
	tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	SKIP_UNLESS(tl >= 0, "no sw_sync");
	CHECK_RET(bound_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM,
			    &nv, &blk, &h, NULL), 0);
	memset(buf.cpu, 0, 4 * MiB);
	for (t = 0; t < THREADS; t++)
		fill_pattern(buf.cpu + t * 256 * KiB, 64 * KiB, 200 + t);
	fill_pattern(buf.cpu + 3 * MiB, 64 * KiB, 199);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, 3 * MiB, 64 * KiB, 39 * MiB,
			NULL), 0);
	memset(buf.cpu + 3 * MiB, 0, 64 * KiB);

	CHECK(!io_threads_start(its, nv, h, &stop), "pthread_create");
	io_threads_wait(its, 4 * THREADS);
	before = io_threads_done(its);

	/* An I/O held back: the threads' next ones queue behind it. */
	in = sw_fence(tl, 1);
	out = in < 0 ? in : nv_async(nv, h, P2PBUF_NVME_READ, 3 * MiB,
				     64 * KiB, 39 * MiB, in);
	if (out >= 0) {
		/*
		 * A thread's write or read queued ahead of it still finishes:
		 * one round trip more at most, however slow the machine.
		 */
		for (t = 0; t < THREADS; t++)
			at[t] = __atomic_load_n(&its[t].done, __ATOMIC_RELAXED);
		usleep(1000 * 1000);
		for (t = 0; t < THREADS; t++) {
			unsigned int d = __atomic_load_n(&its[t].done,
							 __ATOMIC_RELAXED);

			if (d > at[t] + 1 && d - at[t] > worst) {
				worst = d - at[t];
				late = t;
			}
		}
		if (worst)
			failed = 1;
		else if (!fence_wait(out, 0))
			failed = 2;
		n = io_threads_done(its);
		ioctl(tl, SW_SYNC_IOC_INC, &(uint32_t){ 1 });
		if (!failed && (fence_wait(out, 30000) ||
				fence_status(out) != 1))
			failed = 3;
		for (i = 0; !failed && i < 300 &&
			    io_threads_done(its) < n + 2 * THREADS; i++)
			usleep(100 * 1000);
		if (!failed && io_threads_done(its) < n + 2 * THREADS)
			failed = 4;
		close(out);
	}
	stop = 1;
	/* Stuck threads (a lost wake-up) get ECANCELED, not a hang. */
	if (failed)
		ioctl(nv, P2PBUF_NVME_IOC_UNBIND,
		      &(struct p2pbuf_nvme_unbind){ .handle = h });
	for (t = 0; t < THREADS; t++)
		pthread_join(its[t].th, NULL);
	printf("# %u round trips before the held I/O, %u in all\n", before,
	       io_threads_done(its));
	CHECK(in >= 0, "sw_fence: %s", strerror(-in));
	CHECK(out >= 0, "held read: %s", strerror(-out));
	CHECK(failed != 1, "thread %u did %u round trips behind the held I/O",
	      late, worst);
	CHECK(failed != 2, "the held I/O finished before its in-fence");
	CHECK(failed != 3, "the held I/O did not finish once let go");
	CHECK(failed != 4, "the threads did not go on after the held I/O");
	for (t = 0; t < THREADS; t++) {
		CHECK(!its[t].err, "thread %u: %s", t, strerror(-its[t].err));
		CHECK(its[t].done >= 2, "thread %u did %u round trips", t,
		      its[t].done);
		off = check_pattern(buf.cpu + t * 256 * KiB + 128 * KiB,
				    64 * KiB, 200 + t);
		CHECK(off < 0, "thread %u: byte %ld is wrong", t, off);
	}
	off = check_pattern(buf.cpu + 3 * MiB, 64 * KiB, 199);
	CHECK(off < 0, "held read: byte %ld is wrong", off);
	close(in);
	close(tl);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/*
 * UNBIND while eight threads keep the binding's queue busy, one ioctl often
 * starting the I/Os the others queued: UNBIND returns, and every thread's
 * ioctls end: an I/O queued but not started is cancelled (ECANCELED), an
 * ioctl that found the handle before UNBIND but queues after the binding
 * began closing gets ENODEV, the next one finds no handle (ENOENT).
 * Nothing hangs, and the same buffer and namespace take a new binding
 * whose round trip is right. How many threads ended each way is printed,
 * not asserted: it depends on the timing.
 */
static int threads_unbind(void)
{
	struct io_thread its[THREADS];
	volatile int stop = 0;
	unsigned int t, done = 0, ended[3] = { 0 };
	int nv, blk, ret, i;
	uint32_t h = 0, h2 = 0;
	double t0, took;
	struct buf buf;
	long off;

	NEED_NVME();
	CHECK_RET(bound_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM,
			    &nv, &blk, &h, NULL), 0);
	for (t = 0; t < THREADS; t++)
		fill_pattern(buf.cpu + t * 256 * KiB, 64 * KiB, 210 + t);
	CHECK(!io_threads_start(its, nv, h, &stop), "pthread_create");
	io_threads_wait(its, 2 * THREADS);
	done = io_threads_done(its);

	t0 = mono_ms();
	ret = ioctl(nv, P2PBUF_NVME_IOC_UNBIND,
		    &(struct p2pbuf_nvme_unbind){ .handle = h }) ? -errno : 0;
	took = mono_ms() - t0;
	/* Each thread stops at its first error: the handle is gone. */
	for (i = 0; i < 300; i++) {
		for (t = 0; t < THREADS &&
			    __atomic_load_n(&its[t].err, __ATOMIC_RELAXED); t++)
			;
		if (t == THREADS)
			break;
		usleep(100 * 1000);
	}
	stop = 1;
	for (t = 0; t < THREADS; t++)
		pthread_join(its[t].th, NULL);
	for (t = 0; t < THREADS; t++) {
		ended[0] += its[t].err == -ECANCELED;
		ended[1] += its[t].err == -ENODEV;
		ended[2] += its[t].err == -ENOENT;
	}
	printf("# %u round trips before UNBIND, which took %.0f ms; threads ended with ECANCELED %u, ENODEV %u, ENOENT %u\n",
	       done, took, ended[0], ended[1], ended[2]);
	CHECK(done >= 2 * THREADS, "only %u round trips before UNBIND", done);
	CHECK(ret == 0, "UNBIND: %s", strerror(-ret));
	for (t = 0; t < THREADS; t++)
		CHECK(its[t].err == -ECANCELED || its[t].err == -ENODEV ||
		      its[t].err == -ENOENT,
		      "thread %u ended with %s after UNBIND", t,
		      its[t].err ? strerror(-its[t].err) : "no error");
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 4 * KiB, 40 * MiB, NULL),
		  -ENOENT);

	/* The buffer and the namespace take a new binding. */
	CHECK_RET(nv_bind(nv, buf.dmabuf, blk, 0, &h2, NULL), 0);
	memset(buf.cpu + 3 * MiB, 0, 64 * KiB);
	CHECK_RET(nv_rw(nv, h2, P2PBUF_NVME_WRITE, 0, 64 * KiB, 40 * MiB,
			NULL), 0);
	CHECK_RET(nv_rw(nv, h2, P2PBUF_NVME_READ, 3 * MiB, 64 * KiB, 40 * MiB,
			NULL), 0);
	off = check_pattern(buf.cpu + 3 * MiB, 64 * KiB, 210);
	CHECK(off < 0, "after a new binding: byte %ld is wrong", off);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- io-error ---- */

static int io_error(void)
{
	int nv, blk, out, status, ret;
	struct buf buf;
	uint32_t h = 0;

	NEED_NVME();
	SKIP_UNLESS(!access("/sys/kernel/debug/fail_make_request", F_OK),
		    "kernel without CONFIG_FAIL_MAKE_REQUEST");
	CHECK_RET(bound_new(&buf, 1 * MiB, P2PGEM_PLACEMENT_VRAM,
			    &nv, &blk, &h, NULL), 0);
	CHECK_RET(write_file("/sys/kernel/debug/fail_make_request/probability",
			     "100"), 0);
	CHECK_RET(write_file("/sys/kernel/debug/fail_make_request/times",
			     "-1"), 0);
	CHECK_RET(write_file("/sys/kernel/debug/fail_make_request/verbose",
			     "0"), 0);
	CHECK_RET(write_file("/sys/block/nvme0n1/make-it-fail", "1"), 0);
	ret = nv_rw(nv, h, P2PBUF_NVME_READ, 0, 64 * KiB, 0, NULL);
	out = nv_async(nv, h, P2PBUF_NVME_WRITE, 0, 64 * KiB, 0, -1);
	if (out >= 0)
		fence_wait(out, 20000);
	status = out >= 0 ? fence_status(out) : out;
	write_file("/sys/block/nvme0n1/make-it-fail", "0");
	write_file("/sys/kernel/debug/fail_make_request/probability", "0");
	CHECK(ret == -EIO, "synchronous read: %d, want %d", ret, -EIO);
	CHECK(status == -EIO, "asynchronous write's fence: %d, want %d",
	      status, -EIO);
	/* And it works again. */
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 64 * KiB, 0, NULL), 0);
	close(out);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- file-ext4 ---- */

#define MNT "/tmp/p2pbuf-nvme-ext4"

/*
 * ext4 mounted with data=journal, which does no direct I/O: reads and
 * writes go through the page cache, every byte by the CPU, and cpu_bytes
 * says so; the bytes are right all the same. Mounts it so.
 */
static int file_ext4_journalled(struct buf *buf, uint8_t *tmp)
{
	const char *file = MNT "/journalled";
	uint64_t cpu = 0;
	uint32_t h = 0;
	int nv, fd, ret;

	ret = system("mount -t ext4 -o data=journal /dev/nvme0n1 " MNT);
	CHECK(ret == 0, "mount -o data=journal: %d", ret);
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	CHECK(nv >= 0, "open: %s", strerror(errno));
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "create: %s", strerror(errno));
	fill_pattern(tmp, 1 * MiB, 93);
	CHECK(write(fd, tmp, 1 * MiB) == (ssize_t)(1 * MiB) && !fsync(fd),
	      "write the file: %s", strerror(errno));
	CHECK_RET(nv_bind(nv, buf->dmabuf, fd, 0, &h, NULL), 0);
	memset(buf->cpu, 0, 1 * MiB);
	CHECK_RET(nv_rw_cpu(nv, h, P2PBUF_NVME_READ, 0, 1 * MiB, 0, NULL, &cpu),
		  0);
	CHECK(cpu == 1 * MiB, "journalled read: cpu_bytes %llu, want %llu",
	      (unsigned long long)cpu, (unsigned long long)(1 * MiB));
	CHECK(check_pattern(buf->cpu, 1 * MiB, 93) < 0,
	      "journalled read: the buffer differs from the file");
	fill_pattern(buf->cpu, 512 * KiB, 94);
	CHECK_RET(nv_rw_cpu(nv, h, P2PBUF_NVME_WRITE, 0, 512 * KiB, 256 * KiB,
			    NULL, &cpu), 0);
	CHECK(cpu == 512 * KiB, "journalled write: cpu_bytes %llu",
	      (unsigned long long)cpu);
	CHECK(pread(fd, tmp, 512 * KiB, 256 * KiB) == (ssize_t)(512 * KiB),
	      "read back: %s", strerror(errno));
	CHECK(check_pattern(tmp, 512 * KiB, 94) < 0,
	      "journalled write: the file differs");
	close(nv);
	close(fd);
	printf("# data=journal: read and write by the CPU, bytes right\n");
	return 0;
}

static void uring_prep(struct io_uring *ring, int nv, uint32_t cmd_op,
		       const struct p2pbuf_nvme_uring_io *cmd, uint64_t data);

/*
 * A read of data and a hole by io_uring on a ring with CQE32: res is the
 * path, big_cqe[0] the bytes the CPU moved.
 */
static int file_ext4_uring(int nv, uint32_t h, uint32_t want_path)
{
	struct io_uring_params params = { .flags = IORING_SETUP_SQE128 |
						   IORING_SETUP_CQE32 };
	struct p2pbuf_nvme_uring_io cmd = { .handle = h,
					    .op = P2PBUF_NVME_READ,
					    .length = 1 * MiB,
					    .dev_offset = 7 * MiB + 512 * KiB };
	struct __kernel_timespec ts = { .tv_sec = 30 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int ret, res;
	uint64_t extra;

	ret = io_uring_queue_init_params(4, &ring, &params);
	CHECK(ret == 0, "io_uring with SQE128 and CQE32: %s", strerror(-ret));
	uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, 0);
	ret = io_uring_submit(&ring);
	CHECK(ret == 1, "io_uring_submit: %d", ret);
	ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	CHECK(!ret, "no completion: %s", strerror(-ret));
	res = cqe->res;
	extra = cqe->big_cqe[0];
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	/* The file has data up to 8 MiB, a hole after: half and half. */
	CHECK(res == (int)want_path, "uring res %d, want %u", res, want_path);
	CHECK(extra == 512 * KiB, "uring big_cqe[0] %llu, want %llu",
	      (unsigned long long)extra, (unsigned long long)(512 * KiB));
	return 0;
}

/*
 * A file on ext4 on the NVMe namespace (made here, over what the other
 * subtests wrote): read into VRAM and written from it through ext4's
 * direct I/O, a hole read as zeros, a write that extends the file, and the
 * file's own bad input. What ext4 does with the CPU is reported
 * (cpu_bytes): the holes of a read, and everything with data=journal.
 */
static int file_ext4(void)
{
	uint32_t h = 0, hro = 0, path = 0, path2 = 0;
	const char *file = MNT "/data";
	int nv, fd, fdro, ret;
	uint64_t cpu = 1;
	struct buf buf;
	uint8_t *tmp;
	long off;

	NEED_NVME();
	SKIP_UNLESS(!system("command -v mkfs.ext4 > /dev/null"),
		    "no mkfs.ext4");
	mkdir(MNT, 0755);
	ret = system("mkfs.ext4 -q -F " "/dev/nvme0n1" " && mount -t ext4 /dev/nvme0n1 " MNT);
	CHECK(ret == 0, "mkfs.ext4 and mount: %d", ret);

	/* 8 MiB of pattern, written and synced the ordinary way. */
	tmp = malloc(8 * MiB);
	CHECK(tmp, "malloc");
	fill_pattern(tmp, 8 * MiB, 90);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "create: %s", strerror(errno));
	CHECK(write(fd, tmp, 8 * MiB) == (ssize_t)(8 * MiB) && !fsync(fd),
	      "write the file: %s", strerror(errno));
	fdro = open(file, O_RDONLY | O_CLOEXEC);
	CHECK(fdro >= 0, "open read-only: %s", strerror(errno));

	CHECK_RET(buf_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	CHECK(nv >= 0, "open: %s", strerror(errno));
	CHECK_RET(nv_bind(nv, buf.dmabuf, fd, 0, &h, NULL), 0);
	CHECK_RET(nv_bind(nv, buf.dmabuf, fdro, 0, &hro, NULL), 0);

	/* File -> VRAM. */
	memset(buf.cpu, 0, 4 * MiB);
	CHECK_RET(nv_rw_cpu(nv, h, P2PBUF_NVME_READ, 4096, 1 * MiB + 4096,
			    512 * KiB, &path, &cpu), 0);
	off = memcmp(buf.cpu + 4096, tmp + 512 * KiB, 1 * MiB + 4096);
	CHECK(!off, "the buffer differs from the file");
	CHECK(cpu == 0, "a read of data: cpu_bytes %llu",
	      (unsigned long long)cpu);
	printf("# file read: path %s\n",
	       path == P2PBUF_NVME_PATH_P2P ? "p2p" : "direct-system");

	/* VRAM -> file, checked with O_DIRECT. */
	fill_pattern(buf.cpu, 2 * MiB, 91);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 2 * MiB, 2 * MiB, NULL),
		  0);
	CHECK_RET(read_direct(file, 2 * MiB, tmp, 2 * MiB), 0);
	off = check_pattern(tmp, 2 * MiB, 91);
	CHECK(off < 0, "the file differs at byte %ld", off);

	/* A hole reads as zeros; a write past the end extends the file. */
	CHECK(!ftruncate(fd, 10 * MiB), "ftruncate: %s", strerror(errno));
	memset(buf.cpu, 0xa5, 1 * MiB);
	CHECK_RET(nv_rw_cpu(nv, h, P2PBUF_NVME_READ, 0, 1 * MiB, 9 * MiB,
			    &path2, &cpu), 0);
	CHECK(check_zero(buf.cpu, 1 * MiB) < 0, "a hole did not read as zeros");
	CHECK(cpu == 1 * MiB && path2 == path,
	      "a hole: cpu_bytes %llu, path %u", (unsigned long long)cpu,
	      path2);
	/* Half data, half hole: the data by DMA, the zeros by the CPU. */
	memset(buf.cpu, 0xa5, 1 * MiB);
	CHECK_RET(nv_rw_cpu(nv, h, P2PBUF_NVME_READ, 0, 1 * MiB,
			    7 * MiB + 512 * KiB, NULL, &cpu), 0);
	CHECK(!memcmp(buf.cpu, tmp + 7 * MiB + 512 * KiB, 512 * KiB) &&
	      check_zero(buf.cpu + 512 * KiB, 512 * KiB) < 0,
	      "data then hole: other bytes");
	CHECK(cpu == 512 * KiB, "data then hole: cpu_bytes %llu",
	      (unsigned long long)cpu);
	printf("# holes: reported as moved by the CPU\n");
	ret = file_ext4_uring(nv, h, path);
	if (ret)
		return ret;
	fill_pattern(buf.cpu, 1 * MiB, 92);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 1 * MiB, 12 * MiB, NULL),
		  0);
	CHECK(lseek(fd, 0, SEEK_END) == (off_t)(13 * MiB),
	      "size after the write: %lld", (long long)lseek(fd, 0, SEEK_END));
	CHECK_RET(read_direct(file, 12 * MiB, tmp, 1 * MiB), 0);
	CHECK(check_pattern(tmp, 1 * MiB, 92) < 0, "the extension differs");

	/* The file's own limits and rights. */
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 1 * MiB, 13 * MiB, NULL),
		  -EINVAL);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 4096, UINT64_MAX - 4095,
			NULL), -EFBIG);
	CHECK_RET(nv_rw(nv, hro, P2PBUF_NVME_WRITE, 0, 4096, 0, NULL), -EBADF);
	CHECK_RET(nv_rw(nv, hro, P2PBUF_NVME_READ, 0, 4096, 0, NULL), 0);

	close(nv);
	close(fdro);
	close(fd);
	ret = system("umount " MNT);
	CHECK(ret == 0, "umount: %d", ret);
	ret = file_ext4_journalled(&buf, tmp);
	if (ret)
		return ret;
	free(tmp);
	buf_free(&buf);
	ret = system("umount " MNT);
	CHECK(ret == 0, "umount: %d", ret);
	return 0;
}

/* ---- dma-trace ---- */

/* Append "START-END" (hex) of the buffer's device's BAR 2 to @out. */
static int bar_range(struct buf *b, char *out, size_t len)
{
	unsigned long long start, end, flags;
	char dev[64], path[128], line[160];
	int i, ret = -ENOENT;
	FILE *f;

	ret = pci_name_of(b->fd, dev, sizeof(dev));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", dev);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ret = -ENOENT;
	for (i = 0; fgets(line, sizeof(line), f); i++) {
		if (i != 2 ||
		    sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			continue;
		snprintf(out, len, "%llx-%llx", start, end + 1);
		ret = 0;
	}
	fclose(f);
	return ret;
}

/* "START-END,..." of every System RAM range in /proc/iomem. */
static int ram_ranges(char *out, size_t len)
{
	unsigned long long start, end;
	char line[160];
	size_t used = 0;
	FILE *f;

	f = fopen("/proc/iomem", "r");
	if (!f)
		return -errno;
	out[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == ' ' || !strstr(line, ": System RAM"))
			continue;
		if (sscanf(line, "%llx-%llx", &start, &end) != 2)
			continue;
		used += snprintf(out + used, len - used, "%s%llx-%llx",
				 used ? "," : "", start, end + 1);
		if (used >= len)
			break;
	}
	fclose(f);
	return out[0] && used < len ? 0 : -ENOENT;
}

/*
 * Where the NVMe device's DMA went, for the host to check in QEMU's own
 * trace of the device, which the guest cannot fake (tests/vm/
 * check-nvme-dma, after the VM): a read into a VRAM buffer and one into a
 * system-memory buffer, from block ranges no other test reads. For each,
 * a line in $P2PBUF_RESULTS/nvme-dma-expect: the command's first block
 * and block count, the path the module reported, and the addresses the
 * device may have written: the BAR of the buffer's device for p2p, System
 * RAM for direct-system. Under an IOMMU the device sees I/O virtual
 * addresses, which the trace cannot place: "iova" there.
 */
static int dma_trace(void)
{
	static const struct {
		uint32_t placement;
		uint64_t dev_offset;
	} cases[] = {
		{ P2PGEM_PLACEMENT_VRAM, 62 * MiB },
		{ P2PGEM_PLACEMENT_SYSTEM, 63 * MiB },
	};
	const char *dir = getenv("P2PBUF_RESULTS"), *topo = getenv("P2PBUF_TOPO");
	char path[256], ranges[1024];
	int nv, blk, i, ret;
	uint32_t h = 0, path_got = 0;
	struct buf buf;
	FILE *f;

	NEED_NVME();
	SKIP_UNLESS(dir, "not in the test VM (no P2PBUF_RESULTS)");
	snprintf(path, sizeof(path), "%s/nvme-dma-expect", dir);
	f = fopen(path, "w");
	CHECK(f, "%s: %s", path, strerror(errno));
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	blk = open(ns_path, O_RDWR | O_CLOEXEC);
	CHECK(nv >= 0 && blk >= 0, "open: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		CHECK_RET(buf_new(&buf, 128 * KiB, cases[i].placement), 0);
		CHECK_RET(nv_bind(nv, buf.dmabuf, blk, 0, &h, NULL), 0);
		CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 128 * KiB,
				cases[i].dev_offset, &path_got), 0);
		if (topo && !strcmp(topo, "iommu"))
			ret = snprintf(ranges, sizeof(ranges), "iova") < 0;
		else if (path_got == P2PBUF_NVME_PATH_P2P)
			ret = bar_range(&buf, ranges, sizeof(ranges));
		else
			ret = ram_ranges(ranges, sizeof(ranges));
		CHECK_RET(ret, 0);
		fprintf(f, "read %llu %u %s %s\n",
			(unsigned long long)cases[i].dev_offset / 512,
			(unsigned int)(128 * KiB / 512),
			path_got == P2PBUF_NVME_PATH_P2P ? "p2p" :
			"direct-system", ranges);
		printf("# read into %s: path %s, may land in %s\n",
		       i ? "system memory" : "VRAM",
		       path_got == P2PBUF_NVME_PATH_P2P ? "p2p" :
		       "direct-system", ranges);
		buf_free(&buf);
	}
	fclose(f);
	close(blk);
	close(nv);
	return 0;
}

/* ---- bounce ---- */

/*
 * A foreign exporter without the pages operation but with vmap (vgem):
 * BIND says bounce, every I/O goes through the module's own pages and a
 * CPU copy through the buffer's vmap (path bounce); the bytes checked on
 * the namespace and in the buffer, at an offset inside a page; an
 * asynchronous read's fence signals after the copy.
 */
static int bounce(void)
{
	const uint64_t len = 1 * MiB, at = 20 * MiB, boff = 8 * KiB;
	uint32_t h = 0, p2p = 0, path = 0, gem = 0;
	uint64_t cpu_bytes = 0;
	int vg, nv, blk, dmabuf, out;
	uint8_t *cpu = NULL, *back;
	long off;

	NEED_NVME();
	vg = vgem_open();
	SKIP_UNLESS(vg >= 0, "no vgem");
	CHECK_RET(vgem_create(vg, 2 * MiB, &gem, (void **)&cpu), 0);
	dmabuf = export_bo(vg, gem);
	CHECK(dmabuf >= 0, "export vgem: %s", strerror(-dmabuf));
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	blk = open(ns_path, O_RDWR | O_CLOEXEC);
	back = malloc(len);
	CHECK(nv >= 0 && blk >= 0 && back, "open: %s", strerror(errno));
	CHECK_RET(nv_bind(nv, dmabuf, blk, 0, &h, &p2p), 0);
	CHECK(p2p == P2PBUF_NVME_BOUNCE, "BIND said %u, want bounce", p2p);

	fill_pattern(cpu + boff, len, 97);
	CHECK_RET(nv_rw_cpu(nv, h, P2PBUF_NVME_WRITE, boff, len, at, &path,
			    &cpu_bytes), 0);
	CHECK(path == P2PBUF_NVME_PATH_BOUNCE, "write: path %u", path);
	CHECK(cpu_bytes == len, "write: the CPU copied %llu bytes, not %llu",
	      (unsigned long long)cpu_bytes, (unsigned long long)len);
	CHECK_RET(read_direct(ns_path, at, back, len), 0);
	off = check_pattern(back, len, 97);
	CHECK(off < 0, "the namespace differs at byte %ld", off);

	memset(cpu, 0, 2 * MiB);
	out = nv_async(nv, h, P2PBUF_NVME_READ, boff, len, at, -1);
	CHECK(out >= 0, "async read: %s", strerror(-out));
	CHECK(!fence_wait(out, 20000), "the read did not finish");
	CHECK(fence_status(out) == 1, "read: fence status %d",
	      fence_status(out));
	close(out);
	off = check_pattern(cpu + boff, len, 97);
	CHECK(off < 0, "the buffer differs at byte %ld", off);
	CHECK(check_zero(cpu, boff) < 0 &&
	      check_zero(cpu + boff + len, 2 * MiB - boff - len) < 0,
	      "the read wrote outside its range");

	free(back);
	close(blk);
	close(nv);
	close(dmabuf);
	munmap(cpu, 2 * MiB);
	close(vg);
	return 0;
}

/* ---- uring ---- */

/* Queue one P2PBUF_NVME_URING_IO; @cmd_op and @cmd as given. */
static void uring_prep(struct io_uring *ring, int nv, uint32_t cmd_op,
		       const struct p2pbuf_nvme_uring_io *cmd, uint64_t data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, nv, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	memcpy(sqe->cmd, cmd, sizeof(*cmd));
	sqe->user_data = data;
}

/* Submit what is queued and reap @n completions into res[user_data]. */
static int uring_reap(struct io_uring *ring, int *res, unsigned int n)
{
	struct __kernel_timespec ts = { .tv_sec = 30 };
	struct io_uring_cqe *cqe;
	unsigned int i;
	int ret;

	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		if (ret)
			return ret;
		res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

/*
 * io_uring: IORING_OP_URING_CMD on /dev/p2pbuf_nvme, on a ring with
 * SQE128. Eight writes, then eight reads, each batch in one submission,
 * complete with the path as res; the bytes are checked in the buffer and
 * on the namespace (O_DIRECT, apart from the module). A read held by an
 * in-fence completes only once the fence signals. Bad commands: an
 * unknown cmd_op (ENOTTY), a flag, a reserved field, zero length
 * (EINVAL), an unknown handle (ENOENT), a ring without SQE128 (EINVAL).
 */
static int uring(void)
{
	struct io_uring_params params = { .flags = IORING_SETUP_SQE128 };
	struct __kernel_timespec short_wait = { .tv_nsec = 300000000 };
	struct p2pbuf_nvme_uring_io cmd;
	struct io_uring ring, small;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	uint32_t h = 0, qp2p = 0;
	int nv, blk, tl, in, n, ret, res[8];
	uint8_t *back;
	struct buf buf;
	long off;

	NEED_NVME();
	ret = io_uring_queue_init_params(16, &ring, &params);
	SKIP_UNLESS(ret != -ENOSYS, "kernel without io_uring");
	CHECK_RET(ret, 0);
	CHECK_RET(buf_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	blk = open(ns_path, O_RDWR | O_CLOEXEC);
	back = malloc(4 * MiB);
	CHECK(nv >= 0 && blk >= 0 && back, "open: %s", strerror(errno));
	CHECK_RET(nv_bind(nv, buf.dmabuf, blk, 0, &h, &qp2p), 0);

	fill_pattern(buf.cpu, 4 * MiB, 83);
	for (n = 0; n < 8; n++) {
		cmd = (struct p2pbuf_nvme_uring_io){
			.handle = h, .op = P2PBUF_NVME_WRITE,
			.buf_offset = n * 512 * KiB, .length = 512 * KiB,
			.dev_offset = 16 * MiB + n * 512 * KiB,
		};
		uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, n);
	}
	CHECK_RET(uring_reap(&ring, res, 8), 0);
	for (n = 0; n < 8; n++)
		CHECK((uint32_t)res[n] == expected_path(&buf, qp2p),
		      "write %d: res %d, want path %u", n, res[n],
		      expected_path(&buf, qp2p));
	memset(buf.cpu, 0, 4 * MiB);
	for (n = 0; n < 8; n++) {
		cmd.op = P2PBUF_NVME_READ;
		cmd.buf_offset = n * 512 * KiB;
		cmd.dev_offset = 16 * MiB + n * 512 * KiB;
		uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, n);
	}
	CHECK_RET(uring_reap(&ring, res, 8), 0);
	for (n = 0; n < 8; n++)
		CHECK(res[n] > 0, "read %d: res %d", n, res[n]);
	off = check_pattern(buf.cpu, 4 * MiB, 83);
	CHECK(off < 0, "the buffer differs at byte %ld", off);
	CHECK_RET(read_direct(ns_path, 16 * MiB, back, 4 * MiB), 0);
	off = check_pattern(back, 4 * MiB, 83);
	CHECK(off < 0, "the namespace differs at byte %ld", off);

	/* Held back by an in-fence. */
	tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl >= 0) {
		in = sw_fence(tl, 1);
		CHECK(in >= 0, "sw_sync fence");
		cmd.flags = P2PBUF_NVME_IO_IN_FENCE;
		cmd.in_fence_fd = in;
		uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, 0);
		CHECK(io_uring_submit(&ring) == 1, "submit");
		CHECK(io_uring_wait_cqe_timeout(&ring, &cqe, &short_wait) ==
		      -ETIME, "the read completed before its in-fence");
		CHECK(!ioctl(tl, SW_SYNC_IOC_INC, &(uint32_t){ 1 }),
		      "sw_sync inc");
		CHECK_RET(uring_reap(&ring, res, 1), 0);
		CHECK(res[0] > 0, "held read: res %d", res[0]);
		close(in);
		close(tl);
		cmd.flags = 0;
		cmd.in_fence_fd = 0;
	}

	/* Bad commands. */
	uring_prep(&ring, nv, 0x1234, &cmd, 0);
	CHECK_RET(uring_reap(&ring, res, 1), 0);
	CHECK(res[0] == -ENOTTY, "unknown cmd_op: res %d", res[0]);
	cmd.flags = P2PBUF_NVME_IO_ASYNC;
	uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, 0);
	CHECK_RET(uring_reap(&ring, res, 1), 0);
	CHECK(res[0] == -EINVAL, "flag ASYNC: res %d", res[0]);
	cmd.flags = 0;
	cmd.reserved[1] = 1;
	uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, 0);
	CHECK_RET(uring_reap(&ring, res, 1), 0);
	CHECK(res[0] == -EINVAL, "reserved: res %d", res[0]);
	cmd.reserved[1] = 0;
	cmd.length = 0;
	uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, 0);
	CHECK_RET(uring_reap(&ring, res, 1), 0);
	CHECK(res[0] == -EINVAL, "zero length: res %d", res[0]);
	cmd.length = 4096;
	cmd.handle = h + 100;
	uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, 0);
	CHECK_RET(uring_reap(&ring, res, 1), 0);
	CHECK(res[0] == -ENOENT, "unknown handle: res %d", res[0]);
	io_uring_queue_exit(&ring);

	/* A ring with 64-byte SQEs has 16 bytes for the command. */
	CHECK_RET(io_uring_queue_init(4, &small, 0), 0);
	cmd.handle = h;
	sqe = io_uring_get_sqe(&small);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, nv, NULL, 0, 0);
	sqe->cmd_op = P2PBUF_NVME_URING_IO;
	CHECK_RET(io_uring_submit_and_wait(&small, 1), 1);
	CHECK_RET(io_uring_peek_cqe(&small, &cqe), 0);
	CHECK(cqe->res == -EINVAL, "without SQE128: res %d", cqe->res);
	io_uring_cqe_seen(&small, cqe);
	io_uring_queue_exit(&small);

	free(back);
	close(blk);
	close(nv);
	buf_free(&buf);
	return 0;
}

/* ---- dm-linear ---- */

#define DM_NAME "p2pbuf-nvme-test"
#define DM_START (48 * MiB)

/* The /dev/dm-N of the device-mapper device called @name. */
static int dm_node(const char *name, char *node, size_t len)
{
	char path[300], got[128];
	struct dirent *d;
	DIR *dir;
	int ret = -ENOENT;
	FILE *f;

	dir = opendir("/sys/block");
	if (!dir)
		return -errno;
	while (ret && (d = readdir(dir))) {
		if (strncmp(d->d_name, "dm-", 3))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/dm/name", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(got, sizeof(got), f) &&
		    !strncmp(got, name, strlen(name)) &&
		    (got[strlen(name)] == '\n' || !got[strlen(name)])) {
			snprintf(node, len, "/dev/%.16s", d->d_name);
			ret = 0;
		}
		fclose(f);
	}
	closedir(dir);
	return ret;
}

/*
 * dm-linear over the end of the namespace: 6.1's device-mapper queue has
 * no QUEUE_FLAG_PCI_P2PDMA and no PCI function, so BIND says the queue
 * cannot do P2P and every I/O is direct-system (the buffer moves to system
 * memory, the NVMe device DMAs into its pages, through dm). The bytes are
 * checked on the namespace itself.
 */
static int dm_linear(void)
{
	uint8_t *back = malloc(1 * MiB);
	char cmd[256], node[32];
	uint32_t h = 0, p2p = 0, path = 0;
	struct buf buf;
	int nv, dm, ret;
	long off;

	NEED_NVME();
	CHECK(back, "malloc");
	snprintf(cmd, sizeof(cmd),
		 "modprobe -q dm-mod 2>/dev/null; dmsetup create " DM_NAME
		 " --noudevsync --table '0 %llu linear %s %llu' >/dev/null 2>&1",
		 (64 * MiB - DM_START) / 512, ns_path, DM_START / 512);
	SKIP_UNLESS(!system(cmd), "no device-mapper (dmsetup create failed)");
	ret = dm_node(DM_NAME, node, sizeof(node));
	if (ret) {
		system("dmsetup remove --noudevsync " DM_NAME);
		CHECK_RET(ret, 0);
	}
	CHECK_RET(buf_new(&buf, 1 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	dm = open(node, O_RDWR | O_CLOEXEC);
	CHECK(nv >= 0 && dm >= 0, "open %s: %s", node, strerror(errno));
	ret = nv_bind(nv, buf.dmabuf, dm, 0, &h, &p2p);
	if (!ret) {
		fill_pattern(buf.cpu, 1 * MiB, 91);
		ret = nv_rw(nv, h, P2PBUF_NVME_WRITE, 0, 1 * MiB, 4 * MiB,
			    &path);
	}
	close(dm);
	if (!ret && path == P2PBUF_NVME_PATH_DIRECT_SYSTEM) {
		memset(buf.cpu, 0, 1 * MiB);
		ret = nv_rw(nv, h, P2PBUF_NVME_READ, 0, 1 * MiB, 4 * MiB,
			    &path);
	}
	close(nv);
	/* The binding, and with it dm's block device, is gone. */
	system("dmsetup remove --noudevsync " DM_NAME);
	CHECK_RET(ret, 0);
	CHECK(p2p == P2PBUF_NVME_QUEUE_NO_P2P, "BIND said p2p %u", p2p);
	CHECK(path == P2PBUF_NVME_PATH_DIRECT_SYSTEM, "path %u", path);
	off = check_pattern(buf.cpu, 1 * MiB, 91);
	CHECK(off < 0, "read back through dm: byte %ld is wrong", off);
	CHECK_RET(read_direct(ns_path, DM_START + 4 * MiB, back, 1 * MiB), 0);
	off = check_pattern(back, 1 * MiB, 91);
	CHECK(off < 0, "the namespace differs at byte %ld", off);
	CHECK(dm_node(DM_NAME, node, sizeof(node)) == -ENOENT,
	      "dmsetup remove failed");
	buf_free(&buf);
	free(back);
	return 0;
}

/* ---- controller-remove, exporter-unbind ---- */

/*
 * A thread that keeps eight reads of 512 KiB in flight into @h's 4 MiB
 * buffer until an IO ioctl fails (the device or the exporter went away)
 * or @stop: so that there is I/O in flight whenever the main thread pulls
 * something away. Every fence it got is waited for and counted.
 */
struct reader {
	int nv;
	uint32_t h;
	volatile int stop;
	volatile int issued;
	int ok, failed, hung, ioctl_err;
	pthread_t th;
};

static void *reader_loop(void *arg)
{
	struct reader *r = arg;
	int ring[8], n = 0, i = 0, fd, st;

	for (;;) {
		if (n == 8 || r->stop || r->ioctl_err) {
			if (!n)
				break;
			fd = ring[(i + 8 - n) % 8];
			n--;
			if (fence_wait(fd, 30000))
				r->hung++;
			st = fence_status(fd);
			if (st == 1)
				r->ok++;
			else
				r->failed++;
			close(fd);
			continue;
		}
		fd = nv_async(r->nv, r->h, P2PBUF_NVME_READ, i * 512 * KiB,
			      512 * KiB, 40 * MiB + i * 512 * KiB, -1);
		if (fd < 0) {
			r->ioctl_err = fd;
			continue;
		}
		ring[i] = fd;
		i = (i + 1) % 8;
		n++;
		r->issued++;
	}
	return NULL;
}

static int reader_start(struct reader *r, int nv, uint32_t h)
{
	memset(r, 0, sizeof(*r));
	r->nv = nv;
	r->h = h;
	if (pthread_create(&r->th, NULL, reader_loop, r))
		return -EAGAIN;
	/* Under way, with reads in flight. */
	while (r->issued < 16 && !r->ioctl_err)
		usleep(1000);
	return r->ioctl_err;
}

static void reader_stop(struct reader *r)
{
	r->stop = 1;
	pthread_join(r->th, NULL);
	printf("# %d reads: %d ended well, %d with an error; the next IO got %d\n",
	       r->issued, r->ok, r->failed, r->ioctl_err);
}

/*
 * Pull something away under the reader: write @text to the sysfs file
 * @path, let the reader run into its first failing ioctl, stop it. The
 * write's result; the reader's counts are in @rd.
 */
static int reader_pull(struct reader *rd, const char *path, const char *text)
{
	int ret = write_file(path, text);

	while (!rd->ioctl_err && !ret)
		usleep(1000);
	reader_stop(rd);
	return ret;
}

static int wait_for_namespace(void)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!access(ns_path, F_OK))
			return 0;
		usleep(50 * 1000);
	}
	return -ETIME;
}

/*
 * The NVMe controller removed (sysfs remove, what a hot removal does to
 * the driver) while reads into VRAM are in flight and another waits for
 * its in-fence: the remove returns, the started reads end, the held one
 * fails with ENODEV, and so does every later I/O and BIND on the dead
 * controller; closing is clean (DMA-API debugging: nothing stays mapped
 * for the removed function). A rescan brings the controller back.
 */
static int controller_remove(void)
{
	struct reader rd;
	struct held r;
	struct buf buf;
	char path[96];
	uint32_t h = 0, h2 = 0;
	int ret, st;

	NEED_NVME();
	ret = held_read(&r);
	SKIP_UNLESS(ret != SKIP, "no sw_sync");
	CHECK_RET(ret, 0);
	CHECK_RET(buf_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	CHECK_RET(nv_bind(r.nv, buf.dmabuf, r.blk, 0, &h, NULL), 0);
	CHECK_RET(reader_start(&rd, r.nv, h), 0);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", ns_pci);
	CHECK_RET(reader_pull(&rd, path, "1"), 0);
	CHECK(!rd.hung, "%d reads did not end", rd.hung);
	CHECK_RET(rd.ioctl_err, -ENODEV);
	CHECK(!fence_wait(r.out, 2000), "the held read did not end");
	st = fence_status(r.out);
	CHECK(st == -ENODEV, "held read: status %d, want %d", st, -ENODEV);
	CHECK_RET(nv_rw(r.nv, h, P2PBUF_NVME_READ, 0, 4096, 0, NULL),
		  -ENODEV);
	CHECK_RET(nv_bind(r.nv, buf.dmabuf, r.blk, 0, &h2, NULL), -ENODEV);
	/* Nothing pins the buffer any more, even without move_notify. */
	CHECK_RET(p2p_evict(buf.fd, buf.handle), 0);
	buf_free(&buf);
	held_free(&r);

	CHECK_RET(write_file("/sys/bus/pci/rescan", "1"), 0);
	CHECK_RET(wait_for_namespace(), 0);
	return 0;
}

/*
 * p2pgem unbound while reads into its VRAM are in flight: its revoke's
 * move_notify waits for them, later I/O on the binding fails with ENODEV.
 * The reads' sync_files stay readable after the unbind and, once the
 * importer's files are closed, after rmmod of p2pbuf_nvme (KASAN). The
 * device is bound again here; p2pbuf-nvme.sh loads the module again.
 */
static int exporter_unbind(void)
{
	struct io_uring_params params = { .flags = IORING_SETUP_SQE128 };
	struct __kernel_timespec ts = { .tv_sec = 30 };
	char dev[64], driver[32], timeline[32];
	int nv, blk, kept[2], i, st, ret, tl, in = -1, res = 0;
	int vg, vbuf = -1, vkept = -1;
	uint32_t gem = 0, hv = 0, p2p = 0;
	uint8_t *vcpu = NULL;
	struct p2pbuf_nvme_uring_io cmd;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct reader rd;
	struct buf buf;
	uint32_t h = 0, h2 = 0;
	double start;

	NEED_NVME();
	/* The reader uses the first 4 MiB; the kept reads the fifth. */
	CHECK_RET(buf_new(&buf, 5 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	CHECK_RET(pci_name_of(buf.fd, dev, sizeof(dev)), 0);
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	blk = open(ns_path, O_RDWR | O_CLOEXEC);
	CHECK(nv >= 0 && blk >= 0, "open: %s", strerror(errno));
	CHECK_RET(nv_bind(nv, buf.dmabuf, blk, 0, &h, NULL), 0);
	/*
	 * Two fences to hold across the unbind and rmmod, from reads into
	 * bytes no other read in flight writes (two DMAs into the same
	 * system memory at once make DMA-API debugging report overlapping
	 * mappings, on topologies where the buffer is in system memory).
	 */
	for (i = 0; i < 2; i++) {
		kept[i] = nv_async(nv, h, P2PBUF_NVME_READ, 4 * MiB + i * 64 * KiB,
				   64 * KiB, 0, -1);
		CHECK(kept[i] >= 0, "read: %s", strerror(-kept[i]));
	}
	/*
	 * An io_uring read held back by an in-fence that never signals, on a
	 * binding of its own (a binding starts its I/Os in order: the
	 * reader's must not wait behind it). Its fence is in the buffer, so
	 * the unbind, which moves every buffer out, waits for it: as long as
	 * dep_timeout_ms (2 s here), then it fails with ETIMEDOUT.
	 */
	CHECK_RET(io_uring_queue_init_params(4, &ring, &params), 0);
	tl = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl >= 0) {
		CHECK_RET(param_set("dep_timeout_ms", "2000"), 0);
		CHECK_RET(nv_bind(nv, buf.dmabuf, blk, 0, &h2, NULL), 0);
		in = sw_fence(tl, 1);
		CHECK(in >= 0, "sw_sync fence");
		cmd = (struct p2pbuf_nvme_uring_io){
			.handle = h2, .op = P2PBUF_NVME_READ,
			.buf_offset = 4 * MiB + 128 * KiB, .length = 64 * KiB,
			.flags = P2PBUF_NVME_IO_IN_FENCE, .in_fence_fd = in,
		};
		uring_prep(&ring, nv, P2PBUF_NVME_URING_IO, &cmd, 0);
		CHECK(io_uring_submit(&ring) == 1, "submit");
	}
	CHECK_RET(reader_start(&rd, nv, h), 0);

	start = now();
	ret = reader_pull(&rd, "/sys/bus/pci/drivers/p2pgem/unbind", dev);
	printf("# unbind with reads in flight took %.2f s\n", now() - start);
	CHECK_RET(ret, 0);
	CHECK(!rd.hung, "%d reads did not end", rd.hung);
	CHECK_RET(rd.ioctl_err, -ENODEV);
	CHECK_RET(nv_rw(nv, h, P2PBUF_NVME_READ, 0, 4096, 0, NULL), -ENODEV);
	munmap(buf.cpu, buf.size);
	buf.cpu = NULL;
	buf_free(&buf);
	close(blk);
	/* The ring's command holds the file now. */
	close(nv);
	if (tl >= 0) {
		param_set("dep_timeout_ms", "10000");
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		CHECK(!ret, "the held io_uring read never completed: %s",
		      strerror(-ret));
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		CHECK(res == -ETIMEDOUT, "held io_uring read: res %d, want %d",
		      res, -ETIMEDOUT);
		close(in);
		close(tl);
	}
	io_uring_queue_exit(&ring);
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/bind", dev), 0);
	i = open_pci(dev);
	CHECK(i >= 0, "p2pgem is not back on %s", dev);
	close(i);

	/*
	 * The bounce path across the rmmod: a vgem buffer (the module's
	 * static attachment for its own device pins it, its vmap copies),
	 * read into, the binding closed, the buffer and the read's sync_file
	 * kept.
	 */
	vg = vgem_open();
	if (vg >= 0) {
		CHECK_RET(vgem_create(vg, 1 * MiB, &gem, (void **)&vcpu), 0);
		vbuf = export_bo(vg, gem);
		CHECK(vbuf >= 0, "export vgem: %s", strerror(-vbuf));
		nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
		blk = open(ns_path, O_RDWR | O_CLOEXEC);
		CHECK(nv >= 0 && blk >= 0, "open: %s", strerror(errno));
		CHECK_RET(nv_bind(nv, vbuf, blk, 0, &hv, &p2p), 0);
		CHECK(p2p == P2PBUF_NVME_BOUNCE, "BIND said %u, want bounce",
		      p2p);
		fill_pattern(vcpu, 1 * MiB, 79);
		CHECK_RET(nv_rw(nv, hv, P2PBUF_NVME_WRITE, 0, 1 * MiB, 24 * MiB,
				NULL), 0);
		memset(vcpu, 0, 1 * MiB);
		vkept = nv_async(nv, hv, P2PBUF_NVME_READ, 0, 1 * MiB, 24 * MiB,
				 -1);
		CHECK(vkept >= 0, "bounce read: %s", strerror(-vkept));
		CHECK(!fence_wait(vkept, 20000), "the bounce read did not end");
		close(blk);
		close(nv);
	}

	/* Only the sync_files hold the importer's fences now. */
	CHECK(system("rmmod p2pbuf_nvme") == 0,
	      "rmmod p2pbuf_nvme failed with its fences held");
	for (i = 0; i < 2; i++) {
		CHECK_RET(fence_names(kept[i], driver, timeline), 0);
		CHECK(!strcmp(driver, "p2pbuf_nvme"),
		      "fence %d after rmmod: driver %.32s", i, driver);
		st = fence_status(kept[i]);
		CHECK(st == 1, "fence %d after rmmod: status %d", i, st);
		close(kept[i]);
	}
	CHECK_RET(read_all("/sys/kernel/debug/dma_buf/bufinfo"), 0);
	if (vg >= 0) {
		CHECK_RET(fence_names(vkept, driver, timeline), 0);
		CHECK(fence_status(vkept) == 1, "bounce fence after rmmod: %d",
		      fence_status(vkept));
		CHECK(check_pattern(vcpu, 1 * MiB, 79) < 0,
		      "the vgem buffer lost the bounce read's bytes");
		close(vkept);
		munmap(vcpu, 1 * MiB);
		close(vbuf);
		close(vg);
	}
	return 0;
}

static const struct subtest tests[] = {
	{ "bind-bad", bind_bad },
	{ "io-bad", io_bad },
	{ "roundtrip-vram", roundtrip_vram },
	{ "roundtrip-system", roundtrip_system },
	{ "fences", fences },
	{ "sync-signals", sync_signals },
	{ "dep-timeout", dep_timeout },
	{ "close-cancels", close_cancels },
	{ "pin-linger", pin_linger },
	{ "evict-race", evict_race },
	{ "threads", threads },
	{ "threads-unbind", threads_unbind },
	{ "io-error", io_error },
	{ "bounce", bounce },
	{ "uring", uring },
	{ "dm-linear", dm_linear },
	{ "dma-trace", dma_trace },
	{ "file-ext4", file_ext4 },
	{ "controller-remove", controller_remove },
	{ "exporter-unbind", exporter_unbind },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(*tests));
}
