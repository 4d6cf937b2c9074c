// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: debugfs files, in the DRM minor's directory.
 *
 *   p2pgem_vram  the VRAM manager: sizes, the visible window, drm_buddy state
 *   p2pgem_bos   every buffer object: id, size, requested and current
 *                placement, moves, pins
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/seq_file.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/p2pgem_drm.h>
#include <drm/ttm/ttm_resource.h>

#include "p2pgem_bo.h"
#include "p2pgem_debugfs.h"

static struct p2pgem_device *p2pgem_debugfs_device(struct seq_file *m)
{
	struct drm_info_node *node = m->private;

	return container_of(node->minor->dev, struct p2pgem_device, drm);
}

static int p2pgem_debugfs_vram(struct seq_file *m, void *data)
{
	struct p2pgem_device *p2p = p2pgem_debugfs_device(m);
	struct drm_printer p = drm_seq_file_printer(m);

	drm_printf(&p, "bar: %d\n", p2p->bar);
	drm_printf(&p, "evictions: %lld\n", atomic64_read(&p2p->evictions));
	drm_printf(&p, "moves: %lld\n", atomic64_read(&p2p->moves));
	ttm_resource_manager_debug(&p2p->vram_mgr.manager, &p);
	return 0;
}

static const char *p2pgem_placement_name(u32 placement)
{
	switch (placement) {
	case P2PGEM_PLACEMENT_VRAM:
		return "vram";
	case P2PGEM_PLACEMENT_SYSTEM:
		return "system";
	case P2PGEM_PLACEMENT_VRAM_PREFERRED:
		return "vram-preferred";
	default:
		return "?";
	}
}

static int p2pgem_debugfs_bos(struct seq_file *m, void *data)
{
	struct p2pgem_device *p2p = p2pgem_debugfs_device(m);
	struct p2pgem_bo *bo;

	seq_puts(m, "id size requested flags placement moves pinned\n");
	mutex_lock(&p2p->bo_lock);
	list_for_each_entry(bo, &p2p->bo_list, link) {
		u32 mem_type = READ_ONCE(bo->mem_type);

		seq_printf(m, "%llu %zu %s 0x%x %s %lld %u\n", bo->id,
			   bo->tbo.base.size,
			   p2pgem_placement_name(bo->placement), bo->flags,
			   p2pgem_placement_name(p2pgem_bo_uapi_placement(mem_type)),
			   atomic64_read(&bo->move_count),
			   READ_ONCE(bo->tbo.pin_count));
	}
	mutex_unlock(&p2p->bo_lock);
	return 0;
}

static const struct drm_info_list p2pgem_debugfs_list[] = {
	{ "p2pgem_vram", p2pgem_debugfs_vram, 0, NULL },
	{ "p2pgem_bos", p2pgem_debugfs_bos, 0, NULL },
};

/**
 * p2pgem_debugfs_init - create the debugfs files of a DRM minor
 * @minor: the minor, called by the DRM core for each one
 */
void p2pgem_debugfs_init(struct drm_minor *minor)
{
	drm_debugfs_create_files(p2pgem_debugfs_list,
				 ARRAY_SIZE(p2pgem_debugfs_list),
				 minor->debugfs_root, minor);
}
