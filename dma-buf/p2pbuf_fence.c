// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf: fences that outlive the driver that made them.
 *
 * A dma_fence can be held by anyone for as long as they like: another
 * exporter's reservation object, a sync_file, a scheduler fence that keeps
 * it as its parent. Its ops, its lock and its timeline name must stay
 * valid that long, yet a driver's device memory goes at unbind and its
 * module text at rmmod. A &struct p2pbuf_timeline gives a driver a fence
 * context whose memory is reference counted apart from the device, with
 * room for the driver's own data that fences must be able to reach (a
 * drm_gpu_scheduler, whose fences name it); &struct p2pbuf_fence is a
 * fence on it whose lock lives in the fence and whose ops live here, in
 * p2pbuf.ko.
 *
 * Every p2pbuf_fence holds a reference to its timeline, and every timeline
 * one to this module. The driver module that made the fence can therefore
 * be unloaded while the fence is held; p2pbuf.ko cannot (rmmod says it is
 * in use), and it is unloaded only after every module that uses it. The
 * timeline's memory, the driver's part included, is freed with kfree() by
 * the last reference, so nothing of the driver's runs then: the driver
 * must have stopped using its part (stopped its scheduler, say) before it
 * drops its own reference.
 *
 * A fence is freed with kfree_rcu(), which runs nothing of this module's
 * and batches the frees of a stream of fences into few grace periods (an
 * RCU callback per fence kept RCU busy for every small I/O an importer
 * did). The timeline, freed seldom, goes in an RCU callback that drops the
 * module reference after the release that freed it has returned; the
 * module's exit waits for those callbacks.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "p2pbuf.h"

/**
 * struct p2pbuf_timeline - a fence context that outlives its driver
 * @ref: the driver's references and one per fence
 * @rcu: frees the timeline, then drops its reference to this module
 * @context: the dma_fence context of the fences
 * @seqno: last seqno handed out
 * @driver: the driver's name, shown by every fence
 * @name: the timeline's name
 * @priv: the driver's part, zeroed at creation
 */
struct p2pbuf_timeline {
	struct kref ref;
	struct rcu_head rcu;
	u64 context;
	atomic64_t seqno;
	char driver[32];
	char name[64];
	u8 priv[] __aligned(ARCH_KMALLOC_MINALIGN);
};

/**
 * p2pbuf_timeline_create() - create a timeline with room for driver data
 * @driver: the driver's name (copied)
 * @name: the timeline's name (copied; truncated to 63 bytes)
 * @priv_size: bytes of driver data, zeroed (p2pbuf_timeline_priv())
 *
 * May sleep. Drop the reference returned with p2pbuf_timeline_put(). The
 * timeline holds a reference to p2pbuf.ko until it is freed.
 *
 * Return: the timeline, or NULL when out of memory.
 */
struct p2pbuf_timeline *p2pbuf_timeline_create(const char *driver,
					       const char *name,
					       size_t priv_size)
{
	struct p2pbuf_timeline *tl;

	tl = kzalloc(struct_size(tl, priv, priv_size), GFP_KERNEL);
	if (!tl)
		return NULL;
	/* The caller is a module that uses this one: it cannot be going. */
	__module_get(THIS_MODULE);
	kref_init(&tl->ref);
	tl->context = dma_fence_context_alloc(1);
	strscpy(tl->driver, driver, sizeof(tl->driver));
	strscpy(tl->name, name, sizeof(tl->name));
	return tl;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_timeline_create, P2PBUF);

/**
 * p2pbuf_timeline_priv() - the driver's part of a timeline
 * @tl: the timeline
 *
 * Return: @priv_size bytes given to p2pbuf_timeline_create(), valid while
 * a reference to @tl is held.
 */
void *p2pbuf_timeline_priv(struct p2pbuf_timeline *tl)
{
	return tl->priv;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_timeline_priv, P2PBUF);

/**
 * p2pbuf_timeline_name() - the timeline's name
 * @tl: the timeline
 *
 * Return: a string that lives as long as @tl.
 */
const char *p2pbuf_timeline_name(struct p2pbuf_timeline *tl)
{
	return tl->name;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_timeline_name, P2PBUF);

/**
 * p2pbuf_timeline_get() - take a reference to a timeline
 * @tl: the timeline
 *
 * Return: @tl.
 */
struct p2pbuf_timeline *p2pbuf_timeline_get(struct p2pbuf_timeline *tl)
{
	kref_get(&tl->ref);
	return tl;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_timeline_get, P2PBUF);

/* After a grace period: free the timeline, then let go of this module. */
static void p2pbuf_timeline_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct p2pbuf_timeline, rcu));
	module_put(THIS_MODULE);
}

/*
 * The module reference goes in an RCU callback, so the release that
 * dropped the last reference has returned by then, and the module's exit
 * waits for the callback itself (rcu_barrier()).
 */
static void p2pbuf_timeline_free(struct kref *ref)
{
	call_rcu(&container_of(ref, struct p2pbuf_timeline, ref)->rcu,
		 p2pbuf_timeline_free_rcu);
}

/**
 * p2pbuf_timeline_put() - drop a reference to a timeline
 * @tl: the timeline, or NULL
 *
 * The last reference frees the timeline and the driver's part with it
 * (kfree(), nothing of the driver's runs). Any context.
 */
void p2pbuf_timeline_put(struct p2pbuf_timeline *tl)
{
	if (tl)
		kref_put(&tl->ref, p2pbuf_timeline_free);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_timeline_put, P2PBUF);

static struct p2pbuf_fence *to_p2pbuf_fence(struct dma_fence *fence)
{
	return container_of(fence, struct p2pbuf_fence, base);
}

static const char *p2pbuf_fence_driver_name(struct dma_fence *fence)
{
	return to_p2pbuf_fence(fence)->timeline->driver;
}

static const char *p2pbuf_fence_timeline_name(struct dma_fence *fence)
{
	return to_p2pbuf_fence(fence)->timeline->name;
}

/*
 * The last reference: the timeline may go with it (the module with the
 * timeline's RCU callback, after this has returned). RCU readers of a
 * reservation object may still look at the fence: kfree_rcu().
 */
static void p2pbuf_fence_release(struct dma_fence *fence)
{
	struct p2pbuf_fence *f = to_p2pbuf_fence(fence);

	p2pbuf_timeline_put(f->timeline);
	kfree_rcu(f, base.rcu);
}

static const struct dma_fence_ops p2pbuf_fence_ops = {
	.get_driver_name = p2pbuf_fence_driver_name,
	.get_timeline_name = p2pbuf_fence_timeline_name,
	.release = p2pbuf_fence_release,
};

/**
 * p2pbuf_fence_alloc() - allocate a fence on a timeline
 * @tl: the timeline
 *
 * Allocates now so that p2pbuf_fence_init() need not (no allocation once a
 * fence is published). May sleep. Give it to p2pbuf_fence_init(), or back
 * with p2pbuf_fence_free().
 *
 * Return: the fence, not initialised, or NULL when out of memory.
 */
struct p2pbuf_fence *p2pbuf_fence_alloc(struct p2pbuf_timeline *tl)
{
	struct p2pbuf_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	f->timeline = p2pbuf_timeline_get(tl);
	return f;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_fence_alloc, P2PBUF);

/**
 * p2pbuf_fence_free() - free a fence p2pbuf_fence_init() never saw
 * @f: the fence, or NULL
 */
void p2pbuf_fence_free(struct p2pbuf_fence *f)
{
	if (!f)
		return;
	p2pbuf_timeline_put(f->timeline);
	kfree(f);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_fence_free, P2PBUF);

/**
 * p2pbuf_fence_init() - make an allocated fence a live dma_fence
 * @f: from p2pbuf_fence_alloc()
 *
 * Gives it the timeline's next seqno; from now on the fence is freed by
 * its last dma_fence_put(). Allocates nothing, takes only the fence's own
 * lock; any context.
 *
 * Return: &f->base, with one reference.
 */
struct dma_fence *p2pbuf_fence_init(struct p2pbuf_fence *f)
{
	dma_fence_init(&f->base, &p2pbuf_fence_ops, &f->lock,
		       f->timeline->context,
		       atomic64_inc_return(&f->timeline->seqno));
	return &f->base;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_fence_init, P2PBUF);

/**
 * p2pbuf_fence_set_data() - leave a result in a p2pbuf fence
 * @fence: a fence from p2pbuf_fence_init(), not signalled yet
 * @data: the result of the work the fence stands for
 *
 * For its owner, before dma_fence_signal(): whoever waited for the fence,
 * or runs as its callback, reads @data with p2pbuf_fence_get_data().
 * Does nothing for a fence that is not a p2pbuf fence. Any context.
 */
void p2pbuf_fence_set_data(struct dma_fence *fence, u64 data)
{
	if (fence->ops == &p2pbuf_fence_ops)
		WRITE_ONCE(to_p2pbuf_fence(fence)->data, data);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_fence_set_data, P2PBUF);

/**
 * p2pbuf_fence_get_data() - the result a signalled p2pbuf fence carries
 * @fence: any fence
 * @data: out: what p2pbuf_fence_set_data() left, 0 if nothing
 *
 * Any context.
 *
 * Return: true for a signalled p2pbuf fence; false, with @data untouched,
 * for another fence or one not signalled yet.
 */
bool p2pbuf_fence_get_data(struct dma_fence *fence, u64 *data)
{
	if (fence->ops != &p2pbuf_fence_ops || !dma_fence_is_signaled(fence))
		return false;
	/* The signal's atomic bit operation ordered the data before it. */
	smp_rmb();
	*data = READ_ONCE(to_p2pbuf_fence(fence)->data);
	return true;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_fence_get_data, P2PBUF);

/* The last timelines' RCU callbacks hold this module until they return. */
static void __exit p2pbuf_fence_exit(void)
{
	rcu_barrier();
}
module_exit(p2pbuf_fence_exit);
