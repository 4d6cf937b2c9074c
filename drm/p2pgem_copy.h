/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: the copy engine; every move is a dma_fence.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_COPY_H_
#define _P2PGEM_COPY_H_

#include <linux/dma-resv.h>

#include "p2pgem_types.h"

/**
 * struct p2pgem_copy_req - what a copy job moves
 * @num_pages: pages to copy
 * @src_pages: source system pages, or NULL
 * @src_ext: source VRAM ranges, or NULL; with @src_pages NULL too the
 *	destination is filled with zeroes
 * @dst_pages: destination system pages, or NULL
 * @dst_ext: destination VRAM ranges when @dst_pages is NULL
 *
 * The page arrays belong to ttm_tt objects that TTM keeps alive until the
 * job's fence signals; the extent arrays are owned by the job.
 */
struct p2pgem_copy_req {
	unsigned long num_pages;
	struct page **src_pages;
	struct p2pbuf_range *src_ext;
	struct page **dst_pages;
	struct p2pbuf_range *dst_ext;
};

int p2pgem_copy_init(struct p2pgem_device *p2p);
void p2pgem_copy_fini(struct p2pgem_device *p2p);
struct dma_fence *p2pgem_copy_submit(struct p2pgem_device *p2p,
				     struct p2pgem_copy_req *req,
				     struct dma_resv *resv);

#endif /* _P2PGEM_COPY_H_ */
