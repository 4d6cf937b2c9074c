// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: the copy engine.
 *
 * A move is a job on an ordered workqueue. Submission (under the buffer
 * object's reservation lock) collects the fences already in the
 * reservation object and returns the job's fence, which TTM adds as
 * DMA_RESV_USAGE_KERNEL through ttm_bo_move_accel_cleanup(). The worker
 * waits for the collected fences, copies with the CPU through the
 * write-combined BAR mapping and kmap of system pages, and signals.
 *
 * From the moment the fence exists until it signals, nothing here
 * allocates memory or takes a lock other than the fence's own; the copy
 * and the signal run inside dma_fence_begin_signalling() so lockdep checks
 * that.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "p2pgem_copy.h"

/**
 * struct p2pgem_copy_job - one move on the copy engine
 * @base: the move fence
 * @work: runs the copy
 * @p2p: the device
 * @deps: fences to wait for before copying
 * @num_deps: entries in @deps
 * @req: what to copy
 */
struct p2pgem_copy_job {
	struct dma_fence base;
	struct work_struct work;
	struct p2pgem_device *p2p;
	struct dma_fence **deps;
	unsigned int num_deps;
	struct p2pgem_copy_req req;
};

/* A position in a source or destination: a page array or VRAM ranges. */
struct p2pgem_cursor {
	struct page **pages;
	const struct p2pbuf_range *ext;
	unsigned long page;
	unsigned int index;
	u64 offset;
};

static const char *p2pgem_fence_driver_name(struct dma_fence *fence)
{
	return "p2pgem";
}

static const char *p2pgem_fence_timeline_name(struct dma_fence *fence)
{
	return "copy";
}

static void p2pgem_fence_release(struct dma_fence *fence)
{
	struct p2pgem_copy_job *job =
		container_of(fence, struct p2pgem_copy_job, base);

	kfree_rcu(job, base.rcu);
}

static const struct dma_fence_ops p2pgem_fence_ops = {
	.get_driver_name = p2pgem_fence_driver_name,
	.get_timeline_name = p2pgem_fence_timeline_name,
	.release = p2pgem_fence_release,
};

static void __iomem *p2pgem_cursor_io(struct p2pgem_device *p2p,
				      struct p2pgem_cursor *c)
{
	return p2p->vram + c->ext[c->index].offset + c->offset;
}

static void p2pgem_cursor_next(struct p2pgem_cursor *c)
{
	if (c->pages) {
		c->page++;
		return;
	}
	c->offset += PAGE_SIZE;
	if (c->offset >= c->ext[c->index].size) {
		c->index++;
		c->offset = 0;
	}
}

static void p2pgem_copy_page(struct p2pgem_device *p2p,
			     struct p2pgem_cursor *src,
			     struct p2pgem_cursor *dst)
{
	bool src_io = !src->pages && src->ext;
	bool zero = !src->pages && !src->ext;
	void *bounce = p2p->engine.bounce;
	void *s = NULL, *d;

	if (src->pages)
		s = kmap_local_page(src->pages[src->page]);

	if (dst->pages) {
		d = kmap_local_page(dst->pages[dst->page]);
		if (zero)
			memset(d, 0, PAGE_SIZE);
		else if (src_io)
			memcpy_fromio(d, p2pgem_cursor_io(p2p, src), PAGE_SIZE);
		else
			memcpy(d, s, PAGE_SIZE);
		kunmap_local(d);
	} else if (zero) {
		memset_io(p2pgem_cursor_io(p2p, dst), 0, PAGE_SIZE);
	} else if (src_io) {
		memcpy_fromio(bounce, p2pgem_cursor_io(p2p, src), PAGE_SIZE);
		memcpy_toio(p2pgem_cursor_io(p2p, dst), bounce, PAGE_SIZE);
	} else {
		memcpy_toio(p2pgem_cursor_io(p2p, dst), s, PAGE_SIZE);
	}

	if (s)
		kunmap_local(s);
}

static void p2pgem_copy_run(struct p2pgem_copy_job *job)
{
	struct p2pgem_cursor src = {
		.pages = job->req.src_pages,
		.ext = job->req.src_ext,
	};
	struct p2pgem_cursor dst = {
		.pages = job->req.dst_pages,
		.ext = job->req.dst_ext,
	};
	unsigned long i;

	for (i = 0; i < job->req.num_pages; i++) {
		p2pgem_copy_page(job->p2p, &src, &dst);
		if (src.pages || src.ext)
			p2pgem_cursor_next(&src);
		p2pgem_cursor_next(&dst);
		if (!(i % 64))
			cond_resched();
	}
}

static void p2pgem_copy_work(struct work_struct *work)
{
	struct p2pgem_copy_job *job =
		container_of(work, struct p2pgem_copy_job, work);
	unsigned int i;
	bool cookie;
	int error = 0;

	for (i = 0; i < job->num_deps; i++) {
		dma_fence_wait(job->deps[i], false);
		if (job->deps[i]->error && !error)
			error = job->deps[i]->error;
		dma_fence_put(job->deps[i]);
	}

	cookie = dma_fence_begin_signalling();
	/*
	 * A failed earlier move left garbage behind; copying it is still the
	 * best we can do, but the error travels on in our fence.
	 */
	p2pgem_copy_run(job);
	if (error)
		dma_fence_set_error(&job->base, error);
	dma_fence_signal(&job->base);
	dma_fence_end_signalling(cookie);

	kfree(job->deps);
	kvfree(job->req.src_ext);
	kvfree(job->req.dst_ext);
	dma_fence_put(&job->base);
}

/**
 * p2pgem_copy_submit - queue a move on the copy engine
 * @p2p: the device
 * @req: what to copy; the job takes the extent arrays, also on failure
 * @resv: the buffer object's reservation object, locked by the caller
 *
 * The job waits for every fence in @resv at the time of the call.
 *
 * Return: the job's fence (a reference for the caller), to be added to
 * @resv by the caller, or an ERR_PTR.
 */
struct dma_fence *p2pgem_copy_submit(struct p2pgem_device *p2p,
				     struct p2pgem_copy_req *req,
				     struct dma_resv *resv)
{
	struct p2pgem_copy_engine *engine = &p2p->engine;
	struct p2pgem_copy_job *job;
	int ret;

	dma_resv_assert_held(resv);

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job) {
		ret = -ENOMEM;
		goto err_free_req;
	}
	ret = dma_resv_get_fences(resv, DMA_RESV_USAGE_BOOKKEEP,
				  &job->num_deps, &job->deps);
	if (ret)
		goto err_free_job;

	job->p2p = p2p;
	job->req = *req;
	INIT_WORK(&job->work, p2pgem_copy_work);

	spin_lock(&engine->submit_lock);
	dma_fence_init(&job->base, &p2pgem_fence_ops, &engine->fence_lock,
		       engine->context, ++engine->seqno);
	/* The worker's reference. */
	dma_fence_get(&job->base);
	queue_work(engine->wq, &job->work);
	spin_unlock(&engine->submit_lock);

	return &job->base;

err_free_job:
	kfree(job);
err_free_req:
	kvfree(req->src_ext);
	kvfree(req->dst_ext);
	return ERR_PTR(ret);
}

/**
 * p2pgem_copy_init - start the copy engine of a device
 * @p2p: the device
 *
 * Return: 0 or -ENOMEM.
 */
int p2pgem_copy_init(struct p2pgem_device *p2p)
{
	struct p2pgem_copy_engine *engine = &p2p->engine;

	engine->bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!engine->bounce)
		return -ENOMEM;
	engine->wq = alloc_ordered_workqueue("p2pgem-copy-%s", WQ_MEM_RECLAIM,
					     dev_name(p2p->drm.dev));
	if (!engine->wq) {
		kfree(engine->bounce);
		return -ENOMEM;
	}
	spin_lock_init(&engine->submit_lock);
	spin_lock_init(&engine->fence_lock);
	engine->context = dma_fence_context_alloc(1);
	engine->seqno = 0;
	return 0;
}

/**
 * p2pgem_copy_fini - finish every queued move and stop the engine
 * @p2p: the device
 */
void p2pgem_copy_fini(struct p2pgem_device *p2p)
{
	destroy_workqueue(p2p->engine.wq);
	kfree(p2p->engine.bounce);
}
