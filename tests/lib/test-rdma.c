// SPDX-License-Identifier: MIT
/*
 * Unit tests: p2pbuf_ibv_reg_mr()'s checks, with rdma-core and without it
 * (libp2pbuf/Makefile builds this test a third time, without
 * P2PBUF_HAVE_IBVERBS and without libibverbs). A registration itself needs
 * an RDMA device: tests/guest/libp2pbuf-rdma.sh.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>

#include "p2pbuf/p2pbuf.h"
#include "test.h"

static int reg_mr(void)
{
	struct p2pbuf_desc d = { .size = sizeof(d), .fd = -1 };
	struct ibv_mr *mr = NULL;

#ifdef P2PBUF_HAVE_IBVERBS
	CHECK_EQ(p2pbuf_ibv_reg_mr(NULL, &d, 0, &mr), -EINVAL);
	CHECK_EQ(p2pbuf_ibv_reg_mr((struct ibv_pd *)&d, NULL, 0, &mr), -EINVAL);
	CHECK_EQ(p2pbuf_ibv_reg_mr((struct ibv_pd *)&d, &d, 0, NULL), -EINVAL);
#else
	/* Built without rdma-core: says so, whatever it is given. */
	CHECK_EQ(p2pbuf_ibv_reg_mr((struct ibv_pd *)&d, &d, 0, &mr), -ENOSYS);
	CHECK_EQ(p2pbuf_ibv_reg_mr(NULL, NULL, 0, NULL), -ENOSYS);
#endif
	CHECK(mr == NULL);
	return 0;
}

static const struct test tests[] = {
	TEST(reg_mr),
};

int main(void)
{
	return RUN("rdma", tests);
}
