// SPDX-License-Identifier: MIT
/*
 * p2pbuf_rdma's uAPI and its rping server, against rdma-core's own rping
 * client, over a soft-RoCE link the guest test set up
 * (tests/guest/p2pbuf-rdma-rping.sh): the address to ping and the link's
 * name come in P2PBUF_RDMA_ADDR, P2PBUF_RDMA_NETDEV and P2PBUF_RDMA_LINK.
 *
 *   serve-bad       bad input for every field of every ioctl
 *   rping-evict     rping -V through a 16 MiB VRAM buffer, window after
 *                   window, while the buffer is evicted in a loop; the
 *                   counters, the placement per topology, the last payload
 *   stopped         rping against a stopped server, and after close, fails
 *   one-client      a second client is refused while one is served, and
 *                   served once the first is gone
 *   link-remove     the rxe link deleted mid-stream: the command returns,
 *                   the server keeps listening and serves a re-added link
 *   nic-unbind      the NIC's PCI driver unbound mid-stream: the unbind
 *                   returns, the connection fails cleanly; bound again,
 *                   with a new link, the server serves again
 *   exporter-unbind p2pgem unbound from the buffer's device mid-stream:
 *                   the unbind returns, the connection fails cleanly, the
 *                   server serves another buffer; p2pgem bound again
 *
 * The project's own protocol, through libp2pbuf-rdma's client
 * (libp2pbuf/rdma.c), run as p2pbuf_rdma_client (a link to this program,
 * tests/guest/p2pbuf-rdma-client.sh):
 *
 *   own-evict       64 MiB each way through a 32 MiB VRAM buffer (the
 *                   CPU-visible window), in requests of 8 MiB, while the
 *                   buffer is evicted in a loop; bytes verified in the
 *                   client and in the buffer, counters, re-maps
 *   own-big         one request of 32 MiB each way into a 64 MiB VRAM
 *                   buffer (all of VRAM), bytes verified
 *   own-bad         requests out of range, with a bad op, zero length,
 *                   non-zero flags get error replies, and the connection
 *                   serves a good one after; a hello of another version is
 *                   rejected
 *   own-sync-file   a sync_file of the buffer's write fences, exported in
 *                   the middle of a 32 MiB WRITE, signals only once the
 *                   bytes of the chunk in flight (and those before) are in
 *                   the buffer
 *   own-chain       RDMA READ into VRAM, then an NVMe write from VRAM,
 *                   ordered by the buffer's fences alone: the NVMe write
 *                   (a p2pbuf_nvme binding with implicit sync) is queued
 *                   while the RDMA chunk is in flight, with no wait in
 *                   between, and the disk gets the transferred bytes
 *   own-unbind      p2pgem unbound from the buffer's device in the middle
 *                   of a 32 MiB transfer: the unbind returns, the transfer
 *                   ends with an error, the server's connection goes down
 *                   and the server serves another buffer; p2pgem bound
 *                   again
 *   own-passive     passive registration: refused without
 *                   P2PBUF_RDMA_SERVE_PASSIVE, bad input for every field
 *                   of REGISTER and UNREGISTER, one per connection; the
 *                   client's own RDMA WRITE and READ through the key,
 *                   checked in the buffer; eviction refused (EBUSY) while
 *                   registered and done after; the ended key writes
 *                   nothing; a disconnect ends a registration
 *   own-passive-unbind p2pgem unbound while a client holds a registration:
 *                   the unbind returns, the key stops working, the
 *                   connection ends
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <xf86drm.h>
#include <linux/p2pbuf_nvme.h>
#include <linux/p2pbuf_rdma.h>
#include <p2pbuf/p2pbuf_rdma.h>
#include <rdma/rdma_cma.h>
#include <poll.h>
#include <endian.h>

#include "p2pgem_test_lib.h"

#define MiB (1024 * 1024)
#define RDMA_DEV "/dev/p2pbuf_rdma"
#define PORT 7174
#define PING_SIZE 65535

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

#define NEED_RDMA() do {						\
	SKIP_UNLESS(!access(RDMA_DEV, F_OK), "p2pbuf_rdma.ko is not loaded"); \
	SKIP_UNLESS(getenv("P2PBUF_RDMA_ADDR"), "no rxe link set up");	\
	SKIP_UNLESS(p2p_count() >= 1, "no p2pgem device");		\
} while (0)

static int rd_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int rd_serve(int fd, int dmabuf, uint16_t port, uint64_t off,
		    uint64_t len, uint32_t *handle)
{
	struct p2pbuf_rdma_serve s = {
		.dmabuf_fd = dmabuf, .port = port, .offset = off, .length = len,
	};
	int ret = rd_ioctl(fd, P2PBUF_RDMA_IOC_SERVE, &s);

	if (!ret && handle)
		*handle = s.handle;
	return ret;
}

static int rd_stop(int fd, uint32_t handle)
{
	struct p2pbuf_rdma_stop s = { .handle = handle };

	return rd_ioctl(fd, P2PBUF_RDMA_IOC_STOP, &s);
}

static int rd_query(int fd, uint32_t handle, struct p2pbuf_rdma_query *q)
{
	memset(q, 0, sizeof(*q));
	q->handle = handle;
	return rd_ioctl(fd, P2PBUF_RDMA_IOC_QUERY, q);
}

/*
 * The server's connections all ended (their teardown follows the
 * client's disconnect asynchronously); 0 or -ETIME after @ms.
 */
static int wait_idle(int fd, uint32_t handle, struct p2pbuf_rdma_query *q,
		     int ms)
{
	int ret;

	for (;;) {
		ret = rd_query(fd, handle, q);
		if (ret || !q->active)
			return ret;
		if ((ms -= 20) < 0)
			return -ETIME;
		usleep(20 * 1000);
	}
}

/* rping's client in the background, its output thrown away; its pid. */
static pid_t rping_bg(uint16_t port, int count, int size)
{
	char p[8], c[12], sz[12];
	pid_t pid = fork();
	int nul;

	if (pid)
		return pid;
	snprintf(p, sizeof(p), "%u", port);
	snprintf(c, sizeof(c), "%d", count);
	snprintf(sz, sizeof(sz), "%d", size);
	nul = open("/dev/null", O_WRONLY);
	if (nul >= 0) {
		dup2(nul, 1);
		dup2(nul, 2);
	}
	execlp("rping", "rping", "-c", "-a",
	       env_or("P2PBUF_RDMA_ADDR", "192.168.77.1"), "-p", p, "-C", c,
	       "-S", sz, "-V", (char *)NULL);
	_exit(127);
}

struct buf {
	int fd;
	uint32_t handle;
	int dmabuf;
	uint64_t size;
};

static int buf_new_flags(struct buf *b, uint64_t size, uint32_t placement,
			 uint32_t flags)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->dmabuf = -1;
	b->size = size;
	b->fd = p2p_open(0);
	if (b->fd < 0)
		return b->fd;
	ret = p2p_create(b->fd, size, placement, flags, &b->handle);
	if (ret)
		return ret;
	b->dmabuf = export_bo(b->fd, b->handle);
	return b->dmabuf < 0 ? b->dmabuf : 0;
}

static int buf_new(struct buf *b, uint64_t size, uint32_t placement)
{
	return buf_new_flags(b, size, placement,
			     placement == P2PGEM_PLACEMENT_SYSTEM ? 0 :
			     P2PGEM_CREATE_CPU_ACCESS);
}

static void buf_free(struct buf *b)
{
	if (b->dmabuf >= 0)
		close(b->dmabuf);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->dmabuf = -1;
}

/*
 * Run rping's client for @count pings of @size bytes: its exit status (-1
 * when it could not run), and the number of "ping data:" it printed in
 * *lines (counted in its stdout alone: its stderr, where it reports CM
 * events, goes to a file and is shown here).
 */
static int rping(uint16_t port, int count, int size, int tmo, int *lines)
{
	const char *err = "/tmp/p2pbuf_rdma-rping.err";
	char cmd[320], *line = NULL, *at;
	size_t cap = 0;
	FILE *p;
	int st;

	*lines = 0;
	snprintf(cmd, sizeof(cmd),
		 "timeout %d rping -c -a %s -p %u -C %d -S %d -V -v 2>%s",
		 tmo, env_or("P2PBUF_RDMA_ADDR", "192.168.77.1"), port, count,
		 size, err);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (getline(&line, &cap, p) > 0) {
		for (at = line; (at = strstr(at, "ping data: ")); at++)
			(*lines)++;
		if (!strstr(line, "ping data: "))
			printf("# rping: %.200s%s", line,
			       strchr(line, '\n') ? "" : "\n");
	}
	st = pclose(p);
	p = fopen(err, "r");
	while (p && getline(&line, &cap, p) > 0)
		printf("# rping (stderr): %.200s%s", line,
		       strchr(line, '\n') ? "" : "\n");
	if (p)
		fclose(p);
	free(line);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * A long rping run in a child, which exits 0 once it printed a ping, and
 * the wait until the server @h has served 5 pings: a stream to break.
 */
static int stream_start(int fd, uint32_t h, pid_t *pid)
{
	struct p2pbuf_rdma_query q;
	int lines, i;

	*pid = fork();
	CHECK(*pid >= 0, "fork");
	if (*pid == 0) {
		rping(PORT, 100000, PING_SIZE, 60, &lines);
		_exit(lines > 0 ? 0 : 1);
	}
	for (i = 0; i < 300; i++) {
		CHECK_RET(rd_query(fd, h, &q), 0);
		if (q.pings >= 5)
			break;
		usleep(100000);
	}
	CHECK(q.pings >= 5, "no pings flowing (%llu)",
	      (unsigned long long)q.pings);
	return 0;
}

/* rping's client payload for ping @ping of @size bytes. */
static void rping_payload(char *dst, int ping, int size)
{
	int start = 65 + ping % 58, cc, i;
	unsigned char c;

	cc = snprintf(dst, size, "rdma-ping-%d: ", ping);
	for (i = cc, c = start; i < size; i++) {
		dst[i] = c;
		if (++c > 122)
			c = 65;
	}
	dst[size - 1] = 0;
}

/* Compare the buffer at @off with ping @ping's payload, through the dma-buf's mmap. */
static int check_payload(struct buf *b, uint64_t off, int ping, int size)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	char *want = malloc(size);
	uint8_t *cpu;
	int ret = 0;

	cpu = mmap(NULL, b->size, PROT_READ, MAP_SHARED, b->dmabuf, 0);
	if (cpu == MAP_FAILED || !want) {
		free(want);
		return -errno;
	}
	ioctl(b->dmabuf, DMA_BUF_IOCTL_SYNC, &sync);
	rping_payload(want, ping, size);
	if (memcmp(cpu + off, want, size)) {
		printf("# at %llu: want \"%.40s\", have \"%.40s\"\n",
		       (unsigned long long)off, want, (char *)cpu + off);
		ret = -EILSEQ;
	}
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ioctl(b->dmabuf, DMA_BUF_IOCTL_SYNC, &sync);
	munmap(cpu, b->size);
	free(want);
	return ret;
}

/* ---- serve-bad ---- */

static int serve_bad(void)
{
	struct p2pbuf_rdma_serve s;
	struct p2pbuf_rdma_stop st;
	struct p2pbuf_rdma_query q;
	struct buf buf, sys;
	uint32_t h, h2;
	int fd, ro, memfd, udma;
	uint32_t roh;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 1 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));

#define SERVE_BAD(field, value, want) do {				\
	memset(&s, 0, sizeof(s));					\
	s.dmabuf_fd = buf.dmabuf;					\
	s.port = PORT;							\
	s.length = buf.size;						\
	s.field = value;						\
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_SERVE, &s), want);	\
} while (0)
	SERVE_BAD(dmabuf_fd, -1, -EBADF);
	SERVE_BAD(dmabuf_fd, 1000, -EBADF);
	SERVE_BAD(dmabuf_fd, fd, -EINVAL);
	SERVE_BAD(port, 0, -EINVAL);
	SERVE_BAD(pad, 1, -EINVAL);
	SERVE_BAD(flags, 2, -EINVAL);	/* 1 is P2PBUF_RDMA_SERVE_PASSIVE */
	SERVE_BAD(flags, P2PBUF_RDMA_SERVE_PASSIVE | 2, -EINVAL);
	SERVE_BAD(flags, 0x80000000u, -EINVAL);
	SERVE_BAD(handle, 1, -EINVAL);
	SERVE_BAD(reserved[0], 1, -EINVAL);
	SERVE_BAD(reserved[1], 1, -EINVAL);
	SERVE_BAD(length, 0, -EINVAL);
	SERVE_BAD(length, buf.size + 1, -EINVAL);
	SERVE_BAD(offset, buf.size, -EINVAL);
	SERVE_BAD(offset, 1, -EINVAL);		/* offset + whole length */
	SERVE_BAD(offset, ~0ull, -EINVAL);
	SERVE_BAD(length, ~0ull, -EINVAL);
	/* A dma-buf open read-only (its first export): the READs write it. */
	CHECK_RET(p2p_create(buf.fd, 64 * 1024, P2PGEM_PLACEMENT_VRAM, 0, &roh),
		  0);
	CHECK(!drmPrimeHandleToFD(buf.fd, roh, DRM_CLOEXEC, &ro),
	      "read-only export: %s", strerror(errno));
	memset(&s, 0, sizeof(s));
	s.dmabuf_fd = ro;
	s.port = PORT;
	s.length = 4096;
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_SERVE, &s), -EBADF);
	close(ro);
	memfd = -1;
	udma = udmabuf_new(1 * MiB, &memfd);
	if (udma >= 0) {
		/* udmabuf gives importers no pages: not servable. */
		memset(&s, 0, sizeof(s));
		s.dmabuf_fd = udma;
		s.port = PORT;
		s.length = 4096;
		CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_SERVE, &s), -EOPNOTSUPP);
		close(udma);
		close(memfd);
	}

	/*
	 * A port below 1024 wants CAP_NET_BIND_SERVICE, as bind(2): a child
	 * that gave up root gets EACCES there, and may serve a high port.
	 */
	{
		pid_t pid = fork();
		int status = 0;

		CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (!pid) {
			uint32_t ch;
			int cfd;

			if (setresgid(65534, 65534, 65534) ||
			    setresuid(65534, 65534, 65534))
				_exit(3);
			cfd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
			if (cfd < 0)
				_exit(4);
			if (rd_serve(cfd, buf.dmabuf, 80, 0, 4096, &ch) != -EACCES)
				_exit(5);
			if (rd_serve(cfd, buf.dmabuf, PORT + 2, 0, 4096, &ch))
				_exit(6);
			_exit(0);
		}
		CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      !WEXITSTATUS(status),
		      "unprivileged SERVE: child status %#x (5: port 80 not EACCES, 6: a high port refused)",
		      status);
	}

	/* A good one, then the same port again. */
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 4096, 8192, &h), 0);
	CHECK(h != 0, "handle 0");
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, 4096, &h2), -EADDRINUSE);
	CHECK_RET(buf_new(&sys, 64 * 1024, P2PGEM_PLACEMENT_SYSTEM), 0);
	CHECK_RET(rd_serve(fd, sys.dmabuf, PORT + 1, 0, sys.size, &h2), 0);

	memset(&q, 0, sizeof(q));
	q.handle = h;
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_QUERY, &q), 0);
	CHECK(!q.connections && !q.pings && q.placement ==
	      P2PBUF_RDMA_PLACEMENT_NONE, "fresh server: %llu connections, placement %u",
	      (unsigned long long)q.connections, q.placement);
	memset(&q, 0, sizeof(q));
	q.handle = h;
	q.pad = 1;
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_QUERY, &q), -EINVAL);
	memset(&q, 0, sizeof(q));
	q.handle = h;
	q.pad2 = 1;
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_QUERY, &q), -EINVAL);
	memset(&q, 0, sizeof(q));
	q.handle = h;
	q.registrations = 1;
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_QUERY, &q), -EINVAL);
	CHECK_RET(rd_query(fd, 0, &q), -ENOENT);
	CHECK_RET(rd_query(fd, h + 100, &q), -ENOENT);

	memset(&st, 0, sizeof(st));
	st.handle = h;
	st.pad = 1;
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_STOP, &st), -EINVAL);
	st.pad = 0;
	st.reserved = 1;
	CHECK_RET(rd_ioctl(fd, P2PBUF_RDMA_IOC_STOP, &st), -EINVAL);
	CHECK_RET(rd_stop(fd, 0), -ENOENT);
	CHECK_RET(rd_stop(fd, h + 100), -ENOENT);
	CHECK_RET(rd_stop(fd, h), 0);
	CHECK_RET(rd_stop(fd, h), -ENOENT);
	CHECK_RET(rd_query(fd, h, &q), -ENOENT);
	/* The port is free again. */
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, 4096, &h), 0);
	/* 16 servers a file: with the two above, 14 more, then ENOSPC. */
	{
		uint32_t more;
		int i;

		for (i = 0; i < 14; i++)
			CHECK_RET(rd_serve(fd, buf.dmabuf, PORT + 10 + i, 0,
					   4096, &more), 0);
		CHECK_RET(rd_serve(fd, buf.dmabuf, PORT + 30, 0, 4096, &more),
			  -ENOSPC);
	}
	CHECK_RET(rd_ioctl(fd, 0x1234, &q), -ENOTTY);
	/* The buffers go first; the servers hold them. */
	buf_free(&buf);
	buf_free(&sys);
	close(fd);
	return 0;
}

/* ---- one-client ---- */

/*
 * A client's RDMA WRITE sends back what its READ put in the window: a
 * second client at the same time could overwrite it, so it is refused
 * (rping sees a REJECT) and counts as no error; once the first is gone,
 * the next is served.
 */
static int one_client(void)
{
	struct p2pbuf_rdma_query q;
	int fd, rc, lines, st = 0;
	struct buf buf;
	pid_t first;
	uint32_t h;
	int i;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 1 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, buf.size, &h), 0);
	first = rping_bg(PORT, 100000, 64);
	CHECK(first > 0, "fork: %s", strerror(errno));
	for (i = 0; i < 1000; i++) {
		CHECK_RET(rd_query(fd, h, &q), 0);
		if (q.active && q.pings)
			break;
		usleep(20 * 1000);
	}
	rc = rping(PORT, 1, 64, 60, &lines);
	CHECK_RET(rd_query(fd, h, &q), 0);
	kill(first, SIGTERM);
	waitpid(first, &st, 0);
	CHECK(q.connections == 1 && q.pings,
	      "the first client: %llu connections, %llu pings",
	      (unsigned long long)q.connections, (unsigned long long)q.pings);
	CHECK(rc != 0 && rc != 124 && lines == 0,
	      "a second client at once: exit %d, %d lines", rc, lines);
	CHECK(!q.errors, "a refused client counted as %llu errors",
	      (unsigned long long)q.errors);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	rc = rping(PORT, 2, 64, 60, &lines);
	CHECK(rc == 0 && lines == 2, "after the first: exit %d, %d lines",
	      rc, lines);
	close(fd);
	buf_free(&buf);
	return 0;
}

/* ---- rping-evict ---- */

struct evictor {
	int fd;
	uint32_t handle;
	volatile uint8_t *cpu;
	volatile int stop;
	int evictions, refused;
};

/*
 * Evict the buffer, then touch it through its CPU mapping: p2pgem's fault
 * brings a buffer that wants VRAM back into the visible window. So it
 * moves both ways even where the NIC's function cannot reach VRAM and
 * every mapping for it puts the buffer in system memory (where an
 * eviction alone would find it already).
 */
static void *evict_loop(void *arg)
{
	struct evictor *e = arg;

	while (!e->stop) {
		if (p2p_evict(e->fd, e->handle))
			e->refused++;
		else
			e->evictions++;
		usleep(10000);
		(void)e->cpu[0];
		usleep(10000);
	}
	return NULL;
}

/* The PCI function behind the rxe link's netdev. */
static int nic_pci(char *out, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/..",
		 env_or("P2PBUF_RDMA_NETDEV", "eth0"));
	if (!realpath(path, link))
		return -errno;
	base = strrchr(link, '/');
	n = snprintf(out, len, "%s", base ? base + 1 : link);
	return n > 0 ? 0 : -EINVAL;
}

/* What the NIC's function should get for a VRAM buffer: the P2P query. */
static uint32_t expected_placement(struct buf *b)
{
	struct drm_p2pgem_gem_p2p_query q = { .handle = b->handle };
	unsigned int dom, bus, dev, fn;
	char pci[64];

	if (nic_pci(pci, sizeof(pci)) ||
	    sscanf(pci, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return 0;
	printf("# NIC at %s\n", pci);
	q.domain = dom;
	q.bus = bus;
	q.devfn = dev << 3 | fn;
	if (p2p_ioctl(b->fd, DRM_IOCTL_P2PGEM_GEM_P2P_QUERY, &q))
		return 0;
	return q.reason == P2PGEM_P2P_OK ? P2PBUF_RDMA_PLACEMENT_P2P :
		P2PBUF_RDMA_PLACEMENT_SYSTEM;
}

static int rping_evict(void)
{
	int pings = atoi(env_or("P2PBUF_RDMA_PINGS", "256"));
	struct p2pbuf_rdma_query q;
	struct evictor e = { 0 };
	uint32_t h, want;
	struct buf buf;
	pthread_t th;
	int fd, rc, lines;
	double t;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 16 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	want = expected_placement(&buf);
	CHECK(want, "no P2P answer for the NIC's function");
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, buf.size, &h), 0);

	e.fd = buf.fd;
	e.handle = buf.handle;
	e.cpu = p2p_map(buf.fd, buf.handle, buf.size);
	CHECK(e.cpu, "mmap of the buffer object failed");
	CHECK(!pthread_create(&th, NULL, evict_loop, &e), "pthread_create");
	t = now();
	rc = rping(PORT, pings, PING_SIZE,
		   atoi(env_or("P2PBUF_RDMA_TIMEOUT", "120")), &lines);
	e.stop = 1;
	pthread_join(th, NULL);
	printf("# %d pings of %d bytes in %.1f s; %d evictions, %d refused\n",
	       lines, PING_SIZE, now() - t, e.evictions, e.refused);
	munmap((void *)e.cpu, buf.size);
	CHECK(rc == 0, "rping exited with %d", rc);
	CHECK(lines == pings, "%d 'ping data:' lines, want %d", lines, pings);

	CHECK_RET(rd_query(fd, h, &q), 0);
	printf("# connections %llu pings %llu read %llu written %llu maps %llu move_notifies %llu placement %u errors %llu\n",
	       (unsigned long long)q.connections, (unsigned long long)q.pings,
	       (unsigned long long)q.bytes_read,
	       (unsigned long long)q.bytes_written,
	       (unsigned long long)q.maps,
	       (unsigned long long)q.move_notifies, q.placement,
	       (unsigned long long)q.errors);
	CHECK(q.connections == 1 && q.pings == (uint64_t)pings &&
	      q.bytes_read == (uint64_t)pings * PING_SIZE &&
	      q.bytes_written == q.bytes_read && !q.errors,
	      "counters do not add up");
	if (!pins_on_map()) {
		CHECK(e.evictions > 0, "no eviction succeeded during the run");
		CHECK(q.move_notifies > 0, "no move_notify");
		CHECK(q.maps > 1, "not re-mapped (%llu maps)",
		      (unsigned long long)q.maps);
	}
	/* The last ping's bytes, at the last window. */
	CHECK_RET(check_payload(&buf, (uint64_t)(pings - 1) * PING_SIZE %
				(buf.size - buf.size % PING_SIZE), pings - 1,
				PING_SIZE), 0);

	/* No eviction now: one ping maps where the topology says. */
	rc = rping(PORT, 1, 4096, 60, &lines);
	CHECK(rc == 0 && lines == 1, "single rping: exit %d, %d lines", rc,
	      lines);
	CHECK_RET(rd_query(fd, h, &q), 0);
	CHECK(q.placement == want, "placement %u, want %u (%s)", q.placement,
	      want, want == P2PBUF_RDMA_PLACEMENT_P2P ? "p2p" : "system");
	CHECK(q.connections == 2 && q.pings == (uint64_t)pings + 1,
	      "%llu connections, %llu pings", (unsigned long long)q.connections,
	      (unsigned long long)q.pings);
	CHECK_RET(check_payload(&buf, 0, 0, 4096), 0);
	/* Closing the file stops the server; the buffer is free to move. */
	close(fd);
	CHECK_RET(p2p_evict(buf.fd, buf.handle), 0);
	buf_free(&buf);
	return 0;
}

/* ---- stopped ---- */

static int stopped(void)
{
	struct p2pbuf_rdma_query q;
	struct buf buf;
	int fd, rc, lines;
	uint32_t h;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 1 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, buf.size, &h), 0);
	rc = rping(PORT, 3, 64, 60, &lines);
	CHECK(rc == 0 && lines == 3, "rping: exit %d, %d lines", rc, lines);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	CHECK(q.pings == 3 && !q.active, "%llu pings, %llu active",
	      (unsigned long long)q.pings, (unsigned long long)q.active);
	/* A ping larger than the served range fails the connection. */
	CHECK_RET(rd_stop(fd, h), 0);
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, 1024, &h), 0);
	rc = rping(PORT, 1, 4096, 30, &lines);
	CHECK(lines == 0 && rc != 124, "oversized ping: exit %d, %d lines",
	      rc, lines);
	CHECK_RET(rd_query(fd, h, &q), 0);
	CHECK(q.errors >= 1, "oversized ping: no error counted");

	CHECK_RET(rd_stop(fd, h), 0);
	rc = rping(PORT, 1, 64, 30, &lines);
	CHECK(rc != 0 && rc != 124 && lines == 0,
	      "rping against a stopped server: exit %d, %d lines", rc, lines);
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, buf.size, &h), 0);
	close(fd);
	rc = rping(PORT, 1, 64, 30, &lines);
	CHECK(rc != 0 && rc != 124 && lines == 0,
	      "rping after close: exit %d, %d lines", rc, lines);
	buf_free(&buf);
	return 0;
}

/* ---- link-remove ---- */

static int link_remove(void)
{
	const char *link = env_or("P2PBUF_RDMA_LINK", "p2pbuf_rxe0");
	const char *ndev = env_or("P2PBUF_RDMA_NETDEV", "eth0");
	struct p2pbuf_rdma_query q;
	char cmd[256];
	struct buf buf;
	int fd, rc, lines;
	uint32_t h;
	pid_t pid;
	double t;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, buf.size, &h), 0);

	if (stream_start(fd, h, &pid))
		return -1;
	t = now();
	snprintf(cmd, sizeof(cmd), "timeout 60 rdma link delete %s", link);
	rc = system(cmd);
	printf("# rdma link delete took %.1f s\n", now() - t);
	CHECK(rc == 0, "%s: %d", cmd, rc);
	waitpid(pid, &rc, 0);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	      "the rping client did not get going");
	CHECK_RET(rd_query(fd, h, &q), 0);
	CHECK(!q.active, "%llu connections still up",
	      (unsigned long long)q.active);

	snprintf(cmd, sizeof(cmd), "rdma link add %s type rxe netdev %s",
		 link, ndev);
	CHECK(system(cmd) == 0, "%s failed", cmd);
	rc = rping(PORT, 5, 4096, 60, &lines);
	CHECK(rc == 0 && lines == 5, "after re-add: exit %d, %d lines", rc,
	      lines);
	close(fd);
	buf_free(&buf);
	return 0;
}

/* ---- nic-unbind ---- */

static int nic_unbind(void)
{
	const char *link = env_or("P2PBUF_RDMA_LINK", "p2pbuf_rxe0");
	const char *ndev = env_or("P2PBUF_RDMA_NETDEV", "eth0");
	char pci[64], drv[PATH_MAX], path[PATH_MAX + 16], cmd[512];
	struct p2pbuf_rdma_query q;
	int fd, rc, lines, i;
	struct buf buf;
	uint32_t h;
	pid_t pid;
	double t;

	NEED_RDMA();
	CHECK_RET(nic_pci(pci, sizeof(pci)), 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci);
	CHECK(realpath(path, drv), "%.200s: %s", path, strerror(errno));
	CHECK_RET(buf_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, buf.size, &h), 0);
	if (stream_start(fd, h, &pid))
		return -1;
	t = now();
	snprintf(path, sizeof(path), "%s/unbind", drv);
	CHECK_RET(write_file(path, pci), 0);
	printf("# unbind of %s from %s took %.1f s\n", pci, drv, now() - t);
	waitpid(pid, &rc, 0);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	      "the rping client did not get going");
	rc = wait_idle(fd, h, &q, 10000);
	CHECK(!rc || rc == -ETIME, "QUERY: %s", strerror(-rc));
	CHECK(!q.active, "%llu connections still up",
	      (unsigned long long)q.active);

	snprintf(path, sizeof(path), "%s/bind", drv);
	CHECK_RET(write_file(path, pci), 0);
	/* The netdev comes back under the same name (no udev renames it). */
	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s", ndev);
		if (!access(path, F_OK))
			break;
		usleep(100000);
	}
	snprintf(cmd, sizeof(cmd),
		 "ip addr replace %s/24 dev %s && ip link set %s up && "
		 "rdma link add %s type rxe netdev %s",
		 env_or("P2PBUF_RDMA_ADDR", "192.168.77.1"), ndev, ndev, link,
		 ndev);
	CHECK(system(cmd) == 0, "%.300s failed", cmd);
	rc = rping(PORT, 3, 4096, 60, &lines);
	CHECK(rc == 0 && lines == 3, "after rebind: exit %d, %d lines", rc,
	      lines);
	close(fd);
	buf_free(&buf);
	return 0;
}

/* ---- exporter-unbind ---- */

static int exporter_unbind(void)
{
	struct p2pbuf_rdma_query q;
	struct buf buf, other;
	int fd, rc, lines, i;
	char dev[64];
	uint32_t h;
	pid_t pid;
	double t;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	CHECK_RET(pci_name_of(buf.fd, dev, sizeof(dev)), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, PORT, 0, buf.size, &h), 0);
	if (stream_start(fd, h, &pid))
		return -1;
	t = now();
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/unbind", dev), 0);
	printf("# unbind of p2pgem from %s took %.1f s\n", dev, now() - t);
	waitpid(pid, &rc, 0);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	      "the rping client did not get going");
	rc = wait_idle(fd, h, &q, 10000);
	CHECK(!rc || rc == -ETIME, "QUERY: %s", strerror(-rc));
	printf("# %llu pings, %llu errors\n", (unsigned long long)q.pings,
	       (unsigned long long)q.errors);
	CHECK(!q.active, "%llu connections still up",
	      (unsigned long long)q.active);
	CHECK_RET(rd_stop(fd, h), 0);
	buf_free(&buf);
	close(fd);
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/bind", dev), 0);
	i = open_pci(dev);
	CHECK(i >= 0, "p2pgem is not back on %s", dev);
	close(i);

	/* And a buffer of the device bound again is served. */
	CHECK_RET(buf_new(&other, 1 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve(fd, other.dmabuf, PORT, 0, other.size, &h), 0);
	rc = rping(PORT, 3, 4096, 60, &lines);
	CHECK(rc == 0 && lines == 3, "after rebind: exit %d, %d lines", rc,
	      lines);
	close(fd);
	buf_free(&other);
	return 0;
}

/* ---- the own protocol ---- */

#define OWN_PORT 7176

static uint8_t pattern(uint64_t off, unsigned int seed)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ULL + seed;

	return (uint8_t)(x >> 56) ^ (uint8_t)off;
}

static void fill(uint8_t *p, uint64_t off, uint64_t len, unsigned int seed)
{
	for (uint64_t i = 0; i < len; i++)
		p[i] = pattern(off + i, seed);
}

/* The first byte of @p[0, len) that is not the pattern, or -1. */
static int64_t mismatch(const volatile uint8_t *p, uint64_t off, uint64_t len,
			unsigned int seed)
{
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != pattern(off + i, seed))
			return (int64_t)i;
	return -1;
}

static int own_connect(struct p2pbuf_rdma_client **c)
{
	return p2pbuf_rdma_connect(env_or("P2PBUF_RDMA_ADDR", "192.168.77.1"),
				   OWN_PORT, 20000, c);
}

static int own_xfer(struct p2pbuf_rdma_client *c, uint32_t op, void *local,
		    uint64_t off, uint64_t len, uint64_t step)
{
	struct p2pbuf_rdma_xfer x = {
		.size = sizeof(x), .op = op, .local = local, .offset = off,
		.length = len, .step = step,
	};
	uint64_t done;
	int ret = p2pbuf_rdma_transfer(c, &x, &done);

	if (!ret && done != len)
		return -EPROTO;
	return ret;
}

/*
 * Through a VRAM buffer as large as the CPU-visible window (the largest a
 * NIC gets P2P, and that the evictor's touch brings back to VRAM), 64 MiB
 * each way: the buffer twice over, with two patterns.
 */
static int own_evict(void)
{
	uint64_t size = 32 * MiB;
	struct p2pbuf_rdma_client *c;
	struct p2pbuf_rdma_query q;
	struct evictor e = { 0 };
	uint8_t *src, *dst;
	struct buf buf;
	pthread_t th;
	int64_t bad;
	uint32_t h;
	int fd, ret;
	double t;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, size, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, OWN_PORT, 0, buf.size, &h), 0);
	src = malloc(size);
	dst = calloc(1, size);
	CHECK(src && dst, "malloc");

	e.fd = buf.fd;
	e.handle = buf.handle;
	e.cpu = p2p_map(buf.fd, buf.handle, buf.size);
	CHECK(e.cpu, "mmap of the buffer object failed");
	CHECK_RET(own_connect(&c), 0);
	CHECK(!pthread_create(&th, NULL, evict_loop, &e), "pthread_create");
	t = now();
	ret = 0;
	for (unsigned int seed = 1; seed <= 2 && !ret; seed++) {
		fill(src, 0, size, seed);
		ret = own_xfer(c, P2PBUF_RDMA_OP_WRITE, src, 0, size, 0);
		if (!ret)
			ret = own_xfer(c, P2PBUF_RDMA_OP_READ, dst, 0, size, 0);
		if (!ret && (bad = mismatch(dst, 0, size, seed)) >= 0) {
			printf("# pass %u: byte %lld read back differs\n", seed,
			       (long long)bad);
			ret = -EILSEQ;
		}
	}
	e.stop = 1;
	pthread_join(th, NULL);
	printf("# 64 MiB each way in %.1f s; %d evictions, %d refused\n",
	       now() - t, e.evictions, e.refused);
	CHECK_RET(ret, 0);
	bad = mismatch(e.cpu, 0, size, 2);
	CHECK(bad < 0, "in the buffer: byte %lld differs", (long long)bad);
	p2pbuf_rdma_disconnect(c);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	printf("# connections %llu requests %llu read %llu written %llu maps %llu move_notifies %llu errors %llu\n",
	       (unsigned long long)q.connections,
	       (unsigned long long)q.requests,
	       (unsigned long long)q.bytes_read,
	       (unsigned long long)q.bytes_written,
	       (unsigned long long)q.maps,
	       (unsigned long long)q.move_notifies,
	       (unsigned long long)q.errors);
	CHECK(q.connections == 1 && q.requests == 16 &&
	      q.bytes_read == 2 * size && q.bytes_written == 2 * size &&
	      !q.errors, "counters do not add up");
	if (!pins_on_map()) {
		CHECK(e.evictions > 0, "no eviction succeeded during the run");
		CHECK(q.move_notifies > 0, "no move_notify");
		CHECK(q.maps > 1, "not re-mapped (%llu maps)",
		      (unsigned long long)q.maps);
	}
	munmap((void *)e.cpu, buf.size);
	free(src);
	free(dst);
	close(fd);
	buf_free(&buf);
	return 0;
}

static int own_big(void)
{
	uint64_t size = 32 * MiB, off = 4096 + 100;
	struct p2pbuf_rdma_client *c;
	struct p2pbuf_rdma_query q;
	uint8_t *src, *dst;
	struct buf buf;
	int64_t bad;
	uint32_t h;
	int fd;

	NEED_RDMA();
	/* All of VRAM, more than the CPU-visible window: no CPU access. */
	CHECK_RET(buf_new_flags(&buf, 64 * MiB, P2PGEM_PLACEMENT_VRAM, 0), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));
	/* A range that starts inside a page, served from 1 MiB on. */
	CHECK_RET(rd_serve(fd, buf.dmabuf, OWN_PORT, MiB, 40 * MiB, &h), 0);
	src = malloc(size);
	dst = calloc(1, size);
	CHECK(src && dst, "malloc");
	fill(src, off, size, 2);
	CHECK_RET(own_connect(&c), 0);
	CHECK_RET(own_xfer(c, P2PBUF_RDMA_OP_WRITE, src, off, size, size), 0);
	CHECK_RET(own_xfer(c, P2PBUF_RDMA_OP_READ, dst, off, size, size), 0);
	bad = mismatch(dst, off, size, 2);
	CHECK(bad < 0, "read back: byte %lld differs", (long long)bad);
	p2pbuf_rdma_disconnect(c);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	CHECK(q.requests == 2 && q.bytes_read == size &&
	      q.bytes_written == size && !q.errors,
	      "%llu requests, %llu read, %llu written, %llu errors",
	      (unsigned long long)q.requests,
	      (unsigned long long)q.bytes_read,
	      (unsigned long long)q.bytes_written,
	      (unsigned long long)q.errors);
	free(src);
	free(dst);
	close(fd);
	buf_free(&buf);
	return 0;
}

/* One request as the wire has it: the reply's status, or -errno. */
static int own_raw(struct p2pbuf_rdma_client *c, uint32_t op, uint64_t off,
		   uint64_t len, uint64_t addr, uint32_t flags, uint32_t rsvd)
{
	static uint64_t id = 1000;
	struct p2pbuf_rdma_req req = {
		.op = htole32(op), .flags = htole32(flags),
		.id = htole64(++id), .offset = htole64(off),
		.length = htole64(len), .addr = htole64(addr),
		.rkey = htole32(1), .reserved = htole32(rsvd),
	};
	struct p2pbuf_rdma_reply rep;
	int ret = p2pbuf_rdma_request(c, &req, &rep);

	if (ret)
		return ret;
	if (le64toh(rep.id) != id || rep.bytes || rep.rkey)
		return -EPROTO;
	return (int)le32toh(rep.status);
}

/* A client with another protocol version: rejected. */
static int own_bad_version(void)
{
	struct p2pbuf_rdma_hello hello = {
		.magic = htole32(P2PBUF_RDMA_HELLO_MAGIC), .version = htole16(2),
	};
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct rdma_conn_param param = {
		.private_data = &hello, .private_data_len = sizeof(hello),
		.responder_resources = 1, .initiator_depth = 1,
	};
	struct ibv_qp_init_attr attr = {
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct rdma_cm_id *id;
	char port[8];
	int ret;

	snprintf(port, sizeof(port), "%u", OWN_PORT);
	if (rdma_getaddrinfo(env_or("P2PBUF_RDMA_ADDR", "192.168.77.1"), port,
			     &hints, &res))
		return -errno;
	ret = rdma_create_ep(&id, res, NULL, &attr);
	rdma_freeaddrinfo(res);
	if (ret)
		return -errno;
	ret = rdma_connect(id, &param) ? -errno : 0;
	rdma_destroy_ep(id);
	return ret;
}

static int own_bad(void)
{
	uint64_t len = 4 * MiB;
	struct p2pbuf_rdma_client *c;
	struct p2pbuf_rdma_query q;
	uint8_t *src, *dst;
	struct buf buf;
	uint32_t h;
	int fd;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 8 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, OWN_PORT, 2 * MiB, len, &h), 0);
	CHECK_RET(own_connect(&c), 0);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_READ, 0, len + 1, 0, 0, 0), ERANGE);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_WRITE, 1, len, 0, 0, 0), ERANGE);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_WRITE, len, 1, 0, 0, 0), ERANGE);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_READ, UINT64_MAX, 2, 0, 0, 0),
		  ERANGE);
	CHECK_RET(own_raw(c, 0, 0, 4096, 0, 0, 0), EINVAL);
	CHECK_RET(own_raw(c, 5, 0, 4096, 0, 0, 0), EINVAL);
	/* Passive registration, on a server that does not allow it. */
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_REGISTER, 0, 4096, 0, 0, 0),
		  EPERM);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 0, 0, 0, 0),
		  EPERM);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_READ, 0, 0, 0, 0, 0), EINVAL);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_READ, 0, 4096, 0, 1, 0), EINVAL);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_READ, 0, 4096, 0, 0, 1), EINVAL);
	CHECK_RET(own_raw(c, P2PBUF_RDMA_OP_READ, 0, 4096, UINT64_MAX - 100,
			  0, 0), EINVAL);
	/* The connection survives: a good request after the bad ones. */
	src = malloc(len);
	dst = calloc(1, len);
	CHECK(src && dst, "malloc");
	fill(src, 0, len, 3);
	CHECK_RET(own_xfer(c, P2PBUF_RDMA_OP_WRITE, src, 0, len, 0), 0);
	CHECK_RET(own_xfer(c, P2PBUF_RDMA_OP_READ, dst, 0, len, 0), 0);
	CHECK(!memcmp(src, dst, len), "read back differs");
	p2pbuf_rdma_disconnect(c);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	CHECK(q.connections == 1 && q.requests == 2 && q.errors == 12,
	      "%llu connections, %llu requests, %llu errors",
	      (unsigned long long)q.connections,
	      (unsigned long long)q.requests, (unsigned long long)q.errors);
	/* Another version of the protocol is rejected, and counts as none. */
	CHECK_RET(own_bad_version(), -ECONNREFUSED);
	CHECK_RET(rd_query(fd, h, &q), 0);
	CHECK(q.connections == 1, "%llu connections",
	      (unsigned long long)q.connections);
	free(src);
	free(dst);
	close(fd);
	buf_free(&buf);
	return 0;
}

struct own_bg {
	struct p2pbuf_rdma_client *c;
	void *src;
	uint64_t len;
	int ret;
};

static void *own_bg_write(void *arg)
{
	struct own_bg *b = arg;

	b->ret = own_xfer(b->c, P2PBUF_RDMA_OP_WRITE, b->src, 0, b->len,
			  b->len);
	return NULL;
}

/*
 * One look for a chunk of a WRITE in flight: the buffer's write fences
 * exported, with the bytes the server had moved since @base (its
 * bytes_read) before and after; the same count and a pending sync_file
 * mean the fence is the chunk that starts there. 1: pending, the
 * sync_file in *sync and the chunk's start in *at; 0: nothing pending,
 * look again; 2: all @len bytes moved; or -errno.
 */
static int chunk_pending(int fd, uint32_t h, int dmabuf, uint64_t base,
			 uint64_t len, uint64_t *at, int *sync)
{
	struct dma_buf_export_sync_file ex = { .flags = DMA_BUF_SYNC_READ };
	struct p2pbuf_rdma_query q1, q2;
	struct pollfd pfd = { .events = POLLIN };
	int ret;

	ret = rd_query(fd, h, &q1);
	if (ret)
		return ret;
	if (q1.bytes_read - base >= len)
		return 2;
	/* DMA_BUF_SYNC_READ: waits for the writers. */
	ret = rd_ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &ex);
	if (!ret)
		ret = rd_query(fd, h, &q2);
	if (ret)
		return ret;
	pfd.fd = ex.fd;
	if (q1.bytes_read != q2.bytes_read || poll(&pfd, 1, 0) != 0) {
		close(ex.fd);
		return 0;
	}
	*at = q1.bytes_read - base;
	*sync = ex.fd;
	return 1;
}

/* The end of the chunk that starts at @at in a request of @len bytes. */
static uint64_t chunk_end(uint64_t at, uint64_t len)
{
	return len - at < P2PBUF_RDMA_CHUNK ? len : at + P2PBUF_RDMA_CHUNK;
}

static int own_sync_file(void)
{
	struct own_bg bg = { .len = 32 * MiB };
	struct p2pbuf_rdma_query q0;
	volatile uint8_t *cpu;
	uint64_t end = 0;
	struct buf buf;
	pthread_t th;
	int fd, tries = 0, pending = 0;
	int64_t bad;
	uint32_t h;
	double t0;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, bg.len, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, OWN_PORT, 0, buf.size, &h), 0);
	bg.src = malloc(bg.len);
	CHECK(bg.src, "malloc");
	fill(bg.src, 0, bg.len, 4);
	cpu = p2p_map(buf.fd, buf.handle, buf.size);
	CHECK(cpu, "mmap of the buffer object failed");
	CHECK_RET(own_connect(&bg.c), 0);
	/*
	 * First a small write of the same bytes: where the NIC cannot reach
	 * VRAM (no P2PDMA, blocked), the first map moves the buffer to
	 * system memory, and that move's fence, pending before any chunk's,
	 * would be taken for a chunk below. Once it is done nothing moves
	 * the buffer (nothing touches it) until the check.
	 */
	CHECK_RET(own_xfer(bg.c, P2PBUF_RDMA_OP_WRITE, bg.src, 0, 4096, 4096),
		  0);
	CHECK_RET(rd_query(fd, h, &q0), 0);
	CHECK(!pthread_create(&th, NULL, own_bg_write, &bg), "pthread_create");
	/* Export the write fences until one is pending (chunk_pending()). */
	t0 = now();
	while (now() - t0 < 120) {
		struct pollfd pfd = { .events = POLLIN };
		uint64_t at;
		int ret;

		ret = chunk_pending(fd, h, buf.dmabuf, q0.bytes_read, bg.len,
				    &at, &pfd.fd);
		CHECK(ret >= 0, "looking for a chunk in flight: %s",
		      strerror(-ret));
		if (ret == 2)
			break;
		tries++;
		if (!ret)
			continue;
		/* Pending: wait for it, then the chunk's bytes are there. */
		CHECK(poll(&pfd, 1, 120000) == 1, "sync_file never signalled");
		close(pfd.fd);
		end = chunk_end(at, bg.len);
		bad = mismatch(cpu, 0, end, 4);
		CHECK(bad < 0, "byte %lld of the first %llu is not there after the sync_file signalled",
		      (long long)bad, (unsigned long long)end);
		pending++;
		if (pending >= 2)
			break;
	}
	pthread_join(th, NULL);
	printf("# %d exports, %d pending; the last covered %llu bytes\n",
	       tries, pending, (unsigned long long)end);
	CHECK_RET(bg.ret, 0);
	CHECK(pending > 0, "no export found the transfer in flight");
	bad = mismatch(cpu, 0, bg.len, 4);
	CHECK(bad < 0, "byte %lld differs", (long long)bad);
	p2pbuf_rdma_disconnect(bg.c);
	munmap((void *)cpu, buf.size);
	free(bg.src);
	close(fd);
	buf_free(&buf);
	return 0;
}

/* ---- own-chain ---- */

#define NVME_DEV "/dev/p2pbuf_nvme"
#define NVME_NS "/dev/nvme0n1"
#define NVME_DEP_TIMEOUT "/sys/module/p2pbuf_nvme/parameters/dep_timeout_ms"

static int own_chain_run(void)
{
	struct p2pbuf_nvme_bind bind = { .flags = P2PBUF_NVME_BIND_IMPLICIT_SYNC };
	struct own_bg bg = { .len = 32 * MiB };
	struct p2pbuf_rdma_query q0, q2;
	struct p2pbuf_nvme_io io;
	int fd, nv, disk, tries = 0;
	uint64_t end = 0, before = 0;
	struct pollfd pfd;
	struct buf buf;
	pthread_t th;
	uint8_t *back;
	int64_t bad;
	uint32_t h;
	double t0;

	NEED_RDMA();
	SKIP_UNLESS(!access(NVME_DEV, F_OK), "p2pbuf_nvme.ko is not loaded");
	disk = open(NVME_NS, O_RDWR | O_DIRECT | O_CLOEXEC);
	SKIP_UNLESS(disk >= 0, "no NVMe namespace: %s", strerror(errno));
	nv = open(NVME_DEV, O_RDWR | O_CLOEXEC);
	CHECK(nv >= 0, "open %s: %s", NVME_DEV, strerror(errno));
	CHECK_RET(buf_new(&buf, bg.len, P2PGEM_PLACEMENT_VRAM), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, OWN_PORT, 0, buf.size, &h), 0);
	bg.src = malloc(bg.len);
	back = aligned_alloc(4096, bg.len);
	CHECK(bg.src && back, "malloc");
	fill(bg.src, 0, bg.len, 6);
	bind.dmabuf_fd = buf.dmabuf;
	bind.fd = disk;
	CHECK_RET(rd_ioctl(nv, P2PBUF_NVME_IOC_BIND, &bind), 0);
	CHECK_RET(own_connect(&bg.c), 0);
	/*
	 * Both importers map once first (each map can move the buffer where
	 * a device cannot reach VRAM), so that the only writers' fences
	 * pending below are the transfer's chunks: an RDMA write of 4 KiB,
	 * an NVMe write of it.
	 */
	CHECK_RET(own_xfer(bg.c, P2PBUF_RDMA_OP_WRITE, bg.src, 0, 4096, 4096),
		  0);
	memset(&io, 0, sizeof(io));
	io.handle = bind.handle;
	io.op = P2PBUF_NVME_WRITE;
	io.length = 4096;
	CHECK_RET(rd_ioctl(nv, P2PBUF_NVME_IOC_IO, &io), 0);
	CHECK_RET(rd_query(fd, h, &q0), 0);
	CHECK(!pthread_create(&th, NULL, own_bg_write, &bg), "pthread_create");

	/* A chunk in flight: its fence pending, the server's count still. */
	t0 = now();
	while (!end && now() - t0 < 120) {
		uint64_t at;
		int sync, ret;

		ret = chunk_pending(fd, h, buf.dmabuf, q0.bytes_read, bg.len,
				    &at, &sync);
		CHECK(ret >= 0, "looking for a chunk in flight: %s",
		      strerror(-ret));
		if (ret == 2)
			break;
		tries++;
		if (ret == 1) {
			/*
			 * Queue the disk's write of everything up to the
			 * chunk's end now; no wait for the sync_file: the
			 * binding's implicit sync orders the write.
			 */
			end = chunk_end(at, bg.len);
			memset(&io, 0, sizeof(io));
			io.handle = bind.handle;
			io.op = P2PBUF_NVME_WRITE;
			io.length = end;
			io.flags = P2PBUF_NVME_IO_ASYNC;
			CHECK_RET(rd_ioctl(nv, P2PBUF_NVME_IOC_IO, &io), 0);
			CHECK_RET(rd_query(fd, h, &q2), 0);
			before = q2.bytes_read - q0.bytes_read;
			close(sync);
		}
	}
	CHECK(end, "no export found the transfer in flight (%d tries)", tries);
	printf("# %d exports; the NVMe write of %llu bytes was queued with %llu of them moved by RDMA\n",
	       tries, (unsigned long long)end, (unsigned long long)before);
	pfd.fd = io.out_fence_fd;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 120000) == 1, "the NVMe write never signalled");
	CHECK(fence_status(io.out_fence_fd) == 1,
	      "the NVMe write's fence: status %d",
	      fence_status(io.out_fence_fd));
	close(io.out_fence_fd);
	pthread_join(th, NULL);
	CHECK_RET(bg.ret, 0);
	CHECK(pread(disk, back, end, 0) == (ssize_t)end, "read back: %s",
	      strerror(errno));
	bad = mismatch(back, 0, end, 6);
	CHECK(bad < 0, "on the disk, byte %lld of %llu is not what RDMA moved",
	      (long long)bad, (unsigned long long)end);
	p2pbuf_rdma_disconnect(bg.c);
	close(nv);
	close(disk);
	free(back);
	free(bg.src);
	close(fd);
	buf_free(&buf);
	return 0;
}

/*
 * The NVMe write waits for the RDMA chunk for at most p2pbuf_nvme's
 * dep_timeout_ms (10 s): rxe under the debug kernel on a loaded machine
 * can take longer for 8 MiB. Raised for the run, as the RDMA tests raise
 * p2pbuf_rdma's op_timeout_ms.
 */
static int own_chain(void)
{
	char old[32] = "10000";
	FILE *f = fopen(NVME_DEP_TIMEOUT, "r");
	int ret;

	if (f) {
		if (!fgets(old, sizeof(old), f))
			snprintf(old, sizeof(old), "10000");
		old[strcspn(old, "\n")] = 0;
		fclose(f);
	}
	write_file(NVME_DEP_TIMEOUT, "120000");
	ret = own_chain_run();
	write_file(NVME_DEP_TIMEOUT, old);
	return ret;
}

/* ---- own-unbind ---- */

static int own_unbind(void)
{
	struct own_bg bg = { .len = 32 * MiB };
	struct p2pbuf_rdma_client *c;
	struct p2pbuf_rdma_query q;
	struct buf buf, other;
	char dev[64];
	pthread_t th;
	uint32_t h;
	int fd, rc;
	double t;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, bg.len, P2PGEM_PLACEMENT_VRAM), 0);
	CHECK_RET(pci_name_of(buf.fd, dev, sizeof(dev)), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve(fd, buf.dmabuf, OWN_PORT, 0, buf.size, &h), 0);
	bg.src = malloc(bg.len);
	CHECK(bg.src, "malloc");
	fill(bg.src, 0, bg.len, 7);
	CHECK_RET(own_connect(&bg.c), 0);
	CHECK(!pthread_create(&th, NULL, own_bg_write, &bg), "pthread_create");
	/* Mid-stream: once the server has moved something. */
	t = now();
	do {
		usleep(20000);
		CHECK_RET(rd_query(fd, h, &q), 0);
	} while (!q.bytes_read && now() - t < 60);
	t = now();
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/unbind", dev), 0);
	printf("# unbind of p2pgem from %s took %.1f s, with %llu bytes moved\n",
	       dev, now() - t, (unsigned long long)q.bytes_read);
	pthread_join(th, NULL);
	printf("# the transfer ended: %s\n", strerror(-bg.ret));
	rc = wait_idle(fd, h, &q, 10000);
	CHECK(!rc || rc == -ETIME, "QUERY: %s", strerror(-rc));
	/* It may have finished before the unbind reached it; never hung. */
	CHECK(bg.ret || q.bytes_read == bg.len,
	      "the transfer succeeded with %llu of %llu bytes",
	      (unsigned long long)q.bytes_read,
	      (unsigned long long)bg.len);
	p2pbuf_rdma_disconnect(bg.c);
	rc = wait_idle(fd, h, &q, 10000);
	CHECK(!rc || rc == -ETIME, "QUERY: %s", strerror(-rc));
	CHECK(!q.active, "%llu connections still up",
	      (unsigned long long)q.active);
	CHECK_RET(rd_stop(fd, h), 0);
	buf_free(&buf);
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/bind", dev), 0);

	/* The server serves a buffer of the device bound again. */
	CHECK_RET(buf_new(&other, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	CHECK_RET(rd_serve(fd, other.dmabuf, OWN_PORT, 0, other.size, &h), 0);
	CHECK_RET(own_connect(&c), 0);
	CHECK_RET(own_xfer(c, P2PBUF_RDMA_OP_WRITE, bg.src, 0, other.size, 0),
		  0);
	p2pbuf_rdma_disconnect(c);
	free(bg.src);
	close(fd);
	buf_free(&other);
	return 0;
}

static int rd_serve_passive(int fd, int dmabuf, uint64_t len, uint32_t *h)
{
	struct p2pbuf_rdma_serve s = {
		.dmabuf_fd = dmabuf, .port = OWN_PORT, .length = len,
		.flags = P2PBUF_RDMA_SERVE_PASSIVE,
	};
	int ret = rd_ioctl(fd, P2PBUF_RDMA_IOC_SERVE, &s);

	if (!ret)
		*h = s.handle;
	return ret;
}

/* REGISTER or UNREGISTER as the wire has it: the reply's status, or -errno. */
static int own_reg_raw(struct p2pbuf_rdma_client *c, uint32_t op,
		       uint64_t off, uint64_t len, uint64_t addr, uint32_t rkey,
		       uint32_t flags, uint32_t rsvd)
{
	static uint64_t id = 5000;
	struct p2pbuf_rdma_req req = {
		.op = htole32(op), .flags = htole32(flags),
		.id = htole64(++id), .offset = htole64(off),
		.length = htole64(len), .addr = htole64(addr),
		.rkey = htole32(rkey), .reserved = htole32(rsvd),
	};
	struct p2pbuf_rdma_reply rep;
	int ret = p2pbuf_rdma_request(c, &req, &rep);

	if (ret)
		return ret;
	if (le64toh(rep.id) != id || (rep.status && (rep.bytes || rep.rkey)))
		return -EPROTO;
	return (int)le32toh(rep.status);
}

/* The client's own RDMA through registration @r. */
static int own_remote(struct p2pbuf_rdma_client *c,
		      const struct p2pbuf_rdma_remote *r, uint32_t op,
		      void *local, uint64_t off, uint64_t len)
{
	struct p2pbuf_rdma_xfer x = {
		.size = sizeof(x), .op = op, .local = local, .offset = off,
		.length = len, .step = 256 * 1024,
	};
	uint64_t done;
	int ret = p2pbuf_rdma_remote_transfer(c, r, &x, &done);

	if (!ret && done != len)
		return -EPROTO;
	return ret;
}

/* An eviction, retried while a pin may linger (kernels without move_notify). */
static int evict_soon(struct buf *b)
{
	double t = now();
	int ret;

	while ((ret = p2p_evict(b->fd, b->handle)) == -EBUSY && now() - t < 5)
		usleep(20000);
	return ret;
}

static int own_passive(void)
{
	uint64_t size = 16 * MiB, off = 3 * 4096 + 100, len = MiB;
	struct p2pbuf_rdma_remote r = { .size = sizeof(r) }, r2 = r;
	struct p2pbuf_rdma_client *c;
	struct p2pbuf_rdma_query q;
	uint8_t *src, *dst;
	volatile uint8_t *cpu;
	uint32_t want, h;
	struct buf buf;
	int64_t bad;
	int fd, ret;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, size, P2PGEM_PLACEMENT_VRAM), 0);
	want = expected_placement(&buf);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", RDMA_DEV, strerror(errno));
	src = malloc(len);
	dst = calloc(1, len);
	cpu = p2p_map(buf.fd, buf.handle, size);
	CHECK(src && dst && cpu, "malloc or mmap");

	/* Not without the server's consent. */
	CHECK_RET(rd_serve(fd, buf.dmabuf, OWN_PORT, 0, size, &h), 0);
	CHECK_RET(own_connect(&c), 0);
	CHECK_RET(p2pbuf_rdma_register(c, off, len, &r), -EPERM);
	p2pbuf_rdma_disconnect(c);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	CHECK_RET(rd_stop(fd, h), 0);

	CHECK_RET(rd_serve_passive(fd, buf.dmabuf, size, &h), 0);
	CHECK_RET(own_connect(&c), 0);
	/* Every field of REGISTER and UNREGISTER. */
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_REGISTER, off, len, 1, 0, 0, 0),
		  EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_REGISTER, off, len, 0, 1, 0, 0),
		  EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_REGISTER, off, len, 0, 0, 1, 0),
		  EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_REGISTER, off, len, 0, 0, 0, 1),
		  EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_REGISTER, off, 0, 0, 0, 0, 0),
		  EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_REGISTER, size, 1, 0, 0, 0, 0),
		  ERANGE);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_REGISTER, 1, size, 0, 0, 0, 0),
		  ERANGE);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 0, 0, 5, 0, 0),
		  ENOENT);

	CHECK_RET(p2pbuf_rdma_register(c, off, len, &r), 0);
	printf("# registered %llu bytes at %llu, rkey %#x\n",
	       (unsigned long long)r.length, (unsigned long long)r.offset,
	       r.rkey);
	CHECK(r.offset == off && r.length == len && r.rkey, "registration");
	CHECK_RET(p2pbuf_rdma_register(c, 0, 4096, &r2), -EBUSY);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 0, 0,
			      r.rkey + 1, 0, 0), ENOENT);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 1, 0, 0, r.rkey,
			      0, 0), EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 1, 0, r.rkey,
			      0, 0), EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 0, 1, r.rkey,
			      0, 0), EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 0, 0, r.rkey,
			      1, 0), EINVAL);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 0, 0, r.rkey,
			      0, 1), EINVAL);

	/* The client's WRITE lands in the buffer, its READ gets the buffer. */
	fill(src, off, len, 5);
	CHECK_RET(own_remote(c, &r, P2PBUF_RDMA_OP_WRITE, src, off, len), 0);
	bad = mismatch(cpu + off, off, len, 5);
	CHECK(bad < 0, "in the buffer: byte %lld differs", (long long)bad);
	fill((uint8_t *)cpu + off, off, len, 6);
	CHECK_RET(own_remote(c, &r, P2PBUF_RDMA_OP_READ, dst, off, len), 0);
	bad = mismatch(dst, off, len, 6);
	CHECK(bad < 0, "read: byte %lld differs", (long long)bad);
	CHECK_RET(own_remote(c, &r, P2PBUF_RDMA_OP_READ, dst, off + len - 100,
			     200), -ERANGE);

	/* Pinned where it is while registered. */
	CHECK_RET(p2p_evict(buf.fd, buf.handle), -EBUSY);
	CHECK_RET(rd_query(fd, h, &q), 0);
	printf("# registrations %llu placement %u (want %u)\n",
	       (unsigned long long)q.registrations, q.placement, want);
	CHECK(q.registrations == 1, "registrations %llu",
	      (unsigned long long)q.registrations);
	CHECK(!want || q.placement == want, "placement %u, want %u",
	      q.placement, want);

	/* Unregistered: the buffer moves, and the key writes nothing. */
	CHECK_RET(p2pbuf_rdma_unregister(c, &r), 0);
	CHECK_RET(own_reg_raw(c, P2PBUF_RDMA_OP_UNREGISTER, 0, 0, 0, r.rkey,
			      0, 0), ENOENT);
	CHECK_RET(evict_soon(&buf), 0);
	fill(src, off, len, 7);
	CHECK_RET(own_remote(c, &r, P2PBUF_RDMA_OP_WRITE, src, off, len),
		  -EIO);
	p2pbuf_rdma_disconnect(c);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	bad = mismatch(cpu + off, off, len, 6);
	CHECK(bad < 0, "after the key ended: byte %lld differs",
	      (long long)bad);

	/* A disconnect ends a registration too. */
	CHECK_RET(own_connect(&c), 0);
	/*
	 * The whole buffer, when its pages fit one MR of the device (rxe:
	 * 512 pages of the largest size every boundary between the pages'
	 * runs allows), else 1 MiB.
	 */
	ret = p2pbuf_rdma_register(c, 0, size, &r);
	printf("# the whole buffer: %s\n", ret ? strerror(-ret) : "registered");
	if (ret == -E2BIG)
		ret = p2pbuf_rdma_register(c, 0, len, &r);
	CHECK_RET(ret, 0);
	CHECK_RET(p2p_evict(buf.fd, buf.handle), -EBUSY);
	p2pbuf_rdma_disconnect(c);
	CHECK_RET(wait_idle(fd, h, &q, 10000), 0);
	CHECK_RET(evict_soon(&buf), 0);
	CHECK(q.registrations == 2, "registrations %llu",
	      (unsigned long long)q.registrations);

	munmap((void *)cpu, size);
	free(src);
	free(dst);
	close(fd);
	buf_free(&buf);
	return 0;
}

/*
 * p2pgem unbound while a client holds a registration: the unbind revokes
 * it (the key stops working before the memory goes) and returns, the
 * connection ends; p2pgem bound again.
 */
static int own_passive_unbind(void)
{
	struct p2pbuf_rdma_remote r = { .size = sizeof(r) };
	struct p2pbuf_rdma_client *c;
	struct p2pbuf_rdma_query q;
	uint64_t len = MiB;
	struct buf buf;
	uint8_t *src;
	char dev[64];
	uint32_t h;
	int fd, rc;
	double t;

	NEED_RDMA();
	CHECK_RET(buf_new(&buf, 4 * MiB, P2PGEM_PLACEMENT_VRAM), 0);
	CHECK_RET(pci_name_of(buf.fd, dev, sizeof(dev)), 0);
	fd = open(RDMA_DEV, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_RET(rd_serve_passive(fd, buf.dmabuf, buf.size, &h), 0);
	src = malloc(len);
	CHECK(src, "malloc");
	fill(src, 0, len, 9);
	CHECK_RET(own_connect(&c), 0);
	CHECK_RET(p2pbuf_rdma_register(c, 0, len, &r), 0);
	CHECK_RET(own_remote(c, &r, P2PBUF_RDMA_OP_WRITE, src, 0, len), 0);
	t = now();
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/unbind", dev), 0);
	printf("# unbind of p2pgem from %s with a registration took %.1f s\n",
	       dev, now() - t);
	CHECK_RET(own_remote(c, &r, P2PBUF_RDMA_OP_WRITE, src, 0, len), -EIO);
	p2pbuf_rdma_disconnect(c);
	rc = wait_idle(fd, h, &q, 10000);
	CHECK(!rc, "QUERY: %s", strerror(-rc));
	CHECK(!q.active, "%llu connections still up",
	      (unsigned long long)q.active);
	CHECK_RET(rd_stop(fd, h), 0);
	buf_free(&buf);
	CHECK_RET(write_file("/sys/bus/pci/drivers/p2pgem/bind", dev), 0);
	free(src);
	close(fd);
	return 0;
}

static const struct subtest tests[] = {
	{ "serve-bad", serve_bad },
	{ "rping-evict", rping_evict },
	{ "stopped", stopped },
	{ "one-client", one_client },
	{ "link-remove", link_remove },
	{ "nic-unbind", nic_unbind },
	{ "exporter-unbind", exporter_unbind },
};

/* p2pbuf_rdma_client (a link to this program): the own protocol's. */
static const struct subtest own_tests[] = {
	{ "own-evict", own_evict },
	{ "own-big", own_big },
	{ "own-bad", own_bad },
	{ "own-sync-file", own_sync_file },
	{ "own-chain", own_chain },
	{ "own-unbind", own_unbind },
	{ "own-passive", own_passive },
	{ "own-passive-unbind", own_passive_unbind },
};

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	signal(SIGPIPE, SIG_IGN);
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "p2pbuf_rdma_client"))
		return run_subtests(argc, argv, own_tests,
				    sizeof(own_tests) / sizeof(*own_tests));
	return run_subtests(argc, argv, tests, sizeof(tests) / sizeof(*tests));
}
