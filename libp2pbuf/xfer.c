// SPDX-License-Identifier: MIT
/*
 * libp2pbuf: passing dma-bufs between processes, over UNIX sockets with
 * SCM_RIGHTS and a versioned metadata header, or by pidfd_getfd().
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "internal.h"

/*
 * Wire format, version 1, little-endian:
 *   header: u32 magic, u16 version, u16 count, u32 entry_size, u32 zero
 *   entry:  u64 size, u64 offset, u64 length, u64 cookie,
 *           u32 placement, u32 flags, char name[32]
 *
 * The caller's struct p2pbuf_meta has its own size (see p2pbuf.h): the
 * public functions take the caller's entries into the library's own
 * (meta_in()) and give them back (meta_out()), and work on those.
 */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The library's copy of the caller's @meta: -EINVAL or -E2BIG if bad. */
static int meta_in(const struct p2pbuf_meta *meta, struct p2pbuf_meta *m)
{
	int ret;

	ret = p2pbuf__struct_in(m, sizeof(*m), meta);
	if (ret)
		return ret;
	if (m->pad || !p2pbuf__zero(m->reserved, sizeof(m->reserved)))
		return -EINVAL;
	return 0;
}

/*
 * @count entries of the caller's array @meta into @m: every entry is
 * @meta->size bytes apart and says that size.
 */
static int metas_in(const struct p2pbuf_meta *meta, unsigned int count,
		    struct p2pbuf_meta *m)
{
	uint32_t stride = meta->size;
	int ret;

	for (unsigned int i = 0; i < count; i++) {
		const struct p2pbuf_meta *e = P2PBUF__ELEM(meta, i, stride);

		if (e->size != stride)
			return -EINVAL;
		ret = meta_in(e, &m[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* @m into the caller's array @meta, @stride bytes apart, each that size. */
static void metas_out(struct p2pbuf_meta *meta, uint32_t stride,
		      const struct p2pbuf_meta *m, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		struct p2pbuf_meta *e = P2PBUF__ELEM(meta, i, stride);

		memcpy(&e->size, &stride, sizeof(stride));
		p2pbuf__struct_out(e, &m[i], sizeof(m[i]));
	}
}

/* The checks of p2pbuf_meta_validate() on the library's own entry. */
static int validate(const struct p2pbuf_meta *meta)
{
	size_t n;

	if (!meta->length || meta->offset > meta->buf_size ||
	    meta->length > meta->buf_size - meta->offset)
		return -EINVAL;
	if (meta->flags)
		return -EINVAL;
	if (meta->placement > P2PBUF_PLACEMENT_SYSTEM)
		return -EINVAL;
	n = strnlen(meta->name, P2PBUF_NAME_LEN);
	if (n == P2PBUF_NAME_LEN)
		return -EINVAL;
	return 0;
}

int p2pbuf_meta_validate(const struct p2pbuf_meta *meta)
{
	struct p2pbuf_meta m;
	int ret;

	if (!meta)
		return -EINVAL;
	ret = meta_in(meta, &m);
	return ret ? ret : validate(&m);
}

int p2pbuf_meta_init(int fd, struct p2pbuf_meta *meta)
{
	struct p2pbuf_meta m = { .size = sizeof(m) };
	uint64_t size;
	int ret;

	if (!meta)
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(meta, sizeof(*meta));
	if (ret)
		return ret;
	ret = p2pbuf_dmabuf_size(fd, &size);
	if (ret)
		return ret;
	if (!size)
		return -EINVAL;
	m.buf_size = size;
	m.length = size;
	p2pbuf__struct_out(meta, &m, sizeof(m));
	return 0;
}

/* p2pbuf_meta_encode() of the library's own, unchecked, entries @m. */
static int encode(const struct p2pbuf_meta *meta, unsigned int count,
		  void *buf, size_t len, size_t *used)
{
	size_t need = P2PBUF_WIRE_HEADER_SIZE +
		      (size_t)count * P2PBUF_WIRE_ENTRY_SIZE;
	uint8_t *p = buf;
	int ret;

	for (unsigned int i = 0; i < count; i++) {
		ret = validate(&meta[i]);
		if (ret)
			return ret;
	}
	if (len < need)
		return -ENOSPC;

	memset(p, 0, need);
	put32(p, P2PBUF_WIRE_MAGIC);
	put16(p + 4, P2PBUF_WIRE_VERSION);
	put16(p + 6, (uint16_t)count);
	put32(p + 8, P2PBUF_WIRE_ENTRY_SIZE);
	p += P2PBUF_WIRE_HEADER_SIZE;
	for (unsigned int i = 0; i < count; i++, p += P2PBUF_WIRE_ENTRY_SIZE) {
		put64(p, meta[i].buf_size);
		put64(p + 8, meta[i].offset);
		put64(p + 16, meta[i].length);
		put64(p + 24, meta[i].cookie);
		put32(p + 32, meta[i].placement);
		put32(p + 36, meta[i].flags);
		memcpy(p + 40, meta[i].name, strlen(meta[i].name));
	}
	*used = need;
	return 0;
}

int p2pbuf_meta_encode(const struct p2pbuf_meta *meta, unsigned int count,
		       void *buf, size_t len, size_t *used)
{
	struct p2pbuf_meta m[P2PBUF_MAX_BUFFERS];
	int ret;

	if (!meta || !buf || !used || !count || count > P2PBUF_MAX_BUFFERS)
		return -EINVAL;
	ret = metas_in(meta, count, m);
	return ret ? ret : encode(m, count, buf, len, used);
}

/* One wire entry into @m: 0, or -EBADMSG if it is not a valid one. */
static int decode_entry(const uint8_t *p, struct p2pbuf_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->buf_size = get64(p);
	m->offset = get64(p + 8);
	m->length = get64(p + 16);
	m->cookie = get64(p + 24);
	m->placement = get32(p + 32);
	m->flags = get32(p + 36);
	memcpy(m->name, p + 40, P2PBUF_NAME_LEN);
	if (validate(m))
		return -EBADMSG;
	/* No stray bytes after the name's NUL: nothing hides there. */
	for (size_t k = strlen(m->name); k < P2PBUF_NAME_LEN; k++)
		if (m->name[k])
			return -EBADMSG;
	return 0;
}

/* p2pbuf_meta_decode() into the library's own entries. */
static int decode(const void *buf, size_t len, struct p2pbuf_meta *meta,
		  unsigned int max, unsigned int *count)
{
	const uint8_t *p = buf;
	uint32_t entry_size;
	unsigned int n;

	if (len < P2PBUF_WIRE_HEADER_SIZE)
		return -EBADMSG;
	if (get32(p) != P2PBUF_WIRE_MAGIC || get16(p + 4) != P2PBUF_WIRE_VERSION)
		return -EBADMSG;
	n = get16(p + 6);
	entry_size = get32(p + 8);
	if (!n || n > P2PBUF_MAX_BUFFERS || get32(p + 12))
		return -EBADMSG;
	/* Later revisions may append fields to an entry, never remove any. */
	if (entry_size < P2PBUF_WIRE_ENTRY_SIZE ||
	    entry_size > P2PBUF__WIRE_ENTRY_MAX || entry_size % 8)
		return -EBADMSG;
	if (len != P2PBUF_WIRE_HEADER_SIZE + (size_t)n * entry_size)
		return -EBADMSG;
	if (n > max)
		return -ENOSPC;

	p += P2PBUF_WIRE_HEADER_SIZE;
	/* Every entry is checked before the first is stored. */
	for (unsigned int i = 0; i < n; i++) {
		struct p2pbuf_meta m;

		if (decode_entry(p + (size_t)i * entry_size, &m))
			return -EBADMSG;
	}
	for (unsigned int i = 0; i < n; i++)
		decode_entry(p + (size_t)i * entry_size, &meta[i]);
	*count = n;
	return 0;
}

int p2pbuf_meta_decode(const void *buf, size_t len, struct p2pbuf_meta *meta,
		       unsigned int max, unsigned int *count)
{
	struct p2pbuf_meta m[P2PBUF_MAX_BUFFERS];
	unsigned int n;
	int ret;

	if (!buf || !count || (max && !meta))
		return -EINVAL;
	if (max) {
		ret = p2pbuf__struct_out_ok(meta, sizeof(*meta));
		if (ret)
			return ret;
	}
	ret = decode(buf, len, m, max < P2PBUF_MAX_BUFFERS ? max :
		     P2PBUF_MAX_BUFFERS, &n);
	if (ret)
		return ret;
	metas_out(meta, meta->size, m, n);
	*count = n;
	return 0;
}

static int check_socket(int sock)
{
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len))
		return -errno;
	/* A stream has no message boundaries to keep header and fds together. */
	if (type != SOCK_SEQPACKET && type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	return 0;
}

static int check_fd(int fd, const struct p2pbuf_meta *meta, unsigned int flags,
		    int mismatch)
{
	uint64_t size;
	int ret;

	if (!(flags & P2PBUF_XFER_ANY_FD)) {
		ret = p2pbuf_dmabuf_check(fd);
		if (ret)
			return ret;
	}
	ret = p2pbuf_dmabuf_size(fd, &size);
	if (ret)
		return ret == -EBADF ? ret : mismatch;
	return size == meta->buf_size ? 0 : mismatch;
}

int p2pbuf_send(int sock, const int *fds, const struct p2pbuf_meta *meta,
		unsigned int count, unsigned int flags)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * P2PBUF_MAX_BUFFERS)];
	} control;
	uint8_t wire[P2PBUF_WIRE_MAX_SIZE];
	struct p2pbuf_meta m[P2PBUF_MAX_BUFFERS];
	struct msghdr msg = { 0 };
	struct cmsghdr *cmsg;
	struct iovec iov;
	size_t used;
	ssize_t sent;
	int ret;

	if (!fds || !meta || !count || count > P2PBUF_MAX_BUFFERS ||
	    (flags & ~(P2PBUF_XFER_ANY_FD | P2PBUF_XFER_NONBLOCK)))
		return -EINVAL;
	ret = check_socket(sock);
	if (ret)
		return ret;
	ret = metas_in(meta, count, m);
	if (ret)
		return ret;
	ret = encode(m, count, wire, sizeof(wire), &used);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < count; i++) {
		ret = check_fd(fds[i], &m[i], flags, -EINVAL);
		if (ret)
			return ret;
	}

	memset(&control, 0, sizeof(control));
	iov.iov_base = wire;
	iov.iov_len = used;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
	memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);

	/* Interrupted by a signal handler: -EINTR, nothing sent. */
	sent = sendmsg(sock, &msg, MSG_NOSIGNAL |
		       (flags & P2PBUF_XFER_NONBLOCK ? MSG_DONTWAIT : 0));
	if (sent < 0)
		return -errno;
	return (size_t)sent == used ? 0 : -EMSGSIZE;
}

static void close_all(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int p2pbuf_recv(int sock, int *fds, struct p2pbuf_meta *meta,
		unsigned int max, unsigned int *count, unsigned int flags)
{
	union {
		struct cmsghdr hdr;
		/* Room for more than a valid message, to see extra fds. */
		char buf[CMSG_SPACE(sizeof(int) * (P2PBUF_MAX_BUFFERS + 1))];
	} control;
	/*
	 * Room for the largest message p2pbuf_meta_decode() accepts (a later
	 * revision's larger entries), and one byte more to see an oversized
	 * one; on the heap, it is 128 KiB.
	 */
	const size_t wire_len = P2PBUF_WIRE_HEADER_SIZE +
		(size_t)P2PBUF_MAX_BUFFERS * P2PBUF__WIRE_ENTRY_MAX + 1;
	uint8_t *wire;
	struct p2pbuf_meta got[P2PBUF_MAX_BUFFERS];
	int received[P2PBUF_MAX_BUFFERS + 1];
	unsigned int nfds = 0, n = 0;
	struct msghdr msg = { 0 };
	struct cmsghdr *cmsg;
	struct iovec iov;
	ssize_t len;
	int ret = 0;

	if (!fds || !meta || !count || !max ||
	    (flags & ~(P2PBUF_XFER_ANY_FD | P2PBUF_XFER_NONBLOCK)))
		return -EINVAL;
	ret = p2pbuf__struct_out_ok(meta, sizeof(*meta));
	if (ret)
		return ret;
	ret = check_socket(sock);
	if (ret)
		return ret;
	wire = malloc(wire_len);
	if (!wire)
		return -ENOMEM;

	iov.iov_base = wire;
	iov.iov_len = wire_len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	/* Interrupted by a signal handler: -EINTR, nothing consumed. */
	len = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC |
		      (flags & P2PBUF_XFER_NONBLOCK ? MSG_DONTWAIT : 0));
	if (len < 0) {
		ret = -errno;
		free(wire);
		return ret;
	}

	/* First collect every descriptor that arrived, whatever else is wrong. */
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		size_t k;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t j = 0; j < k; j++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + j * sizeof(int), sizeof(fd));
			if (nfds < P2PBUF_MAX_BUFFERS + 1)
				received[nfds++] = fd;
			else
				close(fd);	/* cannot happen: buffer sized */
		}
	}

	if (len == 0 && !nfds) {
		ret = -ECONNRESET;
		goto err;
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		ret = -EMSGSIZE;
		goto err;
	}
	ret = decode(wire, (size_t)len, got, P2PBUF_MAX_BUFFERS, &n);
	if (ret)
		goto err;
	if (n != nfds) {
		ret = -EBADMSG;
		goto err;
	}
	if (n > max) {
		ret = -ENOSPC;
		goto err;
	}
	for (unsigned int i = 0; i < n; i++) {
		ret = check_fd(received[i], &got[i], flags, -EBADMSG);
		if (ret)
			goto err;
	}

	memcpy(fds, received, sizeof(int) * n);
	metas_out(meta, meta->size, got, n);
	*count = n;
	free(wire);
	return 0;

err:
	close_all(received, nfds);
	free(wire);
	return ret;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int p2pbuf_pidfd_getfd(pid_t pid, int remote_fd, unsigned int flags, int *fd)
{
	int pidfd, newfd, ret;

	if (!fd || pid <= 0 || remote_fd < 0 || (flags & ~P2PBUF_XFER_ANY_FD))
		return -EINVAL;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	/* The new descriptor is always close-on-exec. */
	newfd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0);
	ret = newfd < 0 ? -errno : 0;
	close(pidfd);
	if (ret)
		return ret;
	if (!(flags & P2PBUF_XFER_ANY_FD)) {
		ret = p2pbuf_dmabuf_check(newfd);
		if (ret) {
			close(newfd);
			return ret;
		}
	}
	*fd = newfd;
	return 0;
}
