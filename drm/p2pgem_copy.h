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
 * struct p2pgem_copy_side - where one side of a copy is
 * @pages: system pages, or NULL
 * @ext: VRAM ranges, or NULL; owned by the job
 * @vram: the write-combined mapping of the VRAM that @ext is in: the
 *	engine's own device's when NULL, a peer p2pgem device's otherwise
 * @first_page: the page of the side where the copy starts
 * @own_pages: @pages is an array the job owns (found from an import's DMA
 *	addresses), not a ttm_tt's
 * @hold: a GEM object (an import) the job holds until it is done, or NULL
 *
 * A side with neither @pages nor @ext is zeroes (source only). The memory
 * stays where it is until the job's fence signals: the fence is in the
 * reservation object of every buffer the job touches, and every move
 * waits for all fences there; an import is held so that its attachment,
 * which keeps a static exporter's pages pinned, outlives the job.
 */
struct p2pgem_copy_side {
	struct page **pages;
	struct p2pbuf_range *ext;
	void __iomem *vram;
	unsigned long first_page;
	bool own_pages;
	struct drm_gem_object *hold;
};

/**
 * struct p2pgem_copy_req - what a copy job copies
 * @num_pages: pages to copy
 * @src: the source
 * @dst: the destination; not zeroes
 *
 * The job owns what the sides name (p2pgem_copy_req_release()), but for
 * ttm_tt page arrays, which TTM keeps alive until the job's fence signals.
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
