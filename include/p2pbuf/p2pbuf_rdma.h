/* SPDX-License-Identifier: MIT */
/*
 * libp2pbuf-rdma: serve a dma-buf to remote peers through p2pbuf_rdma.ko,
 * and the client of the project's own protocol (librdmacm), for transfers
 * of many MiB between local memory and a remote served buffer.
 *
 * A separate library (libp2pbuf-rdma.so, symbol version P2PBUF_RDMA_1.0;
 * the passive registration's functions P2PBUF_RDMA_1.1) so that programs
 * of libp2pbuf alone do not link rdma-core. Functions
 * return 0 or a negative errno value. Caller-allocated structures start
 * with "uint32_t size", set to sizeof() by the caller, and end with
 * reserved fields that must be zero (EINVAL otherwise).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_P2PBUF_RDMA_H
#define P2PBUF_P2PBUF_RDMA_H

#include <stdint.h>

#include <linux/p2pbuf_rdma.h>
#include <p2pbuf/p2pbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- serving (the kernel does the transfers) ---- */

struct p2pbuf_rdma_server;

/**
 * struct p2pbuf_rdma_serve_args - what p2pbuf_rdma_serve() serves
 * @size: sizeof(struct p2pbuf_rdma_serve_args)
 * @dmabuf_fd: the dma-buf, open read-write
 * @port: the rdma_cm port
 * @pad: zero
 * @flags: P2PBUF_RDMA_SERVE_PASSIVE (linux/p2pbuf_rdma.h) to let clients
 *	register the range for their own RDMA (p2pbuf_rdma_register()), or 0
 * @offset: the served range's offset in the buffer
 * @length: its length; 0: to the end of the buffer
 * @reserved: zero
 */
struct p2pbuf_rdma_serve_args {
	uint32_t size;
	int32_t dmabuf_fd;
	uint16_t port;
	uint16_t pad;
	uint32_t flags;
	uint64_t offset;
	uint64_t length;
	uint64_t reserved[4];
};

/**
 * p2pbuf_rdma_serve() - serve a dma-buf range on an rdma_cm port
 * @args: what to serve
 * @srv: the server, on success; p2pbuf_rdma_server_stop() ends it
 *
 * Return: the errnos of P2PBUF_RDMA_IOC_SERVE (linux/p2pbuf_rdma.h), and
 * ENOENT when p2pbuf_rdma.ko is not loaded.
 */
int p2pbuf_rdma_serve(const struct p2pbuf_rdma_serve_args *args,
		      struct p2pbuf_rdma_server **srv);

/**
 * p2pbuf_rdma_server_query() - the server's counters
 * @srv: the server
 * @q: P2PBUF_RDMA_IOC_QUERY's answer
 */
int p2pbuf_rdma_server_query(struct p2pbuf_rdma_server *srv,
			     struct p2pbuf_rdma_query *q);

/**
 * p2pbuf_rdma_server_stop() - stop serving, end the connections, free @srv
 * @srv: the server, or NULL
 */
void p2pbuf_rdma_server_stop(struct p2pbuf_rdma_server *srv);

/* ---- the client of the own protocol ---- */

struct p2pbuf_rdma_client;

/**
 * p2pbuf_rdma_connect() - connect to a p2pbuf_rdma server
 * @host: its address or name
 * @port: its port
 * @timeout_ms: for each step of the connection; 0: 10 s
 * @c: the connection, on success; p2pbuf_rdma_disconnect() ends it
 *
 * Return: ECONNREFUSED when the server rejects the connection (it serves
 * another client, or speaks another protocol version), ETIMEDOUT, or the
 * errors of librdmacm.
 */
int p2pbuf_rdma_connect(const char *host, uint16_t port, int timeout_ms,
			struct p2pbuf_rdma_client **c);

/**
 * p2pbuf_rdma_disconnect() - end a connection and free @c
 * @c: the connection, or NULL
 */
void p2pbuf_rdma_disconnect(struct p2pbuf_rdma_client *c);

/*
 * Called after each request's reply with the bytes moved so far; a
 * non-zero return stops the transfer (ECANCELED).
 */
typedef int (*p2pbuf_rdma_progress_fn)(uint64_t done, uint64_t total,
				       void *arg);

/**
 * struct p2pbuf_rdma_xfer - a transfer between local memory and the
 *	remote served range
 * @size: sizeof(struct p2pbuf_rdma_xfer)
 * @op: P2PBUF_RDMA_OP_READ (remote -> @local) or P2PBUF_RDMA_OP_WRITE
 *	(@local -> remote)
 * @local: the local memory, registered with ibv_reg_mr() for the
 *	transfer (not a dma-buf's mmap of I/O memory). On 6.1's rxe, memory
 *	that starts on a page and is a whole number of MiB long trips a
 *	read past rxe's MR map array: start it inside a page
 * @offset: the byte offset in the remote served range
 * @length: bytes
 * @step: bytes per request (p2pbuf_rdma_remote_transfer(): per work
 *	request); 0: 8 MiB
 * @progress: called after each request, or NULL
 * @progress_arg: its argument
 * @reserved: zero
 */
struct p2pbuf_rdma_xfer {
	uint32_t size;
	uint32_t op;
	void *local;
	uint64_t offset;
	uint64_t length;
	uint64_t step;
	p2pbuf_rdma_progress_fn progress;
	void *progress_arg;
	uint64_t reserved[4];
};

/**
 * p2pbuf_rdma_transfer() - move a range
 * @c: the connection
 * @x: the transfer
 * @done: bytes moved, or NULL
 *
 * Return: the status the server replied (EINVAL, ERANGE), ECANCELED from
 * the progress callback, EIO when the connection failed (it is then
 * unusable).
 */
int p2pbuf_rdma_transfer(struct p2pbuf_rdma_client *c,
			 const struct p2pbuf_rdma_xfer *x, uint64_t *done);

/**
 * p2pbuf_rdma_request() - send one request as it is, wait for its reply
 * @c: the connection
 * @req: the request, wire format (little-endian)
 * @reply: the reply, wire format
 *
 * For tests and tools that register their own memory
 * (p2pbuf_rdma_client_pd()).
 *
 * Return: 0 when a reply came (its status may be an error), EIO when the
 * connection failed.
 */
int p2pbuf_rdma_request(struct p2pbuf_rdma_client *c,
			const struct p2pbuf_rdma_req *req,
			struct p2pbuf_rdma_reply *reply);

/* ---- passive registration: the client moves the data itself ---- */

/**
 * struct p2pbuf_rdma_remote - a passive registration of a served range
 * @size: sizeof(struct p2pbuf_rdma_remote)
 * @rkey: out: its remote key
 * @offset: out: its first byte's offset in the served range, which is also
 *	that byte's remote address
 * @length: out: its bytes
 * @reserved: zero
 */
struct p2pbuf_rdma_remote {
	uint32_t size;
	uint32_t rkey;
	uint64_t offset;
	uint64_t length;
	uint64_t reserved[4];
};

/**
 * p2pbuf_rdma_register() - register a remote served range for one-sided
 *	RDMA by this client (P2PBUF_RDMA_OP_REGISTER)
 * @c: the connection
 * @offset: byte offset in the served range
 * @length: bytes; not zero
 * @r: the registration, filled in on success (the caller sets @r->size
 *	and leaves @r->reserved zero)
 *
 * The server pins the buffer where it is while the registration lasts;
 * its key allows RDMA READ and WRITE of the range by this connection
 * (p2pbuf_rdma_remote_transfer()), at remote addresses that are the served
 * range's offsets. The accesses are not fenced: the caller orders them against the
 * buffer's other users. p2pbuf_rdma_unregister() or the disconnect ends it.
 *
 * Return: EINVAL for a bad @r or a zero @length; the status the server
 * replied (EPERM: the server was not made with P2PBUF_RDMA_SERVE_PASSIVE;
 * EBUSY: the connection has a registration already, or the exporter cannot
 * pin; ERANGE: not inside the served range; E2BIG: more pages than one MR
 * of the server's device holds, register less; the exporter's errors,
 * such as ENODEV once it is unbound); EIO when the connection failed, EPROTO when the reply was not
 * the protocol's (the connection is then unusable).
 */
int p2pbuf_rdma_register(struct p2pbuf_rdma_client *c, uint64_t offset,
			 uint64_t length, struct p2pbuf_rdma_remote *r);

/**
 * p2pbuf_rdma_unregister() - end a registration (P2PBUF_RDMA_OP_UNREGISTER)
 * @c: the connection
 * @r: the registration
 *
 * Return: 0 once the key no longer works and the buffer is unpinned;
 * EINVAL for a bad @r; ENOENT when the server has no such registration;
 * EIO, EPROTO as for p2pbuf_rdma_register().
 */
int p2pbuf_rdma_unregister(struct p2pbuf_rdma_client *c,
			   const struct p2pbuf_rdma_remote *r);

/**
 * p2pbuf_rdma_remote_transfer() - move a range through a registration
 *	with the client's own RDMA READ or WRITE, no server CPU involved
 * @c: the connection that registered @r
 * @r: the registration
 * @x: the transfer, as for p2pbuf_rdma_transfer(); @x->offset is in the
 *	served range and the range must lie inside @r
 * @done: bytes moved, or NULL
 *
 * @x->op P2PBUF_RDMA_OP_READ moves remote -> @x->local with RDMA READs,
 * P2PBUF_RDMA_OP_WRITE @x->local -> remote with RDMA WRITEs.
 * @x->local is registered with ibv_reg_mr() for the transfer (6.1's rxe:
 * see struct p2pbuf_rdma_xfer). Each step of @x->step bytes (0: 8 MiB; at
 * most the port's largest message) is one signaled work request, waited
 * for before the next, and @x->progress is called after each.
 *
 * Return: EINVAL for a bad @r or @x, ERANGE for a range outside @r,
 * ECANCELED from the progress callback, the errors of ibv_reg_mr() for
 * @x->local, EIO when a work request failed (the key was revoked, the
 * server went away; the connection is then unusable).
 */
int p2pbuf_rdma_remote_transfer(struct p2pbuf_rdma_client *c,
				const struct p2pbuf_rdma_remote *r,
				const struct p2pbuf_rdma_xfer *x,
				uint64_t *done);

struct ibv_pd;
struct ibv_mr;

/**
 * p2pbuf_ibv_reg_mr() - register a dma-buf range with an RDMA protection
 *	domain (moved here from libp2pbuf: programs of libp2pbuf alone do not
 *	link libibverbs)
 * @pd: an rdma-core protection domain
 * @desc: the range (p2pbuf_desc_init())
 * @access: IBV_ACCESS_* flags
 * @mr: the memory region, on success; release with ibv_dereg_mr()
 *
 * Return: -EINVAL for a NULL argument, -EOPNOTSUPP when the RDMA device
 * (or its kernel driver) cannot register dma-buf memory.
 */
int p2pbuf_ibv_reg_mr(struct ibv_pd *pd, const struct p2pbuf_desc *desc,
		      int access, struct ibv_mr **mr);

/**
 * p2pbuf_rdma_client_pd() - the connection's protection domain
 * @c: the connection
 */
struct ibv_pd *p2pbuf_rdma_client_pd(struct p2pbuf_rdma_client *c);

#ifdef __cplusplus
}
#endif

#endif /* P2PBUF_P2PBUF_RDMA_H */
