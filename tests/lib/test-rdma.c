// SPDX-License-Identifier: MIT
/*
 * Unit tests: libp2pbuf-rdma's argument checks (p2pbuf_ibv_reg_mr(), the
 * size and reserved fields of its structures, a passive registration's
 * bounds), which need no RDMA device. Registrations and transfers need one: tests/guest/
 * libp2pbuf-rdma.sh, p2pbuf-rdma-rping.sh and p2pbuf-rdma-client.sh.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdint.h>

#include "p2pbuf/p2pbuf.h"
#include "p2pbuf/p2pbuf_rdma.h"
#include "test.h"

static int reg_mr(void)
{
	struct p2pbuf_desc d = { .size = sizeof(d), .fd = -1 };
	struct ibv_mr *mr = NULL;

	CHECK_EQ(p2pbuf_ibv_reg_mr(NULL, &d, 0, &mr), -EINVAL);
	CHECK_EQ(p2pbuf_ibv_reg_mr((struct ibv_pd *)&d, NULL, 0, &mr), -EINVAL);
	CHECK_EQ(p2pbuf_ibv_reg_mr((struct ibv_pd *)&d, &d, 0, NULL), -EINVAL);
	CHECK(mr == NULL);
	return 0;
}

/* Bad structures are refused before anything is opened. */
static int serve_args(void)
{
	struct p2pbuf_rdma_serve_args a = { .size = sizeof(a), .port = 1 };
	struct p2pbuf_rdma_server *srv = NULL;

	CHECK_EQ(p2pbuf_rdma_serve(NULL, &srv), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_serve(&a, NULL), -EINVAL);
	a.size = sizeof(a) - 8;
	CHECK_EQ(p2pbuf_rdma_serve(&a, &srv), -EINVAL);
	a.size = sizeof(a);
	a.pad = 1;
	CHECK_EQ(p2pbuf_rdma_serve(&a, &srv), -EINVAL);
	a.pad = 0;
	/* P2PBUF_RDMA_SERVE_PASSIVE is the only flag. */
	a.flags = P2PBUF_RDMA_SERVE_PASSIVE << 1;
	CHECK_EQ(p2pbuf_rdma_serve(&a, &srv), -EINVAL);
	a.flags = 0;
	a.reserved[3] = 1;
	CHECK_EQ(p2pbuf_rdma_serve(&a, &srv), -EINVAL);
	CHECK(srv == NULL);
	CHECK_EQ(p2pbuf_rdma_server_query(NULL, NULL), -EINVAL);
	p2pbuf_rdma_server_stop(NULL);
	return 0;
}

static int client_args(void)
{
	struct p2pbuf_rdma_xfer x = { .size = sizeof(x) };
	struct p2pbuf_rdma_client *c = NULL;
	struct p2pbuf_rdma_reply rep;
	struct p2pbuf_rdma_req req;
	uint64_t done = 1;

	CHECK_EQ(p2pbuf_rdma_connect(NULL, 1, 0, &c), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_connect("localhost", 0, 0, &c), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_connect("localhost", 1, -1, &c), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_connect("localhost", 1, 0, NULL), -EINVAL);
	CHECK(c == NULL);
	CHECK_EQ(p2pbuf_rdma_transfer(NULL, &x, &done), -EINVAL);
	CHECK_EQ(done, 0);
	CHECK_EQ(p2pbuf_rdma_request(NULL, &req, &rep), -EINVAL);
	CHECK(p2pbuf_rdma_client_pd(NULL) == NULL);
	p2pbuf_rdma_disconnect(NULL);
	return 0;
}

/*
 * Passive registration: bad arguments are refused before the connection
 * is looked at, so a made-up one that is never touched stands in for it,
 * and the output is left as it was.
 */
static int register_args(void)
{
	struct p2pbuf_rdma_remote r = { .size = sizeof(r), .rkey = 7,
					.offset = 8, .length = 9 };
	struct p2pbuf_rdma_client *c = (struct p2pbuf_rdma_client *)&r;

	CHECK_EQ(p2pbuf_rdma_register(NULL, 0, 4096, &r), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_register(c, 0, 4096, NULL), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_register(c, 0, 0, &r), -EINVAL);
	r.size = sizeof(r) - 8;
	CHECK_EQ(p2pbuf_rdma_register(c, 0, 4096, &r), -EINVAL);
	r.size = sizeof(r) + 8;
	CHECK_EQ(p2pbuf_rdma_register(c, 0, 4096, &r), -EINVAL);
	r.size = 0;
	CHECK_EQ(p2pbuf_rdma_register(c, 0, 4096, &r), -EINVAL);
	r.size = sizeof(r);
	r.reserved[3] = 1;
	CHECK_EQ(p2pbuf_rdma_register(c, 0, 4096, &r), -EINVAL);
	CHECK(r.rkey == 7 && r.offset == 8 && r.length == 9);
	CHECK_EQ(p2pbuf_rdma_unregister(NULL, &r), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_unregister(c, &r), -EINVAL);
	r.reserved[3] = 0;
	CHECK_EQ(p2pbuf_rdma_unregister(c, NULL), -EINVAL);
	r.size = sizeof(r) - 8;
	CHECK_EQ(p2pbuf_rdma_unregister(c, &r), -EINVAL);
	return 0;
}

/* remote_transfer(@x against @r): its return; @done must be 0 after it. */
static int remote_xfer(const struct p2pbuf_rdma_remote *r,
		       const struct p2pbuf_rdma_xfer *x)
{
	struct p2pbuf_rdma_client *c = (struct p2pbuf_rdma_client *)r;
	uint64_t done = 1;
	int ret;

	ret = p2pbuf_rdma_remote_transfer(c, r, x, &done);
	if (done)
		return 1;
	return ret;
}

static int remote_transfer_args(void)
{
	struct p2pbuf_rdma_remote r = { .size = sizeof(r), .rkey = 1,
					.offset = 1 << 20, .length = 4 << 20 };
	char local[64];
	struct p2pbuf_rdma_xfer x = {
		.size = sizeof(x), .op = P2PBUF_RDMA_OP_READ, .local = local,
		.offset = 1 << 20, .length = 4 << 20,
	};
	uint64_t done = 1;

	/* The arguments, as p2pbuf_rdma_transfer() takes them. */
	CHECK_EQ(p2pbuf_rdma_remote_transfer(NULL, &r, &x, &done), -EINVAL);
	CHECK_EQ(done, 0);
	CHECK_EQ(remote_xfer(&r, NULL), -EINVAL);
	CHECK_EQ(p2pbuf_rdma_remote_transfer((struct p2pbuf_rdma_client *)&r,
					     NULL, &x, NULL), -EINVAL);
	x.size = sizeof(x) - 8;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	x.size = sizeof(x);
	x.reserved[0] = 1;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	x.reserved[0] = 0;
	x.op = 0;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	x.op = P2PBUF_RDMA_OP_REGISTER;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	x.op = P2PBUF_RDMA_OP_WRITE;
	x.local = NULL;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	x.local = local;
	x.length = 0;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	x.length = 4 << 20;
	r.size = sizeof(r) + 8;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	r.size = sizeof(r);
	r.reserved[1] = 1;
	CHECK_EQ(remote_xfer(&r, &x), -EINVAL);
	r.reserved[1] = 0;

	/* The range must lie inside the registration: [1 MiB, 5 MiB). */
	x.offset = (1 << 20) - 1;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	x.offset = (1 << 20) + 1;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	x.offset = 0;
	x.length = 1;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	x.offset = 5 << 20;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	x.offset = (5 << 20) - 1;
	x.length = 2;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	x.offset = 1 << 20;
	x.length = (4 << 20) + 1;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	/* Past 2^64, either of them. */
	x.offset = UINT64_MAX;
	x.length = 2;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	r.offset = UINT64_MAX - 1;
	r.length = UINT64_MAX;
	x.offset = UINT64_MAX - 1;
	x.length = 4;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	/* An empty registration holds nothing. */
	r.offset = 0;
	r.length = 0;
	x.offset = 0;
	CHECK_EQ(remote_xfer(&r, &x), -ERANGE);
	return 0;
}

static const struct test tests[] = {
	TEST(reg_mr),
	TEST(serve_args),
	TEST(client_args),
	TEST(register_args),
	TEST(remote_transfer_args),
};

int main(void)
{
	return RUN("rdma", tests);
}
