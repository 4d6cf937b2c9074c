// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgem: a DRM render-node GEM driver that turns a PCI BAR into VRAM.
 *
 * Each bound PCI function gives one instance: its VRAM BAR is registered
 * as P2P memory (pci_p2pdma_add_resource, not published: p2pgem owns the
 * allocation; a kernel without CONFIG_PCI_P2PDMA has none, and importers
 * then get system memory), mapped write-combined for the copy engine,
 * managed by TTM through the VRAM manager, and offered to userspace as a
 * render node.
 *
 * Teardown: remove() unplugs the DRM device, revokes every buffer object
 * (importers are told with move_notify and can no longer map, CPU mappings
 * fault with SIGBUS) and stops the copy engine once every job has ended;
 * devm then releases the BAR and its P2P pages. What the DRM device owns
 * is released in reverse order of creation (drmm actions) when the last
 * user is gone; the engine's memory lives on while fences name it.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_prime.h>
#include <drm/drm_print.h>

#include "p2pgem_bo.h"
#include "p2pgem_copy.h"
#include "p2pgem_debugfs.h"
#include "p2pgem_dma_buf.h"
#include "p2pgem_import.h"
#include "p2pgem_ioctl.h"
#include "p2pgem_vram_mgr.h"

static int p2pgem_bar = -1;
module_param_named(bar, p2pgem_bar, int, 0444);
MODULE_PARM_DESC(bar, "VRAM BAR for every device (default: from the id table, BAR 2 for ivshmem; needed for devices added through new_id)");

static unsigned int p2pgem_vram_mb;
module_param_named(vram_mb, p2pgem_vram_mb, uint, 0444);
MODULE_PARM_DESC(vram_mb, "MiB of the BAR to manage as VRAM (default 0: the whole BAR)");

static unsigned int p2pgem_visible_mb;
module_param_named(visible_mb, p2pgem_visible_mb, uint, 0444);
MODULE_PARM_DESC(visible_mb, "MiB of VRAM the CPU may map, from offset 0 (default 0: all of it)");

static int p2pgem_pin_quota_mb = -1;
module_param_named(pin_quota_mb, p2pgem_pin_quota_mb, int, 0444);
MODULE_PARM_DESC(pin_quota_mb, "MiB of VRAM that dma-buf importers may keep pinned (default -1: half of VRAM; 0: never pin in VRAM)");

/* driver_data of the id table: the BAR holding VRAM. */
#define P2PGEM_ID_HAS_BAR	BIT(8)
#define P2PGEM_ID_BAR_MASK	0xff

DEFINE_DRM_GEM_FOPS(p2pgem_fops);

/* Each open file gets its own copy queue (a scheduler entity). */
static int p2pgem_open(struct drm_device *drm, struct drm_file *file)
{
	struct p2pgem_device *p2p = container_of(drm, struct p2pgem_device,
						 drm);
	struct p2pgem_copy_queue *queue;
	int ret;

	queue = kzalloc(sizeof(*queue), GFP_KERNEL);
	if (!queue)
		return -ENOMEM;
	ret = p2pgem_copy_queue_init(p2p, queue);
	if (ret) {
		kfree(queue);
		return ret;
	}
	file->driver_priv = queue;
	return 0;
}

/* The file's copies not yet run are cancelled; the queue waits for them. */
static void p2pgem_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct p2pgem_copy_queue *queue = file->driver_priv;

	p2pgem_copy_queue_fini(queue);
	kfree(queue);
}

static const struct drm_driver p2pgem_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER,
	.ioctls = p2pgem_ioctls,
	.num_ioctls = P2PGEM_NUM_IOCTLS,
	.fops = &p2pgem_fops,
	.open = p2pgem_open,
	.postclose = p2pgem_postclose,
	.prime_handle_to_fd = drm_gem_prime_handle_to_fd,
	.prime_fd_to_handle = drm_gem_prime_fd_to_handle,
	.gem_prime_import = p2pgem_gem_prime_import,
	.gem_prime_mmap = drm_gem_prime_mmap,
	.debugfs_init = p2pgem_debugfs_init,
	.name = "p2pgem",
	.desc = "PCI BAR as a VRAM heap",
	.date = "20260101",
	.major = 1,
	.minor = 0,
};

static void p2pgem_iounmap(struct drm_device *drm, void *data)
{
	struct p2pgem_device *p2p = data;

	iounmap(p2p->vram);
}

static void p2pgem_copy_release(struct drm_device *drm, void *data)
{
	p2pgem_copy_fini(data);
}

static void p2pgem_ttm_release(struct drm_device *drm, void *data)
{
	struct p2pgem_device *p2p = data;

	ttm_device_fini(&p2p->bdev);
}

static void p2pgem_vram_release(struct drm_device *drm, void *data)
{
	p2pgem_vram_mgr_fini(data);
}

static int p2pgem_bar_of(const struct pci_device_id *id)
{
	if (p2pgem_bar >= 0)
		return p2pgem_bar;
	if (id->driver_data & P2PGEM_ID_HAS_BAR)
		return id->driver_data & P2PGEM_ID_BAR_MASK;
	return -1;
}

static int p2pgem_sizes(struct p2pgem_device *p2p, struct pci_dev *pdev)
{
	u64 len = pci_resource_len(pdev, p2p->bar);
	u64 size = len;

	if (!(pci_resource_flags(pdev, p2p->bar) & IORESOURCE_MEM))
		return -ENODEV;
	if (p2pgem_vram_mb)
		size = min_t(u64, size, (u64)p2pgem_vram_mb * SZ_1M);
	size = round_down(size, PAGE_SIZE);
	if (size < SZ_1M)
		return -ENODEV;
	p2p->vram_size = size;
	p2p->visible_size = size;
	if (p2pgem_visible_mb)
		p2p->visible_size = min_t(u64, size,
					  (u64)p2pgem_visible_mb * SZ_1M);
	p2p->pin_quota = size / 2;
	if (p2pgem_pin_quota_mb >= 0)
		p2p->pin_quota = min_t(u64, size,
				       (u64)p2pgem_pin_quota_mb * SZ_1M);
	return 0;
}

static int p2pgem_pci_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	struct p2pgem_device *p2p;
	struct drm_device *drm;
	int bar = p2pgem_bar_of(id);
	int ret;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS) {
		dev_err(&pdev->dev, "no VRAM BAR: set the 'bar' parameter\n");
		return -ENODEV;
	}

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	/*
	 * A device with memory of its own DMAs to all of the address space,
	 * with no limit on the length of a segment of imported memory.
	 */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	ret = dma_set_max_seg_size(&pdev->dev, UINT_MAX);
	if (ret)
		return ret;

	p2p = devm_drm_dev_alloc(&pdev->dev, &p2pgem_drm_driver,
				 struct p2pgem_device, drm);
	if (IS_ERR(p2p))
		return PTR_ERR(p2p);
	drm = &p2p->drm;
	p2p->bar = bar;
	INIT_LIST_HEAD(&p2p->bo_list);
	INIT_LIST_HEAD(&p2p->import_list);
	ret = drmm_mutex_init(drm, &p2p->bo_lock);
	if (ret)
		return ret;

	ret = p2pgem_sizes(p2p, pdev);
	if (ret) {
		drm_err(drm, "BAR %d is not usable as VRAM\n", bar);
		return ret;
	}
	ret = pci_request_region(pdev, bar, "p2pgem");
	if (ret)
		return ret;

	/* Before the P2P pages exist, so the BAR's memory type is WC. */
	p2p->vram_base = pci_resource_start(pdev, bar);
	p2p->vram = ioremap_wc(p2p->vram_base, p2p->vram_size);
	if (!p2p->vram)
		return -ENOMEM;
	ret = drmm_add_action_or_reset(drm, p2pgem_iounmap, p2p);
	if (ret)
		return ret;

	/*
	 * Without CONFIG_PCI_P2PDMA there are no P2P pages (-EOPNOTSUPP):
	 * VRAM still serves the CPU and TTM, and every dma-buf map gets
	 * system memory (decision kernel-without-pci-p2pdma).
	 */
	ret = pci_p2pdma_add_resource(pdev, bar, 0, 0);
	if (ret == -EOPNOTSUPP && !IS_ENABLED(CONFIG_PCI_P2PDMA)) {
		drm_info(drm, "kernel without CONFIG_PCI_P2PDMA: VRAM is not shared peer-to-peer, dma-buf importers get system memory\n");
	} else if (ret) {
		drm_err(drm, "BAR %d: pci_p2pdma_add_resource: %d\n", bar, ret);
		return ret;
	}

	ret = p2pgem_copy_init(p2p);
	if (ret)
		return ret;
	ret = drmm_add_action_or_reset(drm, p2pgem_copy_release, p2p);
	if (ret)
		return ret;

	ret = ttm_device_init(&p2p->bdev, &p2pgem_ttm_funcs, drm->dev,
			      drm->anon_inode->i_mapping,
			      drm->vma_offset_manager, false, false);
	if (ret)
		return ret;
	ret = drmm_add_action_or_reset(drm, p2pgem_ttm_release, p2p);
	if (ret)
		return ret;

	ret = p2pgem_vram_mgr_init(p2p);
	if (ret)
		return ret;
	ret = drmm_add_action_or_reset(drm, p2pgem_vram_release, p2p);
	if (ret)
		return ret;

	pci_set_drvdata(pdev, p2p);
	ret = drm_dev_register(drm, 0);
	if (ret)
		return ret;

	drm_info(drm, "VRAM: BAR %d, %llu MiB, CPU-visible %llu MiB\n", bar,
		 p2p->vram_size >> 20, p2p->visible_size >> 20);
	return 0;
}

static void p2pgem_pci_remove(struct pci_dev *pdev)
{
	struct p2pgem_device *p2p = pci_get_drvdata(pdev);

	/* No ioctl, fault, vmap or move gets in any more... */
	drm_dev_unplug(&p2p->drm);
	/* ...importers and CPU mappings let go... */
	p2pgem_revoke(p2p);
	/* ...every job ends, before the BAR and its P2P pages go... */
	p2pgem_copy_stop(p2p);
	/* ...and no DMA mapping for the function outlives its driver. */
	p2pgem_import_revoke(p2p);
}

static const struct pci_device_id p2pgem_pci_ids[] = {
	/* QEMU ivshmem-plain: BAR 2 is the shared memory. */
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110),
	  .driver_data = P2PGEM_ID_HAS_BAR | 2 },
	{ }
};
MODULE_DEVICE_TABLE(pci, p2pgem_pci_ids);

static struct pci_driver p2pgem_pci_driver = {
	.name = "p2pgem",
	.id_table = p2pgem_pci_ids,
	.probe = p2pgem_pci_probe,
	.remove = p2pgem_pci_remove,
};

static int __init p2pgem_init(void)
{
	int ret;

	ret = p2pgem_dma_buf_register();
	if (ret)
		return ret;
	ret = pci_register_driver(&p2pgem_pci_driver);
	if (ret)
		p2pgem_dma_buf_unregister();
	return ret;
}
module_init(p2pgem_init);

static void __exit p2pgem_exit(void)
{
	pci_unregister_driver(&p2pgem_pci_driver);
	p2pgem_dma_buf_unregister();
}
module_exit(p2pgem_exit);

MODULE_DESCRIPTION("p2pgem: a PCI BAR as a VRAM heap (DRM, TTM)");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
