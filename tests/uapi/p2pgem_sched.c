// SPDX-License-Identifier: MIT
/*
 * p2pgem_sched: the copy engine on the DRM GPU scheduler.
 *
 *   user-stall   one process keeps its copy queue stalled on a vgem fence,
 *                re-armed every two seconds; another's buffer creation,
 *                CPU faults, evictions, copies, a P2P map for the other
 *                device and GEM_WAIT all complete promptly (with the old
 *                ordered workqueue they waited).
 *   job-timeout  a copy behind a fence that never signals ends after
 *                job_timeout_ms with -ETIMEDOUT in its fence and copies
 *                nothing.
 *   flood        a file that queues copies without end is held at
 *                queue_depth (O_NONBLOCK: EAGAIN), and another file's copy
 *                finishes while the flood is still queued.
 *   kill         SIGKILL of a process whose queue is stalled: its jobs end
 *                at once with -ECANCELED, and the device is idle.
 *   ww-contention  copies between imports of another device's buffers
 *                from several processes, while that device's visible
 *                window is too small for them all: no spurious failure,
 *                no lock debugging warning.
 *   move-enomem  moves of a full VRAM heap while failslab and
 *                fail_page_alloc fail this process's allocations: ioctls
 *                succeed or say ENOMEM, and no buffer loses a byte.
 *   unbind       unbind of a device with a stalled queue completes
 *                promptly; its fences end with an error and stay readable
 *                (SYNC_IOC_FILE_INFO, debugfs bufinfo) after the device is
 *                gone and after rmmod of p2pgem, held by p2pbuf.ko.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

#include "p2pgem_test_lib.h"
#include "../lib/sw_sync.h"

#define MiB (1024 * 1024)

/* vgem's fence uAPI (include/uapi/drm/vgem_drm.h); libdrm lacks it. */
struct vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define VGEM_FENCE_WRITE 0x1
#define VGEM_IOCTL_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct vgem_fence_attach)
#define VGEM_IOCTL_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct vgem_fence_signal)

#define PARAM_DIR "/sys/module/p2pgem/parameters/"

static int read_param(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return atoi(buf);
}

static int write_param(const char *name, int value)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	snprintf(buf, sizeof(buf), "%d", value);
	return write_file(path, buf);
}

/* Every fence of a dma-buf, as a sync_file: what a writer would wait for. */
static int export_fences(int dmabuf)
{
	struct dma_buf_export_sync_file exp = { .flags = DMA_BUF_SYNC_WRITE };

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp))
		return -errno;
	return exp.fd;
}

/* Add a sync_file's fence to a dma-buf's reservation object as a writer. */
static int import_writer(int dmabuf, int sync_file)
{
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE,
						.fd = sync_file };

	return ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp) ? -errno : 0;
}

static int wait_fd(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms);
}

/*
 * A copy queue stalled behind a fence that signals only when the test
 * says so: @src carries a sw_sync writer fence, @dst receives the copy.
 */
struct stall {
	int fd, timeline, dst_dmabuf;
	uint32_t src, dst;
};

static int stall_start(struct stall *s, int fd, int timeline, int copies)
{
	int src_dmabuf, fence, ret, i;

	s->fd = fd;
	s->timeline = timeline;
	if (s->timeline < 0)
		return -ENOENT;
	ret = p2p_create(fd, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &s->src);
	if (!ret)
		ret = p2p_create(fd, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &s->dst);
	if (ret)
		return ret;
	src_dmabuf = export_bo(fd, s->src);
	s->dst_dmabuf = export_bo(fd, s->dst);
	if (src_dmabuf < 0 || s->dst_dmabuf < 0)
		return -EIO;
	fence = sw_fence(s->timeline, 1);
	if (fence < 0)
		return fence;
	ret = import_writer(src_dmabuf, fence);
	close(fence);
	close(src_dmabuf);
	for (i = 0; !ret && i < copies; i++)
		ret = p2p_copy(fd, s->src, 0, s->dst, 0, MiB);
	return ret;
}

static void stall_release(struct stall *s)
{
	uint32_t one = 1;

	ioctl(s->timeline, SW_SYNC_IOC_INC, &one);
}

/* ---- user-stall ---- */

/* The attacker: a vgem buffer whose write fence is re-armed every 2 s. */
static void vgem_staller(int ready)
{
	struct vgem_fence_attach attach = { .flags = VGEM_FENCE_WRITE };
	int vgem = vgem_open(), fd = p2p_open(0), dmabuf = -1;
	uint32_t vhandle, import, dst;
	void *cpu;

	if (vgem < 0 || fd < 0 || vgem_create(vgem, MiB, &vhandle, &cpu) ||
	    drmPrimeHandleToFD(vgem, vhandle, DRM_CLOEXEC, &dmabuf) ||
	    drmPrimeFDToHandle(fd, dmabuf, &import) ||
	    p2p_create(fd, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &dst))
		_exit(1);
	for (;;) {
		attach.handle = vhandle;
		if (drmIoctl(vgem, VGEM_IOCTL_FENCE_ATTACH, &attach) ||
		    p2p_copy(fd, import, 0, dst, 0, MiB))
			_exit(2);
		if (ready >= 0) {
			if (write(ready, "x", 1) != 1)
				_exit(3);
			close(ready);
			ready = -1;
		}
		sleep(2);
	}
}

static int user_stall(void)
{
	struct drm_p2pgem_gem_info info;
	int fd, ready[2], status, vgem;
	uint32_t bo, dst;
	double start, took;
	char c;
	uint8_t *cpu;
	pid_t pid;

	vgem = vgem_open();
	SKIP_UNLESS(vgem >= 0, "no vgem");
	close(vgem);
	CHECK(!pipe(ready), "pipe");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		close(ready[0]);
		vgem_staller(ready[1]);
	}
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1, "the staller did not start");
	close(ready[0]);
	/* Let its first job wait behind the fence. */
	usleep(300 * 1000);

	fd = p2p_open(0);
	CHECK(fd >= 0, "open");
	start = now();
	/* A kernel move: new VRAM is cleared by the engine. */
	CHECK_RET(p2p_create(fd, 4 * MiB, P2PGEM_PLACEMENT_VRAM, 0, &bo), 0);
	CHECK_RET(p2p_wait(fd, bo, 5000000000LL), 0);
	cpu = p2p_map(fd, bo, 4 * MiB);
	CHECK(cpu, "mmap");
	fill_pattern(cpu, 4 * MiB, 7);		/* faults */
	CHECK_RET(p2p_evict(fd, bo), 0);	/* an eviction */
	CHECK(check_pattern(cpu, 4 * MiB, 7) < 0, "data lost in the eviction");
	CHECK_RET(p2p_info(fd, bo, &info), 0);
	/* A copy of this file's own, on its own queue. */
	CHECK_RET(p2p_create(fd, 4 * MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &dst), 0);
	CHECK_RET(p2p_copy(fd, bo, 0, dst, 0, 4 * MiB), 0);
	CHECK_RET(p2p_wait(fd, dst, 5000000000LL), 0);
	/*
	 * A P2P map: the other device imports the buffer and copies out of
	 * it, which maps it for that device (a move into the window first).
	 */
	if (p2p_count() >= 2) {
		int peer = p2p_open(1), dmabuf = export_bo(fd, bo);
		uint32_t import, pdst;

		CHECK(peer >= 0 && dmabuf >= 0, "open or export");
		CHECK_RET(p2p_evict(fd, bo), 0);
		CHECK(!drmPrimeFDToHandle(peer, dmabuf, &import),
		      "import: %s", strerror(errno));
		CHECK_RET(p2p_create(peer, 4 * MiB, P2PGEM_PLACEMENT_SYSTEM, 0,
				     &pdst), 0);
		CHECK_RET(p2p_copy(peer, import, 0, pdst, 0, 4 * MiB), 0);
		CHECK_RET(p2p_wait(peer, pdst, 5000000000LL), 0);
		close(dmabuf);
		close(peer);
	}
	took = now() - start;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(!WIFEXITED(status), "the staller failed (exit %d)",
	      WEXITSTATUS(status));
	CHECK(took < 5.0, "the other process's work took %.1f s", took);
	printf("# create, fault, evict, copy, P2P map and wait took %.2f s beside a stalled queue\n",
	       took);
	munmap(cpu, 4 * MiB);
	close(fd);
	return 0;
}

/* ---- job-timeout ---- */

static int job_timeout(void)
{
	int fd, fences, old = read_param("job_timeout_ms"), st;
	struct stall s;
	uint8_t *cpu;
	double start;

	SKIP_UNLESS(old >= 0, "no job_timeout_ms parameter");
	fd = p2p_open(0);
	CHECK(fd >= 0, "open");
	CHECK_RET(write_param("job_timeout_ms", 1500), 0);
	st = stall_start(&s, fd, open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC), 1);
	write_param("job_timeout_ms", old);
	SKIP_UNLESS(st != -ENOENT, "no sw_sync");
	CHECK_RET(st, 0);
	fences = export_fences(s.dst_dmabuf);
	CHECK(fences >= 0, "EXPORT_SYNC_FILE: %s", strerror(-fences));
	start = now();
	CHECK(wait_fd(fences, 0) == 0, "the copy did not wait for its fence");
	CHECK(wait_fd(fences, 20000) == 1, "the copy never ended");
	CHECK(now() - start > 1.0, "ended after %.2f s, before the timeout",
	      now() - start);
	st = fence_status(fences);
	CHECK(st == -ETIMEDOUT, "fence status %d, want %d", st, -ETIMEDOUT);
	cpu = p2p_map(fd, s.dst, MiB);
	CHECK(cpu, "mmap");
	CHECK(check_zero(cpu, MiB) < 0, "a timed-out copy wrote its destination");
	stall_release(&s);
	close(fences);
	close(fd);
	return 0;
}

/* ---- flood ---- */

static int flood(void)
{
	int depth = read_param("queue_depth"), fd, other, n = 0, ret, flags;
	int timeline, src_dmabuf, fence;
	uint32_t src, dst, osrc, odst, one = 1;
	struct drm_p2pgem_gem_copy copy = { .size = 4 * MiB };
	double start;

	SKIP_UNLESS(depth > 0, "no queue_depth parameter");
	timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	SKIP_UNLESS(timeline >= 0, "no sw_sync");
	fd = p2p_open(0);
	other = p2p_open(0);
	CHECK(fd >= 0 && other >= 0, "open");
	CHECK_RET(p2p_create(fd, 4 * MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &src), 0);
	CHECK_RET(p2p_create(fd, 4 * MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &dst), 0);
	copy.src_handle = src;
	copy.dst_handle = dst;
	/* Hold the flood back while the queue fills. */
	src_dmabuf = export_bo(fd, src);
	fence = sw_fence(timeline, 1);
	CHECK(src_dmabuf >= 0 && fence >= 0, "export or sw_sync fence");
	CHECK_RET(import_writer(src_dmabuf, fence), 0);
	close(fence);
	close(src_dmabuf);
	CHECK_RET(p2p_create(other, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &osrc), 0);
	CHECK_RET(p2p_create(other, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &odst), 0);

	/*
	 * Non-blocking: fill the queue until it says EAGAIN. With ioctl()
	 * itself: libdrm's drmIoctl() retries EAGAIN.
	 */
	flags = fcntl(fd, F_GETFL);
	CHECK(!fcntl(fd, F_SETFL, flags | O_NONBLOCK), "O_NONBLOCK");
	do {
		ret = ioctl(fd, DRM_IOCTL_P2PGEM_GEM_COPY, &copy) ? -errno : 0;
	} while (!ret && ++n < 100000);
	CHECK(ret == -EAGAIN, "copy %d of a full queue: %d (%s), want EAGAIN",
	      n, ret, strerror(-ret));
	CHECK(n == depth, "%d copies queued before EAGAIN, queue_depth %d",
	      n, depth);
	CHECK(!fcntl(fd, F_SETFL, flags), "blocking again");
	/* Let the flood go; blocking copies wait for room. */
	CHECK(!ioctl(timeline, SW_SYNC_IOC_INC, &one), "SW_SYNC_IOC_INC");
	CHECK_RET(p2p_copy(fd, src, 0, dst, 0, 4 * MiB), 0);
	n++;

	/* Another file's copy runs beside the flood, not after it. */
	start = now();
	CHECK_RET(p2p_copy(other, osrc, 0, odst, 0, MiB), 0);
	CHECK_RET(p2p_wait(other, odst, 60000000000LL), 0);
	CHECK(p2p_wait(fd, dst, 0) == -EBUSY,
	      "the flood of %d copies drained before another file's one copy (%.2f s)",
	      n, now() - start);
	printf("# one copy took %.2f s beside %d queued 4 MiB copies\n",
	       now() - start, n);
	CHECK_RET(p2p_wait(fd, dst, 120000000000LL), 0);
	close(other);
	close(fd);
	return 0;
}

/* ---- kill ---- */

static int kill_queue(void)
{
	int sock[2], status, fences, st, fd, dmabuf, timeline;
	uint32_t one = 1;
	char cmsgbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr msg = { 0 };
	struct stall s;
	uint32_t a, b;
	double start;
	char c;
	pid_t pid;

	/* The timeline is ours: the child's fences outlive the child. */
	timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	SKIP_UNLESS(timeline >= 0, "no sw_sync");
	CHECK(!socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sock), "socketpair");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		struct cmsghdr *cm;

		close(sock[0]);
		fd = p2p_open(0);
		if (fd < 0 || stall_start(&s, fd, timeline, 32))
			_exit(1);
		iov = (struct iovec){ .iov_base = "x", .iov_len = 1 };
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cmsgbuf;
		msg.msg_controllen = sizeof(cmsgbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &s.dst_dmabuf, sizeof(int));
		if (sendmsg(sock[1], &msg, 0) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(sock[1]);
	iov = (struct iovec){ .iov_base = &c, .iov_len = 1 };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf;
	msg.msg_controllen = sizeof(cmsgbuf);
	CHECK(recvmsg(sock[0], &msg, 0) == 1 && CMSG_FIRSTHDR(&msg),
	      "the child did not send its buffer");
	memcpy(&dmabuf, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	fences = export_fences(dmabuf);
	CHECK(fences >= 0, "EXPORT_SYNC_FILE: %s", strerror(-fences));
	CHECK(wait_fd(fences, 200) == 0, "the child's queue is not stalled");

	start = now();
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(wait_fd(fences, 10000) == 1,
	      "the killed process's jobs still wait for their fence");
	st = fence_status(fences);
	CHECK(st == -ECANCELED, "fence status %d, want %d", st, -ECANCELED);
	ioctl(timeline, SW_SYNC_IOC_INC, &one);
	close(timeline);
	printf("# killed queue of 32 ended in %.2f s, status %d\n",
	       now() - start, st);

	fd = p2p_open(0);
	CHECK(fd >= 0, "open");
	CHECK_RET(p2p_create(fd, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &a), 0);
	CHECK_RET(p2p_create(fd, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &b), 0);
	CHECK_RET(p2p_copy(fd, a, 0, b, 0, MiB), 0);
	CHECK_RET(p2p_wait(fd, b, 5000000000LL), 0);
	close(fences);
	close(dmabuf);
	close(fd);
	return 0;
}

/* ---- unbind ---- */

#define UB_VRAM (64 * MiB)

/*
 * Unbind with a stalled queue whose copies write this device's VRAM and
 * another exporter's buffer (a udmabuf, through an import): the unbind is
 * prompt, the copies end with an error and write nothing, not even into
 * the VRAM of the instance that binds next; their fences stay readable
 * (SYNC_IOC_FILE_INFO, debugfs bufinfo, which lists the udmabuf's
 * reservation object) after the unbind and after rmmod of p2pgem.
 */
static int unbind(void)
{
	char dev[64], driver[32], timeline[32];
	int fd, fences, ufences, st, ret, udmabuf, memfd, i;
	uint32_t vdst, udst, fill[UB_VRAM / (16 * MiB)];
	struct stall s;
	uint8_t *cpu;
	double start;

	SKIP_UNLESS(p2p_count() >= 2, "needs two p2pgem devices");
	fd = p2p_open(1);
	CHECK(fd >= 0, "open");
	CHECK_RET(pci_name_of(fd, dev, sizeof(dev)), 0);
	ret = stall_start(&s, fd, open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC), 8);
	SKIP_UNLESS(ret != -ENOENT, "no sw_sync");
	CHECK_RET(ret, 0);
	/* Stalled copies into VRAM and into an import of a udmabuf. */
	CHECK_RET(p2p_create(fd, UB_VRAM / 2, P2PGEM_PLACEMENT_VRAM, 0, &vdst),
		  0);
	CHECK_RET(p2p_wait(fd, vdst, 30000000000LL), 0);
	udmabuf = udmabuf_new(MiB, &memfd);
	SKIP_UNLESS(udmabuf >= 0, "no udmabuf");
	CHECK(!drmPrimeFDToHandle(fd, udmabuf, &udst), "import: %s",
	      strerror(errno));
	for (i = 0; i < 4; i++) {
		CHECK_RET(p2p_copy(fd, s.src, 0, vdst, i * MiB, MiB), 0);
		CHECK_RET(p2p_copy(fd, s.src, 0, udst, 0, MiB), 0);
	}
	fences = export_fences(s.dst_dmabuf);
	ufences = export_fences(udmabuf);
	CHECK(fences >= 0 && ufences >= 0, "EXPORT_SYNC_FILE");
	CHECK(wait_fd(fences, 100) == 0 && wait_fd(ufences, 0) == 0,
	      "the queue is not stalled");

	start = now();
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/unbind", dev), 0);
	CHECK(now() - start < 5.0, "unbind took %.1f s", now() - start);
	printf("# unbind with a stalled queue took %.2f s\n", now() - start);
	CHECK(wait_fd(fences, 1000) == 1 && wait_fd(ufences, 1000) == 1,
	      "the stalled jobs did not end");
	st = fence_status(ufences);
	CHECK(st < 0, "fence status %d after unbind, want an error", st);
	CHECK_RET(fence_names(ufences, driver, timeline), 0);
	CHECK_RET(read_all("/sys/kernel/debug/dma_buf/bufinfo"), 0);
	CHECK(p2p_copy(fd, s.src, 0, s.dst, 0, MiB) == -ENODEV,
	      "a copy on an unbound device did not fail with ENODEV");
	cpu = mmap(NULL, MiB, PROT_READ, MAP_SHARED, memfd, 0);
	CHECK(cpu != MAP_FAILED, "mmap of the memfd");
	CHECK(check_zero(cpu, MiB) < 0, "a cancelled copy wrote the udmabuf");
	munmap(cpu, MiB);

	/*
	 * A new instance: its VRAM, all of it, full of a pattern. Then the
	 * old dependency signals: no job of the old instance may run now.
	 */
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/bind", dev), 0);
	i = open_pci(dev);
	CHECK(i >= 0, "the device is not back");
	for (ret = 0; ret < (int)(sizeof(fill) / sizeof(*fill)); ret++) {
		CHECK_RET(p2p_create(i, 16 * MiB, P2PGEM_PLACEMENT_VRAM, 0,
				     &fill[ret]), 0);
		cpu = p2p_map(i, fill[ret], 16 * MiB);
		CHECK(cpu, "mmap");
		fill_pattern(cpu, 16 * MiB, 500 + ret);
		munmap(cpu, 16 * MiB);
	}
	/* The sw_sync fence goes first: TTM 6.1 waits 30 s for a busy
	 * buffer object when a device is released, then warns. */
	stall_release(&s);
	close(s.timeline);
	usleep(500 * 1000);
	for (ret = 0; ret < (int)(sizeof(fill) / sizeof(*fill)); ret++) {
		long off;

		cpu = p2p_map(i, fill[ret], 16 * MiB);
		CHECK(cpu, "mmap");
		off = check_pattern(cpu, 16 * MiB, 500 + ret);
		CHECK(off < 0, "the new instance's VRAM changed at %ld", off);
		munmap(cpu, 16 * MiB);
	}
	close(i);
	close(s.dst_dmabuf);
	close(fd);

	/* Only the sync_files and the udmabuf hold the engine's fences. */
	if (system("rmmod p2pgem_test 2>/dev/null; rmmod p2pgem") != 0) {
		close(fences);
		CHECK(0, "rmmod p2pgem failed with p2pgem fences held");
	}
	CHECK_RET(fence_names(fences, driver, timeline), 0);
	CHECK(!strncmp(timeline, "copy-", 5) || !strcmp(driver, "drm_sched"),
	      "fence names after rmmod: %.32s %.32s", driver, timeline);
	CHECK_RET(read_all("/sys/kernel/debug/dma_buf/bufinfo"), 0);
	st = fence_status(fences);
	CHECK(st < 0, "fence status %d after rmmod", st);
	close(fences);
	close(ufences);
	close(udmabuf);
	close(memfd);
	return 0;
}

/* ---- ww-contention ---- */

#define WW_BOS 6
#define WW_BO_SIZE (8 * MiB)

/*
 * Copies on device 0 between imports of device 1's VRAM buffer objects,
 * from several processes at once, while those buffers need more of device
 * 1's CPU-visible window than there is: every copy's P2P maps make device
 * 1 evict, with reservation locks of the other copies held. With
 * DEBUG_WW_MUTEX_SLOWPATH the kernel also injects -EDEADLK into those
 * waits. Every copy must succeed and no lock debugging may warn.
 */
static int ww_contention(void)
{
	uint32_t bo[WW_BOS], import[WW_BOS];
	int a, b, i, k, status, failed = 0;
	pid_t pids[WW_BOS / 2];

	SKIP_UNLESS(p2p_count() >= 2, "needs two p2pgem devices");
	a = p2p_open(0);
	b = p2p_open(1);
	CHECK(a >= 0 && b >= 0, "open");
	for (i = 0; i < WW_BOS; i++) {
		uint8_t *cpu;
		int dmabuf;

		CHECK_RET(p2p_create(b, WW_BO_SIZE, P2PGEM_PLACEMENT_VRAM,
				     P2PGEM_CREATE_CPU_ACCESS, &bo[i]), 0);
		cpu = p2p_map(b, bo[i], WW_BO_SIZE);
		CHECK(cpu, "mmap");
		fill_pattern(cpu, WW_BO_SIZE, 100 + i);
		munmap(cpu, WW_BO_SIZE);
		dmabuf = export_bo(b, bo[i]);
		CHECK(dmabuf >= 0, "export");
		CHECK(!drmPrimeFDToHandle(a, dmabuf, &import[i]),
		      "import: %s", strerror(errno));
		close(dmabuf);
	}
	/* Process k copies buffer 2k into buffer 2k + 1, again and again. */
	for (k = 0; k < WW_BOS / 2; k++) {
		pids[k] = fork();
		CHECK(pids[k] >= 0, "fork");
		if (!pids[k]) {
			int n, ret;

			for (n = 0; n < 8; n++) {
				ret = p2p_copy(a, import[2 * k], 0,
					       import[2 * k + 1], 0, WW_BO_SIZE);
				if (ret) {
					printf("# process %d, copy %d: %s\n", k,
					       n, strerror(-ret));
					_exit(1);
				}
			}
			_exit(p2p_wait(a, import[2 * k + 1], 60000000000LL) ?
			      2 : 0);
		}
	}
	for (k = 0; k < WW_BOS / 2; k++) {
		waitpid(pids[k], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	CHECK(!failed, "%d of %d processes saw a copy fail", failed,
	      WW_BOS / 2);
	for (k = 0; k < WW_BOS / 2; k++) {
		uint8_t *cpu;
		long off;

		cpu = p2p_map(b, bo[2 * k + 1], WW_BO_SIZE);
		CHECK(cpu, "mmap");
		off = check_pattern(cpu, WW_BO_SIZE, 100 + 2 * k);
		CHECK(off < 0, "buffer %d differs at byte %ld", 2 * k + 1, off);
		munmap(cpu, WW_BO_SIZE);
	}
	close(a);
	close(b);
	return 0;
}

/* ---- move-enomem ---- */

#define FI_BOS 14
#define FI_BO_SIZE (4 * MiB)

/* Configure one fault-injection attribute set under debugfs. */
static int fault_config(const char *which, int probability)
{
	static const char *const attrs[][2] = {
		{ "interval", "1" }, { "times", "-1" }, { "space", "0" },
		{ "verbose", "0" }, { "task-filter", "Y" },
		{ "ignore-gfp-wait", "N" },
	};
	char path[128], value[16];
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(attrs) / sizeof(*attrs); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", which,
			 attrs[i][0]);
		ret = write_file(path, attrs[i][1]);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/probability",
		 which);
	snprintf(value, sizeof(value), "%d", probability);
	return write_file(path, value);
}

/*
 * Switch this task's fault injection on or off, through a descriptor
 * opened beforehand: opening the file allocates, which may fail once the
 * injection is on. Writing it allocates nothing.
 */
static int make_it_fail(int on)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, on ? "1" : "0", 1, 0) != 1)
		return -errno;
	return 0;
}

/*
 * Moves of a full VRAM heap while the kernel makes this process's
 * allocations fail at random (failslab and fail_page_alloc, this task
 * only): every ioctl succeeds or fails with ENOMEM, and every buffer
 * object keeps its bytes. The evict ioctl moves with TTM's ghost object
 * (ttm_bo_move_accel_cleanup(), which allocates after the move's fence
 * exists). Buffers come back to VRAM by CPU faults with the injection
 * off: drm_buddy in 6.1 corrupts its free lists when its own block
 * allocation fails while it splits a block.
 */
static int move_enomem(void)
{
	uint32_t bo[FI_BOS], scratch, sys;
	volatile uint8_t *view[FI_BOS];
	int fd, i, round, ret, fails = 0, bad = 0;
	uint8_t *cpu;

	SKIP_UNLESS(!access("/sys/kernel/debug/failslab/probability", W_OK) &&
		    !access("/sys/kernel/debug/fail_page_alloc/probability",
			    W_OK), "no failslab or fail_page_alloc");
	fd = p2p_open(0);
	CHECK(fd >= 0, "open");
	for (i = 0; i < FI_BOS; i++) {
		CHECK_RET(p2p_create(fd, FI_BO_SIZE, P2PGEM_PLACEMENT_VRAM, 0,
				     &bo[i]), 0);
		cpu = p2p_map(fd, bo[i], FI_BO_SIZE);
		CHECK(cpu, "mmap");
		fill_pattern(cpu, FI_BO_SIZE, 300 + i);
		view[i] = cpu;
	}
	CHECK_RET(p2p_create(fd, FI_BO_SIZE, P2PGEM_PLACEMENT_SYSTEM, 0,
			     &scratch), 0);
	CHECK_RET(make_it_fail(0), 0);
	CHECK_RET(fault_config("failslab", 5), 0);
	CHECK_RET(fault_config("fail_page_alloc", 5), 0);
	for (round = 0; round < 48 && !bad; round++) {
		i = round % FI_BOS;
		CHECK_RET(make_it_fail(1), 0);
		ret = p2p_evict(fd, bo[i]);
		if (ret == -ENOMEM)
			fails++;
		else if (ret)
			bad = ret;
		ret = p2p_copy(fd, bo[(i + 1) % FI_BOS], 0, scratch, 0,
			       FI_BO_SIZE);
		if (ret == -ENOMEM)
			fails++;
		else if (ret && !bad)
			bad = ret;
		ret = p2p_create(fd, MiB, P2PGEM_PLACEMENT_SYSTEM, 0, &sys);
		if (!ret)
			p2p_close_bo(fd, sys);
		else if (ret == -ENOMEM)
			fails++;
		else if (!bad)
			bad = ret;
		make_it_fail(0);
		/* A fault brings it back to VRAM, with nothing failing. */
		(void)view[i][0];
	}
	make_it_fail(0);
	write_file("/sys/kernel/debug/failslab/probability", "0");
	write_file("/sys/kernel/debug/fail_page_alloc/probability", "0");
	CHECK(!bad, "an ioctl failed with %d (%s), not ENOMEM", bad,
	      strerror(-bad));
	for (i = 0; i < FI_BOS; i++) {
		long off;

		CHECK_RET(p2p_wait(fd, bo[i], 30000000000LL), 0);
		off = check_pattern((const void *)view[i], FI_BO_SIZE,
				    300 + i);
		CHECK(off < 0, "buffer %d lost its bytes at %ld", i, off);
		munmap((void *)view[i], FI_BO_SIZE);
	}
	printf("# %d ioctls failed with ENOMEM, no buffer lost a byte\n",
	       fails);
	close(fd);
	return 0;
}

static const struct subtest tests[] = {
	{ "user-stall", user_stall },
	{ "job-timeout", job_timeout },
	{ "flood", flood },
	{ "kill", kill_queue },
	{ "ww-contention", ww_contention },
	{ "move-enomem", move_enomem },
	{ "unbind", unbind },
};

int main(int argc, char **argv)
{
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(*tests));
}
