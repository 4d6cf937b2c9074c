// SPDX-License-Identifier: MIT
/*
 * Unit tests: passing buffers over a UNIX socketpair with SCM_RIGHTS. The
 * host has no dma-buf devices, so memfds stand in for dma-bufs
 * (P2PBUF_XFER_ANY_FD); every error path is checked for leaked descriptors.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "test.h"

#define ANY P2PBUF_XFER_ANY_FD

static int make_memfd(size_t size, uint8_t seed)
{
	uint8_t buf[4096];
	int fd = memfd_create("p2pbuf-test", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size))
		return -1;
	for (size_t off = 0; off < size; off += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(seed + off / 4096 + i);
		if (pwrite(fd, buf, sizeof(buf), (off_t)off) != sizeof(buf))
			return -1;
	}
	return fd;
}

static int check_memfd(int fd, size_t size, uint8_t seed)
{
	uint8_t buf[4096];

	for (size_t off = 0; off < size; off += sizeof(buf)) {
		if (pread(fd, buf, sizeof(buf), (off_t)off) != sizeof(buf))
			return -1;
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != (uint8_t)(seed + off / 4096 + i))
				return -1;
	}
	return 0;
}

static int pair(int sv[2], int type)
{
	return socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv);
}


static int one_buffer(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) }, got = { .size = sizeof(got) };
	int sv[2], fd, rfd = -1;
	unsigned int n = 0;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	fd = make_memfd(16384, 7);
	CHECK(fd >= 0);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	CHECK_EQ(meta.buf_size, 16384);
	CHECK_EQ(meta.length, 16384);
	meta.cookie = 42;
	strcpy(meta.name, "one");
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, ANY), 0);
	close(fd);	/* the receiver's copy keeps the memory */
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &got, 1, &n, ANY), 0);
	CHECK_EQ(n, 1);
	CHECK(rfd >= 0);
	CHECK(fcntl(rfd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(got.cookie, 42);
	CHECK(!strcmp(got.name, "one"));
	CHECK(!check_memfd(rfd, 16384, 7));
	close(rfd);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int many_buffers(void)
{
	struct p2pbuf_meta meta[P2PBUF_MAX_BUFFERS], got[P2PBUF_MAX_BUFFERS];
	int fds[P2PBUF_MAX_BUFFERS], rfds[P2PBUF_MAX_BUFFERS], sv[2];
	unsigned int n = 0;

	P2PBUF_INIT_ARRAY(meta, P2PBUF_MAX_BUFFERS);
	P2PBUF_INIT_ARRAY(got, P2PBUF_MAX_BUFFERS);
	CHECK(!pair(sv, SOCK_SEQPACKET));
	for (int i = 0; i < P2PBUF_MAX_BUFFERS; i++) {
		fds[i] = make_memfd(4096 * (size_t)(i + 1), (uint8_t)i);
		CHECK(fds[i] >= 0);
		CHECK_EQ(p2pbuf_meta_init(fds[i], &meta[i]), 0);
		meta[i].cookie = (uint64_t)i;
	}
	CHECK_EQ(p2pbuf_send(sv[0], fds, meta, P2PBUF_MAX_BUFFERS, ANY), 0);
	CHECK_EQ(p2pbuf_recv(sv[1], rfds, got, P2PBUF_MAX_BUFFERS, &n, ANY), 0);
	CHECK_EQ(n, P2PBUF_MAX_BUFFERS);
	for (int i = 0; i < P2PBUF_MAX_BUFFERS; i++) {
		CHECK_EQ(got[i].cookie, i);
		CHECK(!check_memfd(rfds[i], 4096 * (size_t)(i + 1), (uint8_t)i));
		close(rfds[i]);
		close(fds[i]);
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int datagram(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) }, got = { .size = sizeof(got) };
	int sv[2], fd, rfd;
	unsigned int n;

	CHECK(!pair(sv, SOCK_DGRAM));
	fd = make_memfd(4096, 1);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, ANY), 0);
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &got, 1, &n, ANY), 0);
	close(rfd);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int stream_refused(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	int sv[2], fd, rfd;
	unsigned int n;

	CHECK(!pair(sv, SOCK_STREAM));
	fd = make_memfd(4096, 1);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, ANY), -ESOCKTNOSUPPORT);
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &meta, 1, &n, ANY), -ESOCKTNOSUPPORT);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* Without P2PBUF_XFER_ANY_FD only dma-bufs pass, on either side. */
static int wrong_type_rejected(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	int sv[2], fd, rfd = -1;
	unsigned int n = 0;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	fd = make_memfd(4096, 1);
	CHECK_EQ(p2pbuf_dmabuf_check(fd), -EBADFD);
	CHECK_EQ(p2pbuf_dmabuf_check(-1), -EBADF);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, 0), -EBADFD);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, ANY), 0);
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &meta, 1, &n, 0), -EBADFD);
	CHECK_EQ(rfd, -1);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return 0;	/* run_tests checks that nothing leaked */
}

static int size_mismatch_rejected(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	uint8_t wire[256];
	int sv[2], fd, rfd = -1;
	unsigned int n;
	size_t len;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	fd = make_memfd(4096, 1);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	meta.buf_size = 8192;
	meta.length = 8192;
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, ANY), -EINVAL);
	CHECK_EQ(p2pbuf_meta_encode(&meta, 1, wire, sizeof(wire), &len), 0);
	CHECK(!raw_send(sv[0], wire, len, &fd, 1));
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &meta, 1, &n, ANY), -EBADMSG);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int bad_headers_rejected(void)
{
	struct p2pbuf_meta meta[2];
	uint8_t wire[256], junk[100];
	int sv[2], fds[2], rfds[2];
	unsigned int n;
	size_t len;

	P2PBUF_INIT_ARRAY(meta, 2);

	CHECK(!pair(sv, SOCK_SEQPACKET));
	fds[0] = make_memfd(4096, 1);
	fds[1] = make_memfd(4096, 2);
	CHECK_EQ(p2pbuf_meta_init(fds[0], &meta[0]), 0);
	CHECK_EQ(p2pbuf_meta_init(fds[1], &meta[1]), 0);

	/* Garbage with descriptors attached. */
	memset(junk, 0xa5, sizeof(junk));
	CHECK(!raw_send(sv[0], junk, sizeof(junk), fds, 2));
	CHECK_EQ(p2pbuf_recv(sv[1], rfds, meta, 2, &n, ANY), -EBADMSG);

	/* A header for two buffers with one descriptor, and vice versa. */
	CHECK_EQ(p2pbuf_meta_encode(meta, 2, wire, sizeof(wire), &len), 0);
	CHECK(!raw_send(sv[0], wire, len, fds, 1));
	CHECK_EQ(p2pbuf_recv(sv[1], rfds, meta, 2, &n, ANY), -EBADMSG);
	CHECK_EQ(p2pbuf_meta_encode(meta, 1, wire, sizeof(wire), &len), 0);
	CHECK(!raw_send(sv[0], wire, len, fds, 2));
	CHECK_EQ(p2pbuf_recv(sv[1], rfds, meta, 2, &n, ANY), -EBADMSG);

	/* A valid header without any descriptor. */
	CHECK(!raw_send(sv[0], wire, len, NULL, 0));
	CHECK_EQ(p2pbuf_recv(sv[1], rfds, meta, 2, &n, ANY), -EBADMSG);

	/* More data than any valid message, of any revision (4096-byte entries). */
	{
		static uint8_t big[16 + P2PBUF_MAX_BUFFERS * 4096 + 100];

		memcpy(big, wire, len);
		CHECK(!raw_send(sv[0], big, sizeof(big), fds, 1));
		CHECK_EQ(p2pbuf_recv(sv[1], rfds, meta, 2, &n, ANY), -EMSGSIZE);
	}
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* More descriptors than the control buffer holds: MSG_CTRUNC, no leak. */
static int truncated_control(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	uint8_t wire[256];
	int sv[2], fds[60], rfd;
	unsigned int n;
	size_t len;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	fds[0] = make_memfd(4096, 1);
	for (int i = 1; i < 60; i++)
		fds[i] = fds[0];
	CHECK_EQ(p2pbuf_meta_init(fds[0], &meta), 0);
	CHECK_EQ(p2pbuf_meta_encode(&meta, 1, wire, sizeof(wire), &len), 0);
	CHECK(!raw_send(sv[0], wire, len, fds, 60));
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &meta, 1, &n, ANY), -EMSGSIZE);
	close(fds[0]);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int too_many_for_caller(void)
{
	struct p2pbuf_meta meta[3];
	int sv[2], fds[3], rfds[2];
	unsigned int n;

	P2PBUF_INIT_ARRAY(meta, 3);

	CHECK(!pair(sv, SOCK_SEQPACKET));
	for (int i = 0; i < 3; i++) {
		fds[i] = make_memfd(4096, 1);
		CHECK_EQ(p2pbuf_meta_init(fds[i], &meta[i]), 0);
	}
	CHECK_EQ(p2pbuf_send(sv[0], fds, meta, 3, ANY), 0);
	CHECK_EQ(p2pbuf_recv(sv[1], rfds, meta, 2, &n, ANY), -ENOSPC);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int peer_gone(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	int sv[2], fd, rfd;
	unsigned int n;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &meta, 1, &n,
			     ANY | P2PBUF_XFER_NONBLOCK), -EAGAIN);
	close(sv[0]);
	CHECK_EQ(p2pbuf_recv(sv[1], &rfd, &meta, 1, &n, ANY), -ECONNRESET);
	close(sv[1]);
	CHECK(!pair(sv, SOCK_SEQPACKET));
	close(sv[1]);
	fd = make_memfd(4096, 1);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, ANY), -EPIPE);
	close(fd);
	close(sv[0]);
	return 0;
}

static int bad_arguments(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	int fd = 0, sv[2];
	unsigned int n;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	CHECK_EQ(p2pbuf_send(sv[0], NULL, &meta, 1, ANY), -EINVAL);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 0, ANY), -EINVAL);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, 0x80), -EINVAL);
	CHECK_EQ(p2pbuf_recv(sv[1], &fd, &meta, 0, &n, ANY), -EINVAL);
	CHECK_EQ(p2pbuf_send(-1, &fd, &meta, 1, ANY), -EBADF);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int pidfd_self(void)
{
	int fd = make_memfd(4096, 3), copy = -1, ret;

	CHECK(fd >= 0);
	ret = p2pbuf_pidfd_getfd(getpid(), fd, ANY, &copy);
	if (ret == -ENOSYS || ret == -EPERM) {
		/* Container without pidfd_getfd: nothing to check here. */
		fprintf(stderr, "    pidfd_getfd unavailable (%s)\n", strerror(-ret));
		close(fd);
		return 0;
	}
	CHECK_EQ(ret, 0);
	CHECK(copy != fd);
	CHECK(fcntl(copy, F_GETFD) & FD_CLOEXEC);
	CHECK(!check_memfd(copy, 4096, 3));
	close(copy);
	CHECK_EQ(p2pbuf_pidfd_getfd(getpid(), fd, 0, &copy), -EBADFD);
	CHECK_EQ(p2pbuf_pidfd_getfd(getpid(), 999, ANY, &copy), -EBADF);
	CHECK_EQ(p2pbuf_pidfd_getfd(0x7ffffff0, fd, ANY, &copy), -ESRCH);
	close(fd);
	return 0;
}

static int descriptors(void)
{
	struct p2pbuf_desc d = { .size = sizeof(d) };
	int fd = make_memfd(16384, 1);

	CHECK_EQ(p2pbuf_desc_init(fd, 4096, 0, 0x1000, &d), 0);
	CHECK_EQ(d.fd, fd);
	CHECK_EQ(d.offset, 4096);
	CHECK_EQ(d.length, 12288);
	CHECK_EQ(d.iova, 0x1000);
	CHECK_EQ(p2pbuf_desc_init(fd, 4096, 12289, 0, &d), -EINVAL);
	CHECK_EQ(p2pbuf_desc_init(fd, 16384, 0, 0, &d), -EINVAL);
	CHECK_EQ(p2pbuf_desc_init(fd, UINT64_MAX, 2, 0, &d), -EINVAL);
	/* p2pbuf_ibv_reg_mr() is libp2pbuf-rdma's: tests/lib/test-rdma.c. */
	close(fd);
	return 0;
}

/* On a memfd: mapping works, the dma-buf-only ioctls fail cleanly. */
static int mapping_and_ioctls(void)
{
	struct p2pbuf_mapping map = { .size = sizeof(map) };
	int fd = make_memfd(8192, 9), sync = -1;

	CHECK_EQ(p2pbuf_mmap(fd, 0, 0, P2PBUF_ACCESS_RW, &map), 0);
	CHECK_EQ(map.length, 8192);
	CHECK_EQ(((uint8_t *)map.addr)[4097], (uint8_t)(9 + 1 + 1));
	CHECK_EQ(p2pbuf_munmap(&map), 0);
	CHECK_EQ(p2pbuf_mmap(fd, 100, 0, P2PBUF_ACCESS_READ, &map), -EINVAL);
	CHECK_EQ(p2pbuf_mmap(fd, 8192, 0, P2PBUF_ACCESS_READ, &map), -EINVAL);
	CHECK_EQ(p2pbuf_mmap(fd, 0, 8193, P2PBUF_ACCESS_READ, &map), -EINVAL);
	CHECK_EQ(p2pbuf_mmap(fd, 0, 0, 0, &map), -EINVAL);
	CHECK(p2pbuf_cpu_access_begin(fd, P2PBUF_ACCESS_READ) < 0);
	CHECK_EQ(p2pbuf_cpu_access_begin(fd, 0), -EINVAL);
	CHECK(p2pbuf_fence_export(fd, P2PBUF_ACCESS_READ, &sync) < 0);
	CHECK_EQ(sync, -1);
	CHECK(p2pbuf_dmabuf_set_name(fd, "x") < 0);
	CHECK_EQ(p2pbuf_dmabuf_set_name(fd, "0123456789012345678901234567890123"),
		 -ENAMETOOLONG);
	close(fd);
	return 0;
}

static int fence_wait_timeout(void)
{
	int p[2];

	/* A pipe with nothing in it stands in for an unsignalled fence. */
	CHECK(!pipe2(p, O_CLOEXEC));
	CHECK_EQ(p2pbuf_fence_wait(p[0], 10), -ETIME);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK_EQ(p2pbuf_fence_wait(p[0], 10), 0);
	close(p[0]);
	close(p[1]);
	return 0;
}

/*
 * A message from a later minor revision of the wire format: @count entries
 * of @entry_size bytes, today's fields first, then fields this library
 * does not know.
 */
static int send_newer(int sock, int fd, unsigned int count, size_t entry_size)
{
	static uint8_t wire[16 + 32 * 4096];
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	uint8_t one[256];
	int fds[32];
	size_t len;

	if (p2pbuf_meta_init(fd, &meta) ||
	    p2pbuf_meta_encode(&meta, 1, one, sizeof(one), &len))
		return -1;
	memset(wire, 0xa5, sizeof(wire));
	memcpy(wire, one, 16);
	wire[6] = (uint8_t)count;
	wire[8] = (uint8_t)entry_size;
	wire[9] = (uint8_t)(entry_size >> 8);
	for (unsigned int i = 0; i < count; i++) {
		memcpy(wire + 16 + i * entry_size, one + 16, 72);
		fds[i] = fd;
	}
	return raw_send(sock, wire, 16 + count * entry_size, fds, count);
}

/* Larger entries from a newer sender arrive, as p2pbuf_meta_decode() says. */
static int newer_sender_entries(void)
{
	static const size_t sizes[][2] = { { 1, 80 }, { 32, 128 }, { 32, 4096 } };
	struct p2pbuf_meta meta[32];
	int sv[2], fds[32], fd = make_memfd(8192, 3);
	unsigned int n;

	P2PBUF_INIT_ARRAY(meta, 32);

	CHECK(fd >= 0);
	CHECK(!pair(sv, SOCK_SEQPACKET));
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		CHECK_EQ(send_newer(sv[0], fd, (unsigned int)sizes[k][0], sizes[k][1]), 0);
		CHECK_EQ(p2pbuf_recv(sv[1], fds, meta, 32, &n, ANY), 0);
		CHECK_EQ(n, sizes[k][0]);
		for (unsigned int i = 0; i < n; i++) {
			CHECK_EQ(meta[i].buf_size, 8192);
			CHECK_EQ(meta[i].length, 8192);
			CHECK_EQ(check_memfd(fds[i], 8192, 3), 0);
			close(fds[i]);
		}
	}
	/* Beyond what the format allows: rejected, nothing leaks. */
	CHECK_EQ(send_newer(sv[0], fd, 2, 4104), 0);
	CHECK_EQ(p2pbuf_recv(sv[1], fds, meta, 32, &n, ANY), -EBADMSG);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/*
 * A periodic signal, every 20 ms, whose handler does not ask for restarts;
 * after 40 of them it stops, and @unblock (if set) is done once, to end a
 * wait that would otherwise go on.
 */
static volatile sig_atomic_t ticks;
static int tick_sock = -1, tick_drain;

static void on_tick(int sig)
{
	static const struct itimerval off;
	char buf[4096];

	(void)sig;
	if (++ticks < 40)
		return;
	setitimer(ITIMER_REAL, &off, NULL);
	if (tick_sock >= 0 && tick_drain)
		recv(tick_sock, buf, sizeof(buf), MSG_DONTWAIT);
	else if (tick_sock >= 0)
		send(tick_sock, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void ticking(int on, struct sigaction *old)
{
	struct itimerval every = { { 0, 20000 }, { 0, 20000 } };
	static const struct itimerval off;
	struct sigaction sa = { .sa_handler = on_tick };

	if (on) {
		ticks = 0;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, old);
		setitimer(ITIMER_REAL, &every, NULL);
	} else {
		setitimer(ITIMER_REAL, &off, NULL);
		sigaction(SIGALRM, old, NULL);
		tick_sock = -1;
		tick_drain = 0;
	}
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A periodic signal cannot keep a fence wait going: -EINTR at the first. */
static int fence_wait_interrupted(void)
{
	struct sigaction old;
	struct timespec t0;
	int p[2], ret;
	long ms;

	CHECK(!pipe2(p, O_CLOEXEC));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ticking(1, &old);
	ret = p2pbuf_fence_wait(p[0], 300);
	ms = elapsed_ms(&t0);
	ticking(0, &old);
	CHECK_EQ(ret, -EINTR);
	CHECK(ms < 250);
	/* Nor one waiting for ever. */
	tick_sock = p[1];
	ticking(1, &old);
	ret = p2pbuf_fence_wait(p[0], -1);
	ticking(0, &old);
	CHECK_EQ(ret, -EINTR);
	/* Without signals the timeout holds, and 0 polls once. */
	CHECK_EQ(p2pbuf_fence_wait(p[0], 0), -ETIME);
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(p2pbuf_fence_wait(p[0], 0), 0);
	close(p[0]);
	close(p[1]);
	return 0;
}

/* A blocking receive is interrupted by a signal: -EINTR, nothing lost. */
static int recv_interrupted(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	struct sigaction old;
	int sv[2], fd, got;
	unsigned int n;
	int ret;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	tick_sock = sv[0];	/* ends the wait if not interrupted */
	ticking(1, &old);
	ret = p2pbuf_recv(sv[1], &got, &meta, 1, &n, ANY);
	ticking(0, &old);
	CHECK_EQ(ret, -EINTR);
	/* The socket is as it was: a message sent now is received. */
	fd = make_memfd(4096, 4);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	CHECK_EQ(p2pbuf_send(sv[0], &fd, &meta, 1, ANY), 0);
	CHECK_EQ(p2pbuf_recv(sv[1], &got, &meta, 1, &n, ANY), 0);
	CHECK_EQ(check_memfd(got, 4096, 4), 0);
	close(got);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* A blocking send to a full socket is interrupted too. */
static int send_interrupted(void)
{
	struct p2pbuf_meta meta = { .size = sizeof(meta) };
	struct sigaction old;
	int sv[2], fd = make_memfd(4096, 5), ret, sent = 0;

	CHECK(fd >= 0);
	CHECK(!pair(sv, SOCK_SEQPACKET));
	/* A small send buffer fills with a few messages (and descriptors). */
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 4096 },
			    sizeof(int)), 0);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	for (int i = 0; i < 1000; i++) {
		ret = p2pbuf_send(sv[0], &fd, &meta, 1, ANY | P2PBUF_XFER_NONBLOCK);
		if (ret)
			break;
		sent++;
	}
	CHECK_EQ(ret, -EAGAIN);
	CHECK(sent > 0);
	tick_sock = sv[1];	/* makes room if not interrupted */
	tick_drain = 1;
	ticking(1, &old);
	ret = p2pbuf_send(sv[0], &fd, &meta, 1, ANY);
	ticking(0, &old);
	CHECK_EQ(ret, -EINTR);
	close(fd);
	close(sv[0]);
	close(sv[1]);	/* the queued descriptors go with it */
	return 0;
}

/*
 * Sizes and offsets past 4 GiB, on 32-bit machines too (64-bit off_t):
 * a sparse memfd of 5 GiB, a page mapped beyond 4 GiB.
 */
static int beyond_4gib(void)
{
	const uint64_t big = 5ull << 30, at = (4ull << 30) + 4096;
	struct p2pbuf_mapping map = { .size = sizeof(map) };
	uint64_t size;
	uint8_t byte = 0;
	int fd = memfd_create("p2pbuf-test-big", MFD_CLOEXEC);

	CHECK_EQ(sizeof(off_t), 8);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, (off_t)big), 0);
	CHECK_EQ(p2pbuf_dmabuf_size(fd, &size), 0);
	CHECK(size == big);
	CHECK_EQ(p2pbuf_mmap(fd, at, 4096, P2PBUF_ACCESS_RW, &map), 0);
	CHECK_EQ(map.length, 4096);
	((uint8_t *)map.addr)[1] = 0xab;
	CHECK_EQ(p2pbuf_munmap(&map), 0);
	CHECK_EQ(pread(fd, &byte, 1, (off_t)(at + 1)), 1);
	CHECK_EQ(byte, 0xab);
	CHECK_EQ(pread(fd, &byte, 1, (off_t)(at + 1 - (4ull << 30))), 1);
	CHECK_EQ(byte, 0);
	/* "To the end" of it does not fit a 32-bit size_t: said, not cut. */
	if (SIZE_MAX < big)
		CHECK_EQ(p2pbuf_mmap(fd, 0, 0, P2PBUF_ACCESS_READ, &map), -EOVERFLOW);
	close(fd);
	return 0;
}

static const struct test tests[] = {
	TEST(one_buffer),
	TEST(many_buffers),
	TEST(datagram),
	TEST(stream_refused),
	TEST(wrong_type_rejected),
	TEST(size_mismatch_rejected),
	TEST(bad_headers_rejected),
	TEST(truncated_control),
	TEST(too_many_for_caller),
	TEST(peer_gone),
	TEST(bad_arguments),
	TEST(pidfd_self),
	TEST(descriptors),
	TEST(mapping_and_ioctls),
	TEST(fence_wait_timeout),
	TEST(newer_sender_entries),
	TEST(fence_wait_interrupted),
	TEST(recv_interrupted),
	TEST(send_interrupted),
	TEST(beyond_4gib),
};

int main(void)
{
	return RUN("xfer", tests);
}
