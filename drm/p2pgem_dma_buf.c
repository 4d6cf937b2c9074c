// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: PRIME export as a dynamic, peer-to-peer aware dma-buf exporter.
 *
 * A buffer object exported with PRIME becomes a dma-buf that shares the
 * buffer object's reservation object. Each attachment gets the P2P decision
 * of p2pbuf.ko when it attaches (p2pbuf_exporter_attach()):
 *
 * - reachable importers get the buffer in the CPU-visible VRAM window (the
 *   part of the BAR the bus reaches on small-BAR devices), mapped as the
 *   BAR's P2P pages with p2pbuf_map_p2p_ranges(); when the buffer does not
 *   fit there, or the DMA API refuses the P2P pages (-EREMOTEIO, the
 *   decision becomes dma-map-refused; a buffer object pinned in VRAM by
 *   that attachment alone, as the dma-buf core does before each map on a
 *   kernel without CONFIG_DMABUF_MOVE_NOTIFY, is moved under its pins),
 *   system memory;
 * - every other importer gets the buffer in system memory, its ttm_tt
 *   pages mapped with p2pbuf_map_pages().
 *
 * Buffer objects created for system memory stay there for everyone. Moves
 * of an exported buffer object call dma_buf_move_notify() before the copy
 * (p2pgem_bo_move()), and the copy waits for every fence in the
 * reservation object. Pins: a buffer object is pinned in VRAM when every
 * attachment may reach it peer-to-peer and the device's pin quota has room
 * (module parameter pin_quota_mb), otherwise in system memory; pinned
 * buffer objects never move. A kernel without CONFIG_DMABUF_MOVE_NOTIFY
 * pins before every map of a dynamic importer and unpins after the unmap:
 * a mapped buffer object then never moves, and no move calls move_notify.
 *
 * Locking: dma-buf calls pin, unpin, map and unmap with the reservation lock
 * held (it is the buffer object's); attach and detach without it.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_prime.h>
#include <drm/p2pgem_drm.h>
#include <drm/ttm/ttm_bo_driver.h>
#include <drm/ttm/ttm_tt.h>

#include "p2pgem_bo.h"
#include "p2pgem_dma_buf.h"
#include "p2pgem_import.h"
#include "p2pgem_placement.h"
#include "p2pgem_vram_mgr.h"

MODULE_IMPORT_NS(DMA_BUF);
MODULE_IMPORT_NS(P2PBUF);

/**
 * struct p2pgem_dmamap - a DMA mapping of an exported buffer for a device
 * @node: in &p2pgem_dmamaps, hashed by @dmabuf
 * @dmabuf: the dma-buf whose attachments map it; only compared
 * @dev: the device it is mapped for
 * @dir: its direction
 * @sgt: the mapping; p2pgem's own, never handed out
 * @users: importers' tables that share it
 * @p2p: of the BAR's P2P pages, else of system pages
 * @stale: the buffer moved since it was made: nobody new may share it
 *
 * Every attachment of one device that maps the buffer while it stays put
 * gets a copy of the same mapping (two RDMA registrations of one buffer,
 * say): DMA-API debugging counts at most seven overlapping mappings of a
 * cacheline, and an IOMMU need not map the buffer twice. Under the
 * reservation lock and &p2pgem_dmamaps_lock.
 */
struct p2pgem_dmamap {
	struct hlist_node node;
	struct dma_buf *dmabuf;
	struct device *dev;
	enum dma_data_direction dir;
	struct sg_table *sgt;
	unsigned int users;
	bool p2p;
	bool stale;
};

/**
 * struct p2pgem_mapped - what one map_dma_buf hands out
 * @sgt: a copy of @map's table (p2pbuf_sgt_copy())
 * @map: the shared mapping
 */
struct p2pgem_mapped {
	struct sg_table sgt;
	struct p2pgem_dmamap *map;
};

/* Every live mapping; taken under reservation locks, nothing inside. */
static DEFINE_MUTEX(p2pgem_dmamaps_lock);
static DEFINE_HASHTABLE(p2pgem_dmamaps, 6);

static struct p2pgem_bo *p2pgem_dmabuf_bo(struct dma_buf *dmabuf)
{
	return gem_to_p2pgem_bo(dmabuf->priv);
}

static struct p2pgem_device *p2pgem_bo_device(struct p2pgem_bo *bo)
{
	return to_p2pgem_device(bo->tbo.bdev);
}

static int p2pgem_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct p2pgem_bo *bo = p2pgem_dmabuf_bo(dmabuf);

	return p2pbuf_exporter_attach(to_pci_dev(bo->tbo.base.dev->dev),
				      attach);
}

static void p2pgem_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	p2pbuf_exporter_detach(attach);
}

static bool p2pgem_bo_in_vram(struct p2pgem_bo *bo)
{
	return bo->tbo.resource && bo->tbo.resource->mem_type == TTM_PL_VRAM;
}

/* Charge @bo to the device's pinned-VRAM quota; false when over it. */
static bool p2pgem_pin_quota_take(struct p2pgem_bo *bo)
{
	struct p2pgem_device *p2p = p2pgem_bo_device(bo);
	u64 size = bo->tbo.base.size;

	if (atomic64_add_return(size, &p2p->pinned_vram) > p2p->pin_quota) {
		atomic64_sub(size, &p2p->pinned_vram);
		return false;
	}
	return true;
}

static void p2pgem_pin_quota_put(struct p2pgem_bo *bo)
{
	atomic64_sub(bo->tbo.base.size, &p2pgem_bo_device(bo)->pinned_vram);
}

/* First pin, reservation lock held: choose where the buffer stays. */
static int p2pgem_dmabuf_place_pinned(struct p2pgem_bo *bo,
				      struct dma_buf *dmabuf)
{
	int ret;

	if (bo->placement != P2PGEM_PLACEMENT_SYSTEM &&
	    p2pbuf_exporter_all_p2p(dmabuf) && p2pgem_pin_quota_take(bo)) {
		ret = p2pgem_bo_place_visible(bo, true);
		if (!ret && p2pgem_bo_in_vram(bo)) {
			bo->pinned_vram = true;
			return 0;
		}
		p2pgem_pin_quota_put(bo);
		if (ret)
			return ret;
	}
	return p2pgem_bo_to_system(bo, true);
}

/**
 * p2pgem_bo_dmabuf_unpin - drop a pin of a buffer object
 * @bo: the buffer object, reservation lock held
 *
 * Every pin taken with ttm_bo_pin() for a dma-buf user (importers' pins,
 * vmaps) goes through here: the last one gives a VRAM pin's quota charge
 * back.
 */
void p2pgem_bo_dmabuf_unpin(struct p2pgem_bo *bo)
{
	ttm_bo_unpin(&bo->tbo);
	if (!bo->tbo.pin_count && bo->pinned_vram) {
		bo->pinned_vram = false;
		p2pgem_pin_quota_put(bo);
	}
}

static int p2pgem_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct p2pgem_bo *bo = p2pgem_dmabuf_bo(attach->dmabuf);
	struct p2pbuf_attachment *pa = p2pbuf_attachment(attach);
	int idx, ret;
	long wait;

	dma_resv_assert_held(bo->tbo.base.resv);
	if (!drm_dev_enter(&p2pgem_bo_device(bo)->drm, &idx))
		return -ENODEV;
	ret = 0;
	if (!bo->tbo.pin_count)
		ret = p2pgem_dmabuf_place_pinned(bo, attach->dmabuf);
	drm_dev_exit(idx);
	if (ret)
		return ret;
	if (bo->tbo.pin_count && bo->pinned_vram &&
	    pa->reason != P2PBUF_REASON_P2P) {
		/* Pinned in VRAM for others; this importer cannot reach it. */
		return -EBUSY;
	}
	ttm_bo_pin(&bo->tbo);

	/* Static importers DMA right away: let the move finish first. */
	wait = dma_resv_wait_timeout(bo->tbo.base.resv, DMA_RESV_USAGE_KERNEL,
				     true, MAX_SCHEDULE_TIMEOUT);
	if (wait < 0) {
		p2pgem_bo_dmabuf_unpin(bo);
		return wait;
	}
	pa->pins++;
	return 0;
}

/*
 * The DMA API refused the P2P map of an attachment whose pins alone hold
 * @bo in VRAM (p2pgem_refused_action()): move it to system memory under
 * the same pins and give the quota back. Reservation lock held. On error
 * it stays pinned in VRAM, charged as before.
 */
static int p2pgem_dmabuf_repin_system(struct p2pgem_bo *bo)
{
	unsigned int pins = bo->tbo.pin_count, i;
	int ret;

	/* TTM moves no pinned buffer object; nobody else holds the lock. */
	for (i = 0; i < pins; i++)
		ttm_bo_unpin(&bo->tbo);
	ret = p2pgem_bo_to_system(bo, true);
	for (i = 0; i < pins; i++)
		ttm_bo_pin(&bo->tbo);
	if (ret)
		return ret;
	bo->pinned_vram = false;
	p2pgem_pin_quota_put(bo);
	return 0;
}

static void p2pgem_dmabuf_unpin(struct dma_buf_attachment *attach)
{
	struct p2pgem_bo *bo = p2pgem_dmabuf_bo(attach->dmabuf);

	dma_resv_assert_held(bo->tbo.base.resv);
	p2pbuf_attachment(attach)->pins--;
	p2pgem_bo_dmabuf_unpin(bo);
}

static struct sg_table *p2pgem_dmabuf_map_vram(struct p2pgem_bo *bo,
					       struct device *importer,
					       enum dma_data_direction dir)
{
	struct p2pgem_device *p2p = p2pgem_bo_device(bo);
	struct p2pbuf_range *ranges;
	struct sg_table *sgt;
	unsigned int n;

	/* VRAM offset 0 is the start of the BAR. */
	ranges = p2pgem_vram_res_extents(&p2p->vram_mgr, bo->tbo.resource, &n);
	if (!ranges)
		return ERR_PTR(-ENOMEM);
	sgt = p2pbuf_map_p2p_ranges(to_pci_dev(p2p->drm.dev), p2p->bar, ranges,
				    n, importer, dir);
	kvfree(ranges);
	return sgt;
}

static struct sg_table *p2pgem_dmabuf_map_system(struct p2pgem_bo *bo,
						 struct device *importer,
						 enum dma_data_direction dir)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct ttm_tt *tt = bo->tbo.ttm;
	int ret;

	if (!tt)
		return ERR_PTR(-EINVAL);
	ret = ttm_tt_populate(bo->tbo.bdev, tt, &ctx);
	if (ret)
		return ERR_PTR(ret);
	return p2pbuf_map_pages(tt->pages, tt->num_pages, importer, dir);
}

/* A live, current mapping of @dmabuf for @dev to share, with a user more. */
static struct p2pgem_dmamap *p2pgem_dmamap_get(struct dma_buf *dmabuf,
					       struct device *dev,
					       enum dma_data_direction dir,
					       bool p2p)
{
	struct p2pgem_dmamap *map;

	mutex_lock(&p2pgem_dmamaps_lock);
	hash_for_each_possible(p2pgem_dmamaps, map, node, (unsigned long)dmabuf)
		if (map->dmabuf == dmabuf && map->dev == dev &&
		    map->dir == dir && map->p2p == p2p && !map->stale) {
			map->users++;
			goto out;
		}
	map = NULL;
out:
	mutex_unlock(&p2pgem_dmamaps_lock);
	return map;
}

/* Drop a user; the last one unmaps. Reservation lock held. */
static void p2pgem_dmamap_put(struct p2pgem_dmamap *map)
{
	bool last;

	mutex_lock(&p2pgem_dmamaps_lock);
	last = !--map->users;
	if (last)
		hash_del(&map->node);
	mutex_unlock(&p2pgem_dmamaps_lock);
	if (!last)
		return;
	if (map->p2p)
		p2pbuf_unmap_sgt(map->dev, map->sgt, map->dir);
	else
		p2pbuf_unmap_pages(map->dev, map->sgt, map->dir);
	kfree(map);
}

/*
 * Map @bo's memory for @attach, P2P pages (@p2p) or system pages, reusing
 * a mapping another attachment of the same device holds; hand out a copy.
 */
static struct sg_table *p2pgem_dmabuf_map_shared(struct p2pgem_bo *bo,
						 struct dma_buf_attachment *attach,
						 enum dma_data_direction dir,
						 bool p2p)
{
	struct p2pgem_mapped *mapped;
	struct p2pgem_dmamap *map;
	struct sg_table *sgt;
	int ret;

	mapped = kzalloc(sizeof(*mapped), GFP_KERNEL);
	if (!mapped)
		return ERR_PTR(-ENOMEM);
	map = p2pgem_dmamap_get(attach->dmabuf, attach->dev, dir, p2p);
	if (!map) {
		map = kzalloc(sizeof(*map), GFP_KERNEL);
		if (!map) {
			ret = -ENOMEM;
			goto err_free;
		}
		sgt = p2p ? p2pgem_dmabuf_map_vram(bo, attach->dev, dir) :
			p2pgem_dmabuf_map_system(bo, attach->dev, dir);
		if (IS_ERR(sgt)) {
			kfree(map);
			ret = PTR_ERR(sgt);
			goto err_free;
		}
		map->dmabuf = attach->dmabuf;
		map->dev = attach->dev;
		map->dir = dir;
		map->sgt = sgt;
		map->p2p = p2p;
		map->users = 1;
		mutex_lock(&p2pgem_dmamaps_lock);
		hash_add(p2pgem_dmamaps, &map->node,
			 (unsigned long)attach->dmabuf);
		mutex_unlock(&p2pgem_dmamaps_lock);
	}
	ret = p2pbuf_sgt_copy(&mapped->sgt, map->sgt);
	if (ret) {
		p2pgem_dmamap_put(map);
		goto err_free;
	}
	mapped->map = map;
	return &mapped->sgt;

err_free:
	kfree(mapped);
	return ERR_PTR(ret);
}

/**
 * p2pgem_dma_buf_moved - the memory of an exported buffer moves
 * @dmabuf: its dma-buf, reservation lock held
 *
 * Called with dma_buf_move_notify(): mappings that importers still hold
 * are of the old memory, so no new map may share them.
 */
void p2pgem_dma_buf_moved(struct dma_buf *dmabuf)
{
	struct p2pgem_dmamap *map;

	dma_resv_assert_held(dmabuf->resv);
	mutex_lock(&p2pgem_dmamaps_lock);
	hash_for_each_possible(p2pgem_dmamaps, map, node, (unsigned long)dmabuf)
		if (map->dmabuf == dmabuf)
			map->stale = true;
	mutex_unlock(&p2pgem_dmamaps_lock);
}

static struct sg_table *p2pgem_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct p2pgem_bo *bo = p2pgem_dmabuf_bo(attach->dmabuf);
	struct p2pbuf_attachment *pa = p2pbuf_attachment(attach);
	struct sg_table *sgt;
	int idx, ret;

	dma_resv_assert_held(bo->tbo.base.resv);
	if (!drm_dev_enter(&p2pgem_bo_device(bo)->drm, &idx))
		return ERR_PTR(-ENODEV);

	if (pa->reason == P2PBUF_REASON_P2P) {
		ret = p2pgem_bo_place_visible(bo, true);
		if (ret) {
			sgt = ERR_PTR(ret);
			goto out;
		}
		if (p2pgem_bo_in_vram(bo)) {
			sgt = p2pgem_dmabuf_map_shared(bo, attach, dir, true);
			if (!IS_ERR(sgt)) {
				pa->p2p_mapped = true;
				goto out_mapped;
			}
			if (PTR_ERR(sgt) != -EREMOTEIO)
				goto out;
			pa->reason = P2PBUF_REASON_MAP_REFUSED;
			/*
			 * Without CONFIG_DMABUF_MOVE_NOTIFY the core pinned
			 * it right before this map, in VRAM by the pin rule.
			 */
			switch (p2pgem_refused_action(bo->tbo.pin_count,
						      bo->pinned_vram,
						      pa->pins)) {
			case P2PGEM_REFUSED_REPIN_SYSTEM:
				ret = p2pgem_dmabuf_repin_system(bo);
				break;
			case P2PGEM_REFUSED_BUSY:
				ret = -EBUSY;
				break;
			default:
				ret = 0;
				break;
			}
			if (ret) {
				sgt = ERR_PTR(ret);
				goto out;
			}
		}
	}

	ret = p2pgem_bo_to_system(bo, true);
	if (ret) {
		sgt = ERR_PTR(ret);
		goto out;
	}
	sgt = p2pgem_dmabuf_map_shared(bo, attach, dir, false);
	if (IS_ERR(sgt))
		goto out;
	pa->p2p_mapped = false;
out_mapped:
	pa->mapped++;
out:
	drm_dev_exit(idx);
	return sgt;
}

static void p2pgem_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct p2pgem_mapped *mapped = container_of(sgt, struct p2pgem_mapped,
						    sgt);

	p2pbuf_attachment(attach)->mapped--;
	sg_free_table(&mapped->sgt);
	p2pgem_dmamap_put(mapped->map);
	kfree(mapped);
}

/*
 * The CPU cache maintenance the mappings leave to the exporter
 * (DMA_ATTR_SKIP_CPU_SYNC, see p2pbuf_map_pages()): the current mappings
 * of system pages, each in its own direction. P2P memory needs none.
 */
static void p2pgem_dmabuf_sync(struct dma_buf *dmabuf, bool for_cpu)
{
	struct p2pgem_dmamap *map;

	mutex_lock(&p2pgem_dmamaps_lock);
	hash_for_each_possible(p2pgem_dmamaps, map, node, (unsigned long)dmabuf) {
		if (map->dmabuf != dmabuf || map->p2p || map->stale)
			continue;
		if (for_cpu)
			dma_sync_sgtable_for_cpu(map->dev, map->sgt, map->dir);
		else
			dma_sync_sgtable_for_device(map->dev, map->sgt,
						    map->dir);
	}
	mutex_unlock(&p2pgem_dmamaps_lock);
}

static int p2pgem_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	bool write = dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE;
	long ret;

	/* The devices' writes first (and reads, before the CPU writes). */
	ret = dma_resv_wait_timeout(dmabuf->resv, dma_resv_usage_rw(write),
				    true, MAX_SCHEDULE_TIMEOUT);
	if (ret < 0)
		return ret;
	p2pgem_dmabuf_sync(dmabuf, true);
	return 0;
}

static int p2pgem_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	p2pgem_dmabuf_sync(dmabuf, false);
	return 0;
}

/* The dma-buf's file is gone: no attachment, mapping or vmap is left. */
static void p2pgem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct p2pgem_bo *bo = p2pgem_dmabuf_bo(dmabuf);

	dma_resv_lock(bo->tbo.base.resv, NULL);
	if (bo->dmabuf == dmabuf)
		bo->dmabuf = NULL;
	dma_resv_unlock(bo->tbo.base.resv);
	drm_gem_dmabuf_release(dmabuf);
}

/*
 * The pages behind an attachment's mapping, for importers that need
 * struct pages (p2pbuf_importer_pages_locked()). The mapping names where
 * the buffer object is: a move since would have unmapped it first (its
 * move_notify), or could not happen (pinned by the map).
 */
static int p2pgem_dmabuf_pages(struct dma_buf_attachment *attach,
			       pgoff_t first, unsigned long count,
			       struct page **pages)
{
	struct p2pgem_bo *bo = p2pgem_dmabuf_bo(attach->dmabuf);
	struct p2pbuf_attachment *pa = p2pbuf_attachment(attach);
	int idx, ret;

	dma_resv_assert_held(bo->tbo.base.resv);
	if (!pa->mapped || !count || first >= bo->tbo.base.size >> PAGE_SHIFT ||
	    count > (bo->tbo.base.size >> PAGE_SHIFT) - first)
		return -EINVAL;
	/* Unplugged: the BAR's pages are gone, and moves notify nobody. */
	if (!drm_dev_enter(&p2pgem_bo_device(bo)->drm, &idx))
		return -ENODEV;
	if (WARN_ON_ONCE(pa->p2p_mapped != p2pgem_bo_in_vram(bo)))
		ret = -EINVAL;
	else
		ret = p2pgem_bo_pages(bo, first, count, pages);
	drm_dev_exit(idx);
	return ret;
}

static const struct p2pbuf_exporter_ops p2pgem_dmabuf_xops = {
	.pages = p2pgem_dmabuf_pages,
};

static const struct dma_buf_ops p2pgem_dmabuf_ops = {
	.attach = p2pgem_dmabuf_attach,
	.detach = p2pgem_dmabuf_detach,
	.pin = p2pgem_dmabuf_pin,
	.unpin = p2pgem_dmabuf_unpin,
	.map_dma_buf = p2pgem_dmabuf_map,
	.unmap_dma_buf = p2pgem_dmabuf_unmap,
	.release = p2pgem_dmabuf_release,
	.begin_cpu_access = p2pgem_dmabuf_begin_cpu_access,
	.end_cpu_access = p2pgem_dmabuf_end_cpu_access,
	.mmap = drm_gem_dmabuf_mmap,
	.vmap = drm_gem_dmabuf_vmap,
	.vunmap = drm_gem_dmabuf_vunmap,
};

/**
 * p2pgem_gem_prime_export - export a buffer object as a dynamic dma-buf
 * @obj: the GEM object of a p2pgem buffer object
 * @flags: file flags of the new dma-buf
 *
 * The dma-buf shares @obj's reservation object; it can be mapped by the CPU
 * through its file (the buffer object's mmap). Called by the DRM core
 * (&drm_gem_object_funcs.export) without the reservation lock held; takes
 * it to record the dma-buf for moves.
 *
 * Return: the dma-buf or an ERR_PTR().
 */
struct dma_buf *p2pgem_gem_prime_export(struct drm_gem_object *obj,
					int flags)
{
	struct dma_buf_export_info exp_info = {
		/* As for every GEM driver (drm_gem_prime_export()). */
		.exp_name = "drm",
		.owner = THIS_MODULE,
		.ops = &p2pgem_dmabuf_ops,
		.size = obj->size,
		.flags = flags,
		.priv = obj,
		.resv = obj->resv,
	};
	struct p2pgem_bo *bo = gem_to_p2pgem_bo(obj);
	struct dma_buf *dmabuf;

	dmabuf = drm_gem_dmabuf_export(obj->dev, &exp_info);
	if (IS_ERR(dmabuf))
		return dmabuf;
	/* Moves must reach its importers as long as it lives. */
	dma_resv_lock(obj->resv, NULL);
	bo->dmabuf = dmabuf;
	dma_resv_unlock(obj->resv);
	return dmabuf;
}

/**
 * p2pgem_gem_prime_import - import a dma-buf
 * @drm: the importing device
 * @dmabuf: the dma-buf
 *
 * A dma-buf this device exported gives back its own GEM object, with a new
 * reference; any other becomes a &struct p2pgem_import (p2pgem_import.c).
 * Called by the DRM core with its PRIME locks held, no reservation lock.
 *
 * Return: the GEM object, or an ERR_PTR.
 */
struct drm_gem_object *p2pgem_gem_prime_import(struct drm_device *drm,
					       struct dma_buf *dmabuf)
{
	struct drm_gem_object *obj = dmabuf->priv;

	if (dmabuf->ops != &p2pgem_dmabuf_ops || obj->dev != drm)
		return p2pgem_import_dma_buf(drm, dmabuf);
	drm_gem_object_get(obj);
	return obj;
}

/**
 * p2pgem_dma_buf_bo - the p2pgem buffer object a dma-buf exports
 * @dmabuf: any dma-buf
 *
 * Return: the buffer object when @dmabuf was exported by a p2pgem device
 * (the dma-buf holds a reference to it), else NULL.
 */
struct p2pgem_bo *p2pgem_dma_buf_bo(struct dma_buf *dmabuf)
{
	return dmabuf->ops == &p2pgem_dmabuf_ops ? p2pgem_dmabuf_bo(dmabuf) :
		NULL;
}

/**
 * p2pgem_dma_buf_fd_bo - the buffer object a dma-buf descriptor exports
 * @drm: the device asked
 * @fd: a file descriptor of the calling process
 *
 * Looks at the dma-buf without importing or attaching it, so asking has no
 * effect on the buffer or its importers.
 *
 * Return: the buffer object with a new GEM reference when @fd is a dma-buf
 * that @drm exported; ERR_PTR(-EBADF) for a bad descriptor, -EINVAL for a
 * file that is not a dma-buf, -ENOENT for another exporter's dma-buf
 * (another device's included).
 */
struct p2pgem_bo *p2pgem_dma_buf_fd_bo(struct drm_device *drm, int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);
	struct p2pgem_bo *bo;

	if (IS_ERR(dmabuf))
		return ERR_CAST(dmabuf);
	bo = p2pgem_dma_buf_bo(dmabuf);
	if (bo && bo->tbo.base.dev == drm)
		drm_gem_object_get(&bo->tbo.base);
	else
		bo = ERR_PTR(-ENOENT);
	dma_buf_put(dmabuf);
	return bo;
}

/**
 * p2pgem_bo_dma_buf - the live dma-buf p2pgem exported for a buffer object
 * @bo: the buffer object, reservation lock held
 *
 * Return: the dma-buf while one exported from @bo lives, else NULL.
 */
struct dma_buf *p2pgem_bo_dma_buf(struct p2pgem_bo *bo)
{
	dma_resv_assert_held(bo->tbo.base.resv);
	return bo->dmabuf;
}

/**
 * p2pgem_bo_p2p_query - would a PCI function get this buffer peer-to-peer?
 * @bo: the buffer object
 * @client: the PCI function of a dynamic importer that allows peer2peer
 * @reason: set to a P2PGEM_P2P_* answer
 * @distance: set to pci_p2pdma_distance() from the device, or -1
 *
 * The decision p2pgem_dmabuf_attach() would take, then what the buffer
 * object rules out itself. Takes the reservation lock, interruptibly.
 *
 * Return: 0 or -EINTR.
 */
int p2pgem_bo_p2p_query(struct p2pgem_bo *bo, struct pci_dev *client,
			u32 *reason, s32 *distance)
{
	struct p2pgem_device *p2p = p2pgem_bo_device(bo);
	struct pci_dev *provider = to_pci_dev(p2p->drm.dev);
	enum p2pbuf_reason decision;
	int ret;

	*distance = pci_p2pdma_distance(provider, &client->dev, false);
	decision = p2pbuf_device_decision(provider, &client->dev, true);

	ret = dma_resv_lock_interruptible(bo->tbo.base.resv, NULL);
	if (ret)
		return ret;
	if (bo->placement == P2PGEM_PLACEMENT_SYSTEM)
		*reason = P2PGEM_P2P_SYSTEM_PLACEMENT;
	else if (decision == P2PBUF_REASON_NO_P2PDMA)
		*reason = P2PGEM_P2P_NO_P2PDMA;
	else if (decision == P2PBUF_REASON_ACS_REDIRECT)
		*reason = P2PGEM_P2P_ACS_REDIRECT;
	else if (decision != P2PBUF_REASON_P2P)
		*reason = P2PGEM_P2P_HOST_BRIDGE;
	else if (bo->tbo.pin_count && !bo->pinned_vram)
		*reason = P2PGEM_P2P_PINNED_SYSTEM;
	else if (bo->tbo.base.size > p2p->visible_size)
		*reason = P2PGEM_P2P_TOO_BIG;
	else
		*reason = P2PGEM_P2P_OK;
	dma_resv_unlock(bo->tbo.base.resv);
	return 0;
}

/**
 * p2pgem_dma_buf_register - offer importers the pages of exported buffers
 *
 * Registers p2pgem's dma-bufs with p2pbuf.ko (p2pbuf_exporter_register()).
 * Called at module init, before any device exists.
 *
 * Return: 0 or a negative errno.
 */
int p2pgem_dma_buf_register(void)
{
	return p2pbuf_exporter_register(&p2pgem_dmabuf_ops, &p2pgem_dmabuf_xops);
}

/**
 * p2pgem_dma_buf_unregister - undo p2pgem_dma_buf_register() at module exit
 */
void p2pgem_dma_buf_unregister(void)
{
	p2pbuf_exporter_unregister(&p2pgem_dmabuf_ops);
}
