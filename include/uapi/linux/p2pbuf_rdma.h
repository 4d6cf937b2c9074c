/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pbuf_rdma: remote peers read and write dma-bufs over RDMA.
 *
 * /dev/p2pbuf_rdma. A server serves a range of a dma-buf to clients of
 * rdma-core's rping (librdmacm/examples/rping.c) on an rdma_cm port: for
 * each ping the module RDMA READs the client's source into the range, at
 * the connection's current window, and RDMA WRITEs the same bytes back to
 * the client's sink; the window then advances by the ping's size and
 * wraps inside the range. Servers belong to the open file; closing it
 * stops them and disconnects their clients.
 *
 * Every ioctl rejects unknown flags and non-zero padding or reserved
 * fields with EINVAL.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _UAPI_LINUX_P2PBUF_RDMA_H
#define _UAPI_LINUX_P2PBUF_RDMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct p2pbuf_rdma_serve - P2PBUF_RDMA_IOC_SERVE
 * @dmabuf_fd: in: the dma-buf, open for reading and writing; its exporter
 *	gives importers its pages (as p2pgem does)
 * @port: in: the rdma_cm port (RDMA_PS_TCP) to listen on, on every
 *	address and every RDMA device, present and future; not zero; below
 *	1024 only with CAP_NET_BIND_SERVICE, as for bind(2)
 * @pad: must be zero
 * @offset: in: byte offset of the served range in the buffer
 * @length: in: bytes of the range; not zero, inside the buffer
 * @flags: must be zero
 * @handle: out: the server, for P2PBUF_RDMA_IOC_STOP and _QUERY
 * @reserved: must be zero
 *
 * Errors: EBADF for @dmabuf_fd not open, or not open for writing; EINVAL
 * for another file than a dma-buf, a bad range, port or flags; EACCES
 * for a port below 1024 without CAP_NET_BIND_SERVICE;
 * EOPNOTSUPP for an exporter that gives importers no pages; EADDRINUSE
 * when another rdma_cm user (in the kernel or through librdmacm) listens
 * on @port; ENOSPC when the file has 16 servers already.
 *
 * The listener is in the caller's network namespace. A server serves one
 * client at a time: a client's RDMA WRITE sends back what its READ put in
 * the buffer, which a second client's READ could overwrite meanwhile, so
 * a second client is rejected (rping sees RDMA_CM_EVENT_REJECTED) until
 * the first has disconnected.
 */
struct p2pbuf_rdma_serve {
	__s32 dmabuf_fd;
	__u16 port;
	__u16 pad;
	__u64 offset;
	__u64 length;
	__u32 flags;
	__u32 handle;
	__u64 reserved[2];
};

/**
 * struct p2pbuf_rdma_stop - P2PBUF_RDMA_IOC_STOP
 * @handle: in: the server
 * @pad: must be zero
 * @reserved: must be zero
 *
 * Stops listening and disconnects the server's clients; returns once
 * their transfers have ended. ENOENT for an unknown handle.
 */
struct p2pbuf_rdma_stop {
	__u32 handle;
	__u32 pad;
	__u64 reserved;
};

/* struct p2pbuf_rdma_query.placement: where the last mapping put the buffer */
#define P2PBUF_RDMA_PLACEMENT_NONE	0	/* never mapped yet */
#define P2PBUF_RDMA_PLACEMENT_P2P	1	/* device memory, P2P pages */
#define P2PBUF_RDMA_PLACEMENT_SYSTEM	2	/* system memory pages */

/**
 * struct p2pbuf_rdma_query - P2PBUF_RDMA_IOC_QUERY
 * @handle: in: the server
 * @pad: must be zero
 * @connections: out: connections accepted so far
 * @active: out: connections up now
 * @pings: out: pings served (a READ and its WRITE both done)
 * @bytes_read: out: bytes RDMA READ from clients into the buffer
 * @bytes_written: out: bytes RDMA WRITTEN from the buffer to clients
 * @maps: out: mappings of the buffer made (first maps and re-maps after
 *	a move), over every connection
 * @move_notifies: out: move_notify calls received, over every connection
 * @placement: out: P2PBUF_RDMA_PLACEMENT_* of the last mapping
 * @pad2: must be zero
 * @errors: out: transfers and connections that failed (a work request
 *	with an error, a timeout, a failed map, a protocol error)
 * @reserved: must be zero
 *
 * ENOENT for an unknown handle.
 */
struct p2pbuf_rdma_query {
	__u32 handle;
	__u32 pad;
	__u64 connections;
	__u64 active;
	__u64 pings;
	__u64 bytes_read;
	__u64 bytes_written;
	__u64 maps;
	__u64 move_notifies;
	__u32 placement;
	__u32 pad2;
	__u64 errors;
	__u64 reserved[2];
};

#define P2PBUF_RDMA_IOC_MAGIC	'R'
#define P2PBUF_RDMA_IOC_SERVE	_IOWR(P2PBUF_RDMA_IOC_MAGIC, 0x40, \
				      struct p2pbuf_rdma_serve)
#define P2PBUF_RDMA_IOC_STOP	_IOW(P2PBUF_RDMA_IOC_MAGIC, 0x41, \
				     struct p2pbuf_rdma_stop)
#define P2PBUF_RDMA_IOC_QUERY	_IOWR(P2PBUF_RDMA_IOC_MAGIC, 0x42, \
				      struct p2pbuf_rdma_query)

#endif /* _UAPI_LINUX_P2PBUF_RDMA_H */
