// SPDX-License-Identifier: MIT
/*
 * p2pbuf-test-peer: the C side of libp2pbuf's guest tests
 * (tests/guest/libp2pbuf-*.sh). Needs real dma-bufs: udmabuf and vgem.
 *
 *   p2pbuf-test-peer share KIND COUNT [unfenced]
 *                                       writer and a fork+exec'd reader
 *                                       share COUNT buffers, ordered by a
 *                                       sw_sync fence (unfenced: written
 *                                       before they are sent, for kernels
 *                                       without sw_sync); bytes checked
 *                                       both ways
 *   p2pbuf-test-peer death KIND         peers that die around a transfer
 *   p2pbuf-test-peer reject KIND        bad headers, wrong-type descriptors,
 *                                       truncated control messages
 *   p2pbuf-test-peer device DRIVER      vgem or p2pgem through the device
 *                                       and buffer API
 *   p2pbuf-test-peer explain-buffer     p2pgem buffers explained against
 *                                       the p2pbuf_probe matrix
 *   p2pbuf-test-peer rdma IBDEV KIND    register KIND buffers with the
 *                                       rdma-core device IBDEV
 *
 * KIND is "udmabuf", "vgem" or "p2pgem" (VRAM buffers). Exit 0 pass, 77 skip, 1 fail; one line per
 * check on stdout.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"
#include "fdutil.h"
#include "sw_sync.h"
#include "../importer/p2pbuf_test_importer.h"

#ifdef P2PBUF_HAVE_IBVERBS
#include <infiniband/verbs.h>
#include "p2pbuf/p2pbuf_rdma.h"
#endif

#define SKIP 77

static const char *self_path;
static const char *role = "writer";

__attribute__((noreturn, format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", role);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

__attribute__((format(printf, 1, 2)))
static void ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok %s: ", role);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define TRY(call) do {							\
	int _r = (call);						\
	if (_r)								\
		fail("%s: %s (line %d)", #call, strerror(-_r), __LINE__); \
} while (0)

#define EXPECT(call, want) do {						\
	int _r = (call);						\
	if (_r != (want))						\
		fail("%s = %d (%s), expected %d (%s)", #call, _r,	\
		     strerror(-_r), (want), strerror(-(want)));		\
} while (0)


/* dma-bufs alive in the whole system, from debugfs; -1 if unreadable. */
static int system_dmabufs(void)
{
	char line[512];
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Total %d objects", &n) == 1)
			break;
	fclose(f);
	return n;
}

struct kind {
	const char *name;
	struct p2pbuf_device *dev;
	struct p2pbuf_buffer *bufs[P2PBUF_MAX_BUFFERS];
	unsigned int nbufs;
};

/*
 * Open p2pgem if it can share buffers at all: a driver without PRIME export
 * (DRM_IOCTL_PRIME_HANDLE_TO_FD answers ENOSYS) skips these tests.
 */
static int p2pgem_usable(struct p2pbuf_device **devp)
{
	struct p2pbuf_device *dev;
	struct p2pbuf_buffer *buf;
	int ret, fd;

	ret = p2pbuf_device_open("p2pgem", &dev);
	if (ret)
		return ret;
	ret = p2pbuf_buffer_alloc(dev, 4096, P2PBUF_PLACEMENT_VRAM, 0, &buf);
	if (!ret) {
		ret = p2pbuf_buffer_export(buf, &fd);
		if (!ret)
			close(fd);
		p2pbuf_buffer_put(buf);
	}
	if (ret) {
		p2pbuf_device_close(dev);
		return ret;
	}
	*devp = dev;
	return 0;
}

static int kind_open(struct kind *k, const char *name)
{
	memset(k, 0, sizeof(*k));
	k->name = name;
	if (!strcmp(name, "udmabuf"))
		return access("/dev/udmabuf", R_OK | W_OK) ? -ENOENT : 0;
	if (!strcmp(name, "vgem"))
		return p2pbuf_device_open(name, &k->dev);
	if (!strcmp(name, "p2pgem"))
		return p2pgem_usable(&k->dev);
	return -EINVAL;
}

static int kind_alloc(struct kind *k, uint64_t size, int *fd)
{
	struct p2pbuf_buffer *buf;

	if (!k->dev)
		return p2pbuf_udmabuf_create(size, fd);
	/* p2pgem: VRAM, the point of it all; others have system memory only. */
	TRY(p2pbuf_buffer_alloc(k->dev, size, strcmp(k->name, "p2pgem") ?
				P2PBUF_PLACEMENT_SYSTEM : P2PBUF_PLACEMENT_VRAM,
				0, &buf));
	TRY(p2pbuf_buffer_export(buf, fd));
	k->bufs[k->nbufs++] = buf;
	return 0;
}

static void kind_close(struct kind *k)
{
	while (k->nbufs)
		TRY(p2pbuf_buffer_put(k->bufs[--k->nbufs]));
	if (k->dev)
		TRY(p2pbuf_device_close(k->dev));
	k->dev = NULL;
}

/*
 * Brackets are always read-write: 6.1's udmabuf maps its sg table with the
 * direction of the first DMA_BUF_IOCTL_SYNC and syncs later brackets with
 * theirs, which DMA-API debug reports as a WARN when they differ.
 */
static void pattern(int fd, uint64_t seed, int verify)
{
	unsigned int access = P2PBUF_ACCESS_RW;
	struct p2pbuf_mapping map = { .size = sizeof(map) };
	uint8_t *p;

	TRY(p2pbuf_mmap(fd, 0, 0, access, &map));
	TRY(p2pbuf_cpu_access_begin(fd, access));
	p = map.addr;
	for (size_t i = 0; i < map.length; i++) {
		if (!verify)
			p[i] = cli_pattern_byte(seed, i);
		else if (p[i] != cli_pattern_byte(seed, i))
			fail("fd %d: pattern %llu differs at byte %zu", fd,
			     (unsigned long long)seed, i);
	}
	TRY(p2pbuf_cpu_access_end(fd, access));
	TRY(p2pbuf_munmap(&map));
}

static pid_t spawn(int sock, const char *what, const char *arg1,
		   const char *arg2)
{
	char fdarg[16];
	pid_t pid;

	snprintf(fdarg, sizeof(fdarg), "%d", sock);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		/* Only the socket crosses the exec: everything else is CLOEXEC. */
		fcntl(sock, F_SETFD, 0);
		execl(self_path, self_path, what, fdarg, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void reap(pid_t pid, int want_signal)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid: %s", strerror(errno));
	if (want_signal) {
		if (!WIFSIGNALED(status) || WTERMSIG(status) != want_signal)
			fail("child %d: status 0x%x, expected signal %d", pid,
			     status, want_signal);
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("child %d failed (status 0x%x)", pid, status);
}

static void expect_byte(int sock, char want)
{
	char c = 0;

	if (recv(sock, &c, 1, 0) != 1 || c != want)
		fail("expected '%c' from the peer, got '%c'", want, c ? c : '0');
}

static void say_byte(int sock, char c)
{
	if (send(sock, &c, 1, MSG_NOSIGNAL) != 1)
		fail("send '%c': %s", c, strerror(errno));
}

/* ---- share: writer and reader, fence-ordered or written before sending ---- */

/*
 * Buffer sizes. udmabuf buffers stay at 64 KiB: on 6.1 with DMA-API debug,
 * DMA_BUF_IOCTL_SYNC on a udmabuf whose pages happen to be physically
 * contiguous over more than 64 KiB WARNs ("mapping sg segment longer than
 * device claims to support": the udmabuf misc device keeps the default
 * 64 KiB max segment size), and any WARN fails the run.
 */
#define SIZE (256u << 10)
#define UDMABUF_SIZE (64u << 10)

static uint64_t kind_size(const char *kind)
{
	return strcmp(kind, "udmabuf") ? SIZE : UDMABUF_SIZE;
}

static int reader(int sock, unsigned int count, uint64_t size, int fenced)
{
	struct p2pbuf_meta meta[P2PBUF_MAX_BUFFERS];
	struct p2pbuf_dmabuf_info info = { .size = sizeof(info) };
	int fds[P2PBUF_MAX_BUFFERS], sync, ep, ready;
	unsigned int n = 0, listed;
	int fds_before = open_fds();
	struct epoll_event ev;

	P2PBUF_INIT_ARRAY(meta, P2PBUF_MAX_BUFFERS);

	role = "reader";
	TRY(p2pbuf_recv(sock, fds, meta, P2PBUF_MAX_BUFFERS, &n, 0));
	if (n != count)
		fail("received %u buffers, expected %u", n, count);
	for (unsigned int i = 0; i < n; i++) {
		if (!(fcntl(fds[i], F_GETFD) & FD_CLOEXEC))
			fail("received fd %d is not close-on-exec", fds[i]);
		if (meta[i].cookie != 1000 + i || meta[i].buf_size != size)
			fail("buffer %u: cookie %llu size %llu", i,
			     (unsigned long long)meta[i].cookie,
			     (unsigned long long)meta[i].buf_size);
	}
	TRY(p2pbuf_dmabuf_list(0, &info, 1, &listed));
	if (listed != n)
		fail("fdinfo lists %u dma-bufs, expected %u", listed, n);
	ok("received %u buffers, fdinfo lists them (exporter %s, name '%s')",
	   n, info.exporter, info.name);
	if (!fenced)
		goto check_bytes;

	/* The writer has fenced buffer 0: nothing may be read yet. */
	EXPECT(p2pbuf_fence_wait(fds[0], 50), -ETIME);
	TRY(p2pbuf_fence_export(fds[0], P2PBUF_ACCESS_READ, &sync));
	EXPECT(p2pbuf_fence_wait(sync, 50), -ETIME);
	ok("buffer 0 busy: dma-buf poll and exported sync_file both pending");
	/* Both sit in the application's own epoll set, as documented. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		fail("epoll_create1: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.fd = sync;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sync, &ev))
		fail("epoll_ctl sync_file: %s", strerror(errno));
	ev.events = EPOLLOUT;
	ev.data.fd = fds[0];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev))
		fail("epoll_ctl dma-buf: %s", strerror(errno));
	if (epoll_wait(ep, &ev, 1, 0) != 0)
		fail("epoll: ready before the fence signalled");
	say_byte(sock, 'w');	/* waiting: now write and signal */
	for (ready = 0; ready != 3; ) {
		if (epoll_wait(ep, &ev, 1, 10000) != 1)
			fail("epoll: the fence did not signal within 10 s");
		ready |= ev.data.fd == sync ? 1 : 2;
		/* Level-triggered: stop asking for what already came. */
		epoll_ctl(ep, EPOLL_CTL_DEL, ev.data.fd, NULL);
	}
	close(ep);
	ok("an epoll set saw the sync_file readable and the dma-buf writable once signalled");
	TRY(p2pbuf_fence_wait(sync, 10000));
	close(sync);
	TRY(p2pbuf_fence_wait(fds[0], 0));
	ok("fence signalled, sync_file and dma-buf poll ready");

check_bytes:
	for (unsigned int i = 0; i < n; i++)
		pattern(fds[i], 1000 + i, 1);
	ok("the writer's bytes are what the reader sees in %u buffers", n);
	/* Answer in buffer 0, for the writer to check. */
	pattern(fds[0], 4242, 0);
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
	if (open_fds() != fds_before)
		fail("fd count %d, was %d", open_fds(), fds_before);
	say_byte(sock, 'y');
	close(sock);
	ok("descriptors back to %d", fds_before);
	return 0;
}

static int share(const char *kind_name, unsigned int count, int fenced)
{
	struct p2pbuf_meta meta[P2PBUF_MAX_BUFFERS];
	int fds[P2PBUF_MAX_BUFFERS], sv[2], timeline = -1, ret;
	struct sw_sync_create_fence_data fence = { .value = 1, .name = "p2pbuf-test" };
	int fds_before, bufs_before;
	char arg[16], size[24];
	struct kind k;
	uint32_t one = 1;
	pid_t pid;

	P2PBUF_INIT_ARRAY(meta, P2PBUF_MAX_BUFFERS);

	if (count < 1 || count > P2PBUF_MAX_BUFFERS)
		fail("bad count");
	fds_before = open_fds();
	bufs_before = system_dmabufs();
	ret = kind_open(&k, kind_name);
	if (ret) {
		printf("SKIP no %s: %s\n", kind_name, strerror(-ret));
		return SKIP;
	}
	if (fenced) {
		timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
		if (timeline < 0) {
			printf("SKIP no sw_sync at " SW_SYNC_PATH "\n");
			kind_close(&k);
			return SKIP;
		}
	}

	for (unsigned int i = 0; i < count; i++) {
		char name[P2PBUF_NAME_LEN];

		TRY(kind_alloc(&k, kind_size(kind_name), &fds[i]));
		TRY(p2pbuf_meta_init(fds[i], &meta[i]));
		meta[i].cookie = 1000 + i;
		meta[i].placement = P2PBUF_PLACEMENT_SYSTEM;
		snprintf(name, sizeof(name), "test-%s-%u", kind_name, i);
		TRY(p2pbuf_dmabuf_set_name(fds[i], name));
		memcpy(meta[i].name, name, sizeof(name));
		if (i || !fenced)
			pattern(fds[i], 1000 + i, 0);
	}
	if (!fenced) {
		ok("%u %s buffers named and filled", count, kind_name);
		goto send;
	}
	/*
	 * Buffer 0 is written below, after its write fence is in place. A CPU
	 * fault that must move a buffer (p2pgem VRAM outside the CPU-visible
	 * window) waits for every fence of the buffer, our own included, so
	 * fault it in first: a writer must not fault a buffer that waits for
	 * the writer itself.
	 */
	pattern(fds[0], 999, 0);
	/* A write fence on buffer 0, signalled only after its bytes are in. */
	if (ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &fence))
		fail("SW_SYNC_IOC_CREATE_FENCE: %s", strerror(errno));
	TRY(p2pbuf_fence_import(fds[0], fence.fence, P2PBUF_ACCESS_WRITE));
	close(fence.fence);
	ok("%u %s buffers named and filled; buffer 0 fenced", count, kind_name);

send:
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		fail("socketpair: %s", strerror(errno));
	snprintf(arg, sizeof(arg), "%u", count);
	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)kind_size(kind_name));
	pid = spawn(sv[1], fenced ? "reader" : "reader-unfenced", arg, size);
	close(sv[1]);
	TRY(p2pbuf_send(sv[0], fds, meta, count, 0));
	if (!fenced)
		goto answer;
	expect_byte(sv[0], 'w');
	/*
	 * The reader waits on the fence; write under a bracket that must not
	 * wait for our own fence (DMA_BUF_IOCTL_SYNC waits for writers), so
	 * map and write without the bracket, then signal.
	 */
	{
		struct p2pbuf_mapping map = { .size = sizeof(map) };
		uint8_t *p;

		TRY(p2pbuf_mmap(fds[0], 0, 0, P2PBUF_ACCESS_WRITE, &map));
		p = map.addr;
		for (size_t i = 0; i < map.length; i++)
			p[i] = cli_pattern_byte(1000, i);
		TRY(p2pbuf_munmap(&map));
	}
	if (ioctl(timeline, SW_SYNC_IOC_INC, &one))
		fail("SW_SYNC_IOC_INC: %s", strerror(errno));
answer:
	expect_byte(sv[0], 'y');
	reap(pid, 0);
	pattern(fds[0], 4242, 1);
	ok("the reader's answer is what the writer sees");

	for (unsigned int i = 0; i < count; i++)
		close(fds[i]);
	close(sv[0]);
	if (timeline >= 0)
		close(timeline);
	kind_close(&k);
	if (open_fds() != fds_before)
		fail("fd count %d, was %d", open_fds(), fds_before);
	if (system_dmabufs() != bufs_before)
		fail("%d dma-bufs alive, %d before", system_dmabufs(), bufs_before);
	ok("descriptors back to %d, system dma-bufs back to %d", fds_before,
	   bufs_before);
	return 0;
}

/* ---- death: peers that die around a transfer ---- */

/* Child: make buffers, announce, then send or not, and wait to be killed. */
static int doomed(int sock, const char *kind_name, const char *when)
{
	struct p2pbuf_meta meta[4];
	int fds[4];
	struct kind k;

	P2PBUF_INIT_ARRAY(meta, 4);

	role = "doomed";
	TRY(kind_open(&k, kind_name));
	for (int i = 0; i < 4; i++) {
		TRY(kind_alloc(&k, kind_size(kind_name), &fds[i]));
		pattern(fds[i], 77 + (uint64_t)i, 0);
		TRY(p2pbuf_meta_init(fds[i], &meta[i]));
	}
	if (!strcmp(when, "after"))
		TRY(p2pbuf_send(sock, fds, meta, 4, 0));
	/* Stopped, the parent knows we are done; then it kills us. */
	raise(SIGSTOP);
	for (;;)
		pause();
	return 1;	/* not reached */
}

/* Wait until the doomed child has stopped, then kill it. */
static void kill_when_stopped(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		fail("child %d did not stop (status 0x%x)", pid, status);
	kill(pid, SIGKILL);
	reap(pid, SIGKILL);
}

static int death(const char *kind_name)
{
	struct p2pbuf_meta meta[4];
	int fds[4], sv[2], fds_before, bufs_before, ret;
	unsigned int n;
	struct kind k;
	pid_t pid;

	P2PBUF_INIT_ARRAY(meta, 4);

	ret = kind_open(&k, kind_name);
	if (ret) {
		printf("SKIP no %s: %s\n", kind_name, strerror(-ret));
		return SKIP;
	}
	kind_close(&k);
	fds_before = open_fds();
	bufs_before = system_dmabufs();

	/* Killed before sending: the receiver sees the connection reset. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		fail("socketpair");
	pid = spawn(sv[1], "doomed", kind_name, "before");
	close(sv[1]);
	kill_when_stopped(pid);
	EXPECT(p2pbuf_recv(sv[0], fds, meta, 4, &n, 0), -ECONNRESET);
	close(sv[0]);
	ok("sender killed before sending: -ECONNRESET, nothing received");

	/* Killed after sending: the message in flight keeps its buffers. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		fail("socketpair");
	pid = spawn(sv[1], "doomed", kind_name, "after");
	close(sv[1]);
	kill_when_stopped(pid);
	TRY(p2pbuf_recv(sv[0], fds, meta, 4, &n, 0));
	for (unsigned int i = 0; i < n; i++) {
		pattern(fds[i], 77 + i, 1);
		close(fds[i]);
	}
	EXPECT(p2pbuf_recv(sv[0], fds, meta, 4, &n, 0), -ECONNRESET);
	close(sv[0]);
	ok("sender killed after sending: 4 buffers arrive intact, then -ECONNRESET");

	/* Receiver gone with the message unread: the buffers are freed. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		fail("socketpair");
	pid = spawn(sv[1], "doomed", kind_name, "after");
	close(sv[1]);
	kill_when_stopped(pid);
	close(sv[0]);
	/* Unread SCM_RIGHTS go with the socket, possibly via unix_gc. */
	for (int i = 0; i < 50 && system_dmabufs() != bufs_before; i++)
		usleep(20000);
	ok("both ends gone with a message unread");

	/* Sending to a dead peer: -EPIPE, our buffers stay ours. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		fail("socketpair");
	pid = spawn(sv[1], "doomed", kind_name, "before");
	close(sv[1]);
	kill_when_stopped(pid);
	TRY(kind_open(&k, kind_name));
	TRY(kind_alloc(&k, kind_size(kind_name), &fds[0]));
	TRY(p2pbuf_meta_init(fds[0], &meta[0]));
	EXPECT(p2pbuf_send(sv[0], fds, meta, 1, 0), -EPIPE);
	close(fds[0]);
	kind_close(&k);
	close(sv[0]);
	ok("sending to a dead peer: -EPIPE, no SIGPIPE");

	if (open_fds() != fds_before)
		fail("fd count %d, was %d", open_fds(), fds_before);
	if (system_dmabufs() != bufs_before)
		fail("%d dma-bufs alive, %d before", system_dmabufs(), bufs_before);
	ok("descriptors back to %d, system dma-bufs back to %d", fds_before,
	   bufs_before);
	return 0;
}

/* ---- reject: hostile messages with real dma-bufs ---- */


static int reject(const char *kind_name)
{
	struct p2pbuf_meta meta[2], got[2];
	int fds[60], rfds[2], sv[2], memfd, fds_before, bufs_before, ret;
	uint8_t wire[P2PBUF_WIRE_MAX_SIZE];
	unsigned int n;
	size_t len;
	struct kind k;

	P2PBUF_INIT_ARRAY(meta, 2);
	P2PBUF_INIT_ARRAY(got, 2);
	ret = kind_open(&k, kind_name);
	if (ret) {
		printf("SKIP no %s: %s\n", kind_name, strerror(-ret));
		return SKIP;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		fail("socketpair");
	TRY(kind_alloc(&k, kind_size(kind_name), &fds[0]));
	TRY(kind_alloc(&k, kind_size(kind_name), &fds[1]));
	TRY(p2pbuf_meta_init(fds[0], &meta[0]));
	TRY(p2pbuf_meta_init(fds[1], &meta[1]));
	TRY(p2pbuf_dmabuf_check(fds[0]));
	fds_before = open_fds();
	bufs_before = system_dmabufs();

	memset(wire, 0x5a, 100);
	TRY(raw_send(sv[0], wire, 100, fds, 2));
	EXPECT(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0), -EBADMSG);
	ok("garbage header with two dma-bufs: -EBADMSG");

	TRY(p2pbuf_meta_encode(meta, 2, wire, sizeof(wire), &len));
	wire[4] = 9;	/* version */
	TRY(raw_send(sv[0], wire, len, fds, 2));
	EXPECT(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0), -EBADMSG);
	ok("unknown version: -EBADMSG");

	TRY(p2pbuf_meta_encode(meta, 2, wire, sizeof(wire), &len));
	TRY(raw_send(sv[0], wire, len, fds, 1));
	EXPECT(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0), -EBADMSG);
	ok("header for two buffers, one descriptor: -EBADMSG");

	meta[0].buf_size *= 2;
	meta[0].length = meta[0].buf_size;
	TRY(p2pbuf_meta_encode(meta, 1, wire, sizeof(wire), &len));
	TRY(raw_send(sv[0], wire, len, fds, 1));
	EXPECT(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0), -EBADMSG);
	EXPECT(p2pbuf_send(sv[0], fds, meta, 1, 0), -EINVAL);
	TRY(p2pbuf_meta_init(fds[0], &meta[0]));
	ok("size that is not the dma-buf's: -EBADMSG, and send refuses it");

	for (int i = 2; i < 60; i++)
		fds[i] = fds[i % 2];
	TRY(p2pbuf_meta_encode(meta, 1, wire, sizeof(wire), &len));
	TRY(raw_send(sv[0], wire, len, fds, 60));
	EXPECT(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0), -EMSGSIZE);
	ok("60 descriptors, truncated control message: -EMSGSIZE");

	memfd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)kind_size(kind_name)))
		fail("memfd");
	EXPECT(p2pbuf_dmabuf_check(memfd), -EBADFD);
	EXPECT(p2pbuf_send(sv[0], &memfd, meta, 1, 0), -EBADFD);
	TRY(p2pbuf_send(sv[0], &memfd, meta, 1, P2PBUF_XFER_ANY_FD));
	EXPECT(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0), -EBADFD);
	close(memfd);
	ok("a memfd where a dma-buf belongs: -EBADFD on both sides");

	/* A pipe is not a dma-buf either, and has no size. */
	{
		int p[2];

		if (pipe2(p, O_CLOEXEC))
			fail("pipe");
		TRY(raw_send(sv[0], wire, len, p, 1));
		EXPECT(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0), -EBADFD);
		close(p[0]);
		close(p[1]);
		ok("a pipe where a dma-buf belongs: -EBADFD");
	}

	if (open_fds() != fds_before)
		fail("fd count %d, was %d: a rejected message leaked", open_fds(),
		     fds_before);
	if (system_dmabufs() != bufs_before)
		fail("%d dma-bufs alive, %d before", system_dmabufs(), bufs_before);
	ok("no descriptor leaked (%d), system dma-bufs %d", fds_before, bufs_before);

	/* And a good message still goes through on the same socket. */
	TRY(p2pbuf_send(sv[0], fds, meta, 2, 0));
	TRY(p2pbuf_recv(sv[1], rfds, got, 2, &n, 0));
	close(rfds[0]);
	close(rfds[1]);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
	kind_close(&k);
	ok("a good message after the bad ones is received");
	return 0;
}

/* ---- device: vgem through the buffer API ---- */

struct hammer {
	struct p2pbuf_device *dev;
	struct p2pbuf_buffer *want;
	int fd;
	int errors;
};

/* Import and release the same dma-buf over and over, from several threads. */
static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < 500; i++) {
		struct p2pbuf_buffer *b;

		if (p2pbuf_buffer_import(h->dev, h->fd, &b) || b != h->want) {
			__atomic_add_fetch(&h->errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (p2pbuf_buffer_put(b))
			__atomic_add_fetch(&h->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * p2pbuf_device_from_fd() on a node this process opened itself: the
 * device works on its own duplicate, after the caller closed its
 * descriptor; descriptors of other kinds are refused with -ENOTTY.
 */
static int from_fd(const char *driver)
{
	struct p2pbuf_device_info info = { .size = sizeof(info) };
	struct p2pbuf_device_info got = { .size = sizeof(got) };
	const char *node;
	struct p2pbuf_device *dev, *adopted;
	struct p2pbuf_buffer *buf;
	int p2pgem = !strcmp(driver, "p2pgem"), fd, dmabuf, pipefd[2], ret;
	uint64_t size;

	ret = p2pgem ? p2pgem_usable(&dev) : p2pbuf_device_open(driver, &dev);
	if (ret) {
		printf("SKIP no usable %s: %s\n", driver, strerror(-ret));
		return SKIP;
	}
	TRY(p2pbuf_device_query(dev, &info));
	TRY(p2pbuf_device_close(dev));
	for (int primary = 0; primary < 2; primary++) {
		node = primary ? info.primary_node : info.render_node;
		if (!node[0])
			continue;
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fail("open %s: %s", node, strerror(errno));
		EXPECT(p2pbuf_device_from_fd(fd, 1u << 7, &adopted), -EINVAL);
		if (!p2pgem)
			EXPECT(p2pbuf_device_from_fd(fd, P2PBUF_DEVICE_P2PGEM,
						     &adopted), -ENODEV);
		TRY(p2pbuf_device_from_fd(fd, p2pgem ? P2PBUF_DEVICE_P2PGEM : 0,
					  &adopted));
		/* The caller's descriptor is the caller's: closing it is fine. */
		close(fd);
		TRY(p2pbuf_device_query(adopted, &got));
		if (strcmp(got.driver, info.driver) ||
		    strcmp(got.pci_address, info.pci_address) ||
		    strcmp(got.render_node, info.render_node) ||
		    got.vram_size != info.vram_size)
			fail("adopted %s: driver %s pci %s render %s vram %llu",
			     node, got.driver, got.pci_address, got.render_node,
			     (unsigned long long)got.vram_size);
		TRY(p2pbuf_buffer_alloc(adopted, 8192, p2pgem ?
					P2PBUF_PLACEMENT_VRAM :
					P2PBUF_PLACEMENT_SYSTEM, 0, &buf));
		TRY(p2pbuf_buffer_export(buf, &dmabuf));
		TRY(p2pbuf_dmabuf_size(dmabuf, &size));
		if (size != 8192)
			fail("adopted device's buffer: %llu bytes",
			     (unsigned long long)size);
		/* Not DRM nodes: a dma-buf, a pipe, a closed number. */
		EXPECT(p2pbuf_device_from_fd(dmabuf, 0, &dev), -ENOTTY);
		close(dmabuf);
		TRY(p2pbuf_buffer_put(buf));
		TRY(p2pbuf_device_close(adopted));
		ok("%s: %s adopted, described as opened by name, a buffer made after the caller closed its descriptor",
		   driver, node);
	}
	if (pipe2(pipefd, O_CLOEXEC))
		fail("pipe2");
	EXPECT(p2pbuf_device_from_fd(pipefd[0], 0, &dev), -ENOTTY);
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT(p2pbuf_device_from_fd(pipefd[0], 0, &dev), -EBADF);
	EXPECT(p2pbuf_device_from_fd(-1, 0, &dev), -EBADF);
	ok("a dma-buf and a pipe: -ENOTTY; a closed descriptor: -EBADF");
	return 0;
}

static int device(const char *driver)
{
	unsigned int want = strcmp(driver, "p2pgem") ? P2PBUF_PLACEMENT_SYSTEM :
						     P2PBUF_PLACEMENT_VRAM;
	struct p2pbuf_device_info info = { .size = sizeof(info) };
	struct p2pbuf_buffer *buf, *again, *other;
	struct p2pbuf_device *dev;
	struct p2pbuf_dmabuf_info infos[4];
	unsigned int n, placement;
	uint64_t size;
	int fd1, fd2, ret;

	P2PBUF_INIT_ARRAY(infos, 4);

	ret = strcmp(driver, "p2pgem") ? p2pbuf_device_open(driver, &dev) :
					 p2pgem_usable(&dev);
	if (ret) {
		printf("SKIP no usable %s: %s\n", driver, strerror(-ret));
		return SKIP;
	}
	TRY(p2pbuf_device_info(dev, &info));
	ok("%s: %s %s %s VRAM %llu visible %llu", driver, info.primary_node,
	   info.render_node, info.pci_address,
	   (unsigned long long)info.vram_size,
	   (unsigned long long)info.visible_vram_size);
	if (want == P2PBUF_PLACEMENT_VRAM) {
		struct p2pbuf_buffer_info bi = { .size = sizeof(bi) };

		if (!info.vram_size || !info.pci_address[0])
			fail("p2pgem without VRAM size or PCI address");
		EXPECT(p2pbuf_buffer_alloc(dev, 4096, P2PBUF_PLACEMENT_SYSTEM,
					   P2PBUF_ALLOC_CONTIGUOUS, &buf), -EOPNOTSUPP);
		EXPECT(p2pbuf_buffer_alloc(dev, info.vram_size * 2,
					   P2PBUF_PLACEMENT_VRAM, 0, &buf), -E2BIG);
		TRY(p2pbuf_buffer_alloc(dev, 1 << 20, P2PBUF_PLACEMENT_VRAM,
					P2PBUF_ALLOC_CONTIGUOUS, &buf));
		TRY(p2pbuf_buffer_query(buf, &bi));
		if (bi.placement != P2PBUF_PLACEMENT_VRAM ||
		    bi.requested_placement != P2PBUF_PLACEMENT_VRAM ||
		    bi.flags != P2PBUF_ALLOC_CONTIGUOUS || bi.buf_size != 1 << 20)
			fail("query: placement %u requested %u flags %u size %llu",
			     bi.placement, bi.requested_placement, bi.flags,
			     (unsigned long long)bi.buf_size);
		TRY(p2pbuf_buffer_put(buf));
		ok("VRAM buffer: placement, flags and size as asked; too big: -E2BIG");
	} else {
		EXPECT(p2pbuf_buffer_alloc(dev, 4096, P2PBUF_PLACEMENT_VRAM, 0, &buf),
		       -EOPNOTSUPP);
	}
	TRY(p2pbuf_buffer_alloc(dev, 10000, want, 0, &buf));
	TRY(p2pbuf_buffer_size(buf, &size));
	TRY(p2pbuf_buffer_placement(buf, &placement));
	if (size != 12288 || placement != want)
		fail("size %llu placement %u", (unsigned long long)size, placement);
	TRY(p2pbuf_buffer_export(buf, &fd1));
	TRY(p2pbuf_buffer_export(buf, &fd2));
	TRY(p2pbuf_dmabuf_list(0, infos, 4, &n));
	/* GEM drivers export through drm_gem_prime_export(): exporter "drm". */
	if (n != 2 || infos[0].inode != infos[1].inode ||
	    strcmp(infos[0].exporter, "drm"))
		fail("two exports: %u dma-bufs, inodes %llu %llu, exporter %s", n,
		     (unsigned long long)infos[0].inode,
		     (unsigned long long)infos[1].inode, infos[0].exporter);
	ok("exported twice: one dma-buf (inode %llu), exporter drm",
	   (unsigned long long)infos[0].inode);

	TRY(p2pbuf_buffer_import(dev, fd2, &again));
	if (again != buf)
		fail("importing our own buffer gave another object");
	TRY(p2pbuf_buffer_import(dev, fd1, &other));
	if (other != buf)
		fail("importing twice gave another object");
	ok("importing the same dma-buf twice yields the same object");
	EXPECT(p2pbuf_device_close(dev), -EBUSY);
	{
		struct hammer h = { .dev = dev, .want = buf, .fd = fd1 };
		pthread_t threads[4];

		for (int i = 0; i < 4; i++)
			if (pthread_create(&threads[i], NULL, hammer_thread, &h))
				fail("pthread_create");
		for (int i = 0; i < 4; i++)
			pthread_join(threads[i], NULL);
		if (h.errors)
			fail("%d errors importing from 4 threads", h.errors);
		ok("4 threads x 500 imports and puts of one buffer: consistent");
	}
	TRY(p2pbuf_buffer_put(other));
	TRY(p2pbuf_buffer_put(again));
	pattern(fd1, 5, 0);
	pattern(fd2, 5, 1);
	TRY(p2pbuf_buffer_put(buf));
	/* The dma-bufs keep the memory after the last handle is gone. */
	pattern(fd1, 5, 1);
	close(fd1);
	close(fd2);
	TRY(p2pbuf_device_close(dev));
	ok("references counted: busy device refused, memory kept by dma-bufs");
	return 0;
}

/* ---- explain-buffer: what explain says, what an importer then gets ---- */

/* The edu device's PCI address, or NULL. */
static const char *edu_address(char *buf, size_t len)
{
	struct dirent **list;
	const char *found = NULL;
	int n;

	n = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char path[320], id[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 list[i]->d_name);
		f = fopen(path, "re");
		if (f) {
			if (!fgets(id, sizeof(id), f))
				id[0] = '\0';
			fclose(f);
		}
		if (!found && !strncmp(id, "0x11e8", 6) &&
		    strlen(list[i]->d_name) < len) {
			memcpy(buf, list[i]->d_name, strlen(list[i]->d_name) + 1);
			found = buf;
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	return found;
}

/* Attach @fd for @pci with the test importer; its fd, or -1. */
static int importer_attach(int fd, const char *pci, uint32_t mode)
{
	struct p2pbuf_ti_attach at = { .fd = fd, .mode = mode };
	int ti = open("/dev/p2pbuf_test_importer", O_RDWR | O_CLOEXEC);

	if (ti < 0)
		fail("open the test importer: %s", strerror(errno));
	snprintf(at.device, sizeof(at.device), "%s", pci);
	if (ioctl(ti, P2PBUF_TI_IOCTL_ATTACH, &at))
		fail("attach for %s: %s", pci, strerror(errno));
	return ti;
}

/*
 * With the test importer: explain's answer for the edu device agrees with
 * the mapping a dynamic P2P importer then gets; a buffer pinned in system
 * memory by a static importer and one larger than the CPU-visible window
 * are explained as such.
 */
static void explain_vs_importer(struct p2pbuf_device *dev,
				struct p2pbuf_buffer *vram)
{
	struct p2pbuf_ti_entry ent;
	struct p2pbuf_ti_map map = { .entries = (uintptr_t)&ent,
				     .max_entries = 1 };
	struct p2pbuf_device_info di = { .size = sizeof(di) };
	struct p2pbuf_buffer_info bi = { .size = sizeof(bi) };
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	struct p2pbuf_buffer *big;
	const char *name = "?";
	char edu[32];
	int fd, ti, p2p;

	if (access("/dev/p2pbuf_test_importer", R_OK | W_OK) ||
	    !edu_address(edu, sizeof(edu))) {
		ok("no test importer or edu device: explain not checked against a mapping");
		return;
	}
	TRY(p2pbuf_explain_buffer(vram, edu, NULL, &e));
	p2p = e.map != P2PBUF_MAP_NONE;
	TRY(p2pbuf_buffer_export(vram, &fd));
	ti = importer_attach(fd, edu, P2PBUF_TI_DYNAMIC_P2P);
	if (ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map))
		fail("map: %s", strerror(errno));
	TRY(p2pbuf_buffer_query(vram, &bi));
	p2pbuf_map_name(e.map, &name);
	if (p2p != (bi.placement == P2PBUF_PLACEMENT_VRAM) ||
	    (e.map == P2PBUF_MAP_BUS_ADDRESS) !=
	    !!(ent.flags & P2PBUF_TI_BUS_ADDRESS))
		fail("explain says %s for %s, the importer got %s memory at 0x%llx%s",
		     name, edu, bi.placement == P2PBUF_PLACEMENT_VRAM ? "VRAM" :
		     "system", (unsigned long long)ent.dma_address,
		     ent.flags & P2PBUF_TI_BUS_ADDRESS ? " (bus address)" : "");
	close(ti);
	ok("explain says %s for %s, and that is what a dynamic P2P importer got",
	   name, edu);
	if (!p2p) {
		close(fd);
		return;
	}

	/* An importer that does not allow peer2peer gets system memory. */
	TRY(p2pbuf_explain_for_importer(&e, P2PBUF_IMPORTER_DYNAMIC));
	if (e.map != P2PBUF_MAP_NONE ||
	    e.reason != P2PBUF_REASON_IMPORTER_WITHOUT_P2P)
		fail("explain for a dynamic importer without P2P: %s", e.reason_code);
	ti = importer_attach(fd, edu, P2PBUF_TI_DYNAMIC);
	if (ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map))
		fail("map: %s", strerror(errno));
	TRY(p2pbuf_buffer_query(vram, &bi));
	if (bi.placement != P2PBUF_PLACEMENT_SYSTEM ||
	    (ent.flags & P2PBUF_TI_BUS_ADDRESS))
		fail("explain says %s for a dynamic importer without P2P, it got %s memory%s",
		     e.reason_code, bi.placement == P2PBUF_PLACEMENT_VRAM ?
		     "VRAM" : "system",
		     ent.flags & P2PBUF_TI_BUS_ADDRESS ? " by bus address" : "");
	close(ti);
	ok("explain says %s for a dynamic importer without allow_peer2peer, and it got system memory",
	   e.reason_code);

	/* Pinned in system memory by a static importer. */
	ti = importer_attach(fd, edu, P2PBUF_TI_STATIC);
	TRY(p2pbuf_explain_buffer(vram, edu, NULL, &e));
	if (e.reason != P2PBUF_REASON_PINNED_IN_SYSTEM_MEMORY ||
	    e.map != P2PBUF_MAP_NONE)
		fail("pinned by a static importer: %s (%s)", e.reason_code,
		     e.text);
	close(ti);
	TRY(p2pbuf_explain_buffer(vram, edu, NULL, &e));
	if (e.map == P2PBUF_MAP_NONE)
		fail("unpinned, still %s", e.reason_code);
	close(fd);
	ok("pinned in system memory by another importer: explain says %s, and P2P again once unpinned",
	   "pinned-in-system-memory");

	/* Larger than the CPU-visible window. */
	TRY(p2pbuf_device_info(dev, &di));
	if (!di.visible_vram_size || di.visible_vram_size >= di.vram_size) {
		ok("no small visible window: larger-than-visible not checked");
		return;
	}
	TRY(p2pbuf_buffer_alloc(dev, di.visible_vram_size + (1 << 20),
				P2PBUF_PLACEMENT_VRAM, 0, &big));
	TRY(p2pbuf_explain_buffer(big, edu, NULL, &e));
	if (e.reason != P2PBUF_REASON_LARGER_THAN_VISIBLE)
		fail("a buffer larger than the visible window: %s", e.reason_code);
	TRY(p2pbuf_buffer_export(big, &fd));
	ti = importer_attach(fd, edu, P2PBUF_TI_DYNAMIC_P2P);
	if (ioctl(ti, P2PBUF_TI_IOCTL_MAP, &map))
		fail("map: %s", strerror(errno));
	TRY(p2pbuf_buffer_query(big, &bi));
	if (bi.placement != P2PBUF_PLACEMENT_SYSTEM)
		fail("a buffer larger than the visible window was mapped in VRAM");
	close(ti);
	close(fd);
	TRY(p2pbuf_buffer_put(big));
	ok("larger than the visible window: explain says %s, the importer got system memory",
	   e.reason_code);
}

/* ---- explain-buffer: p2pgem buffers against the probe's matrix ---- */

/*
 * A kernel without CONFIG_PCI_P2PDMA has no P2P providers, so the probe's
 * matrix has no pairs: the VRAM buffer of @provider must then be explained
 * as out of reach, for that reason, for every other PCI function that is
 * not a bridge. Returns non-zero when the kernel has P2PDMA (no pairs is
 * then a failure).
 */
static int explain_no_p2pdma(struct p2pbuf_buffer *vram, const char *provider)
{
	struct p2pbuf_explanation e = { .size = sizeof(e) };
	struct dirent *de;
	int p2pdma, n = 0;
	DIR *d;

	TRY(p2pbuf_kernel_config(NULL, "PCI_P2PDMA", &p2pdma));
	if (p2pdma)
		return 1;
	d = opendir("/sys/bus/pci/devices");
	if (!d)
		fail("/sys/bus/pci/devices: %s", strerror(errno));
	while ((de = readdir(d))) {
		char path[300], cls[16] = "";
		FILE *c;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, provider))
			continue;
		/* Bridges (class 0x06) are not importers. */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class",
			 de->d_name);
		c = fopen(path, "re");
		if (c) {
			if (!fgets(cls, sizeof(cls), c))
				cls[0] = 0;
			fclose(c);
		}
		if (!strncmp(cls, "0x06", 4))
			continue;
		TRY(p2pbuf_explain_buffer(vram, de->d_name, NULL, &e));
		if (e.map != P2PBUF_MAP_NONE ||
		    e.reason != P2PBUF_REASON_NO_P2PDMA_KERNEL)
			fail("VRAM buffer -> %s without CONFIG_PCI_P2PDMA: map %d reason %s",
			     de->d_name, e.map, e.reason_code);
		n++;
	}
	closedir(d);
	ok("p2pgem %s: kernel without CONFIG_PCI_P2PDMA, the probe has no pairs; explain says kernel-without-pci-p2pdma for %d PCI functions",
	   provider, n);
	return 0;
}

static int explain_buffer(void)
{
	struct p2pbuf_buffer *vram, *sys;
	struct p2pbuf_explanation bogus = { .size = sizeof(bogus) };
	struct p2pbuf_device_info info = { .size = sizeof(info) };
	struct p2pbuf_device *dev;
	int ret, pairs = 0, vram_fd;
	char line[512];
	FILE *f;

	ret = p2pbuf_device_open("p2pgem", &dev);
	if (ret) {
		printf("SKIP no p2pgem: %s\n", strerror(-ret));
		return SKIP;
	}
	f = fopen("/sys/kernel/debug/p2pbuf_probe/matrix", "re");
	if (!f) {
		printf("SKIP no p2pbuf_probe matrix\n");
		p2pbuf_device_close(dev);
		return SKIP;
	}
	TRY(p2pbuf_device_info(dev, &info));
	TRY(p2pbuf_buffer_alloc(dev, 1 << 20, P2PBUF_PLACEMENT_VRAM, 0, &vram));
	TRY(p2pbuf_buffer_alloc(dev, 1 << 20, P2PBUF_PLACEMENT_SYSTEM, 0, &sys));
	TRY(p2pbuf_buffer_export(vram, &vram_fd));
	EXPECT(p2pbuf_explain_dmabuf(0, "00:00.0", NULL, &bogus, NULL, 0),
	       -EBADFD);
	EXPECT(p2pbuf_explain_dmabuf(vram_fd, "zz", NULL, &bogus, NULL, 0),
	       -EINVAL);
	EXPECT(p2pbuf_explain_dmabuf(vram_fd, "00:00.0", NULL, NULL, NULL, 0),
	       -EINVAL);
	EXPECT(p2pbuf_explain_dmabuf(vram_fd, "00:00.0", NULL, &bogus, NULL, 8),
	       -EINVAL);
	while (fgets(line, sizeof(line), f)) {
		char p[32], c[32], map[32], reason[64];
		struct p2pbuf_explanation e = { .size = sizeof(e) }, d = { .size = sizeof(d) };
		const char *got = "?";
		char exporter[32];
		unsigned long long dma;
		int distance;

		if (sscanf(line, "provider=%31s client=%31s distance=%d map=%31s dma=%llx reason=%63s",
			   p, c, &distance, map, &dma, reason) != 6 ||
		    strcmp(p, info.pci_address))
			continue;
		TRY(p2pbuf_explain_buffer(vram, c, NULL, &e));
		/* The same question about the bare dma-buf. */
		TRY(p2pbuf_explain_dmabuf(vram_fd, c, NULL, &d, exporter,
					  sizeof(exporter)));
		if (d.map != e.map || d.reason != e.reason ||
		    strcmp(exporter, info.pci_address))
			fail("dma-buf of the VRAM buffer -> %s: map %d reason %d from %s; the buffer: map %d reason %d",
			     c, d.map, d.reason, exporter, e.map, e.reason);
		p2pbuf_map_name(e.map, &got);
		/*
		 * Each probe read maps afresh: an IOMMU hands out a new IOVA
		 * every time, so only bus and physical addresses must agree.
		 */
		if (strcmp(got, map) || strcmp(e.reason_code, reason) ||
		    (strcmp(map, "iommu") && e.dma_address != dma))
			fail("VRAM buffer -> %s: %s %s 0x%llx, probe says %s %s 0x%llx",
			     c, got, e.reason_code,
			     (unsigned long long)e.dma_address, map, reason, dma);
		TRY(p2pbuf_explain_buffer(sys, c, NULL, &e));
		if (e.map != P2PBUF_MAP_NONE ||
		    e.reason != P2PBUF_REASON_IN_SYSTEM_MEMORY)
			fail("system buffer -> %s: map %d reason %d", c, e.map,
			     e.reason);
		pairs++;
	}
	fclose(f);
	if (!pairs && explain_no_p2pdma(vram, info.pci_address))
		fail("no probe pairs for provider %s", info.pci_address);
	else if (pairs)
		ok("p2pgem %s: explain of a VRAM buffer and of its bare dma-buf agree with the probe on %d clients, a system buffer is in-system-memory",
		   info.pci_address, pairs);
	explain_vs_importer(dev, vram);
	close(vram_fd);
	TRY(p2pbuf_buffer_put(vram));
	TRY(p2pbuf_buffer_put(sys));
	TRY(p2pbuf_device_close(dev));
	return 0;
}

/* ---- rdma: registration with a real rdma-core device ---- */

#ifdef P2PBUF_HAVE_IBVERBS
static struct ibv_context *rdma_open(const char *name)
{
	struct ibv_context *ctx = NULL;
	struct ibv_device **list;
	int i, n = 0;

	list = ibv_get_device_list(&n);
	if (!list)
		fail("ibv_get_device_list: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!ctx)
		fail("no RDMA device %s among %d", name, n);
	return ctx;
}

/*
 * The device itself works: an ordinary MR over malloc'd memory registers.
 * Then the buffer's dma-buf through p2pbuf_ibv_reg_mr(): either an MR of
 * exactly the described range, or -EOPNOTSUPP for a device that cannot
 * register dma-buf memory (soft-RoCE on 6.1 has no reg_user_mr_dmabuf).
 * Either way nothing leaks and the buffer is intact afterwards.
 */
static int rdma(const char *ibdev, const char *kind_name)
{
	const int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_WRITE;
	int fds_before = open_fds(), fd, ret;
	struct p2pbuf_desc desc = { .size = sizeof(desc) };
	struct ibv_context *ctx;
	struct ibv_mr *mr = NULL;
	struct ibv_pd *pd;
	struct kind k;
	void *mem;

	role = "rdma";
	ret = kind_open(&k, kind_name);
	if (ret) {
		printf("SKIP %s: %s\n", kind_name, strerror(-ret));
		return SKIP;
	}
	ctx = rdma_open(ibdev);
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		fail("ibv_alloc_pd on %s: %s", ibdev, strerror(errno));
	mem = calloc(1, 1 << 16);
	mr = mem ? ibv_reg_mr(pd, mem, 1 << 16, access) : NULL;
	if (!mr)
		fail("ordinary ibv_reg_mr on %s: %s", ibdev, strerror(errno));
	ibv_dereg_mr(mr);
	free(mem);

	TRY(kind_alloc(&k, kind_size(kind_name), &fd));
	pattern(fd, 41, 0);
	/* The second half, as an application registers part of a buffer. */
	TRY(p2pbuf_desc_init(fd, kind_size(kind_name) / 2, 0, 0x10000, &desc));
	if (desc.fd != fd || desc.length != kind_size(kind_name) / 2)
		fail("descriptor {%d, %llu, %llu}", desc.fd,
		     (unsigned long long)desc.offset,
		     (unsigned long long)desc.length);
	mr = NULL;
	ret = p2pbuf_ibv_reg_mr(pd, &desc, access, &mr);
	if (!ret) {
		if (mr->length != desc.length || mr->addr != (void *)0x10000)
			fail("MR covers %zu bytes at %p", mr->length, mr->addr);
		ok("%s %s: registered %llu bytes, lkey 0x%x", ibdev, kind_name,
		   (unsigned long long)desc.length, mr->lkey);
		ibv_dereg_mr(mr);
	} else if (ret == -EOPNOTSUPP) {
		if (mr)
			fail("an MR came back with -EOPNOTSUPP");
		ok("%s %s: cannot register dma-buf memory, reported as EOPNOTSUPP",
		   ibdev, kind_name);
	} else {
		fail("p2pbuf_ibv_reg_mr(%s, %s): %s", ibdev, kind_name,
		     strerror(-ret));
	}
	EXPECT(p2pbuf_ibv_reg_mr(NULL, &desc, access, &mr), -EINVAL);
	EXPECT(p2pbuf_ibv_reg_mr(pd, NULL, access, &mr), -EINVAL);
	EXPECT(p2pbuf_ibv_reg_mr(pd, &desc, access, NULL), -EINVAL);
	EXPECT(p2pbuf_desc_init(fd, kind_size(kind_name), 0, 0, &desc), -EINVAL);
	EXPECT(p2pbuf_desc_init(fd, 4096, kind_size(kind_name), 0, &desc), -EINVAL);
	pattern(fd, 41, 1);
	close(fd);
	kind_close(&k);
	if (ibv_dealloc_pd(pd) || ibv_close_device(ctx))
		fail("releasing %s: %s", ibdev, strerror(errno));
	if (open_fds() != fds_before)
		fail("%d descriptors open, %d before", open_fds(), fds_before);
	ok("%s %s: bad input rejected, buffer intact, no descriptor leaked",
	   ibdev, kind_name);
	return 0;
}
#else
static int rdma(const char *ibdev, const char *kind_name)
{
	printf("SKIP rdma %s %s: built without rdma-core\n", ibdev, kind_name);
	return SKIP;
}
#endif

/* Fill @len bytes of dma-buf @fd with @byte, or check that they hold it. */
static int fill_or_check(int fd, size_t len, uint8_t byte, int check)
{
	struct p2pbuf_mapping map = { .size = sizeof(map) };
	const uint8_t *q;
	int bad = 0;
	size_t i;

	TRY(p2pbuf_mmap(fd, 0, len, P2PBUF_ACCESS_RW, &map));
	TRY(p2pbuf_cpu_access_begin(fd, P2PBUF_ACCESS_RW));
	if (check) {
		q = map.addr;
		for (i = 0; i < len && !bad; i++)
			bad = q[i] != byte;
	} else {
		memset(map.addr, byte, len);
	}
	TRY(p2pbuf_cpu_access_end(fd, P2PBUF_ACCESS_RW));
	TRY(p2pbuf_munmap(&map));
	return bad;
}

/*
 * libp2pbuf keeps a file's bindings by the caller's dma-buf fd number and
 * skips fstat(2) for a number it knows. Close the number and reuse it for
 * another buffer: the next read must land in the new buffer (the module
 * says ESTALE, the library looks the number up again), never in the old.
 */
static int file_reuse(const char *path)
{
	const size_t len = 64 * 1024;
	struct p2pbuf_io_info info = { .size = sizeof(info) };
	struct p2pbuf_file *f;
	int a, b, dev, num;
	struct kind k;
	uint8_t *want;

	role = "file-reuse";
	if (kind_open(&k, "p2pgem")) {
		printf("SKIP file-reuse: no p2pgem device that can share\n");
		return SKIP;
	}
	/* The device's bytes, read apart from the library and its cache. */
	dev = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (dev < 0 || posix_memalign((void **)&want, 4096, len) ||
	    pread(dev, want, len, 0) != (ssize_t)len)
		fail("reading %s: %s", path, strerror(errno));
	close(dev);
	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		fail("%s: %s", path, strerror(errno));
	TRY(p2pbuf_file_open(dev, 0, &f));
	TRY(kind_alloc(&k, len, &a));
	TRY(kind_alloc(&k, len, &b));
	num = a;
	TRY(p2pbuf_file_read(f, num, 0, len, 0, &info));
	TRY(fill_or_check(a, len, 0x5a, 0));
	/* @num now names @b; the library keeps its own duplicate of @a. */
	TRY(fill_or_check(b, len, 0xa5, 0));
	if (dup2(b, num) != num)
		fail("dup2: %s", strerror(errno));
	TRY(p2pbuf_file_read(f, num, 0, len, 0, &info));
	if (fill_or_check(b, len, 0xa5, 1) == 0)
		fail("the read after the reuse did not reach the new buffer");
	{
		struct p2pbuf_mapping map = { .size = sizeof(map) };

		TRY(p2pbuf_mmap(b, 0, len, P2PBUF_ACCESS_READ, &map));
		TRY(p2pbuf_cpu_access_begin(b, P2PBUF_ACCESS_READ));
		if (memcmp(map.addr, want, len))
			fail("the new buffer does not hold the device's bytes");
		TRY(p2pbuf_cpu_access_end(b, P2PBUF_ACCESS_READ));
		TRY(p2pbuf_munmap(&map));
	}
	/* The old buffer, exported again from its handle, is untouched. */
	TRY(p2pbuf_buffer_export(k.bufs[0], &a));
	if (fill_or_check(a, len, 0x5a, 1))
		fail("the old buffer was written after its number was reused");
	close(a);
	TRY(p2pbuf_file_close(f));
	free(want);
	close(b);
	close(dev);
	kind_close(&k);
	ok("a reused dma-buf fd number reads into its new buffer (path %u)",
	   info.path);
	return 0;
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	signal(SIGPIPE, SIG_DFL);	/* the library must never raise it */
	if (argc >= 4 && !strcmp(argv[1], "share"))
		return share(argv[2], (unsigned int)atoi(argv[3]),
			     argc < 5 || strcmp(argv[4], "unfenced"));
	if (argc >= 5 && (!strcmp(argv[1], "reader") ||
			  !strcmp(argv[1], "reader-unfenced")))
		return reader(atoi(argv[2]), (unsigned int)atoi(argv[3]),
			      strtoull(argv[4], NULL, 0),
			      !strcmp(argv[1], "reader"));
	if (argc >= 3 && !strcmp(argv[1], "death"))
		return death(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "doomed"))
		return doomed(atoi(argv[2]), argv[3], argv[4]);
	if (argc >= 3 && !strcmp(argv[1], "reject"))
		return reject(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "explain-buffer"))
		return explain_buffer();
	if (argc >= 3 && !strcmp(argv[1], "device"))
		return device(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "from-fd"))
		return from_fd(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "rdma"))
		return rdma(argv[2], argv[3]);
	if (argc >= 3 && !strcmp(argv[1], "file-reuse"))
		return file_reuse(argv[2]);
	fprintf(stderr, "usage: p2pbuf-test-peer share KIND COUNT [unfenced] | death|reject KIND | device|from-fd DRIVER | explain-buffer | rdma IBDEV KIND | file-reuse BLOCKDEV\n");
	return 2;
}
