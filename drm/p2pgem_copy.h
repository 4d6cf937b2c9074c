/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: the copy engine; every move is a dma_fence.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_COPY_H_
#define _P2PGEM_COPY_H_

#include <linux/dma-resv.h>
#include <linux/wait.h>

#include <drm/gpu_scheduler.h>

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

/**
 * struct p2pgem_copy_queue - the copy queue of one DRM file
 * @entity: the file's scheduler entity
 * @engine: the engine it feeds
 * @link: entry in the engine's list of queues
 * @queued: jobs submitted and not yet freed
 * @wait: woken when a job of the queue is freed
 * @cancelled: the file is closing or the device is gone: jobs not yet run
 *	end with an error and copy nothing
 */
struct p2pgem_copy_queue {
	struct drm_sched_entity entity;
	struct p2pgem_engine *engine;
	struct list_head link;
	atomic_t queued;
	wait_queue_head_t wait;
	bool cancelled;
};

void p2pgem_copy_req_release(struct p2pgem_copy_req *req);
int p2pgem_copy_init(struct p2pgem_device *p2p);
void p2pgem_copy_stop(struct p2pgem_device *p2p);
void p2pgem_copy_fini(struct p2pgem_device *p2p);
int p2pgem_copy_queue_init(struct p2pgem_device *p2p,
			   struct p2pgem_copy_queue *queue);
void p2pgem_copy_queue_fini(struct p2pgem_copy_queue *queue);
int p2pgem_copy_queue_reserve(struct p2pgem_copy_queue *queue, bool nonblock);
void p2pgem_copy_queue_unreserve(struct p2pgem_copy_queue *queue);
struct dma_fence *p2pgem_copy_submit(struct p2pgem_device *p2p,
				     struct p2pgem_copy_queue *queue,
				     struct p2pgem_copy_req *req,
				     struct dma_resv *resv,
				     struct dma_resv *src_resv);

#endif /* _P2PGEM_COPY_H_ */
