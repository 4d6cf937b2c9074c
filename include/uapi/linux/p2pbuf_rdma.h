/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pbuf_rdma: remote peers read and write dma-bufs over RDMA.
 *
 * /dev/p2pbuf_rdma. A server serves a range of a dma-buf to clients of
 * rdma-core's rping (librdmacm/examples/rping.c) on an rdma_cm port: for
 * each ping the module RDMA READs the client's source into the range, at
 * the connection's current window, and RDMA WRITEs the same bytes back to
 * the client's sink; the window then advances by the ping's size and
 * wraps inside the range. Clients that send a struct p2pbuf_rdma_hello
 * when they connect speak the project's own protocol instead (below).
 * Servers belong to the open file; closing it stops them and disconnects
 * their clients.
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
 * @flags: in: %P2PBUF_RDMA_SERVE_PASSIVE or zero
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
/*
 * struct p2pbuf_rdma_serve.flags: clients of the own protocol may register
 * the served range for their own RDMA READ and WRITE (P2PBUF_RDMA_OP_
 * REGISTER): the buffer then stays pinned, where it is, while a
 * registration lasts, and the peer's accesses are not fenced.
 */
#define P2PBUF_RDMA_SERVE_PASSIVE	(1U << 0)

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
 *	with an error, a timeout, a failed map, a protocol error), and
 *	requests of the project's protocol answered with an error
 * @requests: out: requests of the project's protocol answered with
 *	success
 * @registrations: out: passive registrations made (P2PBUF_RDMA_OP_
 *	REGISTER answered with success); in: must be zero
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
	__u64 requests;
	__u64 registrations;
};

/*
 * The project's own wire protocol, beside rping's.
 *
 * A client selects it with a struct p2pbuf_rdma_hello as the rdma_cm
 * connect private data (rping's clients send none: they get rping's
 * protocol). Then, one request at a time, it SENDs a struct
 * p2pbuf_rdma_req (exactly its size), with a RECV posted for the reply,
 * and the server answers with a struct p2pbuf_rdma_reply once the
 * request's bytes have moved (or at once for a bad request): the next
 * request is sent after the reply. Each request names a range of the
 * served range and a region of the client registered with the remote
 * access its op needs; the server moves it with RDMA READ or WRITE, in
 * chunks of at most %P2PBUF_RDMA_CHUNK bytes, each chunk a fence in the
 * buffer's reservation object (a write fence for a WRITE into the buffer,
 * a read fence for a READ from it). Every field is little-endian. A
 * request the server refuses gets a reply with its @status and the
 * connection goes on; a transfer that fails (the client's region is not
 * there, a work request error) ends the connection.
 */

/* struct p2pbuf_rdma_hello.magic: "P2PR" */
#define P2PBUF_RDMA_HELLO_MAGIC		0x52503250
#define P2PBUF_RDMA_PROTO_VERSION	1

/**
 * struct p2pbuf_rdma_hello - the connect private data of the own protocol
 * @magic: %P2PBUF_RDMA_HELLO_MAGIC
 * @version: %P2PBUF_RDMA_PROTO_VERSION
 * @flags: must be zero
 *
 * The server rejects a connection with the magic and another version or
 * non-zero flags (the client sees RDMA_CM_EVENT_REJECTED).
 */
struct p2pbuf_rdma_hello {
	__le32 magic;
	__le16 version;
	__le16 flags;
};

/* struct p2pbuf_rdma_req.op */
#define P2PBUF_RDMA_OP_READ	1	/* buffer -> client: RDMA WRITE */
#define P2PBUF_RDMA_OP_WRITE	2	/* client -> buffer: RDMA READ */
#define P2PBUF_RDMA_OP_REGISTER	3	/* passive: a key for the client */
#define P2PBUF_RDMA_OP_UNREGISTER 4	/* passive: end the registration */

/* The largest work request chain the server posts at once: 8 MiB. */
#define P2PBUF_RDMA_CHUNK	(8U << 20)

/**
 * struct p2pbuf_rdma_req - a request of the own protocol (client -> server)
 * @op: %P2PBUF_RDMA_OP_READ, %P2PBUF_RDMA_OP_WRITE, or (passive)
 *	%P2PBUF_RDMA_OP_REGISTER, %P2PBUF_RDMA_OP_UNREGISTER
 * @flags: must be zero
 * @id: the client's, echoed in the reply
 * @offset: byte offset in the served range (not in the whole buffer)
 * @length: bytes; not zero, inside the served range
 * @addr: the client's region: its address as registered (the MR's iova)
 * @rkey: the client's region's rkey
 * @reserved: must be zero
 *
 * Refused with EINVAL: an unknown @op, non-zero @flags or @reserved, a
 * zero @length, @addr + @length past 2^64; with ERANGE: a range not
 * inside the served range.
 *
 * Passive registration (servers made with %P2PBUF_RDMA_SERVE_PASSIVE):
 * %P2PBUF_RDMA_OP_REGISTER asks for a remote key over @offset and @length
 * of the served range (@addr and @rkey zero). The server pins the buffer
 * where it is (the exporter's pin rules and quota apply), registers it with
 * a fast-reg MR allowing remote READ and WRITE, and replies with the key
 * in &struct p2pbuf_rdma_reply.rkey and @length in its @bytes. The
 * registration's addresses are the served range's offsets: its byte at
 * range offset X is at remote address X. The client then moves data with
 * its own RDMA READ and WRITE on the same connection, without the
 * server's CPU and without fences: it orders them against the buffer's
 * other users itself. %P2PBUF_RDMA_OP_UNREGISTER with that @rkey (other
 * fields zero) ends it: the reply comes once the key no longer works and
 * the pin is gone. A disconnect ends it too. One registration per
 * connection. Refused with EPERM on a server without the flag (before any
 * other check, UNREGISTER included), EBUSY when the connection has one
 * already, E2BIG when the range needs more pages than one MR of the
 * device holds (register a smaller range), EOPNOTSUPP when no MR page
 * size of the device fits the range (on a device with a DMA device: a
 * served range that does not start on a page), ENOENT for an UNREGISTER
 * of another key, ENOMEM and EIO when the device cannot map or register,
 * and the exporter's errors for the pin or the map (for p2pgem: EBUSY,
 * ENODEV once it is unbound). An unbind of the exporter revokes a
 * registration: the key stops working and the connection ends.
 */
struct p2pbuf_rdma_req {
	__le32 op;
	__le32 flags;
	__le64 id;
	__le64 offset;
	__le64 length;
	__le64 addr;
	__le32 rkey;
	__le32 reserved;
};

/**
 * struct p2pbuf_rdma_reply - the answer to a request (server -> client)
 * @id: the request's @id
 * @status: 0, or a positive errno value: the request was refused and
 *	nothing moved
 * @rkey: %P2PBUF_RDMA_OP_REGISTER: the registration's remote key; zero
 *	for the other requests
 * @bytes: bytes moved; for REGISTER and UNREGISTER, the registration's
 *	length
 */
struct p2pbuf_rdma_reply {
	__le64 id;
	__le32 status;
	__le32 rkey;
	__le64 bytes;
};

#define P2PBUF_RDMA_IOC_MAGIC	'R'
#define P2PBUF_RDMA_IOC_SERVE	_IOWR(P2PBUF_RDMA_IOC_MAGIC, 0x40, \
				      struct p2pbuf_rdma_serve)
#define P2PBUF_RDMA_IOC_STOP	_IOW(P2PBUF_RDMA_IOC_MAGIC, 0x41, \
				     struct p2pbuf_rdma_stop)
#define P2PBUF_RDMA_IOC_QUERY	_IOWR(P2PBUF_RDMA_IOC_MAGIC, 0x42, \
				      struct p2pbuf_rdma_query)

#endif /* _UAPI_LINUX_P2PBUF_RDMA_H */
