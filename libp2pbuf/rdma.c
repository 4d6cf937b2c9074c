// SPDX-License-Identifier: MIT
/*
 * libp2pbuf-rdma: the server side through p2pbuf_rdma.ko's ioctls, and a
 * librdmacm client of the project's own protocol (linux/p2pbuf_rdma.h):
 * one RC QP, one request at a time, the reply awaited on a completion
 * channel.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <p2pbuf/p2pbuf_rdma.h>

#include "internal.h"

#define P2PBUF_RDMA_DEV		"/dev/p2pbuf_rdma"
#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_STEP		(8ULL << 20)
/* A reply may take as long as the server's op_timeout_ms per chunk. */
#define REPLY_TIMEOUT_MS	(15 * 60 * 1000)

enum { WR_SEND = 1, WR_RECV = 2, WR_RDMA = 3 };

struct p2pbuf_rdma_server {
	int fd;
	uint32_t handle;
};

struct p2pbuf_rdma_msgs {
	struct p2pbuf_rdma_req req;
	struct p2pbuf_rdma_reply reply;
};

struct p2pbuf_rdma_client {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	struct p2pbuf_rdma_msgs *msgs;
	bool qp;
	bool connected;
	bool broken;
	int timeout_ms;
	uint64_t next_id;
};

static bool zeros(const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		if (*c++)
			return false;
	return true;
}

int p2pbuf_rdma_serve(const struct p2pbuf_rdma_serve_args *args,
		      struct p2pbuf_rdma_server **srvp)
{
	struct p2pbuf_rdma_serve s = { 0 };
	struct p2pbuf_rdma_server *srv;
	off_t end;

	if (!args || !srvp || args->size != sizeof(*args) || args->pad ||
	    (args->flags & ~P2PBUF_RDMA_SERVE_PASSIVE) ||
	    !zeros(args->reserved, sizeof(args->reserved)))
		return -EINVAL;
	s.dmabuf_fd = args->dmabuf_fd;
	s.port = args->port;
	s.flags = args->flags;
	s.offset = args->offset;
	s.length = args->length;
	if (!s.length) {
		end = lseek(args->dmabuf_fd, 0, SEEK_END);
		if (end < 0)
			return -errno;
		if ((uint64_t)end <= s.offset)
			return -EINVAL;
		s.length = (uint64_t)end - s.offset;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->fd = open(P2PBUF_RDMA_DEV, O_RDWR | O_CLOEXEC);
	if (srv->fd < 0) {
		int err = errno;

		free(srv);
		return -err;
	}
	if (ioctl(srv->fd, P2PBUF_RDMA_IOC_SERVE, &s)) {
		int err = errno;

		close(srv->fd);
		free(srv);
		return -err;
	}
	srv->handle = s.handle;
	*srvp = srv;
	return 0;
}

int p2pbuf_rdma_server_query(struct p2pbuf_rdma_server *srv,
			     struct p2pbuf_rdma_query *q)
{
	if (!srv || !q)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->handle = srv->handle;
	return ioctl(srv->fd, P2PBUF_RDMA_IOC_QUERY, q) ? -errno : 0;
}

void p2pbuf_rdma_server_stop(struct p2pbuf_rdma_server *srv)
{
	if (!srv)
		return;
	/* Closing the file stops its servers. */
	close(srv->fd);
	free(srv);
}

/* The next CM event, which must be @want; its status as an errno. */
static int wait_cm(struct p2pbuf_rdma_client *c, enum rdma_cm_event_type want)
{
	struct pollfd pfd = { .fd = c->ch->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type got;
	int ret, status;

	ret = poll(&pfd, 1, c->timeout_ms);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	if (rdma_get_cm_event(c->ch, &ev))
		return -errno;
	got = ev->event;
	status = ev->status;
	rdma_ack_cm_event(ev);
	if (got == want)
		return 0;
	switch (got) {
	case RDMA_CM_EVENT_REJECTED:
		return -ECONNREFUSED;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		return status < 0 ? status : -EHOSTUNREACH;
	default:
		return -EIO;
	}
}

int p2pbuf_rdma_connect(const char *host, uint16_t port, int timeout_ms,
			struct p2pbuf_rdma_client **cp)
{
	struct p2pbuf_rdma_hello hello = {
		.magic = htole32(P2PBUF_RDMA_HELLO_MAGIC),
		.version = htole16(P2PBUF_RDMA_PROTO_VERSION),
	};
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct rdma_conn_param param = { 0 };
	struct ibv_qp_init_attr attr = { 0 };
	struct p2pbuf_rdma_client *c;
	struct addrinfo *ai = NULL;
	char service[8];
	int ret;

	if (!host || !port || !cp || timeout_ms < 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
	c->next_id = 1;
	ret = -ENOMEM;
	c->msgs = calloc(1, sizeof(*c->msgs));
	if (!c->msgs)
		goto err;
	c->ch = rdma_create_event_channel();
	if (!c->ch)
		goto err_errno;
	if (rdma_create_id(c->ch, &c->id, c, RDMA_PS_TCP))
		goto err_errno;
	snprintf(service, sizeof(service), "%u", port);
	ret = getaddrinfo(host, service, &hints, &ai);
	if (ret) {
		ret = ret == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
		goto err;
	}
	ret = rdma_resolve_addr(c->id, NULL, ai->ai_addr, c->timeout_ms);
	freeaddrinfo(ai);
	if (ret)
		goto err_errno;
	ret = wait_cm(c, RDMA_CM_EVENT_ADDR_RESOLVED);
	if (ret)
		goto err;
	if (rdma_resolve_route(c->id, c->timeout_ms))
		goto err_errno;
	ret = wait_cm(c, RDMA_CM_EVENT_ROUTE_RESOLVED);
	if (ret)
		goto err;

	c->pd = ibv_alloc_pd(c->id->verbs);
	if (!c->pd)
		goto err_errno;
	c->cc = ibv_create_comp_channel(c->id->verbs);
	if (!c->cc)
		goto err_errno;
	c->cq = ibv_create_cq(c->id->verbs, 8, c, c->cc, 0);
	if (!c->cq)
		goto err_errno;
	if (ibv_req_notify_cq(c->cq, 0))
		goto err_errno;
	attr.send_cq = c->cq;
	attr.recv_cq = c->cq;
	attr.qp_type = IBV_QPT_RC;
	attr.cap.max_send_wr = 2;
	attr.cap.max_recv_wr = 2;
	attr.cap.max_send_sge = 1;
	attr.cap.max_recv_sge = 1;
	if (rdma_create_qp(c->id, c->pd, &attr))
		goto err_errno;
	c->qp = true;
	c->mr = ibv_reg_mr(c->pd, c->msgs, sizeof(*c->msgs),
			   IBV_ACCESS_LOCAL_WRITE);
	if (!c->mr)
		goto err_errno;

	param.private_data = &hello;
	param.private_data_len = sizeof(hello);
	/* The server RDMA READs our memory: it needs our responder. */
	param.responder_resources = 1;
	param.initiator_depth = 1;
	param.retry_count = 7;
	param.rnr_retry_count = 7;
	if (rdma_connect(c->id, &param))
		goto err_errno;
	ret = wait_cm(c, RDMA_CM_EVENT_ESTABLISHED);
	if (ret)
		goto err;
	c->connected = true;
	*cp = c;
	return 0;

err_errno:
	ret = errno ? -errno : -EIO;
err:
	p2pbuf_rdma_disconnect(c);
	return ret;
}

void p2pbuf_rdma_disconnect(struct p2pbuf_rdma_client *c)
{
	if (!c)
		return;
	if (c->connected) {
		rdma_disconnect(c->id);
		/* DISCONNECTED, or nothing if the server went first. */
		(void)wait_cm(c, RDMA_CM_EVENT_DISCONNECTED);
	}
	if (c->qp)
		rdma_destroy_qp(c->id);
	if (c->mr)
		ibv_dereg_mr(c->mr);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->cc)
		ibv_destroy_comp_channel(c->cc);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->ch)
		rdma_destroy_event_channel(c->ch);
	free(c->msgs);
	free(c);
}

int p2pbuf_ibv_reg_mr(struct ibv_pd *pd, const struct p2pbuf_desc *desc,
		      int access, struct ibv_mr **mr)
{
	struct p2pbuf_desc d;
	struct ibv_mr *m;
	int ret;

	if (!pd || !desc || !mr)
		return -EINVAL;
	/* libp2pbuf's rules for a caller's structure (size, reserved). */
	ret = p2pbuf__struct_in(&d, sizeof(d), desc);
	if (ret)
		return ret;
	if (!p2pbuf__zero(d.reserved, sizeof(d.reserved)))
		return -EINVAL;
	errno = 0;
	m = ibv_reg_dmabuf_mr(pd, d.offset, d.length, d.iova, d.fd, access);
	if (!m) {
		int err = errno ? errno : EIO;

		/* Providers without dma-buf support say so in several ways. */
		if (err == ENOSYS || err == ENOTSUP || err == EPROTONOSUPPORT)
			err = EOPNOTSUPP;
		return -err;
	}
	*mr = m;
	return 0;
}

struct ibv_pd *p2pbuf_rdma_client_pd(struct p2pbuf_rdma_client *c)
{
	return c ? c->pd : NULL;
}

/*
 * One completion, waiting on the channel; -EIO for a failed one, or once
 * the connection ended. A server that goes away (its device unbound, its
 * module removed) disconnects: that comes as a CM event, not as a
 * completion, and librdmacm moves the QP to the error state only when the
 * event is read, so the CM channel is watched too (other events, such as
 * an address change, do not end it).
 */
static int next_wc(struct p2pbuf_rdma_client *c, struct ibv_wc *wc)
{
	struct pollfd pfd[2] = {
		{ .fd = c->cc->fd, .events = POLLIN },
		{ .fd = c->ch->fd, .events = POLLIN },
	};
	struct rdma_cm_event *ev;
	bool gone = false;
	struct ibv_cq *cq;
	void *ctx;
	int n;

	for (;;) {
		n = ibv_poll_cq(c->cq, 1, wc);
		if (n < 0)
			return -EIO;
		if (n)
			return wc->status == IBV_WC_SUCCESS ? 0 : -EIO;
		/* Gone, and no completion was left: the request is lost. */
		if (gone)
			return -EIO;
		n = poll(pfd, 2, REPLY_TIMEOUT_MS);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (!n)
			return -ETIMEDOUT;
		if (n < 0)
			continue;
		if (pfd[1].revents) {
			if (rdma_get_cm_event(c->ch, &ev))
				return -EIO;
			if (ev->event == RDMA_CM_EVENT_DISCONNECTED ||
			    ev->event == RDMA_CM_EVENT_DEVICE_REMOVAL)
				gone = true;
			/* Its own side is disconnected: nothing to wait for. */
			if (ev->event == RDMA_CM_EVENT_DISCONNECTED)
				c->connected = false;
			rdma_ack_cm_event(ev);
		}
		if (!pfd[0].revents)
			continue;
		if (ibv_get_cq_event(c->cc, &cq, &ctx))
			return -EIO;
		ibv_ack_cq_events(cq, 1);
		if (ibv_req_notify_cq(cq, 0))
			return -EIO;
	}
}

int p2pbuf_rdma_request(struct p2pbuf_rdma_client *c,
			const struct p2pbuf_rdma_req *req,
			struct p2pbuf_rdma_reply *reply)
{
	struct ibv_sge rsge = { 0 }, ssge = { 0 };
	struct ibv_recv_wr rwr = {
		.wr_id = WR_RECV, .sg_list = &rsge, .num_sge = 1,
	};
	struct ibv_send_wr swr = {
		.wr_id = WR_SEND, .sg_list = &ssge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_recv_wr *rbad;
	struct ibv_send_wr *sbad;
	bool sent = false, replied = false;
	struct ibv_wc wc;
	int ret;

	if (!c || !req || !reply)
		return -EINVAL;
	if (c->broken)
		return -EIO;
	rsge.addr = (uintptr_t)&c->msgs->reply;
	rsge.length = sizeof(c->msgs->reply);
	rsge.lkey = c->mr->lkey;
	ssge.addr = (uintptr_t)&c->msgs->req;
	ssge.length = sizeof(c->msgs->req);
	ssge.lkey = c->mr->lkey;
	c->msgs->req = *req;
	if (ibv_post_recv(c->id->qp, &rwr, &rbad) ||
	    ibv_post_send(c->id->qp, &swr, &sbad)) {
		c->broken = true;
		return -EIO;
	}
	while (!sent || !replied) {
		ret = next_wc(c, &wc);
		if (ret) {
			c->broken = true;
			return ret;
		}
		if (wc.wr_id == WR_SEND)
			sent = true;
		else if (wc.wr_id == WR_RECV)
			replied = true;
	}
	if (wc.wr_id == WR_RECV && wc.byte_len != sizeof(*reply)) {
		c->broken = true;
		return -EPROTO;
	}
	*reply = c->msgs->reply;
	return 0;
}

/* One request of the project's protocol with its reply's status. */
static int own_request(struct p2pbuf_rdma_client *c,
		       struct p2pbuf_rdma_req *req,
		       struct p2pbuf_rdma_reply *reply)
{
	int ret;

	req->id = htole64(c->next_id++);
	ret = p2pbuf_rdma_request(c, req, reply);
	if (ret)
		return ret;
	if (le64toh(reply->id) != le64toh(req->id)) {
		c->broken = true;
		return -EPROTO;
	}
	return -(int)le32toh(reply->status);
}

static bool xfer_ok(const struct p2pbuf_rdma_xfer *x)
{
	return x && x->size == sizeof(*x) &&
	       zeros(x->reserved, sizeof(x->reserved)) && x->local &&
	       x->length && (x->op == P2PBUF_RDMA_OP_READ ||
			     x->op == P2PBUF_RDMA_OP_WRITE);
}

/*
 * One step of a transfer: @n bytes from @done on, between @x->local
 * (registered in @mr) and the server; the bytes it moved in *@moved.
 */
typedef int (*xfer_step_fn)(struct p2pbuf_rdma_client *c,
			    const struct p2pbuf_rdma_xfer *x,
			    const struct p2pbuf_rdma_remote *r,
			    struct ibv_mr *mr, uint64_t done, uint64_t n,
			    uint64_t *moved);

/*
 * @x in steps of @step bytes, @x->local registered with @access for the
 * time; the progress callback after each step.
 */
static int xfer_steps(struct p2pbuf_rdma_client *c,
		      const struct p2pbuf_rdma_xfer *x,
		      const struct p2pbuf_rdma_remote *r, uint64_t step,
		      int access, xfer_step_fn one, uint64_t *donep)
{
	uint64_t done = 0, n, moved;
	struct ibv_mr *mr;
	int ret = 0;

	mr = ibv_reg_mr(c->pd, x->local, x->length, access);
	if (!mr)
		return errno ? -errno : -EIO;
	while (done < x->length) {
		n = x->length - done < step ? x->length - done : step;
		ret = one(c, x, r, mr, done, n, &moved);
		if (ret)
			break;
		done += moved;
		if (x->progress && x->progress(done, x->length,
					       x->progress_arg)) {
			ret = -ECANCELED;
			break;
		}
	}
	ibv_dereg_mr(mr);
	if (donep)
		*donep = done;
	return ret;
}

/* The server moves the step, as a request of the own protocol. */
static int request_step(struct p2pbuf_rdma_client *c,
			const struct p2pbuf_rdma_xfer *x,
			const struct p2pbuf_rdma_remote *r, struct ibv_mr *mr,
			uint64_t done, uint64_t n, uint64_t *moved)
{
	struct p2pbuf_rdma_reply reply;
	struct p2pbuf_rdma_req req = { 0 };
	int ret;

	(void)r;
	req.op = htole32(x->op);
	req.offset = htole64(x->offset + done);
	req.length = htole64(n);
	req.addr = htole64((uintptr_t)x->local + done);
	req.rkey = htole32(mr->rkey);
	ret = own_request(c, &req, &reply);
	if (!ret)
		*moved = le64toh(reply.bytes);
	return ret;
}

int p2pbuf_rdma_transfer(struct p2pbuf_rdma_client *c,
			 const struct p2pbuf_rdma_xfer *x, uint64_t *donep)
{
	if (donep)
		*donep = 0;
	if (!c || !xfer_ok(x))
		return -EINVAL;
	if (c->broken)
		return -EIO;
	return xfer_steps(c, x, NULL, x->step ? x->step : DEFAULT_STEP,
			  IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			  IBV_ACCESS_REMOTE_WRITE, request_step, donep);
}

static bool remote_ok(const struct p2pbuf_rdma_remote *r)
{
	return r->size == sizeof(*r) && zeros(r->reserved, sizeof(r->reserved));
}

int p2pbuf_rdma_register(struct p2pbuf_rdma_client *c, uint64_t offset,
			 uint64_t length, struct p2pbuf_rdma_remote *r)
{
	struct p2pbuf_rdma_reply reply;
	struct p2pbuf_rdma_req req = { 0 };
	uint64_t bytes;
	int ret;

	if (!c || !r || !remote_ok(r) || !length)
		return -EINVAL;
	if (c->broken)
		return -EIO;
	req.op = htole32(P2PBUF_RDMA_OP_REGISTER);
	req.offset = htole64(offset);
	req.length = htole64(length);
	ret = own_request(c, &req, &reply);
	if (ret)
		return ret;
	bytes = le64toh(reply.bytes);
	/*
	 * The server registered what was asked: anything else is not the
	 * protocol, and the registration it holds ends with the connection.
	 */
	if (bytes != length) {
		c->broken = true;
		return -EPROTO;
	}
	r->rkey = le32toh(reply.rkey);
	r->offset = offset;
	r->length = bytes;
	return 0;
}

int p2pbuf_rdma_unregister(struct p2pbuf_rdma_client *c,
			   const struct p2pbuf_rdma_remote *r)
{
	struct p2pbuf_rdma_reply reply;
	struct p2pbuf_rdma_req req = { 0 };

	if (!c || !r || !remote_ok(r))
		return -EINVAL;
	if (c->broken)
		return -EIO;
	req.op = htole32(P2PBUF_RDMA_OP_UNREGISTER);
	req.rkey = htole32(r->rkey);
	return own_request(c, &req, &reply);
}

/* The bytes one work request may move on the connection's port. */
static uint64_t max_msg(struct p2pbuf_rdma_client *c)
{
	struct ibv_port_attr attr;

	if (ibv_query_port(c->id->verbs, c->id->port_num, &attr) ||
	    !attr.max_msg_sz)
		return 1U << 31;
	return attr.max_msg_sz < (1U << 31) ? attr.max_msg_sz : 1U << 31;
}

/*
 * One signaled RDMA READ or WRITE of @len bytes between @local (in @mr)
 * and remote address @remote of key @rkey, and its completion. The QP has
 * room for two send work requests and one RDMA READ in flight (its
 * initiator depth): one at a time fits both.
 */
static int rdma_op(struct p2pbuf_rdma_client *c, uint32_t op,
		   struct ibv_mr *mr, void *local, uint32_t len,
		   uint64_t remote, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local, .length = len, .lkey = mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = WR_RDMA, .sg_list = &sge, .num_sge = 1,
		.opcode = op == P2PBUF_RDMA_OP_READ ? IBV_WR_RDMA_READ :
						      IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr *bad;
	struct ibv_wc wc;
	int ret;

	wr.wr.rdma.remote_addr = remote;
	wr.wr.rdma.rkey = rkey;
	if (ibv_post_send(c->id->qp, &wr, &bad)) {
		c->broken = true;
		return -EIO;
	}
	do {
		ret = next_wc(c, &wc);
		if (ret) {
			/* A revoked key, a server gone: the QP is in error. */
			c->broken = true;
			return ret;
		}
	} while (wc.wr_id != WR_RDMA);
	return 0;
}

/* This side moves the step, with its own RDMA READ or WRITE. */
static int rdma_step(struct p2pbuf_rdma_client *c,
		     const struct p2pbuf_rdma_xfer *x,
		     const struct p2pbuf_rdma_remote *r, struct ibv_mr *mr,
		     uint64_t done, uint64_t n, uint64_t *moved)
{
	/* The registration's addresses are the served range's offsets. */
	int ret = rdma_op(c, x->op, mr, (uint8_t *)x->local + done,
			  (uint32_t)n, x->offset + done, r->rkey);

	if (!ret)
		*moved = n;
	return ret;
}

int p2pbuf_rdma_remote_transfer(struct p2pbuf_rdma_client *c,
				const struct p2pbuf_rdma_remote *r,
				const struct p2pbuf_rdma_xfer *x,
				uint64_t *donep)
{
	uint64_t step, max;

	if (donep)
		*donep = 0;
	if (!c || !r || !remote_ok(r) || !xfer_ok(x))
		return -EINVAL;
	/* Inside the registration, which ends before 2^64. */
	if (x->length > UINT64_MAX - x->offset || x->offset < r->offset ||
	    x->length > r->length ||
	    x->offset - r->offset > r->length - x->length)
		return -ERANGE;
	if (c->broken)
		return -EIO;
	step = x->step ? x->step : DEFAULT_STEP;
	max = max_msg(c);
	if (step > max)
		step = max;
	/* Only the local side is touched by the NIC for us: LOCAL_WRITE. */
	return xfer_steps(c, x, r, step, IBV_ACCESS_LOCAL_WRITE, rdma_step,
			  donep);
}
