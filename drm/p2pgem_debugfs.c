// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: debugfs files, in the DRM minor's directory.
 *
 *   p2pgem_vram  the VRAM manager: sizes, the visible window, drm_buddy state
 *   p2pgem_bos   every buffer object: id, size, requested and current
 *                placement, moves, pins
 *   p2pgem_attachments  every dma-buf attachment of an exported buffer
 *                object: importer device, dynamic or static, peer2peer,
 *                the P2P decision, the memory mapped, pins, mappings,
 *                where the pins hold the buffer object and why
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/seq_file.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/p2pgem_drm.h>
#include <drm/ttm/ttm_resource.h>

#include "p2pgem_bo.h"
#include "p2pgem_debugfs.h"
#include "p2pgem_dma_buf.h"

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

/*
 * Why an attachment holds its pins: a static importer is pinned by the
 * dma-buf core from attach to detach; a kernel without
 * CONFIG_DMABUF_MOVE_NOTIFY pins for each mapping of a dynamic importer
 * (one pin per mapping, dropped with it); any other pin is the importer's
 * own dma_buf_pin(). Reservation lock held.
 */
static void p2pgem_debugfs_pin_cause(struct seq_file *m,
				     struct dma_buf_attachment *attach,
				     const struct p2pbuf_attachment *pa)
{
	unsigned int by_map = 0;

	if (!pa->pins) {
		seq_puts(m, "-");
		return;
	}
	if (!dma_buf_attachment_is_dynamic(attach)) {
		seq_puts(m, "static-importer");
		return;
	}
	if (!IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY))
		by_map = min(pa->mapped, pa->pins);
	if (by_map)
		seq_puts(m, "mapped-without-move-notify");
	if (pa->pins > by_map)
		seq_printf(m, "%simporter-pin", by_map ? "+" : "");
}

static void p2pgem_debugfs_bo_attachments(struct seq_file *m,
					  struct p2pgem_bo *bo)
{
	struct dma_resv *resv = bo->tbo.base.resv;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;

	/* Under bo_lock nothing may wait for a reservation lock. */
	if (!dma_resv_trylock(resv)) {
		seq_printf(m, "%llu busy\n", bo->id);
		return;
	}
	dmabuf = p2pgem_bo_dma_buf(bo);
	if (!dmabuf) {
		dma_resv_unlock(resv);
		return;
	}
	list_for_each_entry(attach, &dmabuf->attachments, node) {
		struct p2pbuf_attachment *pa = p2pbuf_attachment(attach);

		seq_printf(m, "%llu %s %s %s %s %s %u %u %s ", bo->id,
			   dev_name(attach->dev),
			   dma_buf_attachment_is_dynamic(attach) ?
			   "dynamic" : "static",
			   attach->peer2peer ? "peer2peer" : "no-peer2peer",
			   p2pbuf_reason_name(pa->reason),
			   !pa->mapped ? "unmapped" :
			   pa->p2p_mapped ? "p2p" : "system",
			   pa->pins, pa->mapped,
			   !pa->pins ? "-" : bo->pinned_vram ? "vram" :
			   "system");
		p2pgem_debugfs_pin_cause(m, attach, pa);
		seq_putc(m, '\n');
	}
	dma_resv_unlock(resv);
}

static int p2pgem_debugfs_attachments(struct seq_file *m, void *data)
{
	struct p2pgem_device *p2p = p2pgem_debugfs_device(m);
	struct p2pgem_bo *bo;

	seq_puts(m, "bo importer kind peer2peer decision mapped pins mappings pinned-in pin-cause\n");
	mutex_lock(&p2p->bo_lock);
	list_for_each_entry(bo, &p2p->bo_list, link)
		p2pgem_debugfs_bo_attachments(m, bo);
	mutex_unlock(&p2p->bo_lock);
	return 0;
}

static const struct drm_info_list p2pgem_debugfs_list[] = {
	{ "p2pgem_vram", p2pgem_debugfs_vram, 0, NULL },
	{ "p2pgem_bos", p2pgem_debugfs_bos, 0, NULL },
	{ "p2pgem_attachments", p2pgem_debugfs_attachments, 0, NULL },
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
