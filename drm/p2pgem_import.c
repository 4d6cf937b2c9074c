// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: other exporters' dma-bufs, and copies between buffers.
 *
 * PRIME import of a dma-buf that this device did not export gives a
 * &struct p2pgem_import: a GEM object sharing the dma-buf's reservation
 * object, attached with p2pbuf.ko's importer helpers as a dynamic importer
 * that allows peer2peer, for this device. The exporter may move the memory
 * at any time: its move_notify drops the mapping, and the next copy maps
 * again under the reservation lock, after the exporter's kernel fences.
 * Without CONFIG_DMABUF_MOVE_NOTIFY a mapping pins the exporter's buffer
 * instead (the dma-buf core pins on map), so an import lets go of its
 * mapping once its last copy is done.
 *
 * DRM_IOCTL_P2PGEM_GEM_COPY copies pages between any two GEM objects of
 * the file on the copy engine: this device's buffer objects and imports.
 * The engine is the CPU, emulating a DMA engine: it reaches its own VRAM
 * and system pages directly; an import only through the mapping made for
 * this device (lazily, under the reservation lock, after the exporter's
 * kernel fences): a peer p2pgem device's buffer object in the memory the
 * mapping names, through that device's VRAM mapping or pages (device to
 * device, as a copy engine with P2P access would); any other exporter's
 * memory through the pages behind the mapping's DMA addresses, translated
 * as the device's DMA would be (its IOMMU domain, or directly). The job's
 * fence goes into the destination's reservation object as a write and the
 * source's as a read, published through the importer helpers for imports;
 * the job holds the imports until it is done.
 *
 * Locking: both reservation locks are taken in one ww_acquire context,
 * the imports are mapped under them (their exporters' evictions wait with
 * that ticket), and only then does the acquire phase end. When an
 * exporter's eviction loses to an older context (-EBUSY), the copy drops
 * everything and starts again, for up to P2PGEM_COPY_RETRY_MS.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/iommu.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>
#include <drm/p2pgem_drm.h>
#include <drm/ttm/ttm_bo_driver.h>
#include <drm/ttm/ttm_tt.h>

#include "p2pgem_bo.h"
#include "p2pgem_copy.h"
#include "p2pgem_dma_buf.h"
#include "p2pgem_import.h"
#include "p2pgem_vram_mgr.h"

/**
 * struct p2pgem_import - a dma-buf of another exporter, as a GEM object
 * @base: the GEM object; its reservation object is the dma-buf's
 * @imp: the dynamic P2P attachment for this device
 * @dmabuf: the dma-buf, a reference
 * @peer: the exporting buffer object when the dma-buf is another p2pgem
 *	device's, else NULL (the dma-buf holds its reference)
 * @link: entry in &p2pgem_device.import_list, under its bo_lock
 * @jobs: copy jobs that hold the import (p2pgem_import_side() to
 *	p2pgem_import_put_hold())
 * @prime: what &drm_gem_object.import_attach points to: the DRM core
 *	reads only its @dmabuf (PRIME re-export) and whether it is set, and
 *	the real attachment (@imp.attach) goes at revoke, before the GEM
 *	object
 */
struct p2pgem_import {
	struct drm_gem_object base;
	struct p2pbuf_importer imp;
	struct dma_buf *dmabuf;
	struct p2pgem_bo *peer;
	struct list_head link;
	atomic_t jobs;
	struct dma_buf_attachment prime;
};

static struct p2pgem_import *to_p2pgem_import(struct drm_gem_object *obj)
{
	return container_of(obj, struct p2pgem_import, base);
}

static struct p2pgem_device *p2pgem_import_device(struct p2pgem_import *import)
{
	return container_of(import->base.dev, struct p2pgem_device, drm);
}

static void p2pgem_import_free(struct drm_gem_object *obj)
{
	struct p2pgem_import *import = to_p2pgem_import(obj);
	struct p2pgem_device *p2p = p2pgem_import_device(import);

	mutex_lock(&p2p->bo_lock);
	list_del(&import->link);
	mutex_unlock(&p2p->bo_lock);
	/* Detached already when the device was removed. */
	if (import->imp.attach)
		p2pbuf_importer_detach(&import->imp);
	drm_gem_object_release(obj);
	dma_buf_put(import->dmabuf);
	kfree(import);
}

static const struct drm_gem_object_funcs p2pgem_import_funcs = {
	.free = p2pgem_import_free,
};

/**
 * p2pgem_gem_is_import - is this GEM object an import of another exporter?
 * @obj: a GEM object of a p2pgem device
 *
 * Return: true for a &struct p2pgem_import.
 */
bool p2pgem_gem_is_import(struct drm_gem_object *obj)
{
	return obj->funcs == &p2pgem_import_funcs;
}

/**
 * p2pgem_import_dma_buf - import another exporter's dma-buf
 * @drm: the importing p2pgem device
 * @dmabuf: the dma-buf
 *
 * Attaches @drm's PCI function as a dynamic importer that allows
 * peer2peer; a dynamic exporter maps nothing yet (a static one maps at
 * attach). Called by the DRM core's PRIME import with its PRIME locks
 * held, no reservation lock.
 *
 * Return: the new GEM object, or an ERR_PTR: -EINVAL for a dma-buf whose
 * size is not a multiple of the page size (a GEM object cannot be one),
 * -ENOMEM, or the exporter's attach error.
 */
struct drm_gem_object *p2pgem_import_dma_buf(struct drm_device *drm,
					     struct dma_buf *dmabuf)
{
	struct p2pgem_device *p2p = container_of(drm, struct p2pgem_device,
						 drm);
	struct p2pgem_import *import;
	int idx, ret;

	/* Before anything: drm_gem_private_object_init() BUGs on it. */
	if (!PAGE_ALIGNED(dmabuf->size))
		return ERR_PTR(-EINVAL);
	/* On the list before p2pgem_import_revoke() looks, or not at all. */
	if (!drm_dev_enter(drm, &idx))
		return ERR_PTR(-ENODEV);
	import = kzalloc(sizeof(*import), GFP_KERNEL);
	if (!import) {
		drm_dev_exit(idx);
		return ERR_PTR(-ENOMEM);
	}
	get_dma_buf(dmabuf);
	import->dmabuf = dmabuf;
	import->base.funcs = &p2pgem_import_funcs;
	import->base.resv = dmabuf->resv;
	drm_gem_private_object_init(drm, &import->base, dmabuf->size);

	ret = p2pbuf_importer_attach(&import->imp, dmabuf, drm->dev,
				     P2PBUF_IMPORT_DYNAMIC |
				     P2PBUF_IMPORT_PEER2PEER,
				     DMA_BIDIRECTIONAL);
	if (ret) {
		drm_dev_exit(idx);
		drm_gem_object_release(&import->base);
		dma_buf_put(dmabuf);
		kfree(import);
		return ERR_PTR(ret);
	}
	import->prime.dmabuf = dmabuf;
	import->base.import_attach = &import->prime;
	import->peer = p2pgem_dma_buf_bo(dmabuf);
	mutex_lock(&p2p->bo_lock);
	list_add_tail(&import->link, &p2p->import_list);
	mutex_unlock(&p2p->bo_lock);
	drm_dev_exit(idx);
	return &import->base;
}

/**
 * p2pgem_import_revoke - let go of every import's attachment
 * @p2p: a device being removed, unplugged and with its copy engine stopped
 *
 * Waits for each import's last copy, unmaps and detaches it from its
 * dma-buf, so that no DMA mapping for the PCI function outlives its
 * driver; the GEM objects live on, empty, until their last reference.
 * Takes &p2pgem_device.bo_lock, then each reservation lock with it
 * released.
 */
void p2pgem_import_revoke(struct p2pgem_device *p2p)
{
	struct p2pgem_import *import, *found;

	do {
		found = NULL;
		mutex_lock(&p2p->bo_lock);
		list_for_each_entry(import, &p2p->import_list, link) {
			/* Imports on their way out detach in their free. */
			if (import->imp.attach &&
			    kref_get_unless_zero(&import->base.refcount)) {
				found = import;
				break;
			}
		}
		mutex_unlock(&p2p->bo_lock);
		if (found) {
			p2pbuf_importer_detach(&found->imp);
			drm_gem_object_put(&found->base);
		}
	} while (found);
}

/* A buffer object's current memory, reservation lock held. */
static int p2pgem_bo_side(struct p2pgem_bo *bo, struct p2pgem_copy_side *side,
			  bool peer)
{
	struct p2pgem_device *p2p = to_p2pgem_device(bo->tbo.bdev);
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct ttm_resource *res = bo->tbo.resource;
	unsigned int n;
	int ret;

	if (res->mem_type == TTM_PL_VRAM) {
		side->ext = p2pgem_vram_res_extents(&p2p->vram_mgr, res, &n);
		if (!side->ext)
			return -ENOMEM;
		if (peer)
			side->vram = p2p->vram;
		return 0;
	}
	ret = ttm_tt_populate(bo->tbo.bdev, bo->tbo.ttm, &ctx);
	if (ret)
		return ret;
	side->pages = bo->tbo.ttm->pages;
	return 0;
}

/*
 * The system page behind a DMA address of this device's own mapping,
 * found the way the device's DMA reaches it: through the device's IOMMU
 * domain when that translates, else directly. NULL for anything that is
 * not the exporter's ordinary memory (another device's P2P memory, a
 * swiotlb bounce buffer).
 */
static struct page *p2pgem_dma_to_page(struct device *dev,
				       struct iommu_domain *domain,
				       dma_addr_t addr)
{
	phys_addr_t phys;
	struct page *page;

	if (domain && (domain->type & __IOMMU_DOMAIN_PAGING))
		phys = iommu_iova_to_phys(domain, addr);
	else
		phys = dma_to_phys(dev, addr);
	/* A bounce buffer is not the exporter's memory: nothing syncs it. */
	if (!phys || !pfn_valid(PHYS_PFN(phys)) || is_swiotlb_buffer(dev, phys))
		return NULL;
	page = pfn_to_page(PHYS_PFN(phys));
	return is_zone_device_page(page) ? NULL : page;
}

/*
 * The pages an import's mapping addresses, in the buffer's order. A
 * segment the DMA API mapped by PCI bus address (another device's P2P
 * memory below the same switch) is neither an IOVA nor a physical
 * address: -EOPNOTSUPP, as for any memory that is not ordinary pages.
 */
static int p2pgem_import_pages(struct p2pgem_import *import,
			       struct sg_table *sgt,
			       struct p2pgem_copy_side *side)
{
	struct device *dev = import->base.dev->dev;
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	unsigned long n = import->base.size >> PAGE_SHIFT, i = 0;
	struct scatterlist *sg;
	struct page **pages;
	int k;

	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for_each_sgtable_dma_sg(sgt, sg, k) {
		dma_addr_t addr = sg_dma_address(sg);
		unsigned int len = sg_dma_len(sg), off;

		if (sg_is_dma_bus_address(sg) || !PAGE_ALIGNED(addr) ||
		    !PAGE_ALIGNED(len))
			goto err_unsupported;
		for (off = 0; off < len && i < n; off += PAGE_SIZE) {
			pages[i] = p2pgem_dma_to_page(dev, domain, addr + off);
			if (!pages[i++])
				goto err_unsupported;
		}
	}
	if (i != n)
		goto err_unsupported;
	side->pages = pages;
	side->own_pages = true;
	return 0;

err_unsupported:
	kvfree(pages);
	return -EOPNOTSUPP;
}

/*
 * An import's memory, reservation lock held: map (again) if needed, then
 * reach it as this device's DMA would. A peer p2pgem device's buffer is
 * read or written in that device's own memory, the memory the mapping
 * names; any other exporter's through the pages behind the DMA addresses.
 */
static int p2pgem_import_side(struct p2pgem_import *import,
			      struct p2pgem_copy_side *side)
{
	struct sg_table *sgt;

	/*
	 * Mapped by p2pgem_copy_map_imports() under the locks still held:
	 * nothing can have moved it since.
	 */
	if (WARN_ON_ONCE(!import->imp.sgt))
		return -EAGAIN;
	sgt = p2pbuf_importer_map_locked(&import->imp, true);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	drm_gem_object_get(&import->base);
	atomic_inc(&import->jobs);
	side->hold = &import->base;
	if (import->peer)
		return p2pgem_bo_side(import->peer, side, true);
	return p2pgem_import_pages(import, sgt, side);
}

/*
 * Without CONFIG_DMABUF_MOVE_NOTIFY the mapping of an import pins the
 * exporter's buffer (in a p2pgem peer, in VRAM and charged to its pin
 * quota): an import that kept it between copies would pin it for its
 * whole life. So once no copy holds the import and its last copy is done,
 * it unmaps (p2pbuf_importer_unmap_idle_locked(): nothing on kernels with
 * move_notify, where the mapping pins nothing and moves drop it). Takes
 * the reservation lock.
 */
static void p2pgem_import_idle(struct p2pgem_import *import)
{
	dma_resv_lock(import->base.resv, NULL);
	/* Detached already when the device was removed. */
	if (import->imp.attach && !atomic_read(&import->jobs))
		p2pbuf_importer_unmap_idle_locked(&import->imp);
	dma_resv_unlock(import->base.resv);
}

/**
 * p2pgem_import_put_hold - a copy lets go of an import it held
 * @obj: the import, held by p2pgem_import_side()
 * @done: the job ran and its fence signalled (the engine's cleanup, no
 *	lock held); false for a copy that was never submitted, whose caller
 *	holds the reservation locks
 *
 * The last job done with the import lets go of its mapping when that pins
 * the exporter's buffer (see p2pgem_import_idle(); a copy that failed
 * does so at the end of its ioctl). Then drops the job's GEM reference.
 */
void p2pgem_import_put_hold(struct drm_gem_object *obj, bool done)
{
	struct p2pgem_import *import = to_p2pgem_import(obj);

	if (atomic_dec_and_test(&import->jobs) && done &&
	    !IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY))
		p2pgem_import_idle(import);
	drm_gem_object_put(obj);
}

static int p2pgem_copy_side(struct drm_gem_object *obj,
			    struct p2pgem_copy_side *side)
{
	if (p2pgem_gem_is_import(obj))
		return p2pgem_import_side(to_p2pgem_import(obj), side);
	return p2pgem_bo_side(gem_to_p2pgem_bo(obj), side, false);
}

/* Under the locks: publish the job's fence for one side. */
static void p2pgem_copy_publish(struct drm_gem_object *obj,
				struct dma_fence *fence,
				enum dma_resv_usage usage)
{
	if (p2pgem_gem_is_import(obj))
		p2pbuf_importer_publish_locked(&to_p2pgem_import(obj)->imp,
					       fence, usage);
	else
		dma_resv_add_fence(obj->resv, fence, usage);
}

/*
 * How long a copy keeps trying to map and lock its buffers while other
 * copies contend for the exporter's memory, before -EBUSY. A count of
 * tries is no bound under emulation, where one contender's copy holds its
 * locks for tens of milliseconds.
 */
#define P2PGEM_COPY_RETRY_MS	2000

/*
 * p2pgem_copy_retry_wait - back off before another round of mapping and
 * locking; false (with *@ret set) when the caller must give up: the time
 * is up (-EBUSY) or a signal is pending (-ERESTARTSYS).
 */
static bool p2pgem_copy_retry_wait(unsigned long deadline, int *ret)
{
	if (time_after(jiffies, deadline)) {
		*ret = -EBUSY;
		return false;
	}
	if (signal_pending(current)) {
		*ret = -ERESTARTSYS;
		return false;
	}
	usleep_range(500, 1000);
	return true;
}

static int p2pgem_copy_check(const struct drm_p2pgem_gem_copy *args,
			     u64 src_size, u64 dst_size, bool same)
{
	if (args->flags || args->pad || !args->size ||
	    !PAGE_ALIGNED(args->src_offset) ||
	    !PAGE_ALIGNED(args->dst_offset) || !PAGE_ALIGNED(args->size))
		return -EINVAL;
	if (args->src_offset > src_size ||
	    args->size > src_size - args->src_offset ||
	    args->dst_offset > dst_size ||
	    args->size > dst_size - args->dst_offset)
		return -EINVAL;
	/* Within one buffer the two ranges must not overlap. */
	if (same && args->src_offset < args->dst_offset + args->size &&
	    args->dst_offset < args->src_offset + args->size)
		return -EINVAL;
	return 0;
}

/*
 * Lock @n reservation objects in one ww_acquire context, interruptibly.
 * The acquire phase stays open: mapping the imports under these locks
 * (p2pgem_copy_map_imports()) may make their exporters evict, and TTM
 * then waits for busy buffer objects with this context as its ticket.
 */
static int p2pgem_lock_resvs(struct dma_resv **resv, int n,
			     struct ww_acquire_ctx *ctx)
{
	int contended = -1, i, j, ret;

	ww_acquire_init(ctx, &reservation_ww_class);
retry:
	if (contended >= 0) {
		ret = dma_resv_lock_slow_interruptible(resv[contended], ctx);
		if (ret) {
			ww_acquire_fini(ctx);
			return ret;
		}
	}
	for (i = 0; i < n; i++) {
		if (i == contended)
			continue;
		ret = dma_resv_lock_interruptible(resv[i], ctx);
		if (!ret)
			continue;
		for (j = 0; j < i; j++)
			if (j != contended)
				dma_resv_unlock(resv[j]);
		if (contended >= 0)
			dma_resv_unlock(resv[contended]);
		if (ret == -EDEADLK) {
			contended = i;
			goto retry;
		}
		ww_acquire_fini(ctx);
		return ret;
	}
	return 0;
}

/*
 * Whether an exporter's eviction lost a wait-die race in @ctx and kept
 * quiet about it. TTM (6.1) turns the -EDEADLK of its wait for a busy
 * buffer object into -EBUSY and may still succeed, with system memory as
 * its busy place, so the map returns 0 with the context owing a back-off.
 * Only lock debugging records that (and warns at the context's next
 * lock); without it nothing does, and the next lock is harmless: in
 * wait-die only an older context waits for a younger one, so no cycle
 * can form. So this is false there, and the copy goes on.
 */
static bool p2pgem_ww_lost(struct ww_acquire_ctx *ctx)
{
#ifdef DEBUG_WW_MUTEXES
	return ctx->contending_lock;
#else
	return false;
#endif
}

/*
 * With every reservation lock of the copy held: map the imports among
 * @src and @dst. Mapped under all the locks, no buffer of this copy can
 * be moved by another copy before this one is queued (moved between two
 * separately locked maps, three copies sharing a full window took turns
 * evicting each other's buffers without end).
 *
 * An exporter's eviction waits for busy buffer objects with the copy's
 * ticket. It turns -EDEADLK (an older context holds one, or an injection
 * by DEBUG_WW_MUTEX_SLOWPATH) into -EBUSY and keeps the contended lock to
 * itself, so on -EBUSY the caller cannot back off to that lock: it drops
 * every lock, finishes the context and starts again. The same when a map
 * succeeded after such a loss and another map would lock with the context
 * (p2pgem_ww_lost()).
 */
static int p2pgem_copy_map_imports(struct drm_gem_object *src,
				   struct drm_gem_object *dst,
				   struct ww_acquire_ctx *ctx)
{
	struct drm_gem_object *objs[2] = { src, dst };
	struct sg_table *sgt;
	int i;

	for (i = 0; i < 2; i++) {
		if (!p2pgem_gem_is_import(objs[i]) ||
		    (i && dst->resv == src->resv))
			continue;
		if (p2pgem_ww_lost(ctx))
			return -EBUSY;
		sgt = p2pbuf_importer_map_locked(&to_p2pgem_import(objs[i])->imp,
						 true);
		if (IS_ERR(sgt))
			return PTR_ERR(sgt) == -EDEADLK ? -EBUSY : PTR_ERR(sgt);
	}
	return 0;
}

static void p2pgem_unlock_resvs(struct dma_resv **resv, int n,
				struct ww_acquire_ctx *ctx)
{
	while (n--)
		dma_resv_unlock(resv[n]);
	ww_acquire_fini(ctx);
}

/**
 * p2pgem_copy_ioctl - DRM_IOCTL_P2PGEM_GEM_COPY
 * @p2p: the device
 * @file: the DRM file
 * @args: the ioctl's arguments, validated here
 *
 * Takes a slot in the file's copy queue first (waiting interruptibly
 * while queue_depth jobs are queued, or -EAGAIN for an O_NONBLOCK file),
 * then both reservation locks (interruptibly). The copy is queued on the
 * file's scheduler entity, not waited for.
 *
 * Return: 0; -EINVAL for bad arguments; -ENOENT for bad handles;
 * -EOPNOTSUPP for an import whose mapping is not ordinary memory (another
 * device's P2P memory) or not page aligned; -EAGAIN; -EINTR or
 * -ERESTARTSYS; -ENOMEM; -ENODEV once the device is gone; or an error of
 * the exporter's map.
 */
int p2pgem_copy_ioctl(struct p2pgem_device *p2p, struct drm_file *file,
		      struct drm_p2pgem_gem_copy *args)
{
	struct p2pgem_copy_req req = { .num_pages = args->size >> PAGE_SHIFT };
	struct p2pgem_copy_queue *queue = file->driver_priv;
	struct drm_gem_object *src, *dst;
	struct dma_resv *resvs[2];
	struct ww_acquire_ctx ctx;
	struct dma_fence *fence;
	unsigned long deadline = jiffies + msecs_to_jiffies(P2PGEM_COPY_RETRY_MS);
	int ret, nlocks, idx;

	src = drm_gem_object_lookup(file, args->src_handle);
	dst = drm_gem_object_lookup(file, args->dst_handle);
	if (!src || !dst) {
		ret = -ENOENT;
		goto out_put;
	}
	ret = p2pgem_copy_check(args, src->size, dst->size,
				src->resv == dst->resv);
	if (ret)
		goto out_put;
	req.src.first_page = args->src_offset >> PAGE_SHIFT;
	req.dst.first_page = args->dst_offset >> PAGE_SHIFT;

	/* Backpressure: a slot in the file's queue, before any lock. */
	ret = p2pgem_copy_queue_reserve(queue,
					file->filp->f_flags & O_NONBLOCK);
	if (ret)
		goto out_put;
	if (!drm_dev_enter(&p2p->drm, &idx)) {
		ret = -ENODEV;
		p2pgem_copy_queue_unreserve(queue);
		goto out_put;
	}

	resvs[0] = dst->resv;
	resvs[1] = src->resv;
	nlocks = src->resv == dst->resv ? 1 : 2;
retry:
	ret = p2pgem_lock_resvs(resvs, nlocks, &ctx);
	if (ret) {
		p2pgem_copy_queue_unreserve(queue);
		goto out_exit;
	}
	/* -EBUSY is contention for an exporter's memory: try again. */
	ret = p2pgem_copy_map_imports(src, dst, &ctx);
	if (ret == -EBUSY) {
		p2pgem_unlock_resvs(resvs, nlocks, &ctx);
		if (p2pgem_copy_retry_wait(deadline, &ret))
			goto retry;
		p2pgem_copy_queue_unreserve(queue);
		goto out_exit;
	}
	ww_acquire_done(&ctx);
	if (ret)
		goto out_unlock_release;
	/* A slot in each for the job's fence; imports reserve their own. */
	ret = dma_resv_reserve_fences(dst->resv, 2);
	if (!ret)
		ret = dma_resv_reserve_fences(src->resv, 2);
	if (!ret)
		ret = p2pgem_copy_side(src, &req.src);
	if (!ret)
		ret = p2pgem_copy_side(dst, &req.dst);
	if (ret == -EAGAIN) {
		/* An import was moved since it was mapped. */
		p2pgem_copy_req_release(&req);
		p2pgem_unlock_resvs(resvs, nlocks, &ctx);
		if (p2pgem_copy_retry_wait(deadline, &ret))
			goto retry;
		p2pgem_copy_queue_unreserve(queue);
		goto out_exit;
	}
	if (ret)
		goto out_unlock_release;

	/* The job takes the queue slot and the request, also on failure. */
	fence = p2pgem_copy_submit(p2p, queue, &req, dst->resv, src->resv);
	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		goto out_unlock;
	}
	p2pgem_copy_publish(dst, fence, DMA_RESV_USAGE_WRITE);
	if (src->resv != dst->resv)
		p2pgem_copy_publish(src, fence, DMA_RESV_USAGE_READ);
	dma_fence_put(fence);
	goto out_unlock;

out_unlock_release:
	p2pgem_copy_req_release(&req);
	p2pgem_copy_queue_unreserve(queue);
out_unlock:
	p2pgem_unlock_resvs(resvs, nlocks, &ctx);
out_exit:
	drm_dev_exit(idx);
	/* A failed copy may leave an import mapped, and its exporter pinned. */
	if (ret && !IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY)) {
		if (p2pgem_gem_is_import(src))
			p2pgem_import_idle(to_p2pgem_import(src));
		if (p2pgem_gem_is_import(dst) && dst->resv != src->resv)
			p2pgem_import_idle(to_p2pgem_import(dst));
	}
out_put:
	if (dst)
		drm_gem_object_put(dst);
	if (src)
		drm_gem_object_put(src);
	return ret;
}
