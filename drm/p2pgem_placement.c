// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: placement decisions and the CPU-visible window rule.
 *
 * Everything here is pure logic on numbers, tested by KUnit (p2pgem_test.c).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>

#include <kunit/visibility.h>
#include <drm/p2pgem_drm.h>

#include "p2pgem_placement.h"

static bool p2pgem_fits(u64 size, u32 flags, u64 limit)
{
	if (flags & P2PGEM_CREATE_CONTIGUOUS) {
		/* The buddy allocator's largest block is its largest root. */
		if (limit < PAGE_SIZE)
			return false;
		return roundup_pow_of_two(size) <= rounddown_pow_of_two(limit);
	}
	return size <= limit;
}

/**
 * p2pgem_check_create - validate the arguments of a buffer object creation
 * @size: requested size in bytes
 * @placement: requested placement, P2PGEM_PLACEMENT_*
 * @flags: P2PGEM_CREATE_* flags
 * @vram_size: bytes of VRAM of the device
 * @visible_size: bytes of the CPU-visible window
 * @system_size: bytes of system memory of the machine
 *
 * Return: 0 when a buffer object of @size can ever be placed; -EINVAL for a
 * zero size, an unknown placement or unknown flags, or flags that need VRAM
 * with %P2PGEM_PLACEMENT_SYSTEM; -E2BIG for a size that overflows when
 * rounded up to pages or that can never be placed.
 */
int p2pgem_check_create(u64 size, u32 placement, u32 flags, u64 vram_size,
			u64 visible_size, u64 system_size)
{
	if (!size)
		return -EINVAL;
	if (placement != P2PGEM_PLACEMENT_VRAM &&
	    placement != P2PGEM_PLACEMENT_SYSTEM &&
	    placement != P2PGEM_PLACEMENT_VRAM_PREFERRED)
		return -EINVAL;
	if (flags & ~P2PGEM_CREATE_FLAGS)
		return -EINVAL;
	if (placement == P2PGEM_PLACEMENT_SYSTEM && flags)
		return -EINVAL;

	if (size > U64_MAX - PAGE_SIZE + 1)
		return -E2BIG;
	size = PAGE_ALIGN(size);
	/* ttm_tt counts pages in 32 bits; any buffer may end up in RAM. */
	if ((size >> PAGE_SHIFT) > U32_MAX || size > system_size)
		return -E2BIG;

	if (placement == P2PGEM_PLACEMENT_VRAM && !p2pgem_fits(size, flags,
							       vram_size))
		return -E2BIG;
	if ((flags & P2PGEM_CREATE_CPU_ACCESS) &&
	    !p2pgem_fits(size, flags, visible_size))
		return -E2BIG;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_check_create);

static void p2pgem_place_vram(struct ttm_place *place, u32 flags, bool visible,
			      unsigned long visible_pages,
			      unsigned long vram_pages)
{
	memset(place, 0, sizeof(*place));
	place->mem_type = TTM_PL_VRAM;
	if (flags & P2PGEM_CREATE_CONTIGUOUS)
		place->flags |= TTM_PL_FLAG_CONTIGUOUS;
	if (visible_pages >= vram_pages)
		return;
	if (visible)
		place->lpfn = visible_pages;
	else
		/* Keep the visible window free for buffers that need it. */
		place->flags |= TTM_PL_FLAG_TOPDOWN;
}

static void p2pgem_place_system(struct ttm_place *place)
{
	memset(place, 0, sizeof(*place));
	place->mem_type = TTM_PL_SYSTEM;
}

static void p2pgem_placement_set(struct p2pgem_placement *pl,
				 unsigned int num, unsigned int num_busy)
{
	pl->placement.placement = pl->places;
	pl->placement.num_placement = num;
	pl->placement.busy_placement = pl->places;
	pl->placement.num_busy_placement = num_busy;
}

/**
 * p2pgem_placement_create - the placement of a new buffer object
 * @pl: filled in
 * @requested: P2PGEM_PLACEMENT_* given at creation
 * @flags: P2PGEM_CREATE_* given at creation
 * @visible_pages: pages of the CPU-visible window
 * @vram_pages: pages of VRAM
 *
 * VRAM evicts other buffer objects when full. VRAM-preferred takes only
 * free VRAM, never evicting; when that fails the caller keeps the buffer
 * object in system memory. Without %P2PGEM_CREATE_CPU_ACCESS,
 * VRAM is allocated from the top so the visible window stays free.
 *
 * This placement is also where a buffer object returns when validated.
 */
void p2pgem_placement_create(struct p2pgem_placement *pl, u32 requested,
			     u32 flags, unsigned long visible_pages,
			     unsigned long vram_pages)
{
	bool visible = flags & P2PGEM_CREATE_CPU_ACCESS;

	switch (requested) {
	case P2PGEM_PLACEMENT_VRAM:
		p2pgem_place_vram(&pl->places[0], flags, visible,
				  visible_pages, vram_pages);
		p2pgem_placement_set(pl, 1, 1);
		break;
	case P2PGEM_PLACEMENT_VRAM_PREFERRED:
		/*
		 * Free VRAM only (no busy placement: never evict). A system
		 * place here would make TTM keep the buffer where it is, so
		 * the caller falls back to system memory when this fails.
		 */
		p2pgem_place_vram(&pl->places[0], flags, visible,
				  visible_pages, vram_pages);
		p2pgem_placement_set(pl, 1, 0);
		break;
	default:
		p2pgem_place_system(&pl->places[0]);
		p2pgem_placement_set(pl, 1, 1);
		break;
	}
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_placement_create);

/**
 * p2pgem_placement_fault - the placement a CPU fault validates into
 * @pl: filled in
 * @action: from p2pgem_fault_action()
 * @requested: P2PGEM_PLACEMENT_* given at creation
 * @flags: P2PGEM_CREATE_* given at creation
 * @visible_pages: pages of the CPU-visible window
 * @vram_pages: pages of VRAM
 *
 * %P2PGEM_FAULT_MOVE_VISIBLE: the visible window, evicting if needed, else
 * system memory. %P2PGEM_FAULT_RETURN_VRAM: the visible window only (the
 * caller keeps the buffer in system memory when that fails); VRAM-only
 * buffers evict others, VRAM-preferred ones take only free space.
 * %P2PGEM_FAULT_MAP: an empty placement.
 */
void p2pgem_placement_fault(struct p2pgem_placement *pl,
			    enum p2pgem_fault_action action, u32 requested,
			    u32 flags, unsigned long visible_pages,
			    unsigned long vram_pages)
{
	switch (action) {
	case P2PGEM_FAULT_MOVE_VISIBLE:
		p2pgem_place_vram(&pl->places[0], flags, true, visible_pages,
				  vram_pages);
		p2pgem_place_system(&pl->places[1]);
		p2pgem_placement_set(pl, 1, 2);
		break;
	case P2PGEM_FAULT_RETURN_VRAM:
		p2pgem_place_vram(&pl->places[0], flags, true, visible_pages,
				  vram_pages);
		p2pgem_placement_set(pl, 1,
				     requested == P2PGEM_PLACEMENT_VRAM ? 1 : 0);
		break;
	default:
		p2pgem_placement_set(pl, 0, 0);
		break;
	}
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_placement_fault);

/**
 * p2pgem_placement_visible - the placement of a move into the visible window
 * @pl: filled in
 * @action: from p2pgem_fault_action()
 * @requested: P2PGEM_PLACEMENT_* given at creation
 * @flags: P2PGEM_CREATE_* given at creation
 * @num_pages: pages of the buffer object
 * @visible_pages: pages of the CPU-visible window
 * @vram_pages: pages of VRAM
 *
 * What CPU faults and peer-to-peer maps validate into: the placement of
 * p2pgem_placement_fault(), except that a buffer object that can never fit
 * in the visible window gets system memory as its only busy place. With
 * the window as a busy place TTM would evict every buffer object in the
 * window before finding that it still does not fit (the VRAM manager
 * answers -ENOSPC until the window is empty). So evictions make room only
 * for a buffer object that the room can take.
 */
void p2pgem_placement_visible(struct p2pgem_placement *pl,
			      enum p2pgem_fault_action action, u32 requested,
			      u32 flags, unsigned long num_pages,
			      unsigned long visible_pages,
			      unsigned long vram_pages)
{
	p2pgem_placement_fault(pl, action, requested, flags, visible_pages,
			       vram_pages);
	if (action != P2PGEM_FAULT_MOVE_VISIBLE ||
	    p2pgem_fits((u64)num_pages << PAGE_SHIFT, flags,
			(u64)visible_pages << PAGE_SHIFT))
		return;
	/* Free visible VRAM (there is none big enough), then system memory. */
	pl->placement.busy_placement = &pl->places[1];
	pl->placement.num_busy_placement = 1;
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_placement_visible);

/**
 * p2pgem_placement_system - system memory only (eviction, forced eviction)
 * @pl: filled in
 */
void p2pgem_placement_system(struct p2pgem_placement *pl)
{
	p2pgem_place_system(&pl->places[0]);
	p2pgem_placement_set(pl, 1, 1);
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_placement_system);

/**
 * p2pgem_fault_action - the visible-window rule for a CPU fault
 * @mem_type: where the buffer object is, TTM_PL_VRAM or TTM_PL_SYSTEM
 * @requested: P2PGEM_PLACEMENT_* given at creation
 * @flags: P2PGEM_CREATE_* given at creation
 * @num_pages: pages of the buffer object
 * @res_visible_pages: pages of its VRAM inside the visible window
 * @visible_pages: pages of the CPU-visible window
 *
 * A buffer object the CPU maps must be entirely inside the visible window or
 * in system memory. One in system memory that wants VRAM returns to the
 * visible window when it fits there.
 *
 * Return: what the fault does before mapping.
 */
enum p2pgem_fault_action
p2pgem_fault_action(u32 mem_type, u32 requested, u32 flags,
		    unsigned long num_pages, unsigned long res_visible_pages,
		    unsigned long visible_pages)
{
	if (mem_type == TTM_PL_VRAM)
		return res_visible_pages >= num_pages ? P2PGEM_FAULT_MAP :
			P2PGEM_FAULT_MOVE_VISIBLE;
	if (requested == P2PGEM_PLACEMENT_SYSTEM)
		return P2PGEM_FAULT_MAP;
	if (!p2pgem_fits((u64)num_pages << PAGE_SHIFT, flags,
			 (u64)visible_pages << PAGE_SHIFT))
		return P2PGEM_FAULT_MAP;
	return P2PGEM_FAULT_RETURN_VRAM;
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_fault_action);

/**
 * p2pgem_visible_overlap - pages of a range inside the visible window
 * @start: first page of the range
 * @count: pages in the range
 * @visible_pages: pages of the window, which starts at page 0
 *
 * Return: the number of pages of [@start, @start + @count) below
 * @visible_pages.
 */
unsigned long p2pgem_visible_overlap(unsigned long start, unsigned long count,
				     unsigned long visible_pages)
{
	if (start >= visible_pages)
		return 0;
	return min(count, visible_pages - start);
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_visible_overlap);

/**
 * p2pgem_refused_action - what a map does when the DMA API refused P2P
 * @bo_pins: pins of the buffer object (importers', the dma-buf core's on
 *	map, vmaps)
 * @pinned_vram: it is pinned in VRAM
 * @attach_pins: pins the refused attachment holds
 *
 * The decision said the importer reaches the VRAM, the DMA API said
 * -EREMOTEIO, so the attachment gets system memory. A buffer object pinned
 * in VRAM cannot go there, unless every pin is the refused attachment's
 * own: the pin rule placed it in VRAM for that attachment (without
 * CONFIG_DMABUF_MOVE_NOTIFY the dma-buf core pins right before each map),
 * and by the rule it now belongs in system memory. Any other pin (another
 * importer's, a vmap) may rely on the VRAM and keeps it there.
 *
 * Return: the action, see enum p2pgem_refused_action.
 */
enum p2pgem_refused_action p2pgem_refused_action(unsigned int bo_pins,
						 bool pinned_vram,
						 unsigned int attach_pins)
{
	if (!bo_pins || !pinned_vram)
		return P2PGEM_REFUSED_TO_SYSTEM;
	if (attach_pins == bo_pins)
		return P2PGEM_REFUSED_REPIN_SYSTEM;
	return P2PGEM_REFUSED_BUSY;
}
EXPORT_SYMBOL_IF_KUNIT(p2pgem_refused_action);
