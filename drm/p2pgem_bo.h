/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pgem: buffer objects on TTM.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PGEM_BO_H_
#define _P2PGEM_BO_H_

#include "p2pgem_types.h"

struct drm_p2pgem_gem_info;

extern struct ttm_device_funcs p2pgem_ttm_funcs;

int p2pgem_bo_create(struct p2pgem_device *p2p, u64 size, u32 placement,
		     u32 flags, struct p2pgem_bo **out);
int p2pgem_bo_info(struct p2pgem_bo *bo, struct drm_p2pgem_gem_info *info);
int p2pgem_bo_evict(struct p2pgem_bo *bo);
int p2pgem_bo_to_system(struct p2pgem_bo *bo, bool interruptible);
int p2pgem_bo_place_visible(struct p2pgem_bo *bo, bool interruptible);
int p2pgem_bo_pages(struct p2pgem_bo *bo, pgoff_t first, unsigned long count,
		    struct page **pages);
u32 p2pgem_bo_uapi_placement(u32 mem_type);
void p2pgem_revoke(struct p2pgem_device *p2p);

static inline struct p2pgem_bo *gem_to_p2pgem_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct p2pgem_bo, tbo.base);
}

#endif /* _P2PGEM_BO_H_ */
