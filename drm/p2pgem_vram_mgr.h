/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: the VRAM resource manager (TTM over drm_buddy).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_VRAM_MGR_H_
#define _P2PGEM_VRAM_MGR_H_

#include "p2pgem_types.h"

int p2pgem_vram_mgr_init(struct p2pgem_device *p2p);
void p2pgem_vram_mgr_fini(struct p2pgem_device *p2p);
void p2pgem_vram_mgr_usage(struct p2pgem_vram_mgr *mgr, u64 *used,
			   u64 *visible_used);
u64 p2pgem_vram_res_offset(struct p2pgem_vram_mgr *mgr, struct ttm_resource *res,
			   unsigned long page);
int p2pgem_vram_res_pfns(struct p2pgem_vram_mgr *mgr, struct ttm_resource *res,
			 phys_addr_t base, pgoff_t first, unsigned long count,
			 struct page **pages);
struct p2pbuf_range *p2pgem_vram_res_extents(struct p2pgem_vram_mgr *mgr,
					     struct ttm_resource *res,
					     unsigned int *count);

#endif /* _P2PGEM_VRAM_MGR_H_ */
