// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: the VRAM resource manager.
 *
 * A TTM resource manager for TTM_PL_VRAM whose allocations are drm_buddy
 * blocks of the BAR. TTM owns placement, LRU and eviction; this file only
 * hands out and takes back ranges, honouring the place's page range (the
 * CPU-visible window), top-down and contiguous requests, and answers TTM's
 * intersects/compatible questions so eviction picks the right victims.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <drm/drm_print.h>
#include <drm/ttm/ttm_bo_driver.h>

#include "p2pgem_placement.h"
#include "p2pgem_vram_mgr.h"

static struct p2pgem_vram_mgr *to_vram_mgr(struct ttm_resource_manager *man)
{
	return container_of(man, struct p2pgem_vram_mgr, manager);
}

static unsigned long p2pgem_block_start(struct drm_buddy_block *block)
{
	return drm_buddy_block_offset(block) >> PAGE_SHIFT;
}

static unsigned long p2pgem_block_pages(struct drm_buddy *mm,
					struct drm_buddy_block *block)
{
	return drm_buddy_block_size(mm, block) >> PAGE_SHIFT;
}

static int p2pgem_vram_mgr_alloc(struct ttm_resource_manager *man,
				 struct ttm_buffer_object *bo,
				 const struct ttm_place *place,
				 struct ttm_resource **res)
{
	struct p2pgem_vram_mgr *mgr = to_vram_mgr(man);
	unsigned long lpfn = place->lpfn ? place->lpfn : man->size;
	struct drm_buddy_block *block;
	struct p2pgem_vram_res *vres;
	unsigned long flags = 0;
	u64 size, min_block;
	int ret;

	if (place->fpfn >= lpfn)
		return -ENOSPC;

	vres = kzalloc(sizeof(*vres), GFP_KERNEL);
	if (!vres)
		return -ENOMEM;

	ttm_resource_init(bo, place, &vres->base);
	INIT_LIST_HEAD(&vres->blocks);

	size = (u64)vres->base.num_pages << PAGE_SHIFT;
	min_block = PAGE_SIZE;
	if (bo->page_alignment)
		min_block = (u64)bo->page_alignment << PAGE_SHIFT;
	if (place->flags & TTM_PL_FLAG_CONTIGUOUS) {
		size = roundup_pow_of_two(size);
		min_block = size;
		vres->contiguous = true;
	}
	if (place->flags & TTM_PL_FLAG_TOPDOWN)
		flags |= DRM_BUDDY_TOPDOWN_ALLOCATION;
	if (place->fpfn || lpfn != man->size)
		flags |= DRM_BUDDY_RANGE_ALLOCATION;

	if (size > (u64)(lpfn - place->fpfn) << PAGE_SHIFT) {
		ret = -ENOSPC;
		goto err_fini;
	}

	mutex_lock(&mgr->lock);
	if (lpfn <= mgr->visible_pages &&
	    vres->base.num_pages > mgr->visible_avail) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	ret = drm_buddy_alloc_blocks(&mgr->mm, (u64)place->fpfn << PAGE_SHIFT,
				     (u64)lpfn << PAGE_SHIFT, size, min_block,
				     &vres->blocks, flags);
	if (ret)
		goto err_unlock;
	if (vres->contiguous) {
		ret = drm_buddy_block_trim(&mgr->mm,
					   (u64)vres->base.num_pages << PAGE_SHIFT,
					   &vres->blocks);
		if (ret)
			goto err_free;
	}

	list_for_each_entry(block, &vres->blocks, link)
		vres->visible_pages +=
			p2pgem_visible_overlap(p2pgem_block_start(block),
					       p2pgem_block_pages(&mgr->mm, block),
					       mgr->visible_pages);
	mgr->visible_avail -= vres->visible_pages;
	mgr->used_pages += vres->base.num_pages;
	mutex_unlock(&mgr->lock);

	block = list_first_entry(&vres->blocks, struct drm_buddy_block, link);
	vres->base.start = p2pgem_block_start(block);
	*res = &vres->base;
	return 0;

err_free:
	drm_buddy_free_list(&mgr->mm, &vres->blocks);
err_unlock:
	mutex_unlock(&mgr->lock);
err_fini:
	ttm_resource_fini(man, &vres->base);
	kfree(vres);
	/* TTM evicts on -ENOSPC; the buddy allocator says so when full. */
	return ret;
}

static void p2pgem_vram_mgr_free(struct ttm_resource_manager *man,
				 struct ttm_resource *res)
{
	struct p2pgem_vram_res *vres = to_p2pgem_vram_res(res);
	struct p2pgem_vram_mgr *mgr = to_vram_mgr(man);

	mutex_lock(&mgr->lock);
	drm_buddy_free_list(&mgr->mm, &vres->blocks);
	mgr->visible_avail += vres->visible_pages;
	mgr->used_pages -= res->num_pages;
	mutex_unlock(&mgr->lock);

	ttm_resource_fini(man, res);
	kfree(vres);
}

/* Whether block lies in [fpfn, lpfn) entirely (@inside) or partly. */
static bool p2pgem_vram_res_in(struct p2pgem_vram_mgr *mgr,
			       struct p2pgem_vram_res *vres,
			       const struct ttm_place *place, bool inside)
{
	unsigned long lpfn = place->lpfn ? place->lpfn : mgr->manager.size;
	struct drm_buddy_block *block;

	list_for_each_entry(block, &vres->blocks, link) {
		unsigned long start = p2pgem_block_start(block);
		unsigned long end = start + p2pgem_block_pages(&mgr->mm, block);
		bool overlaps = start < lpfn && end > place->fpfn;

		if (inside && (start < place->fpfn || end > lpfn))
			return false;
		if (!inside && overlaps)
			return true;
	}
	return inside;
}

static bool p2pgem_vram_mgr_intersects(struct ttm_resource_manager *man,
				       struct ttm_resource *res,
				       const struct ttm_place *place,
				       size_t size)
{
	struct p2pgem_vram_res *vres = to_p2pgem_vram_res(res);

	if (!place->fpfn && !place->lpfn)
		return true;
	return p2pgem_vram_res_in(to_vram_mgr(man), vres, place, false);
}

static bool p2pgem_vram_mgr_compatible(struct ttm_resource_manager *man,
				       struct ttm_resource *res,
				       const struct ttm_place *place,
				       size_t size)
{
	struct p2pgem_vram_res *vres = to_p2pgem_vram_res(res);

	if ((place->flags & TTM_PL_FLAG_CONTIGUOUS) && !vres->contiguous)
		return false;
	if (!place->fpfn && !place->lpfn)
		return true;
	return p2pgem_vram_res_in(to_vram_mgr(man), vres, place, true);
}

static void p2pgem_vram_mgr_debug(struct ttm_resource_manager *man,
				  struct drm_printer *p)
{
	struct p2pgem_vram_mgr *mgr = to_vram_mgr(man);

	mutex_lock(&mgr->lock);
	drm_printf(p, "size: %lu KiB\n", (unsigned long)man->size << (PAGE_SHIFT - 10));
	drm_printf(p, "used: %lu KiB\n", mgr->used_pages << (PAGE_SHIFT - 10));
	drm_printf(p, "visible_size: %lu KiB\n",
		   mgr->visible_pages << (PAGE_SHIFT - 10));
	drm_printf(p, "visible_avail: %lu KiB\n",
		   mgr->visible_avail << (PAGE_SHIFT - 10));
	drm_buddy_print(&mgr->mm, p);
	mutex_unlock(&mgr->lock);
}

static const struct ttm_resource_manager_func p2pgem_vram_mgr_func = {
	.alloc = p2pgem_vram_mgr_alloc,
	.free = p2pgem_vram_mgr_free,
	.intersects = p2pgem_vram_mgr_intersects,
	.compatible = p2pgem_vram_mgr_compatible,
	.debug = p2pgem_vram_mgr_debug,
};

/**
 * p2pgem_vram_mgr_init - create the VRAM manager and hand it to TTM
 * @p2p: the device, with @vram_size and @visible_size set
 *
 * Return: 0 or a negative error code.
 */
int p2pgem_vram_mgr_init(struct p2pgem_device *p2p)
{
	struct p2pgem_vram_mgr *mgr = &p2p->vram_mgr;
	struct ttm_resource_manager *man = &mgr->manager;
	int ret;

	ret = drm_buddy_init(&mgr->mm, p2p->vram_size, PAGE_SIZE);
	if (ret)
		return ret;

	mutex_init(&mgr->lock);
	mgr->visible_pages = p2p->visible_size >> PAGE_SHIFT;
	mgr->visible_avail = mgr->visible_pages;
	mgr->used_pages = 0;

	man->func = &p2pgem_vram_mgr_func;
	man->use_tt = false;
	ttm_resource_manager_init(man, &p2p->bdev, p2p->vram_size >> PAGE_SHIFT);
	ttm_set_driver_manager(&p2p->bdev, TTM_PL_VRAM, man);
	ttm_resource_manager_set_used(man, true);
	return 0;
}

/**
 * p2pgem_vram_mgr_fini - evict everything and take the manager from TTM
 * @p2p: the device
 *
 * Called when the last reference to the DRM device goes, so the only
 * buffer objects left are ones TTM is still destroying.
 */
void p2pgem_vram_mgr_fini(struct p2pgem_device *p2p)
{
	struct p2pgem_vram_mgr *mgr = &p2p->vram_mgr;
	struct ttm_resource_manager *man = &mgr->manager;

	ttm_resource_manager_set_used(man, false);
	if (ttm_resource_manager_evict_all(&p2p->bdev, man))
		return;
	ttm_resource_manager_cleanup(man);
	ttm_set_driver_manager(&p2p->bdev, TTM_PL_VRAM, NULL);

	mutex_lock(&mgr->lock);
	drm_buddy_fini(&mgr->mm);
	mutex_unlock(&mgr->lock);
	mutex_destroy(&mgr->lock);
}

/**
 * p2pgem_vram_mgr_usage - how much VRAM is allocated
 * @mgr: the manager
 * @used: set to the bytes allocated
 * @visible_used: set to the bytes allocated in the visible window
 *
 * Takes &p2pgem_vram_mgr.lock.
 */
void p2pgem_vram_mgr_usage(struct p2pgem_vram_mgr *mgr, u64 *used,
			   u64 *visible_used)
{
	mutex_lock(&mgr->lock);
	*used = (u64)mgr->used_pages << PAGE_SHIFT;
	*visible_used = (u64)(mgr->visible_pages - mgr->visible_avail) <<
			PAGE_SHIFT;
	mutex_unlock(&mgr->lock);
}

/**
 * p2pgem_vram_res_offset - the VRAM byte offset of a page of an allocation
 * @mgr: the VRAM manager
 * @res: a VRAM resource
 * @page: page index in the buffer object
 *
 * The caller holds the buffer object's reservation lock, so @res stays.
 *
 * Return: the offset from VRAM offset 0.
 */
u64 p2pgem_vram_res_offset(struct p2pgem_vram_mgr *mgr, struct ttm_resource *res,
			   unsigned long page)
{
	struct p2pgem_vram_res *vres = to_p2pgem_vram_res(res);
	struct drm_buddy_block *block;

	list_for_each_entry(block, &vres->blocks, link) {
		unsigned long pages = p2pgem_block_pages(&mgr->mm, block);

		if (page < pages)
			return drm_buddy_block_offset(block) +
				((u64)page << PAGE_SHIFT);
		page -= pages;
	}
	return 0;
}

/**
 * p2pgem_vram_res_pfns - the page frames of part of an allocation
 * @mgr: the VRAM manager
 * @res: a VRAM resource
 * @base: the physical address of VRAM offset 0 (the BAR's start)
 * @first: the first page wanted, counted from the start of @res
 * @count: how many
 * @pages: out: @count pages, pfn_to_page() of each frame
 *
 * Walks the allocation's blocks in place: nothing is allocated, so that an
 * importer's small I/O pays no more than its pages. Call with the buffer
 * object's reservation lock held (the blocks do not change under it).
 *
 * Return: 0, or -EINVAL when @res ends before @first + @count.
 */
int p2pgem_vram_res_pfns(struct p2pgem_vram_mgr *mgr, struct ttm_resource *res,
			 phys_addr_t base, pgoff_t first, unsigned long count,
			 struct page **pages)
{
	struct p2pgem_vram_res *vres = to_p2pgem_vram_res(res);
	u64 left = (u64)res->num_pages << PAGE_SHIFT;
	u64 skip = (u64)first << PAGE_SHIFT;
	struct drm_buddy_block *block;
	unsigned long i = 0;

	list_for_each_entry(block, &vres->blocks, link) {
		u64 start = drm_buddy_block_offset(block);
		u64 size = min(drm_buddy_block_size(&mgr->mm, block), left);
		u64 off;

		if (!left || i == count)
			break;
		left -= size;
		if (skip >= size) {
			skip -= size;
			continue;
		}
		for (off = skip; off < size && i < count; off += PAGE_SIZE)
			pages[i++] = pfn_to_page(PHYS_PFN(base + start + off));
		skip = 0;
	}
	return i == count ? 0 : -EINVAL;
}

/**
 * p2pgem_vram_res_extents - the VRAM ranges of an allocation, as an array
 * @mgr: the VRAM manager
 * @res: a VRAM resource
 * @count: set to the number of entries
 *
 * The copy engine works from this copy, which stays valid after TTM frees
 * @res (a pipelined eviction frees it before the copy ran).
 *
 * Return: a kvmalloc'ed array covering @res->num_pages pages in order, or
 * NULL when out of memory.
 */
struct p2pbuf_range *p2pgem_vram_res_extents(struct p2pgem_vram_mgr *mgr,
					     struct ttm_resource *res,
					     unsigned int *count)
{
	struct p2pgem_vram_res *vres = to_p2pgem_vram_res(res);
	u64 left = (u64)res->num_pages << PAGE_SHIFT;
	struct drm_buddy_block *block;
	struct p2pbuf_range *ext;
	unsigned int n = 0;

	list_for_each_entry(block, &vres->blocks, link)
		n++;
	ext = kvmalloc_array(n, sizeof(*ext), GFP_KERNEL);
	if (!ext)
		return NULL;

	n = 0;
	list_for_each_entry(block, &vres->blocks, link) {
		if (!left)
			break;
		ext[n].offset = drm_buddy_block_offset(block);
		ext[n].size = min(drm_buddy_block_size(&mgr->mm, block), left);
		left -= ext[n].size;
		n++;
	}
	*count = n;
	return ext;
}
