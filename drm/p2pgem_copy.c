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
 * The copy ioctl (p2pgem_import.c) queues jobs too, between any two
 * buffers the device can reach: its own VRAM and system pages, a peer
 * p2pgem device's VRAM through that device's mapping, and other exporters'
 * pages found from the device's DMA addresses.
 *
 * From the moment the fence exists until it signals, nothing here
 * allocates memory or takes a lock other than the fence's own; the copy
 * and the signal run inside dma_fence_begin_signalling() so lockdep checks
 * that. After the signal the worker frees the job's arrays itself, unless
 * the job holds imports: then a work item on another workqueue frees them
 * and drops the imports, since the last reference detaches from an
 * exporter's dma-buf, which takes a reservation lock whose holder may wait
 * for a job queued behind this one.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <drm/drm_gem.h>

#include "p2pgem_copy.h"

/**
 * struct p2pgem_copy_job - one move on the copy engine
 * @base: the move fence
 * @work: runs the copy
 * @p2p: the device
 * @deps: fences to wait for before copying
 * @num_deps: entries in @deps
 * @req: what to copy
 * @cleanup: drops the GEM objects the job holds, after the signal
 */
struct p2pgem_copy_job {
	struct dma_fence base;
	struct work_struct work;
	struct work_struct cleanup;
	struct p2pgem_device *p2p;
	struct dma_fence **deps;
	unsigned int num_deps;
	struct p2pgem_copy_req req;
};

static void p2pgem_copy_cleanup(struct work_struct *work)
{
	struct p2pgem_copy_job *job =
		container_of(work, struct p2pgem_copy_job, cleanup);

	p2pgem_copy_req_release(&job->req);
	dma_fence_put(&job->base);
}

/* A position in a source or destination side. */
struct p2pgem_cursor {
	const struct p2pgem_copy_side *side;
	void __iomem *vram;
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

static void p2pgem_cursor_next(struct p2pgem_cursor *c)
{
	c->page++;
	if (!c->side->ext)
		return;
	c->offset += PAGE_SIZE;
	if (c->offset >= c->side->ext[c->index].size) {
		c->index++;
		c->offset = 0;
	}
}

static void p2pgem_cursor_init(struct p2pgem_cursor *c,
			       const struct p2pgem_copy_side *side,
			       void __iomem *own_vram)
{
	unsigned long i;

	*c = (struct p2pgem_cursor){ .side = side };
	c->vram = side->vram ? side->vram : own_vram;
	for (i = 0; i < side->first_page; i++)
		p2pgem_cursor_next(c);
}

/*
 * The current page of a side, for the CPU: an ordinary pointer (*io false;
 * system pages are kmapped, to be unmapped with p2pgem_cursor_unmap()) or
 * an __iomem one (VRAM). NULL for zeroes.
 */
static void *p2pgem_cursor_map(struct p2pgem_cursor *c, bool *io)
{
	const struct p2pgem_copy_side *side = c->side;

	*io = false;
	if (side->pages)
		return kmap_local_page(side->pages[c->page]);
	if (!side->ext)
		return NULL;
	*io = true;
	return (void __force *)(c->vram + side->ext[c->index].offset +
				c->offset);
}

static void p2pgem_cursor_unmap(struct p2pgem_cursor *c, void *addr)
{
	if (c->side->pages)
		kunmap_local(addr);
}

static void p2pgem_copy_page(struct p2pgem_device *p2p,
			     struct p2pgem_cursor *src,
			     struct p2pgem_cursor *dst)
{
	void *bounce = p2p->engine.bounce;
	bool s_io, d_io;
	void *s, *d;

	s = p2pgem_cursor_map(src, &s_io);
	d = p2pgem_cursor_map(dst, &d_io);
	if (!s && d_io) {
		memset_io((void __iomem __force *)d, 0, PAGE_SIZE);
	} else if (!s) {
		memset(d, 0, PAGE_SIZE);
	} else if (s_io && d_io) {
		memcpy_fromio(bounce, (void __iomem __force *)s, PAGE_SIZE);
		memcpy_toio((void __iomem __force *)d, bounce, PAGE_SIZE);
	} else if (s_io) {
		memcpy_fromio(d, (void __iomem __force *)s, PAGE_SIZE);
	} else if (d_io) {
		memcpy_toio((void __iomem __force *)d, s, PAGE_SIZE);
	} else {
		memcpy(d, s, PAGE_SIZE);
	}
	p2pgem_cursor_unmap(dst, d);
	if (s)
		p2pgem_cursor_unmap(src, s);
}

static void p2pgem_copy_run(struct p2pgem_copy_job *job)
{
	struct p2pgem_cursor src, dst;
	unsigned long i;

	p2pgem_cursor_init(&src, &job->req.src, job->p2p->vram);
	p2pgem_cursor_init(&dst, &job->req.dst, job->p2p->vram);
	for (i = 0; i < job->req.num_pages; i++) {
		p2pgem_copy_page(job->p2p, &src, &dst);
		p2pgem_cursor_next(&src);
		p2pgem_cursor_next(&dst);
		if (!(i % 64))
			cond_resched();
	}
}

static void p2pgem_copy_side_release(struct p2pgem_copy_side *side)
{
	kvfree(side->ext);
	side->ext = NULL;
	if (side->own_pages)
		kvfree(side->pages);
	side->pages = NULL;
	if (side->hold)
		drm_gem_object_put(side->hold);
	side->hold = NULL;
}

/**
 * p2pgem_copy_req_release - release what a copy request owns
 * @req: a request that was not, or could not be, submitted
 *
 * Frees the range and page arrays and drops the GEM objects held, which
 * may free an import (detaching it takes its reservation lock); may sleep.
 */
void p2pgem_copy_req_release(struct p2pgem_copy_req *req)
{
	p2pgem_copy_side_release(&req->src);
	p2pgem_copy_side_release(&req->dst);
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
	if (job->req.src.hold || job->req.dst.hold) {
		/* The worker's fence reference goes with the cleanup. */
		INIT_WORK(&job->cleanup, p2pgem_copy_cleanup);
		queue_work(job->p2p->engine.cleanup_wq, &job->cleanup);
		return;
	}
	p2pgem_copy_req_release(&job->req);
	dma_fence_put(&job->base);
}

/* Append the fences of @resv up to @usage to the job's dependencies. */
static int p2pgem_copy_add_deps(struct p2pgem_copy_job *job,
				struct dma_resv *resv,
				enum dma_resv_usage usage)
{
	struct dma_fence **fences, **all;
	unsigned int n;
	int ret;

	ret = dma_resv_get_fences(resv, usage, &n, &fences);
	if (ret || !n)
		return ret;
	all = krealloc_array(job->deps, job->num_deps + n, sizeof(*all),
			     GFP_KERNEL);
	if (!all) {
		while (n--)
			dma_fence_put(fences[n]);
		kfree(fences);
		return -ENOMEM;
	}
	memcpy(all + job->num_deps, fences, n * sizeof(*all));
	kfree(fences);
	job->deps = all;
	job->num_deps += n;
	return 0;
}

/**
 * p2pgem_copy_submit - queue a copy on the copy engine
 * @p2p: the device
 * @req: what to copy; the job owns what it names (p2pgem_copy_req_release()),
 *	also on failure
 * @resv: the destination's reservation object, locked by the caller
 * @src_resv: the source's, locked by the caller; NULL or @resv when the
 *	source is the destination's buffer (a move)
 *
 * The job waits for every fence in @resv and for the writers (and moves)
 * in @src_resv at the time of the call.
 *
 * Return: the job's fence (a reference for the caller), to be added to the
 * reservation objects by the caller, or an ERR_PTR.
 */
struct dma_fence *p2pgem_copy_submit(struct p2pgem_device *p2p,
				     struct p2pgem_copy_req *req,
				     struct dma_resv *resv,
				     struct dma_resv *src_resv)
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
	ret = p2pgem_copy_add_deps(job, resv, DMA_RESV_USAGE_BOOKKEEP);
	if (!ret && src_resv && src_resv != resv) {
		dma_resv_assert_held(src_resv);
		ret = p2pgem_copy_add_deps(job, src_resv,
					   DMA_RESV_USAGE_WRITE);
	}
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
	while (job->num_deps--)
		dma_fence_put(job->deps[job->num_deps]);
	kfree(job->deps);
	kfree(job);
err_free_req:
	p2pgem_copy_req_release(req);
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
	engine->cleanup_wq = alloc_workqueue("p2pgem-cleanup-%s", 0, 0,
					     dev_name(p2p->drm.dev));
	if (!engine->wq || !engine->cleanup_wq) {
		if (engine->wq)
			destroy_workqueue(engine->wq);
		if (engine->cleanup_wq)
			destroy_workqueue(engine->cleanup_wq);
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
	/* After the engine: its last jobs queue their cleanups there. */
	destroy_workqueue(p2p->engine.cleanup_wq);
	kfree(p2p->engine.bounce);
}
