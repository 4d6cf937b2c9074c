// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: buffer objects on TTM.
 *
 * A p2pgem buffer object is a TTM buffer object whose GEM object is the
 * handle userspace holds. TTM places it (VRAM through p2pgem_vram_mgr.c,
 * system memory through ttm_tt pages), evicts it from VRAM under pressure
 * (evict_flags: to system memory) and calls p2pgem_bo_move() for every
 * move, which queues the copy on the copy engine. CPU mappings fault
 * through p2pgem_bo_vm_fault(), which applies the visible-window rule.
 *
 * Locking: mmap_lock, then the buffer object's reservation lock (TTM takes
 * other buffer objects' reservation locks only by trylock while evicting),
 * then the VRAM manager's lock. &p2pgem_device.bo_lock is taken with none
 * or only mmap_lock held and nothing is taken under it.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_ttm_helper.h>
#include <drm/drm_print.h>
#include <drm/drm_vma_manager.h>
#include <drm/p2pgem_drm.h>
#include <drm/ttm/ttm_bo_driver.h>
#include <drm/ttm/ttm_tt.h>

#include "p2pgem_bo.h"
#include "p2pgem_copy.h"
#include "p2pgem_dma_buf.h"
#include "p2pgem_placement.h"
#include "p2pgem_vram_mgr.h"

static unsigned long p2pgem_visible_pages(struct p2pgem_device *p2p)
{
	return p2p->visible_size >> PAGE_SHIFT;
}

static unsigned long p2pgem_vram_pages(struct p2pgem_device *p2p)
{
	return p2p->vram_size >> PAGE_SHIFT;
}

/**
 * p2pgem_bo_uapi_placement - the uAPI name of a TTM memory type
 * @mem_type: TTM_PL_VRAM or TTM_PL_SYSTEM
 *
 * Return: P2PGEM_PLACEMENT_VRAM or P2PGEM_PLACEMENT_SYSTEM.
 */
u32 p2pgem_bo_uapi_placement(u32 mem_type)
{
	return mem_type == TTM_PL_VRAM ? P2PGEM_PLACEMENT_VRAM :
		P2PGEM_PLACEMENT_SYSTEM;
}

static struct ttm_tt *p2pgem_ttm_tt_create(struct ttm_buffer_object *tbo,
					   u32 page_flags)
{
	struct ttm_tt *tt;

	tt = kzalloc(sizeof(*tt), GFP_KERNEL);
	if (!tt)
		return NULL;
	if (ttm_tt_init(tt, tbo, page_flags, ttm_cached, 0)) {
		kfree(tt);
		return NULL;
	}
	return tt;
}

static void p2pgem_ttm_tt_destroy(struct ttm_device *bdev, struct ttm_tt *tt)
{
	ttm_tt_fini(tt);
	kfree(tt);
}

static const struct ttm_place p2pgem_system_place = {
	.mem_type = TTM_PL_SYSTEM,
};

static void p2pgem_bo_evict_flags(struct ttm_buffer_object *tbo,
				  struct ttm_placement *placement)
{
	placement->placement = &p2pgem_system_place;
	placement->num_placement = 1;
	placement->busy_placement = &p2pgem_system_place;
	placement->num_busy_placement = 1;
}

static bool p2pgem_tt_has_data(struct ttm_tt *tt)
{
	return tt && (ttm_tt_is_populated(tt) ||
		      (tt->page_flags & TTM_TT_FLAG_SWAPPED));
}

/*
 * The memory of @bo is about to change, reservation lock held: dynamic
 * importers of its dma-buf drop their mappings (dma_buf_move_notify()), and
 * the CPU mappings of @bo, and only of @bo, are zapped. A GEM dma-buf's
 * file shares the DRM device's address space (drm_gem_dmabuf_export()) and
 * its mappings carry @bo's fake offset (drm_gem_prime_mmap()), so this
 * range covers mmap() of the dma-buf and of the DRM file alike; it is
 * what TTM zaps itself before a move (ttm_bo_unmap_virtual()).
 *
 * Without CONFIG_DMABUF_MOVE_NOTIFY every mapping an importer holds pins
 * @bo (the dma-buf core pins before each map, static importers from
 * attach), so a move finds no mapping to drop and tells nobody: importers
 * of such kernels get no move_notify for moves. A revoke (@revoke) still
 * tells dynamic importers, on every kernel, as it is their only way to
 * learn that the memory is gone; the p2pbuf importers unmap, which unpins.
 */
static void p2pgem_bo_notify_importers(struct p2pgem_bo *bo, bool revoke)
{
	struct dma_buf *dmabuf = bo->dmabuf;

	if (!dmabuf)
		return;
	if (revoke || IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY))
		dma_buf_move_notify(dmabuf);
	p2pgem_dma_buf_moved(dmabuf);
	drm_vma_node_unmap(&bo->tbo.base.vma_node, bo->tbo.bdev->dev_mapping);
}

static int p2pgem_bo_move(struct ttm_buffer_object *tbo, bool evict,
			  struct ttm_operation_ctx *ctx,
			  struct ttm_resource *new_mem,
			  struct ttm_place *hop)
{
	struct p2pgem_device *p2p = to_p2pgem_device(tbo->bdev);
	struct p2pgem_vram_mgr *mgr = &p2p->vram_mgr;
	struct p2pgem_bo *bo = to_p2pgem_bo(tbo);
	struct ttm_resource *old = tbo->resource;
	u32 old_type = old ? old->mem_type : TTM_PL_SYSTEM;
	struct p2pgem_copy_req req = { .num_pages = new_mem->num_pages };
	bool has_data = old_type == TTM_PL_VRAM || p2pgem_tt_has_data(tbo->ttm);
	struct dma_fence *fence;
	unsigned int n;
	int idx, ret;

	if (old_type == TTM_PL_SYSTEM && new_mem->mem_type == TTM_PL_SYSTEM) {
		ttm_bo_move_null(tbo, new_mem);
		goto out;
	}
	if (old_type != TTM_PL_VRAM && old_type != TTM_PL_SYSTEM)
		return -EINVAL;
	/*
	 * The device is gone (p2pgem_revoke(), the engine stopped): its VRAM
	 * went with it, and nobody can reach the buffer object any more.
	 */
	if (!drm_dev_enter(&p2p->drm, &idx)) {
		ttm_bo_move_null(tbo, new_mem);
		goto out;
	}

	/* Importers drop their mappings; the copy waits for their fences. */
	p2pgem_bo_notify_importers(bo, false);

	/* The system side: TTM creates the ttm_tt, we fill or read it. */
	if (tbo->ttm && (has_data || new_mem->mem_type == TTM_PL_SYSTEM)) {
		ret = ttm_tt_populate(tbo->bdev, tbo->ttm, ctx);
		if (ret)
			goto out_exit;
	}

	ret = -ENOMEM;
	if (old_type == TTM_PL_VRAM) {
		req.src.ext = p2pgem_vram_res_extents(mgr, old, &n);
		if (!req.src.ext)
			goto out_exit;
	} else if (has_data) {
		req.src.pages = tbo->ttm->pages;
	}

	if (new_mem->mem_type == TTM_PL_VRAM) {
		req.dst.ext = p2pgem_vram_res_extents(mgr, new_mem, &n);
		if (!req.dst.ext) {
			p2pgem_copy_req_release(&req);
			goto out_exit;
		}
	} else {
		req.dst.pages = tbo->ttm->pages;
	}

	/* A kernel move: the engine's own entity, no user queue. */
	fence = p2pgem_copy_submit(p2p, NULL, &req, tbo->base.resv, NULL);
	if (IS_ERR(fence)) {
		ret = PTR_ERR(fence);
		goto out_exit;
	}

	ret = ttm_bo_move_accel_cleanup(tbo, fence, evict, true, new_mem);
	if (ret) {
		/*
		 * TTM did not take the move (no memory for its ghost object)
		 * and frees @new_mem when we return: the job must be done
		 * with it first. The old memory keeps the data.
		 */
		dma_fence_wait(fence, false);
	}
	dma_fence_put(fence);
	drm_dev_exit(idx);
	if (ret)
		return ret;

	if (has_data) {
		atomic64_inc(&bo->move_count);
		atomic64_inc(&p2p->moves);
		if (old_type == TTM_PL_VRAM && new_mem->mem_type == TTM_PL_SYSTEM)
			atomic64_inc(&p2p->evictions);
	}
out:
	WRITE_ONCE(bo->mem_type, new_mem->mem_type);
	return 0;

out_exit:
	drm_dev_exit(idx);
	return ret;
}

/* TTM swaps the pages of @tbo out, reservation lock held. */
static void p2pgem_bo_swap_notify(struct ttm_buffer_object *tbo)
{
	p2pgem_bo_notify_importers(to_p2pgem_bo(tbo), false);
}

static int p2pgem_io_mem_reserve(struct ttm_device *bdev,
				 struct ttm_resource *mem)
{
	struct p2pgem_device *p2p = to_p2pgem_device(bdev);

	switch (mem->mem_type) {
	case TTM_PL_SYSTEM:
		return 0;
	case TTM_PL_VRAM:
		/* Pages are found by p2pgem_io_mem_pfn(), not linearly. */
		mem->bus.offset = p2p->vram_base;
		mem->bus.is_iomem = true;
		mem->bus.caching = ttm_write_combined;
		return 0;
	default:
		return -EINVAL;
	}
}

static unsigned long p2pgem_io_mem_pfn(struct ttm_buffer_object *tbo,
				       unsigned long page_offset)
{
	struct p2pgem_device *p2p = to_p2pgem_device(tbo->bdev);
	u64 offset = p2pgem_vram_res_offset(&p2p->vram_mgr, tbo->resource,
					    page_offset);

	return (p2p->vram_base + offset) >> PAGE_SHIFT;
}

struct ttm_device_funcs p2pgem_ttm_funcs = {
	.ttm_tt_create = p2pgem_ttm_tt_create,
	.ttm_tt_destroy = p2pgem_ttm_tt_destroy,
	.eviction_valuable = ttm_bo_eviction_valuable,
	.evict_flags = p2pgem_bo_evict_flags,
	.move = p2pgem_bo_move,
	.swap_notify = p2pgem_bo_swap_notify,
	.io_mem_reserve = p2pgem_io_mem_reserve,
	.io_mem_pfn = p2pgem_io_mem_pfn,
};

static unsigned long p2pgem_res_visible_pages(struct ttm_resource *res)
{
	if (!res || res->mem_type != TTM_PL_VRAM)
		return 0;
	return to_p2pgem_vram_res(res)->visible_pages;
}

static vm_fault_t p2pgem_errno_to_fault(int ret)
{
	switch (ret) {
	case 0:
		return 0;
	case -ENOMEM:
		return VM_FAULT_OOM;
	case -ERESTARTSYS:
	case -EINTR:
	case -EAGAIN:
		return VM_FAULT_NOPAGE;
	default:
		return VM_FAULT_SIGBUS;
	}
}

/**
 * p2pgem_bo_place_visible - apply the visible-window rule
 * @bo: the buffer object, reservation lock held
 * @interruptible: waits may be interrupted by signals
 *
 * Leaves @bo where it is when it is pinned or already mapped in the rule's
 * sense, else validates it into the CPU-visible window (see
 * p2pgem_fault_action()); a buffer object that wants VRAM but finds no room
 * there stays in system memory. Other buffer objects are evicted from the
 * window only for one that fits in it (p2pgem_placement_visible()); a
 * larger one goes to system memory. Used by CPU faults and by peer-to-peer
 * dma-buf maps, which need memory the bus can reach.
 *
 * Return: 0 or a negative error code of ttm_bo_validate().
 */
int p2pgem_bo_place_visible(struct p2pgem_bo *bo, bool interruptible)
{
	struct p2pgem_device *p2p = to_p2pgem_device(bo->tbo.bdev);
	struct ttm_operation_ctx ctx = { .interruptible = interruptible };
	struct ttm_resource *res = bo->tbo.resource;
	enum p2pgem_fault_action action;
	struct p2pgem_placement pl;
	int ret;

	dma_resv_assert_held(bo->tbo.base.resv);
	if (!res || bo->tbo.pin_count)
		return 0;
	action = p2pgem_fault_action(res->mem_type, bo->placement, bo->flags,
				     res->num_pages,
				     p2pgem_res_visible_pages(res),
				     p2pgem_visible_pages(p2p));
	if (action == P2PGEM_FAULT_MAP)
		return 0;

	p2pgem_placement_visible(&pl, action, bo->placement, bo->flags,
				 res->num_pages, p2pgem_visible_pages(p2p),
				 p2pgem_vram_pages(p2p));
	ret = ttm_bo_validate(&bo->tbo, &pl.placement, &ctx);
	/* Returning to VRAM is best effort; system memory maps as well. */
	if (action == P2PGEM_FAULT_RETURN_VRAM &&
	    (ret == -ENOMEM || ret == -ENOSPC || ret == -EBUSY))
		ret = 0;
	return ret;
}

static vm_fault_t p2pgem_bo_vm_fault(struct vm_fault *vmf)
{
	struct ttm_buffer_object *tbo = vmf->vma->vm_private_data;
	struct p2pgem_bo *bo = to_p2pgem_bo(tbo);
	struct drm_device *drm = tbo->base.dev;
	vm_fault_t ret;
	int idx;

	ret = ttm_bo_vm_reserve(tbo, vmf);
	if (ret)
		return ret;

	/* The device is gone (p2pgem_revoke()): its memory is too. */
	if (!drm_dev_enter(drm, &idx)) {
		ret = VM_FAULT_SIGBUS;
		goto out_unlock;
	}
	ret = p2pgem_errno_to_fault(p2pgem_bo_place_visible(bo, true));
	if (!ret) {
		ttm_bo_move_to_lru_tail_unlocked(tbo);
		ret = ttm_bo_vm_fault_reserved(vmf, vmf->vma->vm_page_prot,
					       TTM_BO_VM_NUM_PREFAULT);
	}
	drm_dev_exit(idx);
	/* ttm_bo_vm_fault_reserved() dropped the lock to wait. */
	if (ret == VM_FAULT_RETRY && !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		return ret;

out_unlock:
	dma_resv_unlock(tbo->base.resv);
	return ret;
}

static const struct vm_operations_struct p2pgem_vm_ops = {
	.fault = p2pgem_bo_vm_fault,
	.open = ttm_bo_vm_open,
	.close = ttm_bo_vm_close,
	.access = ttm_bo_vm_access,
};

static int p2pgem_gem_mmap(struct drm_gem_object *obj,
			   struct vm_area_struct *vma)
{
	int ret;

	ret = ttm_bo_mmap_obj(vma, drm_gem_ttm_of_gem(obj));
	if (ret)
		return ret;
	vma->vm_ops = &p2pgem_vm_ops;
	/* TTM holds its own reference for the mapping. */
	drm_gem_object_put(obj);
	return 0;
}

static void p2pgem_gem_free(struct drm_gem_object *obj)
{
	ttm_bo_put(drm_gem_ttm_of_gem(obj));
}

/**
 * p2pgem_bo_pages - the pages of a buffer object where it is now
 * @bo: the buffer object, reservation lock held
 * @first: the first page wanted
 * @count: how many, not zero, within the buffer object
 * @pages: out: the pages
 *
 * In VRAM, the BAR's P2P pages (every page of the BAR is one, see
 * pci_p2pdma_add_resource() in p2pgem_drv.c); in system memory, its TTM
 * pages, populated. Valid until the buffer object moves.
 *
 * Return: 0; -EOPNOTSUPP for VRAM on a kernel without CONFIG_PCI_P2PDMA
 * (no struct pages) or a buffer object without backing; -EINVAL when the
 * range runs past its placement. Allocates nothing.
 */
int p2pgem_bo_pages(struct p2pgem_bo *bo, pgoff_t first, unsigned long count,
		    struct page **pages)
{
	struct p2pgem_device *p2p = to_p2pgem_device(bo->tbo.bdev);
	struct ttm_resource *res = bo->tbo.resource;

	dma_resv_assert_held(bo->tbo.base.resv);
	if (!res)
		return -EOPNOTSUPP;
	if (res->mem_type != TTM_PL_VRAM) {
		if (!bo->tbo.ttm || !ttm_tt_is_populated(bo->tbo.ttm))
			return -EOPNOTSUPP;
		memcpy(pages, bo->tbo.ttm->pages + first,
		       count * sizeof(*pages));
		return 0;
	}
	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		return -EOPNOTSUPP;
	return p2pgem_vram_res_pfns(&p2p->vram_mgr, res, p2p->vram_base, first,
				    count, pages);
}

/* Pinned in VRAM: map its pages of the BAR, write-combined. */
static int p2pgem_bo_vmap_vram(struct p2pgem_bo *bo, struct iosys_map *map)
{
	unsigned long num_pages = bo->tbo.resource->num_pages;
	struct page **pages;
	void *vaddr = NULL;
	int ret;

	pages = kvmalloc_array(num_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* No P2P pages (a kernel without CONFIG_PCI_P2PDMA): its errno. */
	ret = p2pgem_bo_pages(bo, 0, num_pages, pages);
	if (!ret)
		vaddr = vmap(pages, num_pages, VM_MAP,
			     pgprot_writecombine(PAGE_KERNEL));
	kvfree(pages);
	if (ret)
		return ret;
	if (!vaddr)
		return -ENOMEM;
	iosys_map_set_vaddr_iomem(map, (void __force __iomem *)vaddr);
	return 0;
}

/*
 * Kernel CPU mappings (dma_buf_vmap() of the exported buffer). The buffer
 * object is pinned while it is vmapped: where it is when already pinned
 * (in VRAM for peer-to-peer importers: its BAR pages are mapped
 * write-combined), else in system memory. The dma-buf core WARNs on any
 * error, so nothing here waits interruptibly. Once the device is unplugged
 * its BAR pages are gone (the P2P memmap goes with the driver): -ENODEV.
 */
static int p2pgem_gem_vmap(struct drm_gem_object *obj, struct iosys_map *map)
{
	struct p2pgem_bo *bo = gem_to_p2pgem_bo(obj);
	int idx, ret = 0;

	if (!drm_dev_enter(obj->dev, &idx))
		return -ENODEV;
	dma_resv_lock(obj->resv, NULL);
	if (!bo->tbo.pin_count)
		ret = p2pgem_bo_to_system(bo, false);
	if (ret)
		goto out_unlock;
	ttm_bo_pin(&bo->tbo);
	/* The CPU reads what the last move copied. */
	dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_KERNEL, false,
			      MAX_SCHEDULE_TIMEOUT);
	if (bo->tbo.resource->mem_type == TTM_PL_VRAM)
		ret = p2pgem_bo_vmap_vram(bo, map);
	else
		ret = ttm_bo_vmap(&bo->tbo, map);
	if (ret)
		p2pgem_bo_dmabuf_unpin(bo);
out_unlock:
	dma_resv_unlock(obj->resv);
	drm_dev_exit(idx);
	return ret;
}

/*
 * Also after an unplug: the mapping goes, and so does the pin, through
 * the helper that gives a VRAM pin's quota charge back with the last pin.
 */
static void p2pgem_gem_vunmap(struct drm_gem_object *obj,
			      struct iosys_map *map)
{
	struct p2pgem_bo *bo = gem_to_p2pgem_bo(obj);

	dma_resv_lock(obj->resv, NULL);
	if (bo->tbo.resource->mem_type == TTM_PL_VRAM)
		vunmap((void __force *)map->vaddr_iomem);
	else
		ttm_bo_vunmap(&bo->tbo, map);
	p2pgem_bo_dmabuf_unpin(bo);
	dma_resv_unlock(obj->resv);
}

static const struct drm_gem_object_funcs p2pgem_gem_funcs = {
	.free = p2pgem_gem_free,
	.mmap = p2pgem_gem_mmap,
	.vmap = p2pgem_gem_vmap,
	.vunmap = p2pgem_gem_vunmap,
	.print_info = drm_gem_ttm_print_info,
	.export = p2pgem_gem_prime_export,
};

/* TTM's destructor: the last reference to the TTM object is gone. */
static void p2pgem_bo_destroy(struct ttm_buffer_object *tbo)
{
	struct p2pgem_device *p2p = to_p2pgem_device(tbo->bdev);
	struct p2pgem_bo *bo = to_p2pgem_bo(tbo);

	mutex_lock(&p2p->bo_lock);
	list_del(&bo->link);
	mutex_unlock(&p2p->bo_lock);

	drm_gem_object_release(&tbo->base);
	kfree(bo);
}

/**
 * p2pgem_bo_create - create a buffer object and place it
 * @p2p: the device
 * @size: bytes, already checked by p2pgem_check_create()
 * @placement: P2PGEM_PLACEMENT_*
 * @flags: P2PGEM_CREATE_*
 * @out: set to the new buffer object, holding one GEM reference
 *
 * New VRAM is cleared by the copy engine before anyone can see it. May
 * evict other buffer objects (taking their reservation locks by trylock).
 *
 * Return: 0 or a negative error code (-ENOMEM when no memory was found).
 */
int p2pgem_bo_create(struct p2pgem_device *p2p, u64 size, u32 placement,
		     u32 flags, struct p2pgem_bo **out)
{
	struct ttm_operation_ctx ctx = { .interruptible = true };
	struct p2pgem_placement pl;
	struct p2pgem_bo *bo;
	int ret;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return -ENOMEM;

	INIT_LIST_HEAD(&bo->link);
	bo->id = atomic64_inc_return(&p2p->bo_ids);
	bo->placement = placement;
	bo->flags = flags;
	bo->mem_type = TTM_PL_SYSTEM;
	drm_gem_private_object_init(&p2p->drm, &bo->tbo.base, size);
	bo->tbo.base.funcs = &p2pgem_gem_funcs;

	mutex_lock(&p2p->bo_lock);
	list_add_tail(&bo->link, &p2p->bo_list);
	mutex_unlock(&p2p->bo_lock);

	/* VRAM-preferred starts in system memory and tries free VRAM. */
	p2pgem_placement_create(&pl, placement == P2PGEM_PLACEMENT_VRAM ?
				placement : P2PGEM_PLACEMENT_SYSTEM, flags,
				p2pgem_visible_pages(p2p),
				p2pgem_vram_pages(p2p));
	/* On failure TTM calls p2pgem_bo_destroy(). */
	ret = ttm_bo_init_reserved(&p2p->bdev, &bo->tbo, ttm_bo_type_device,
				   &pl.placement, 0, &ctx, NULL, NULL,
				   p2pgem_bo_destroy);
	if (ret)
		return ret;

	if (placement == P2PGEM_PLACEMENT_VRAM_PREFERRED) {
		p2pgem_placement_create(&pl, placement, flags,
					p2pgem_visible_pages(p2p),
					p2pgem_vram_pages(p2p));
		ret = ttm_bo_validate(&bo->tbo, &pl.placement, &ctx);
		if (ret && ret != -ENOMEM && ret != -ENOSPC) {
			ttm_bo_unreserve(&bo->tbo);
			drm_gem_object_put(&bo->tbo.base);
			return ret;
		}
	}
	ttm_bo_unreserve(&bo->tbo);

	*out = bo;
	return 0;
}

static u32 p2pgem_bo_attachments(struct p2pgem_bo *bo)
{
	struct dma_buf *dmabuf = bo->dmabuf;
	struct dma_buf_attachment *attach;
	u32 count = 0;

	if (!dmabuf)
		return 0;
	/* The exported buffer shares the reservation object we hold. */
	list_for_each_entry(attach, &dmabuf->attachments, node)
		count++;
	return count;
}

/**
 * p2pgem_bo_info - where a buffer object is now
 * @bo: the buffer object
 * @info: filled in, except @handle and @flags
 *
 * Takes the reservation lock, interruptibly.
 *
 * Return: 0 or -EINTR.
 */
int p2pgem_bo_info(struct p2pgem_bo *bo, struct drm_p2pgem_gem_info *info)
{
	struct p2pgem_device *p2p = to_p2pgem_device(bo->tbo.bdev);
	struct ttm_resource *res;
	int ret;

	ret = dma_resv_lock_interruptible(bo->tbo.base.resv, NULL);
	if (ret)
		return ret;
	res = bo->tbo.resource;
	info->size = bo->tbo.base.size;
	info->move_count = atomic64_read(&bo->move_count);
	info->placement = p2pgem_bo_uapi_placement(res ? res->mem_type :
						   TTM_PL_SYSTEM);
	info->requested_placement = bo->placement;
	info->create_flags = bo->flags;
	info->pin_count = bo->tbo.pin_count;
	info->attachments = p2pgem_bo_attachments(bo);
	info->cpu_visible = res && res->mem_type == TTM_PL_VRAM &&
		p2pgem_res_visible_pages(res) >= res->num_pages &&
		p2p->visible_size;
	dma_resv_unlock(bo->tbo.base.resv);
	return 0;
}

/**
 * p2pgem_bo_evict - move a buffer object to system memory now
 * @bo: the buffer object
 *
 * Takes the reservation lock, interruptibly. The copy is queued, not
 * waited for.
 *
 * Return: 0, -EBUSY when pinned, -EINTR or -ENOMEM.
 */
int p2pgem_bo_evict(struct p2pgem_bo *bo)
{
	int ret;

	ret = dma_resv_lock_interruptible(bo->tbo.base.resv, NULL);
	if (ret)
		return ret;
	ret = bo->tbo.pin_count ? -EBUSY : p2pgem_bo_to_system(bo, true);
	dma_resv_unlock(bo->tbo.base.resv);
	return ret;
}

/**
 * p2pgem_bo_to_system - move a buffer object to system memory
 * @bo: the buffer object, reservation lock held
 * @interruptible: waits may be interrupted by signals
 *
 * The copy is queued, not waited for.
 *
 * Return: 0 (also when already there, pinned or not), -EBUSY when pinned
 * in VRAM, -ERESTARTSYS or -ENOMEM.
 */
int p2pgem_bo_to_system(struct p2pgem_bo *bo, bool interruptible)
{
	struct ttm_operation_ctx ctx = { .interruptible = interruptible };
	struct p2pgem_placement pl;

	dma_resv_assert_held(bo->tbo.base.resv);
	if (bo->tbo.resource && bo->tbo.resource->mem_type == TTM_PL_SYSTEM)
		return 0;
	if (bo->tbo.pin_count)
		return -EBUSY;
	p2pgem_placement_system(&pl);
	return ttm_bo_validate(&bo->tbo, &pl.placement, &ctx);
}

/**
 * p2pgem_revoke - take every buffer object away from its users
 * @p2p: a device that drm_dev_unplug() just unplugged
 *
 * Called when the PCI function is unbound or removed. For every buffer
 * object, under its reservation lock: dynamic importers of its dma-buf are
 * told with dma_buf_move_notify() (their next map fails with -ENODEV) and
 * CPU mappings are zapped (their next fault gets SIGBUS). Static importers
 * keep their pinned mappings until they detach. The buffer objects
 * themselves live on until their last reference is dropped. Takes
 * &p2pgem_device.bo_lock, then each reservation lock with it released.
 */
void p2pgem_revoke(struct p2pgem_device *p2p)
{
	struct p2pgem_bo **bos, *bo;
	unsigned int n = 0, i;

	mutex_lock(&p2p->bo_lock);
	list_for_each_entry(bo, &p2p->bo_list, link)
		n++;
	bos = kvmalloc_array(max(n, 1u), sizeof(*bos), GFP_KERNEL);
	i = 0;
	list_for_each_entry(bo, &p2p->bo_list, link) {
		if (!bos || i == n)
			break;
		/* Skip objects on their way out: nobody can reach them. */
		if (kref_get_unless_zero(&bo->tbo.base.refcount))
			bos[i++] = bo;
	}
	mutex_unlock(&p2p->bo_lock);
	if (!bos) {
		drm_err(&p2p->drm, "out of memory: buffers not revoked\n");
		return;
	}

	while (i--) {
		bo = bos[i];
		dma_resv_lock(bo->tbo.base.resv, NULL);
		p2pgem_bo_notify_importers(bo, true);
		ttm_bo_unmap_virtual(&bo->tbo);
		dma_resv_unlock(bo->tbo.base.resv);
		drm_gem_object_put(&bo->tbo.base);
	}
	kvfree(bos);
}
