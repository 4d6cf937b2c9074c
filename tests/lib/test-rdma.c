// SPDX-License-Identifier: MIT
/*
 * Unit tests: libp2pbuf-rdma's argument checks (p2pbuf_ibv_reg_mr(), the
 * size and reserved fields of its structures), which need no RDMA
 * device. Registrations and transfers need one: tests/guest/
 * libp2pbuf-rdma.sh, p2pbuf-rdma-rping.sh and p2pbuf-rdma-client.sh.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>

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

static const struct test tests[] = {
	TEST(reg_mr),
	TEST(serve_args),
	TEST(client_args),
};

int main(void)
{
	return RUN("rdma", tests);
}
