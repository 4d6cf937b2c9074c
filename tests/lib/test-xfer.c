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
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
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
	struct p2pbuf_meta meta, got;
	int sv[2], fd, rfd = -1;
	unsigned int n = 0;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	fd = make_memfd(16384, 7);
	CHECK(fd >= 0);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	CHECK_EQ(meta.size, 16384);
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
	struct p2pbuf_meta meta, got;
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
	struct p2pbuf_meta meta;
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
	struct p2pbuf_meta meta;
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
	struct p2pbuf_meta meta;
	uint8_t wire[256];
	int sv[2], fd, rfd = -1;
	unsigned int n;
	size_t len;

	CHECK(!pair(sv, SOCK_SEQPACKET));
	fd = make_memfd(4096, 1);
	CHECK_EQ(p2pbuf_meta_init(fd, &meta), 0);
	meta.size = 8192;
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

	/* More data than any valid message. */
	{
		static uint8_t big[P2PBUF_WIRE_MAX_SIZE + 100];

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
	struct p2pbuf_meta meta;
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
	struct p2pbuf_meta meta;
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
	struct p2pbuf_meta meta = { 0 };
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
	struct p2pbuf_desc d;
	int fd = make_memfd(16384, 1);

	CHECK_EQ(p2pbuf_desc_init(fd, 4096, 0, 0x1000, &d), 0);
	CHECK_EQ(d.fd, fd);
	CHECK_EQ(d.offset, 4096);
	CHECK_EQ(d.length, 12288);
	CHECK_EQ(d.iova, 0x1000);
	CHECK_EQ(p2pbuf_desc_init(fd, 4096, 12289, 0, &d), -EINVAL);
	CHECK_EQ(p2pbuf_desc_init(fd, 16384, 0, 0, &d), -EINVAL);
	CHECK_EQ(p2pbuf_desc_init(fd, UINT64_MAX, 2, 0, &d), -EINVAL);
	/* -EINVAL with rdma-core, -ENOSYS without. */
	CHECK(p2pbuf_ibv_reg_mr(NULL, &d, 0, NULL) < 0);
	close(fd);
	return 0;
}

/* On a memfd: mapping works, the dma-buf-only ioctls fail cleanly. */
static int mapping_and_ioctls(void)
{
	struct p2pbuf_mapping map;
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
};

int main(void)
{
	return RUN("xfer", tests);
}
