// SPDX-License-Identifier: MIT
/*
 * rdma-register: register a dma-buf with the first RDMA device, the way an
 * RDMA application would use a p2pbuf buffer (ibv_reg_dmabuf_mr).
 *
 *   rdma-register [DEVICE]    a DRM device for the buffer; default udmabuf
 *
 * Build: cc rdma-register.c -DP2PBUF_HAVE_IBVERBS \
 *            $(pkg-config --cflags --libs libp2pbuf libibverbs) -lp2pbuf-rdma
 * (libp2pbuf/Makefile defines P2PBUF_HAVE_IBVERBS when rdma-core is there;
 * p2pbuf_ibv_reg_mr() is in libp2pbuf-rdma.)
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <p2pbuf/p2pbuf.h>

#ifdef P2PBUF_HAVE_IBVERBS
#include <infiniband/verbs.h>
#include <p2pbuf/p2pbuf_rdma.h>

int main(int argc, char **argv)
{
	struct p2pbuf_device *dev = NULL;
	struct p2pbuf_buffer *buf = NULL;
	struct ibv_device **list;
	struct ibv_context *ctx;
	struct p2pbuf_desc desc = { .size = sizeof(desc) };
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	int fd, ret, n;

	if (argc > 1) {
		ret = p2pbuf_device_open(argv[1], &dev);
		if (!ret)
			ret = p2pbuf_buffer_alloc(dev, 1 << 20, P2PBUF_PLACEMENT_ANY, 0, &buf);
		if (!ret)
			ret = p2pbuf_buffer_export(buf, &fd);
	} else {
		ret = p2pbuf_udmabuf_create(1 << 20, &fd);
	}
	if (ret) {
		fprintf(stderr, "allocate: %s\n", strerror(-ret));
		return 1;
	}
	list = ibv_get_device_list(&n);
	if (!list || !n) {
		fprintf(stderr, "no RDMA device\n");
		return 1;
	}
	ctx = ibv_open_device(list[0]);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd) {
		fprintf(stderr, "cannot open %s\n", ibv_get_device_name(list[0]));
		return 1;
	}
	/* The whole buffer; the MR's addresses start at 0. */
	ret = p2pbuf_desc_init(fd, 0, 0, 0, &desc);
	if (!ret)
		ret = p2pbuf_ibv_reg_mr(pd, &desc, IBV_ACCESS_LOCAL_WRITE |
					IBV_ACCESS_REMOTE_READ |
					IBV_ACCESS_REMOTE_WRITE, &mr);
	if (ret) {
		fprintf(stderr, "%s: %s%s\n", ibv_get_device_name(list[0]),
			strerror(-ret), ret == -EOPNOTSUPP ?
			" (this RDMA device cannot register dma-buf memory)" : "");
	} else {
		printf("%s: registered %llu bytes, lkey 0x%x rkey 0x%x\n",
		       ibv_get_device_name(list[0]),
		       (unsigned long long)desc.length, mr->lkey, mr->rkey);
		ibv_dereg_mr(mr);
	}
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	close(fd);
	if (buf)
		p2pbuf_buffer_put(buf);
	if (dev)
		p2pbuf_device_close(dev);
	return ret ? 1 : 0;
}
#else
int main(void)
{
	fprintf(stderr, "rdma-register: built without rdma-core\n");
	return 77;
}
#endif
