// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: the copy engine, on the DRM GPU scheduler (gpu-sched).
 *
 * Every move of a buffer object and every job of the copy ioctl is a
 * drm_sched job. Kernel moves (evictions, CPU faults, P2P maps, clears of
 * new VRAM) go through the engine's own entity at kernel priority; each
 * DRM file has an entity of its own for the copy ioctl, so that a user's
 * dependency never delays another user's jobs or the kernel's moves, and
 * the scheduler serves the files round robin.
 *
 * A job's dependencies (the fences of the reservation objects it touches)
 * are not handed to the scheduler one by one but behind a gate: a fence of
 * the engine that opens when they have all signalled, or when the job
 * timeout (module parameter job_timeout_ms) expires, or when the job is
 * cancelled (its file is closed, the device is removed). A job whose gate
 * was forced open ends with that error in its fence: a copy-ioctl job then
 * copies nothing; a move copies anyway, since TTM frees the old memory
 * once the move fence signals. An error of a dependency travels on in a
 * copy-ioctl job's fence (not a move's: one failed copy would otherwise
 * mark every later move of the buffer).
 *
 * run_job() copies with the CPU, through the write-combined BAR mapping and
 * kmap of system pages, and returns a "done" fence that is already
 * signalled. Nothing there allocates memory or takes a lock but the
 * engine's own spinlock; dma_fence_begin_signalling() lets lockdep check
 * that.
 *
 * Lifetimes: the scheduler's fences (what userspace and other drivers hold)
 * have their ops in the kernel and their lock inside them, but they name
 * the scheduler (struct drm_gpu_scheduler, for its timeline name) and each
 * keeps its done fence. So the engine, scheduler included, is the driver
 * part of a p2pbuf timeline (p2pbuf_fence.c), reference counted apart from
 * the device: the device, every file queue, every job and every done fence
 * hold a reference, and the done fences are p2pbuf fences, whose ops live
 * in p2pbuf.ko. A fence can therefore outlive the device and this module;
 * nothing it points to goes away under it. p2pgem_copy_stop() (PCI remove)
 * cancels every queued copy-ioctl job, runs every move, waits until every
 * job is freed and stops the scheduler before the BAR and its P2P pages
 * go. Jobs never reach drm_sched_entity_fini()'s killing of queued jobs,
 * which would leave fences without a done fence: files wait for their own
 * jobs first. The gates never leave the engine and are gone when the
 * engine stops.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <drm/drm_gem.h>
#include <drm/gpu_scheduler.h>

#include "../dma-buf/p2pbuf.h"
#include "p2pgem_copy.h"
#include "p2pgem_import.h"

static unsigned int p2pgem_job_timeout_ms = 10000;
module_param_named(job_timeout_ms, p2pgem_job_timeout_ms, uint, 0644);
MODULE_PARM_DESC(job_timeout_ms, "How long a copy job waits for its dependencies before it ends with -ETIMEDOUT (default 10000; 0: forever)");

static unsigned int p2pgem_queue_depth = 64;
module_param_named(queue_depth, p2pgem_queue_depth, uint, 0644);
MODULE_PARM_DESC(queue_depth, "Copy-ioctl jobs one DRM file may have queued before the ioctl blocks, or fails with EAGAIN on an O_NONBLOCK file (default 64)");

/**
 * struct p2pgem_engine - the copy engine of a device
 * @timeline: the p2pbuf timeline whose driver part the engine is; its
 *	references are the engine's: the device, file queues, jobs and done
 *	fences hold one
 * @sched: the scheduler, one thread; its name is the timeline's
 * @kernel_entity: the entity of kernel moves, at kernel priority
 * @vram: the device's VRAM mapping; used only by jobs, which all end
 *	before p2pgem_copy_stop() returns
 * @bounce: a page for VRAM to VRAM copies, used only by the scheduler
 * @wq: gate timeouts and the release of finished jobs that hold imports
 * @lock: protects @jobs, @queues and @stopped; nests inside reservation
 *	locks, outside fence locks
 * @jobs: jobs submitted and not yet run
 * @queues: the file queues
 * @stopped: no job is accepted any more
 * @jobs_alive: jobs submitted and not yet freed
 * @idle: woken whenever a job is freed
 * @gate_context: fence context of the gates
 * @gate_seqno: last gate seqno
 * @running: drm_sched_init() and the kernel entity succeeded, and the
 *	engine is not stopped yet
 */
struct p2pgem_engine {
	struct p2pbuf_timeline *timeline;
	struct drm_gpu_scheduler sched;
	struct drm_sched_entity kernel_entity;
	void __iomem *vram;
	void *bounce;
	struct workqueue_struct *wq;
	spinlock_t lock; /* see above */
	struct list_head jobs;
	struct list_head queues;
	bool stopped;
	atomic_t jobs_alive;
	wait_queue_head_t idle;
	u64 gate_context;
	atomic64_t gate_seqno;
	bool running;
};

/**
 * struct p2pgem_gate_cb - a gate's callback on one dependency
 * @base: the callback
 * @gate: the gate
 */
struct p2pgem_gate_cb {
	struct dma_fence_cb base;
	struct p2pgem_gate *gate;
};

/**
 * struct p2pgem_gate - the dependencies of a job, as one fence
 * @base: the fence the job depends on; opens (signals) when every
 *	dependency has signalled, or with an error when forced
 * @lock: the fence's lock
 * @deps: the dependencies, references
 * @cbs: a callback per dependency
 * @num_deps: entries in @deps and @cbs
 * @pending: callbacks not yet run, plus one until the gate is armed
 * @timeout: forces the gate open with -ETIMEDOUT
 *
 * Each registered callback and the pending timeout hold a reference.
 */
struct p2pgem_gate {
	struct dma_fence base;
	spinlock_t lock; /* the fence's lock */
	struct dma_fence **deps;
	struct p2pgem_gate_cb *cbs;
	unsigned int num_deps;
	atomic_t pending;
	struct delayed_work timeout;
};

/**
 * struct p2pgem_copy_job - one copy on the engine
 * @base: the scheduler job
 * @engine: a reference
 * @queue: the file queue, or NULL for a kernel move
 * @gate: the job's only dependency, a reference
 * @done: the done fence, allocated at submission, handed to the scheduler
 *	by run_job(); a p2pbuf fence on the engine's timeline, so that it and
 *	the scheduler it names outlive this module
 * @link: entry in &p2pgem_engine.jobs until the job runs
 * @cleanup: releases the request after the signal
 * @req: what to copy
 */
struct p2pgem_copy_job {
	struct drm_sched_job base;
	struct p2pgem_engine *engine;
	struct p2pgem_copy_queue *queue;
	struct p2pgem_gate *gate;
	struct p2pbuf_fence *done;
	struct list_head link;
	struct work_struct cleanup;
	struct p2pgem_copy_req req;
};

static struct p2pgem_copy_job *to_copy_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct p2pgem_copy_job, base);
}

static void p2pgem_engine_get(struct p2pgem_engine *engine)
{
	p2pbuf_timeline_get(engine->timeline);
}

/* The last reference frees the engine with kfree(), nothing else. */
static void p2pgem_engine_put(struct p2pgem_engine *engine)
{
	p2pbuf_timeline_put(engine->timeline);
}

static const char *p2pgem_gate_driver_name(struct dma_fence *fence)
{
	return "p2pgem";
}

static const char *p2pgem_gate_timeline_name(struct dma_fence *fence)
{
	return "copy-dependencies";
}

static void p2pgem_gate_release(struct dma_fence *fence)
{
	struct p2pgem_gate *gate = container_of(fence, struct p2pgem_gate,
						base);
	unsigned int i;

	for (i = 0; i < gate->num_deps; i++)
		dma_fence_put(gate->deps[i]);
	kfree(gate->deps);
	kfree(gate->cbs);
	kfree_rcu(gate, base.rcu);
}

static const struct dma_fence_ops p2pgem_gate_ops = {
	.get_driver_name = p2pgem_gate_driver_name,
	.get_timeline_name = p2pgem_gate_timeline_name,
	.release = p2pgem_gate_release,
};

/* Open the gate, with @error unless it is open already. */
static void p2pgem_gate_open(struct p2pgem_gate *gate, int error)
{
	unsigned long flags;

	spin_lock_irqsave(&gate->lock, flags);
	if (!test_bit(DMA_FENCE_FLAG_SIGNALED_BIT, &gate->base.flags)) {
		if (error)
			dma_fence_set_error(&gate->base, error);
		dma_fence_signal_locked(&gate->base);
	}
	spin_unlock_irqrestore(&gate->lock, flags);
}

/* One pending count is gone; @put drops the reference that came with it. */
static void p2pgem_gate_settle(struct p2pgem_gate *gate, bool put)
{
	if (atomic_dec_and_test(&gate->pending)) {
		if (cancel_delayed_work(&gate->timeout))
			dma_fence_put(&gate->base);
		p2pgem_gate_open(gate, 0);
	}
	if (put)
		dma_fence_put(&gate->base);
}

static void p2pgem_gate_dep_signalled(struct dma_fence *dep,
				      struct dma_fence_cb *cb)
{
	p2pgem_gate_settle(container_of(cb, struct p2pgem_gate_cb, base)->gate,
			   true);
}

/*
 * Open the gate now, with @error, and let go of the dependencies. The
 * caller holds a reference to the gate.
 */
static void p2pgem_gate_force(struct p2pgem_gate *gate, int error)
{
	unsigned int i;

	p2pgem_gate_open(gate, error);
	if (cancel_delayed_work(&gate->timeout))
		dma_fence_put(&gate->base);
	for (i = 0; i < gate->num_deps; i++)
		if (dma_fence_remove_callback(gate->deps[i],
					      &gate->cbs[i].base))
			p2pgem_gate_settle(gate, true);
}

static void p2pgem_gate_timeout(struct work_struct *work)
{
	struct p2pgem_gate *gate = container_of(to_delayed_work(work),
						struct p2pgem_gate, timeout);

	p2pgem_gate_force(gate, -ETIMEDOUT);
	dma_fence_put(&gate->base);
}

static struct p2pgem_gate *p2pgem_gate_create(struct p2pgem_engine *engine)
{
	struct p2pgem_gate *gate = kzalloc(sizeof(*gate), GFP_KERNEL);

	if (!gate)
		return NULL;
	spin_lock_init(&gate->lock);
	INIT_DELAYED_WORK(&gate->timeout, p2pgem_gate_timeout);
	dma_fence_init(&gate->base, &p2pgem_gate_ops, &gate->lock,
		       engine->gate_context,
		       atomic64_inc_return(&engine->gate_seqno));
	return gate;
}

/* Append the fences of @resv up to @usage to the gate's dependencies. */
static int p2pgem_gate_add_deps(struct p2pgem_gate *gate,
				struct dma_resv *resv,
				enum dma_resv_usage usage)
{
	struct dma_fence **fences, **all;
	unsigned int n;
	int ret;

	ret = dma_resv_get_fences(resv, usage, &n, &fences);
	if (ret || !n)
		return ret;
	all = krealloc_array(gate->deps, gate->num_deps + n, sizeof(*all),
			     GFP_KERNEL);
	if (!all) {
		while (n--)
			dma_fence_put(fences[n]);
		kfree(fences);
		return -ENOMEM;
	}
	memcpy(all + gate->num_deps, fences, n * sizeof(*all));
	kfree(fences);
	gate->deps = all;
	gate->num_deps += n;
	return 0;
}

/*
 * Watch every dependency; start the timeout. Allocates nothing: the
 * callbacks were allocated with the dependencies.
 */
static void p2pgem_gate_arm(struct p2pgem_engine *engine,
			    struct p2pgem_gate *gate)
{
	unsigned int timeout_ms = READ_ONCE(p2pgem_job_timeout_ms);
	unsigned int i;

	/* One count for arming: the gate cannot open before the end. */
	atomic_set(&gate->pending, gate->num_deps + 1);
	for (i = 0; i < gate->num_deps; i++) {
		gate->cbs[i].gate = gate;
		dma_fence_get(&gate->base);
		if (dma_fence_add_callback(gate->deps[i], &gate->cbs[i].base,
					   p2pgem_gate_dep_signalled))
			p2pgem_gate_settle(gate, true);
	}
	if (timeout_ms) {
		dma_fence_get(&gate->base);
		queue_delayed_work(engine->wq, &gate->timeout,
				   msecs_to_jiffies(timeout_ms));
	}
	p2pgem_gate_settle(gate, false);
}

/*
 * Why a job ends with an error: its gate was forced open (timeout,
 * cancellation), or, when @deps, a dependency failed. 0 when neither.
 */
static int p2pgem_gate_error(struct p2pgem_gate *gate, bool deps,
			     bool *forced)
{
	unsigned int i;

	*forced = gate->base.error != 0;
	if (*forced)
		return gate->base.error;
	for (i = 0; deps && i < gate->num_deps; i++)
		if (gate->deps[i]->error)
			return gate->deps[i]->error;
	return 0;
}

/* A position in a source or destination side. */
struct p2pgem_cursor {
	const struct p2pgem_copy_side *side;
	void __iomem *vram;
	unsigned long page;
	unsigned int index;
	u64 offset;
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

static void p2pgem_copy_page(struct p2pgem_engine *engine,
			     struct p2pgem_cursor *src,
			     struct p2pgem_cursor *dst)
{
	void *bounce = engine->bounce;
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
	struct p2pgem_engine *engine = job->engine;
	struct p2pgem_cursor src, dst;
	unsigned long i;

	p2pgem_cursor_init(&src, &job->req.src, engine->vram);
	p2pgem_cursor_init(&dst, &job->req.dst, engine->vram);
	for (i = 0; i < job->req.num_pages; i++) {
		p2pgem_copy_page(engine, &src, &dst);
		p2pgem_cursor_next(&src);
		p2pgem_cursor_next(&dst);
		if (!(i % 64))
			cond_resched();
	}
}

static void p2pgem_copy_side_release(struct p2pgem_copy_side *side, bool done)
{
	kvfree(side->ext);
	side->ext = NULL;
	if (side->own_pages)
		kvfree(side->pages);
	side->pages = NULL;
	side->own_pages = false;
	side->vram = NULL;
	if (side->hold)
		p2pgem_import_put_hold(side->hold, done);
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
	p2pgem_copy_side_release(&req->src, false);
	p2pgem_copy_side_release(&req->dst, false);
}

static void p2pgem_copy_job_free(struct p2pgem_copy_job *job)
{
	struct p2pgem_engine *engine = job->engine;
	struct p2pgem_copy_queue *queue = job->queue;

	/* Done: the imports it held may let go of their mappings. */
	p2pgem_copy_side_release(&job->req.src, true);
	p2pgem_copy_side_release(&job->req.dst, true);
	kfree(job);
	if (queue)
		atomic_dec(&queue->queued);
	atomic_dec(&engine->jobs_alive);
	wake_up_all(&engine->idle);
	p2pgem_engine_put(engine);
}

static void p2pgem_copy_cleanup(struct work_struct *work)
{
	p2pgem_copy_job_free(container_of(work, struct p2pgem_copy_job,
					  cleanup));
}

static struct dma_fence *p2pgem_copy_run_job(struct drm_sched_job *sched_job)
{
	struct p2pgem_copy_job *job = to_copy_job(sched_job);
	struct dma_fence *finished = &sched_job->s_fence->finished;
	struct p2pgem_engine *engine = job->engine;
	struct dma_fence *done;
	bool forced, skip, cookie;
	int error;

	spin_lock(&engine->lock);
	list_del_init(&job->link);
	spin_unlock(&engine->lock);

	/*
	 * A copy-ioctl job whose wait was cut short, or whose file is gone,
	 * copies nothing; a failed dependency's error travels on in its
	 * fence. A move copies even so: TTM frees the old memory once our
	 * fence signals. Its fence carries only its own wait's error, so
	 * that one failed copy does not mark every later move of the buffer.
	 */
	error = p2pgem_gate_error(job->gate, job->queue, &forced);
	skip = job->queue && (forced || READ_ONCE(job->queue->cancelled));
	if (skip && !error)
		error = -ECANCELED;

	done = p2pbuf_fence_init(job->done);
	job->done = NULL;

	cookie = dma_fence_begin_signalling();
	if (!skip)
		p2pgem_copy_run(job);
	if (error) {
		dma_fence_set_error(finished, error);
		dma_fence_set_error(done, error);
	}
	dma_fence_signal(done);
	dma_fence_end_signalling(cookie);
	/* The scheduler takes over our reference. */
	return done;
}

/* Never called: run_job() returns signalled fences, and no timeout is set. */
static enum drm_gpu_sched_stat
p2pgem_copy_timedout_job(struct drm_sched_job *sched_job)
{
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void p2pgem_copy_free_job(struct drm_sched_job *sched_job)
{
	struct p2pgem_copy_job *job = to_copy_job(sched_job);

	drm_sched_job_cleanup(sched_job);
	dma_fence_put(&job->gate->base);
	job->gate = NULL;
	/*
	 * Dropping an import detaches from its exporter, which takes a
	 * reservation lock whose holder may wait for a later job: not in the
	 * scheduler's thread.
	 */
	if (job->req.src.hold || job->req.dst.hold) {
		INIT_WORK(&job->cleanup, p2pgem_copy_cleanup);
		queue_work(job->engine->wq, &job->cleanup);
		return;
	}
	p2pgem_copy_job_free(job);
}

static const struct drm_sched_backend_ops p2pgem_sched_ops = {
	.run_job = p2pgem_copy_run_job,
	.timedout_job = p2pgem_copy_timedout_job,
	.free_job = p2pgem_copy_free_job,
};

/**
 * p2pgem_copy_submit - queue a copy on the copy engine
 * @p2p: the device
 * @queue: the file queue for a copy-ioctl job, with a slot taken by
 *	p2pgem_copy_queue_reserve() that the job now owns (also on failure);
 *	NULL for a kernel move
 * @req: what to copy; the job owns what it names (p2pgem_copy_req_release()),
 *	also on failure
 * @resv: the destination's reservation object, locked by the caller
 * @src_resv: the source's, locked by the caller; NULL or @resv when the
 *	source is the destination's buffer (a move)
 *
 * The job waits for every fence in @resv and for the writers (and moves)
 * in @src_resv at the time of the call, for job_timeout_ms at most.
 * Allocates everything before the job's fence exists. Takes
 * &p2pgem_engine.lock.
 *
 * Return: the job's fence (a reference for the caller), to be added to the
 * reservation objects by the caller, or an ERR_PTR: -ENOMEM, or -ENODEV
 * once the engine is stopped.
 */
struct dma_fence *p2pgem_copy_submit(struct p2pgem_device *p2p,
				     struct p2pgem_copy_queue *queue,
				     struct p2pgem_copy_req *req,
				     struct dma_resv *resv,
				     struct dma_resv *src_resv)
{
	struct p2pgem_engine *engine = p2p->engine;
	struct drm_sched_entity *entity =
		queue ? &queue->entity : &engine->kernel_entity;
	struct p2pgem_copy_job *job;
	struct dma_fence *fence;
	unsigned int i;
	int ret;

	dma_resv_assert_held(resv);

	ret = -ENOMEM;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		goto err_free_req;
	job->engine = engine;
	job->req = *req;
	INIT_LIST_HEAD(&job->link);
	job->done = p2pbuf_fence_alloc(engine->timeline);
	job->gate = p2pgem_gate_create(engine);
	if (!job->done || !job->gate)
		goto err_free_job;

	ret = p2pgem_gate_add_deps(job->gate, resv, DMA_RESV_USAGE_BOOKKEEP);
	if (!ret && src_resv && src_resv != resv) {
		dma_resv_assert_held(src_resv);
		ret = p2pgem_gate_add_deps(job->gate, src_resv,
					   DMA_RESV_USAGE_WRITE);
	}
	if (ret)
		goto err_free_job;
	ret = -ENOMEM;
	job->gate->cbs = kcalloc(max(job->gate->num_deps, 1u),
				 sizeof(*job->gate->cbs), GFP_KERNEL);
	if (!job->gate->cbs)
		goto err_free_job;
	for (i = 0; i < job->gate->num_deps; i++)
		INIT_LIST_HEAD(&job->gate->cbs[i].base.node);

	ret = drm_sched_job_init(&job->base, entity, NULL);
	if (ret)
		goto err_free_job;
	ret = drm_sched_job_add_dependency(&job->base,
					   dma_fence_get(&job->gate->base));
	if (ret)
		goto err_cleanup;

	spin_lock(&engine->lock);
	if (engine->stopped || (queue && queue->cancelled)) {
		spin_unlock(&engine->lock);
		ret = -ENODEV;
		goto err_cleanup;
	}
	p2pgem_gate_arm(engine, job->gate);
	drm_sched_job_arm(&job->base);
	fence = dma_fence_get(&job->base.s_fence->finished);
	job->queue = queue;
	list_add_tail(&job->link, &engine->jobs);
	atomic_inc(&engine->jobs_alive);
	p2pgem_engine_get(engine);
	drm_sched_entity_push_job(&job->base);
	spin_unlock(&engine->lock);
	return fence;

err_cleanup:
	drm_sched_job_cleanup(&job->base);
err_free_job:
	if (job->gate)
		dma_fence_put(&job->gate->base);
	p2pbuf_fence_free(job->done);
	kfree(job);
err_free_req:
	p2pgem_copy_req_release(req);
	if (queue)
		p2pgem_copy_queue_unreserve(queue);
	return ERR_PTR(ret);
}

/**
 * p2pgem_copy_queue_reserve - take a slot in a file's copy queue
 * @queue: the file's queue
 * @nonblock: fail with -EAGAIN instead of waiting when the queue is full
 *
 * Called before any lock is taken; p2pgem_copy_submit() consumes the slot.
 * Waits interruptibly until one of the file's jobs is freed when
 * queue_depth jobs are queued.
 *
 * Return: 0, -EAGAIN or -ERESTARTSYS.
 */
int p2pgem_copy_queue_reserve(struct p2pgem_copy_queue *queue, bool nonblock)
{
	int depth = max_t(int, READ_ONCE(p2pgem_queue_depth), 1);

	if (atomic_add_unless(&queue->queued, 1, depth))
		return 0;
	if (nonblock)
		return -EAGAIN;
	return wait_event_interruptible(queue->engine->idle,
					atomic_add_unless(&queue->queued, 1,
							  depth));
}

/**
 * p2pgem_copy_queue_unreserve - give back a slot not used for a job
 * @queue: the file's queue
 */
void p2pgem_copy_queue_unreserve(struct p2pgem_copy_queue *queue)
{
	atomic_dec(&queue->queued);
	wake_up_all(&queue->engine->idle);
}

/* Engine lock held: force open the gates of @queue's jobs, or all. */
static void p2pgem_copy_cancel_locked(struct p2pgem_engine *engine,
				      struct p2pgem_copy_queue *queue,
				      int error)
{
	struct p2pgem_copy_job *job;

	lockdep_assert_held(&engine->lock);
	list_for_each_entry(job, &engine->jobs, link)
		if (!queue || job->queue == queue)
			p2pgem_gate_force(job->gate, error);
}

/**
 * p2pgem_copy_queue_init - give a DRM file its copy queue
 * @p2p: the device
 * @queue: the file's queue, to initialise
 *
 * Return: 0, -ENODEV once the device is being removed, or an error of
 * drm_sched_entity_init().
 */
int p2pgem_copy_queue_init(struct p2pgem_device *p2p,
			   struct p2pgem_copy_queue *queue)
{
	struct p2pgem_engine *engine = p2p->engine;
	struct drm_gpu_scheduler *sched = &engine->sched;
	int ret;

	ret = drm_sched_entity_init(&queue->entity, DRM_SCHED_PRIORITY_NORMAL,
				    &sched, 1, NULL);
	if (ret)
		return ret;
	queue->engine = engine;
	atomic_set(&queue->queued, 0);
	queue->cancelled = false;
	spin_lock(&engine->lock);
	if (engine->stopped) {
		spin_unlock(&engine->lock);
		drm_sched_entity_destroy(&queue->entity);
		return -ENODEV;
	}
	p2pgem_engine_get(engine);
	list_add_tail(&queue->link, &engine->queues);
	spin_unlock(&engine->lock);
	return 0;
}

/**
 * p2pgem_copy_queue_fini - cancel a file's jobs and wait for them
 * @queue: the file's queue
 *
 * Jobs that have not run yet end with -ECANCELED and copy nothing; one
 * running finishes. Waits (uninterruptibly: the jobs end promptly) until
 * every job of the file is freed, so none is left for
 * drm_sched_entity_fini() to kill.
 */
void p2pgem_copy_queue_fini(struct p2pgem_copy_queue *queue)
{
	struct p2pgem_engine *engine = queue->engine;

	spin_lock(&engine->lock);
	WRITE_ONCE(queue->cancelled, true);
	p2pgem_copy_cancel_locked(engine, queue, -ECANCELED);
	list_del(&queue->link);
	spin_unlock(&engine->lock);

	wait_event(engine->idle, !atomic_read(&queue->queued));
	drm_sched_entity_destroy(&queue->entity);
	p2pgem_engine_put(engine);
}

/**
 * p2pgem_copy_init - start the copy engine of a device
 * @p2p: the device, with its VRAM mapped
 *
 * Return: 0, -ENOMEM, or an error of the scheduler.
 */
int p2pgem_copy_init(struct p2pgem_device *p2p)
{
	struct drm_sched_init_args args = {
		.ops = &p2pgem_sched_ops,
		/* run_job() finishes every job before it returns. */
		.credit_limit = 1,
		.timeout = MAX_SCHEDULE_TIMEOUT,
		.dev = p2p->drm.dev,
	};
	struct p2pbuf_timeline *timeline;
	struct drm_gpu_scheduler *sched;
	struct p2pgem_engine *engine;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "copy-%s", dev_name(p2p->drm.dev));
	timeline = p2pbuf_timeline_create("p2pgem", name, sizeof(*engine));
	if (!timeline)
		return -ENOMEM;
	engine = p2pbuf_timeline_priv(timeline);
	engine->timeline = timeline;
	spin_lock_init(&engine->lock);
	INIT_LIST_HEAD(&engine->jobs);
	INIT_LIST_HEAD(&engine->queues);
	init_waitqueue_head(&engine->idle);
	engine->vram = p2p->vram;
	engine->gate_context = dma_fence_context_alloc(1);

	ret = -ENOMEM;
	engine->bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	engine->wq = alloc_workqueue("p2pgem-copy-%s", 0, 0,
				     dev_name(p2p->drm.dev));
	if (!engine->bounce || !engine->wq)
		goto err;

	/* The scheduler's fences show the timeline's name, which lasts. */
	args.name = p2pbuf_timeline_name(timeline);
	ret = drm_sched_init(&engine->sched, &args);
	if (ret)
		goto err;
	sched = &engine->sched;
	ret = drm_sched_entity_init(&engine->kernel_entity,
				    DRM_SCHED_PRIORITY_KERNEL, &sched, 1, NULL);
	if (ret) {
		drm_sched_fini(&engine->sched);
		goto err;
	}
	engine->running = true;
	p2p->engine = engine;
	return 0;

err:
	if (engine->wq)
		destroy_workqueue(engine->wq);
	kfree(engine->bounce);
	p2pbuf_timeline_put(timeline);
	return ret;
}

/**
 * p2pgem_copy_stop - end every job and stop the engine
 * @p2p: the device, unplugged (no new ioctl, fault or move gets in)
 *
 * Copy-ioctl jobs not yet run end with -ENODEV and copy nothing; moves run
 * now, without waiting for their dependencies any longer. Returns when
 * every job is freed and the scheduler is stopped, so that the BAR mapping
 * and the P2P pages can go; later submissions fail with -ENODEV. Called
 * from PCI remove; idempotent.
 */
void p2pgem_copy_stop(struct p2pgem_device *p2p)
{
	struct p2pgem_engine *engine = p2p->engine;
	struct p2pgem_copy_queue *queue;

	if (!engine || !engine->running)
		return;
	spin_lock(&engine->lock);
	engine->stopped = true;
	list_for_each_entry(queue, &engine->queues, link)
		WRITE_ONCE(queue->cancelled, true);
	p2pgem_copy_cancel_locked(engine, NULL, -ENODEV);
	spin_unlock(&engine->lock);

	wait_event(engine->idle, !atomic_read(&engine->jobs_alive));
	drm_sched_entity_destroy(&engine->kernel_entity);
	drm_sched_fini(&engine->sched);
	/* Gate timeouts and releases of jobs that held imports. */
	destroy_workqueue(engine->wq);
	engine->wq = NULL;
	kfree(engine->bounce);
	engine->bounce = NULL;
	engine->vram = NULL;
	engine->running = false;
}

/**
 * p2pgem_copy_fini - let go of the copy engine
 * @p2p: the device, when its last user is gone
 *
 * Stops the engine if p2pgem_copy_stop() did not; the engine's memory
 * stays while fences name it.
 */
void p2pgem_copy_fini(struct p2pgem_device *p2p)
{
	if (!p2p->engine)
		return;
	p2pgem_copy_stop(p2p);
	p2pgem_engine_put(p2p->engine);
	p2p->engine = NULL;
}
