/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: placement decisions and the CPU-visible window rule.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_PLACEMENT_H_
#define _P2PGEM_PLACEMENT_H_

#include "p2pgem_types.h"

int p2pgem_check_create(u64 size, u32 placement, u32 flags, u64 vram_size,
			u64 visible_size, u64 system_size);
void p2pgem_placement_create(struct p2pgem_placement *pl, u32 requested,
			     u32 flags, unsigned long visible_pages,
			     unsigned long vram_pages);
void p2pgem_placement_fault(struct p2pgem_placement *pl,
			    enum p2pgem_fault_action action, u32 requested,
			    u32 flags, unsigned long visible_pages,
			    unsigned long vram_pages);
void p2pgem_placement_visible(struct p2pgem_placement *pl,
			      enum p2pgem_fault_action action, u32 requested,
			      u32 flags, unsigned long num_pages,
			      unsigned long visible_pages,
			      unsigned long vram_pages);
void p2pgem_placement_system(struct p2pgem_placement *pl);
enum p2pgem_fault_action p2pgem_fault_action(u32 mem_type, u32 requested,
					     u32 flags, unsigned long num_pages,
					     unsigned long res_visible_pages,
					     unsigned long visible_pages);
unsigned long p2pgem_visible_overlap(unsigned long start, unsigned long count,
				     unsigned long visible_pages);
enum p2pgem_refused_action p2pgem_refused_action(unsigned int bo_pins,
						 bool pinned_vram,
						 unsigned int attach_pins);

#endif /* _P2PGEM_PLACEMENT_H_ */
