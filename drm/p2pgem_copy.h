/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: the copy engine; every move is a dma_fence.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_COPY_H_
#define _P2PGEM_COPY_H_

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>

#include "p2pgem_types.h"

/**
 * struct p2pgem_copy_side - where one side of a copy is
 * @pages: system pages, or NULL
 * @ext: VRAM ranges, or NULL; owned by the job
 * @vram: the write-combined mapping of the VRAM that @ext is in: the
 *	engine's own device's when NULL, a peer p2pgem device's otherwise
 * @map: a kernel mapping (dma_buf_vmap() of @dmabuf) when @pages and @ext
 *	are NULL; when it is not set either, the side is zeroes (source only)
 * @first_page: the page of the side where the copy starts
 * @dmabuf: a dma-buf reference the job drops when done, after unmapping
 *	@map from it; or NULL
 *
 * The memory stays where it is until the job's fence signals: the job's
 * fence is in the reservation object of every buffer it touches, and every
 * move waits for all fences there.
 */
struct p2pgem_copy_side {
	struct page **pages;
	struct p2pbuf_range *ext;
	void __iomem *vram;
	struct iosys_map map;
	unsigned long first_page;
	struct dma_buf *dmabuf;
};

/**
 * struct p2pgem_copy_req - what a copy job copies
 * @num_pages: pages to copy
 * @src: the source
 * @dst: the destination; not zeroes
 *
 * The page arrays belong to ttm_tt objects that TTM keeps alive until the
 * job's fence signals; the job owns the rest (p2pgem_copy_req_release()).
 */
struct p2pgem_copy_req {
	unsigned long num_pages;
	struct p2pgem_copy_side src;
	struct p2pgem_copy_side dst;
};

void p2pgem_copy_req_release(struct p2pgem_copy_req *req);
int p2pgem_copy_init(struct p2pgem_device *p2p);
void p2pgem_copy_fini(struct p2pgem_device *p2p);
struct dma_fence *p2pgem_copy_submit(struct p2pgem_device *p2p,
				     struct p2pgem_copy_req *req,
				     struct dma_resv *resv,
				     struct dma_resv *src_resv);

#endif /* _P2PGEM_COPY_H_ */
