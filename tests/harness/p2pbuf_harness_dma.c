// SPDX-License-Identifier: GPL-2.0
/*
 * A module that makes two DMA-API errors on load, and nothing else. The
 * harness self-test (`make check-harness`) loads it from a guest test to
 * prove that such errors fail the test that made them: DMA-API debugging
 * prints only its first few errors, but every error raises
 * /sys/kernel/debug/dma-api/error_count, which the harness reads around
 * every test.
 *
 * The errors are harmless: a buffer mapped for DMA_TO_DEVICE is unmapped
 * as DMA_FROM_DEVICE, twice, for a platform device of our own (no real
 * device, and no DMA takes place).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#define P2PBUF_HARNESS_DMA_ERRORS 2
#define P2PBUF_HARNESS_DMA_SIZE 256

static int p2pbuf_harness_dma_wrong_unmap(struct device *dev, void *buf)
{
	dma_addr_t addr;

	addr = dma_map_single(dev, buf, P2PBUF_HARNESS_DMA_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, addr))
		return -EIO;
	/* The planted error: the direction differs from the mapping's. */
	dma_unmap_single(dev, addr, P2PBUF_HARNESS_DMA_SIZE, DMA_FROM_DEVICE);
	return 0;
}

static int __init p2pbuf_harness_dma_init(void)
{
	struct platform_device *pdev;
	void *buf;
	int i, ret = 0;

	pdev = platform_device_register_simple("p2pbuf_harness_dma",
					       PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	buf = kzalloc(P2PBUF_HARNESS_DMA_SIZE, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out_unregister;
	}
	for (i = 0; i < P2PBUF_HARNESS_DMA_ERRORS && !ret; i++)
		ret = p2pbuf_harness_dma_wrong_unmap(&pdev->dev, buf);
	kfree(buf);

out_unregister:
	platform_device_unregister(pdev);
	return ret;
}

static void __exit p2pbuf_harness_dma_exit(void)
{
}

module_init(p2pbuf_harness_dma_init);
module_exit(p2pbuf_harness_dma_exit);

MODULE_DESCRIPTION("p2pbuf harness self-test: two planted DMA-API errors");
MODULE_LICENSE("GPL");
