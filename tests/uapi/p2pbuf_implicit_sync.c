// SPDX-License-Identifier: MIT
/*
 * p2pbuf_implicit_sync: implicit synchronisation in the importer helpers
 * (P2PBUF_IMPORT_IMPLICIT_SYNC), through the test importer's
 * P2PBUF_TI_ATTACH_IMPLICIT_SYNC and QEMU's edu device DMAing a p2pgem
 * VRAM buffer object. Other users' fences come from sw_sync, imported into
 * the dma-buf with DMA_BUF_IOCTL_IMPORT_SYNC_FILE, and from a p2pgem copy
 * held back by one.
 *
 * - implicit-sync-read: with a writer pending, a device read without the
 *   flag completes at once with the old bytes; with the flag it completes
 *   only once the writer signalled, and reads the bytes written meanwhile;
 *   a pending reader does not hold a read back;
 * - implicit-sync-write: with a reader pending, a device write with the
 *   flag lands only once the reader signalled; without it, at once;
 * - implicit-sync-copy: a p2pgem copy into the buffer waits for a
 *   userspace fence on its source; a device read of the destination
 *   without the flag gets the old bytes at once, with it the copied ones
 *   after the copy;
 * - implicit-sync-error: a writer that signals with an error fails the
 *   read waiting for it with that error;
 * - implicit-sync-bad-input: attach flags, and the flag with a static
 *   importer.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>

#include "p2pbuf_ti_lib.h"
#include "../lib/sw_sync.h"

#define RW_LEN		2048	/* bytes each DMA moves */
#define HELD_MS		1000	/* a DMA held back stays so this long */
#define DONE_MS		20000	/* a DMA free to run is done by then */

/* A device read in a child process, which blocks until the DMA is done. */
struct reader {
	pid_t pid;
	int fd;
};

static int read_start(struct reader *r, int ti, uint64_t offset)
{
	int p[2];

	if (pipe(p))
		return -errno;
	r->pid = fork();
	if (r->pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!r->pid) {
		static uint8_t buf[RW_LEN];
		int32_t ret, fd;

		/* Only the importer and the pipe: a sw_sync timeline kept
		 * open here would keep its fences from failing on close. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != ti && fd != p[1])
				close(fd);
		ret = ti_dma(ti, offset, buf, RW_LEN,
			     P2PBUF_TI_DMA_FROM_BUFFER);
		if (write(p[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(1);
		if (!ret && write(p[1], buf, RW_LEN) != RW_LEN)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	r->fd = p[0];
	return 0;
}

/* 1 when the read completed within ms, else 0. */
static int read_done(struct reader *r, int ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* The ioctl's result (0 or -errno); the bytes in buf. -EPIPE: no answer. */
static int read_finish(struct reader *r, uint8_t *buf)
{
	int32_t ret = -EPIPE;
	int status;

	if (read(r->fd, &ret, sizeof(ret)) != sizeof(ret))
		ret = -EPIPE;
	else if (!ret && read(r->fd, buf, RW_LEN) != RW_LEN)
		ret = -EPIPE;
	close(r->fd);
	if (waitpid(r->pid, &status, 0) != r->pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		ret = -EPIPE;
	return ret;
}

/* A sw_sync fence on the timeline, imported into the dma-buf. */
static int import_fence(int timeline, int dmabuf, uint32_t value,
			uint32_t flags)
{
	struct sw_sync_create_fence_data fence = { .value = value,
						   .name = "p2pbuf-test" };
	struct dma_buf_import_sync_file imp = { .flags = flags };
	int ret = 0;

	if (ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &fence))
		return -errno;
	imp.fd = fence.fence;
	if (ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp))
		ret = -errno;
	close(fence.fence);
	return ret;
}

static int timeline_inc(int timeline)
{
	uint32_t one = 1;

	return ioctl(timeline, SW_SYNC_IOC_INC, &one) ? -errno : 0;
}

/*
 * The setup of each case: a VRAM buffer object filled with pattern @seed,
 * a sw_sync timeline and one test importer file, attached for the edu
 * device as a plain or as an implicitly synchronised dynamic P2P importer
 * by importer(). One at a time: two mappings of the same memory for the
 * same device at once are more than DMA-API debugging accepts ("overlapping
 * mappings aren't supported"). Skips without the edu device or sw_sync.
 */
struct setup {
	struct bo b;
	int ti, timeline;
	char edu[EDU_NAME_LEN];
};

/* (Re-)attach the importer, with implicit sync or without, and map. */
static int importer(struct setup *s, int sync)
{
	static struct mapping m;

	if (ioctl(s->ti, P2PBUF_TI_IOCTL_DETACH) && errno != ENOENT)
		CHECK(0, "detach: %s", strerror(errno));
	CHECK_RET(ti_attach(s->ti, s->b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    sync ? P2PBUF_TI_ATTACH_IMPLICIT_SYNC : 0, s->edu),
		  0);
	CHECK_RET(ti_map(s->ti, &m, &s->b), 0);
	return 0;
}

static int setup(struct setup *s, uint64_t seed)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	SKIP_UNLESS(s->timeline >= 0, "no sw_sync");
	/*
	 * VRAM where the edu device reaches it peer-to-peer. Elsewhere the
	 * importer gets system memory anyway, and a buffer object that wants
	 * VRAM would go back there on the CPU write below: that move waits,
	 * in move_notify, for the held DMA, which waits for the fence this
	 * process signals only after the write.
	 */
	ret = edu_bo_new(&s->b, 64 * KiB,
			 topo_p2p_kind() == K_SYSTEM ? P2PGEM_PLACEMENT_SYSTEM :
			 P2PGEM_PLACEMENT_VRAM, s->edu);
	if (ret)
		return ret;
	fill_pattern(s->b.cpu, s->b.size, seed);
	s->ti = ti_open();
	CHECK(s->ti >= 0, "open the test importer");
	/* Mapped first, so that the buffer object is where it stays (on
	 * topologies without P2P the map moves it to system memory). */
	if (importer(s, 0))
		return -1;
	CHECK_RET(bo_idle(&s->b), 0);
	return 0;
}

static void teardown(struct setup *s)
{
	close(s->ti);
	if (s->timeline >= 0)
		close(s->timeline);
	bo_free(&s->b);
}

static int implicit_sync_read(void)
{
	uint8_t in[RW_LEN];
	struct reader r;
	struct setup s;
	int ret;

	ret = setup(&s, 31);
	if (ret)
		return ret;
	CHECK_RET(import_fence(s.timeline, s.b.dmabuf, 1, DMA_BUF_SYNC_WRITE),
		  0);

	/* Without the flag the device does not wait for the writer. */
	CHECK_RET(read_start(&r, s.ti, 0), 0);
	CHECK(read_done(&r, DONE_MS),
	      "a read without implicit sync waited for the writer");
	CHECK_RET(read_finish(&r, in), 0);
	CHECK(check_pattern(in, RW_LEN, 31) == -1,
	      "the read without implicit sync got other bytes");

	/* With it, not before the writer is done; then it gets its bytes. */
	if (importer(&s, 1))
		return -1;
	CHECK_RET(read_start(&r, s.ti, 0), 0);
	CHECK(!read_done(&r, HELD_MS),
	      "the read with implicit sync did not wait for the writer");
	fill_pattern(s.b.cpu, RW_LEN, 32);	/* what the "writer" wrote */
	CHECK_RET(timeline_inc(s.timeline), 0);
	CHECK(read_done(&r, DONE_MS), "the read never completed");
	CHECK_RET(read_finish(&r, in), 0);
	CHECK(check_pattern(in, RW_LEN, 32) == -1,
	      "the read with implicit sync did not get the writer's bytes");

	/* A pending reader does not hold a read back. */
	CHECK_RET(import_fence(s.timeline, s.b.dmabuf, 2, DMA_BUF_SYNC_READ),
		  0);
	CHECK_RET(read_start(&r, s.ti, 0), 0);
	CHECK(read_done(&r, DONE_MS), "a read waited for another reader");
	CHECK_RET(read_finish(&r, in), 0);
	CHECK(check_pattern(in, RW_LEN, 32) == -1, "the read got other bytes");
	CHECK_RET(timeline_inc(s.timeline), 0);
	CHECK_RET(bo_idle(&s.b), 0);
	teardown(&s);
	return 0;
}

/* Poll the CPU mapping until the bytes are there; 1 if within ms. */
static int bytes_land(const void *cpu, uint64_t seed, int ms)
{
	for (; ms > 0; ms -= 50) {
		if (check_pattern(cpu, RW_LEN, seed) == -1)
			return 1;
		usleep(50000);
	}
	return check_pattern(cpu, RW_LEN, seed) == -1;
}

static int implicit_sync_write(void)
{
	uint8_t out[RW_LEN];
	struct setup s;
	int ret;

	ret = setup(&s, 41);
	if (ret)
		return ret;
	CHECK_RET(import_fence(s.timeline, s.b.dmabuf, 1, DMA_BUF_SYNC_READ),
		  0);

	/* Without the flag a write does not wait for the reader. */
	fill_pattern(out, RW_LEN, 42);
	CHECK_RET(ti_dma(s.ti, 0, out, RW_LEN, P2PBUF_TI_DMA_TO_BUFFER), 0);
	CHECK(bytes_land(s.b.cpu, 42, DONE_MS),
	      "a write without implicit sync waited for the reader");

	/* With it, not before the reader is done. */
	if (importer(&s, 1))
		return -1;
	fill_pattern(out, RW_LEN, 43);
	CHECK_RET(ti_dma(s.ti, 0, out, RW_LEN, P2PBUF_TI_DMA_TO_BUFFER), 0);
	CHECK(!bytes_land(s.b.cpu, 43, HELD_MS),
	      "the write with implicit sync did not wait for the reader");
	CHECK(check_pattern(s.b.cpu, RW_LEN, 42) == -1,
	      "the buffer changed under the pending reader");
	CHECK_RET(timeline_inc(s.timeline), 0);
	CHECK_RET(bo_idle(&s.b), 0);
	CHECK(check_pattern(s.b.cpu, RW_LEN, 43) == -1,
	      "the write with implicit sync never landed");
	teardown(&s);
	return 0;
}

/* The same with a real writer: a p2pgem copy held back by its source. */
static int implicit_sync_copy(void)
{
	uint8_t in[RW_LEN];
	uint32_t src;
	int src_dmabuf, ret;
	struct reader r;
	struct setup s;
	void *src_cpu;

	ret = setup(&s, 51);
	if (ret)
		return ret;
	CHECK_RET(p2p_create(s.b.fd, s.b.size, P2PGEM_PLACEMENT_SYSTEM, 0,
			     &src), 0);
	src_cpu = p2p_map(s.b.fd, src, s.b.size);
	CHECK(src_cpu, "mmap: %s", strerror(errno));
	fill_pattern(src_cpu, s.b.size, 52);
	CHECK(!drmPrimeHandleToFD(s.b.fd, src, DRM_CLOEXEC | DRM_RDWR,
				  &src_dmabuf), "export: %s", strerror(errno));
	CHECK_RET(import_fence(s.timeline, src_dmabuf, 1, DMA_BUF_SYNC_WRITE),
		  0);
	/* Queued behind the userspace "writer" of its source. */
	CHECK_RET(p2p_copy(s.b.fd, src, 0, s.b.handle, 0, s.b.size), 0);

	CHECK_RET(read_start(&r, s.ti, 0), 0);
	CHECK(read_done(&r, DONE_MS),
	      "a read without implicit sync waited for the copy");
	CHECK_RET(read_finish(&r, in), 0);
	CHECK(check_pattern(in, RW_LEN, 51) == -1,
	      "the copy ran before its source's fence signalled");

	if (importer(&s, 1))
		return -1;
	CHECK_RET(read_start(&r, s.ti, 0), 0);
	CHECK(!read_done(&r, HELD_MS),
	      "the read with implicit sync did not wait for the copy");
	CHECK_RET(timeline_inc(s.timeline), 0);
	CHECK(read_done(&r, DONE_MS), "the read never completed");
	CHECK_RET(read_finish(&r, in), 0);
	CHECK(check_pattern(in, RW_LEN, 52) == -1,
	      "the read with implicit sync did not get the copied bytes");
	CHECK_RET(bo_idle(&s.b), 0);
	close(src_dmabuf);
	munmap(src_cpu, s.b.size);
	CHECK_RET(p2p_close_bo(s.b.fd, src), 0);
	teardown(&s);
	return 0;
}

/* A writer that fails (sw_sync signals -ENOENT when its timeline closes). */
static int implicit_sync_error(void)
{
	uint8_t in[RW_LEN];
	struct reader r;
	struct setup s;
	int ret;

	ret = setup(&s, 61);
	if (ret)
		return ret;
	if (importer(&s, 1))
		return -1;
	CHECK_RET(import_fence(s.timeline, s.b.dmabuf, 1, DMA_BUF_SYNC_WRITE),
		  0);
	CHECK_RET(read_start(&r, s.ti, 0), 0);
	CHECK(!read_done(&r, HELD_MS),
	      "the read with implicit sync did not wait for the writer");
	close(s.timeline);
	s.timeline = -1;
	CHECK(read_done(&r, DONE_MS), "the read never completed");
	CHECK_RET(read_finish(&r, in), -ENOENT);
	/* The next DMA, with nothing to wait for, works. */
	CHECK_RET(ti_dma(s.ti, 0, in, RW_LEN, P2PBUF_TI_DMA_FROM_BUFFER), 0);
	CHECK(check_pattern(in, RW_LEN, 61) == -1, "the read got other bytes");
	teardown(&s);
	return 0;
}

static int implicit_sync_bad_input(void)
{
	char edu[EDU_NAME_LEN];
	uint8_t in[RW_LEN];
	struct bo b;
	int ti, ret;

	ret = edu_bo_new(&b, 64 * KiB, P2PGEM_PLACEMENT_VRAM, edu);
	if (ret)
		return ret;
	fill_pattern(b.cpu, b.size, 71);
	ti = ti_open();
	CHECK(ti >= 0, "open");
	/* Unknown flags, alone and beside the implicit sync flag. */
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0x2, edu),
		  -EINVAL);
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P, 0x8, edu),
		  -EINVAL);
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    P2PBUF_TI_ATTACH_IMPLICIT_SYNC | 0x80000000u, edu),
		  -EINVAL);
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_STATIC,
			    P2PBUF_TI_ATTACH_IMPLICIT_SYNC |
			    P2PBUF_TI_ATTACH_PIN, edu), -EINVAL);
	/* A static importer may ask for implicit sync; its DMA works. */
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_STATIC,
			    P2PBUF_TI_ATTACH_IMPLICIT_SYNC, edu), 0);
	CHECK_RET(ti_dma(ti, 0, in, RW_LEN, P2PBUF_TI_DMA_FROM_BUFFER), 0);
	CHECK(check_pattern(in, RW_LEN, 71) == -1, "the read got other bytes");
	CHECK_RET(ti_dma(ti, 0, in, RW_LEN, P2PBUF_TI_DMA_TO_BUFFER |
			 P2PBUF_TI_DMA_FROM_BUFFER), -EINVAL);
	CHECK(!ioctl(ti, P2PBUF_TI_IOCTL_DETACH), "detach");
	/* Pinned and synchronised. */
	CHECK_RET(ti_attach(ti, b.dmabuf, P2PBUF_TI_DYNAMIC_P2P,
			    P2PBUF_TI_ATTACH_IMPLICIT_SYNC |
			    P2PBUF_TI_ATTACH_PIN, edu), 0);
	CHECK_RET(ti_dma(ti, 0, in, RW_LEN, P2PBUF_TI_DMA_FROM_BUFFER), 0);
	CHECK(!ioctl(ti, P2PBUF_TI_IOCTL_DETACH), "detach");
	close(ti);
	bo_free(&b);
	return 0;
}

static const struct subtest tests[] = {
	{ "implicit-sync-read", implicit_sync_read },
	{ "implicit-sync-write", implicit_sync_write },
	{ "implicit-sync-copy", implicit_sync_copy },
	{ "implicit-sync-error", implicit_sync_error },
	{ "implicit-sync-bad-input", implicit_sync_bad_input },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
