/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: the structures shared by the files of the driver.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_TYPES_H_
#define _P2PGEM_TYPES_H_

#include <linux/atomic.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <drm/drm_buddy.h>
#include <drm/drm_device.h>
#include <drm/ttm/ttm_bo_api.h>
#include <drm/ttm/ttm_device.h>
#include <drm/ttm/ttm_placement.h>
#include <drm/ttm/ttm_resource.h>

#include "../dma-buf/p2pbuf.h"

struct p2pgem_engine;

/**
 * struct p2pgem_vram_mgr - the TTM resource manager of the VRAM heap
 * @manager: the TTM resource manager (TTM_PL_VRAM)
 * @mm: the buddy allocator over [0, VRAM size)
 * @lock: protects @mm, @visible_avail and @used_pages; innermost lock
 * @visible_pages: size of the CPU-visible window, in pages, from offset 0
 * @visible_avail: free pages in the visible window
 * @used_pages: allocated pages
 */
struct p2pgem_vram_mgr {
	struct ttm_resource_manager manager;
	struct drm_buddy mm;
	struct mutex lock; /* see above */
	unsigned long visible_pages;
	unsigned long visible_avail;
	unsigned long used_pages;
};

/**
 * struct p2pgem_vram_res - a VRAM allocation
 * @base: the TTM resource
 * @blocks: the buddy blocks, in the order of the buffer object's pages
 * @visible_pages: pages of this allocation inside the visible window
 * @contiguous: allocated as one contiguous range
 */
struct p2pgem_vram_res {
	struct ttm_resource base;
	struct list_head blocks;
	unsigned long visible_pages;
	bool contiguous;
};

/**
 * struct p2pgem_device - one p2pgem instance (one VRAM BAR)
 * @drm: the DRM device
 * @bdev: the TTM device
 * @vram_mgr: the VRAM resource manager
 * @engine: the copy engine (p2pgem_copy.c); it can outlive the device
 * @vram: write-combined kernel mapping of the managed VRAM
 * @vram_base: CPU physical address of VRAM offset 0
 * @vram_size: bytes of VRAM managed
 * @visible_size: bytes of the CPU-visible window
 * @bar: the BAR number
 * @bo_lock: protects @bo_list and @import_list
 * @bo_list: every live buffer object, for debugfs
 * @import_list: every import of another exporter's dma-buf, for revoke
 * @bo_ids: last buffer object id handed out
 * @evictions: moves from VRAM to system memory
 * @moves: moves with a copy
 * @pin_quota: bytes of VRAM that dma-buf pins may hold
 * @pinned_vram: bytes of VRAM held by dma-buf pins now
 */
struct p2pgem_device {
	struct drm_device drm;
	struct ttm_device bdev;
	struct p2pgem_vram_mgr vram_mgr;
	struct p2pgem_engine *engine;
	void __iomem *vram;
	resource_size_t vram_base;
	u64 vram_size;
	u64 visible_size;
	int bar;
	struct mutex bo_lock; /* protects bo_list */
	struct list_head bo_list;
	struct list_head import_list;
	atomic64_t bo_ids;
	atomic64_t evictions;
	atomic64_t moves;
	u64 pin_quota;
	atomic64_t pinned_vram;
};

/**
 * struct p2pgem_bo - a p2pgem buffer object
 * @tbo: the TTM buffer object (its @base is the GEM object)
 * @link: entry in &p2pgem_device.bo_list
 * @id: a device-unique number, shown in debugfs
 * @placement: requested placement, P2PGEM_PLACEMENT_*
 * @flags: creation flags, P2PGEM_CREATE_*
 * @mem_type: current TTM memory type, a copy for debugfs
 * @move_count: moves with a copy
 * @pinned_vram: pinned in VRAM, charged to the pin quota; under the
 *	reservation lock
 * @dmabuf: the live dma-buf p2pgem exported for this buffer object, or
 *	NULL; set by the export, cleared by the dma-buf's release, under the
 *	reservation lock. Unlike &drm_gem_object.dma_buf it stays set when the
 *	last GEM handle is closed while the dma-buf lives on.
 */
struct p2pgem_bo {
	struct ttm_buffer_object tbo;
	struct list_head link;
	u64 id;
	u32 placement;
	u32 flags;
	u32 mem_type;
	atomic64_t move_count;
	bool pinned_vram;
	struct dma_buf *dmabuf;
};

/**
 * struct p2pgem_placement - storage for a TTM placement
 * @places: the places, in order of preference
 * @placement: what is passed to TTM; points into @places
 */
struct p2pgem_placement {
	struct ttm_place places[2];
	struct ttm_placement placement;
};

/**
 * enum p2pgem_fault_action - what a CPU fault does before mapping
 * @P2PGEM_FAULT_MAP: map the buffer object where it is
 * @P2PGEM_FAULT_MOVE_VISIBLE: move into the visible window (or to system
 *	memory when the window is full); VRAM outside it cannot be mapped
 * @P2PGEM_FAULT_RETURN_VRAM: in system memory but wants VRAM: try to bring
 *	it back into the visible window, else map it in system memory
 */
enum p2pgem_fault_action {
	P2PGEM_FAULT_MAP,
	P2PGEM_FAULT_MOVE_VISIBLE,
	P2PGEM_FAULT_RETURN_VRAM,
};

/**
 * enum p2pgem_refused_action - after the DMA API refused a P2P map
 * @P2PGEM_REFUSED_TO_SYSTEM: not pinned, or pinned in system memory: map
 *	system memory (moving the buffer object there when it is not)
 * @P2PGEM_REFUSED_REPIN_SYSTEM: pinned in VRAM by the refused attachment
 *	alone: move it to system memory under the same pins, give the quota
 *	back, and map system memory
 * @P2PGEM_REFUSED_BUSY: pinned in VRAM for other users too: -EBUSY
 */
enum p2pgem_refused_action {
	P2PGEM_REFUSED_TO_SYSTEM,
	P2PGEM_REFUSED_REPIN_SYSTEM,
	P2PGEM_REFUSED_BUSY,
};

static inline struct p2pgem_device *to_p2pgem_device(struct ttm_device *bdev)
{
	return container_of(bdev, struct p2pgem_device, bdev);
}

static inline struct p2pgem_bo *to_p2pgem_bo(struct ttm_buffer_object *tbo)
{
	return container_of(tbo, struct p2pgem_bo, tbo);
}

static inline struct p2pgem_vram_res *
to_p2pgem_vram_res(struct ttm_resource *res)
{
	return container_of(res, struct p2pgem_vram_res, base);
}

#endif /* _P2PGEM_TYPES_H_ */
