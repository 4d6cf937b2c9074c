// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf topology probe.
 *
 * For every PCI peer-to-peer DMA provider and every other PCI function, ask
 * the kernel how the function would reach the provider's memory: the
 * pci_p2pdma_distance() verdict plus a real dma_map_sgtable() of one provider
 * page for the function. The answer is a line per pair in
 * <debugfs>/p2pbuf_probe/matrix.
 *
 * Providers are the devices that registered P2P memory with
 * pci_p2pdma_add_resource(): NVMe controller memory buffers, and the VRAM
 * BARs of ivshmem-plain devices, which this module binds (module parameter
 * bind_vram) to register their BAR 2. It also binds QEMU's edu device as a
 * plain DMA client with a 64-bit DMA mask (bind_edu).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>

#include "p2pbuf_probe.h"

#define P2PBUF_PROBE_VRAM_BAR	2

static bool bind_vram = true;
module_param(bind_vram, bool, 0444);
MODULE_PARM_DESC(bind_vram,
		 "Bind ivshmem-plain devices and register BAR 2 as P2P memory (default: true)");

static bool bind_edu = true;
module_param(bind_edu, bool, 0444);
MODULE_PARM_DESC(bind_edu,
		 "Bind QEMU edu devices as DMA clients with a 64-bit mask (default: true)");

static struct dentry *p2pbuf_probe_debugfs;

static const char * const p2pbuf_probe_map_names[] = {
	[P2PBUF_PROBE_MAP_NONE] = "none",
	[P2PBUF_PROBE_MAP_BUS_ADDR] = "bus-address",
	[P2PBUF_PROBE_MAP_HOST_BRIDGE] = "host-bridge",
	[P2PBUF_PROBE_MAP_IOMMU] = "iommu",
	[P2PBUF_PROBE_MAP_ERROR] = "error",
};

static const char * const p2pbuf_probe_reason_names[] = {
	[P2PBUF_PROBE_REASON_NONE] = "-",
	[P2PBUF_PROBE_REASON_ACS_REDIRECT] = "acs-redirect",
	[P2PBUF_PROBE_REASON_HOST_BRIDGE] = "host-bridge-not-whitelisted",
	[P2PBUF_PROBE_REASON_MAP_REFUSED] = "dma-map-refused",
	[P2PBUF_PROBE_REASON_DMA_MASK] = "client-dma-mask",
	[P2PBUF_PROBE_REASON_MAP_FAILED] = "dma-map-failed",
};

/**
 * p2pbuf_probe_map_name - stable name of a map kind
 * @map: the map kind
 *
 * Return: a lower-case name, "?" for values out of range.
 */
const char *p2pbuf_probe_map_name(enum p2pbuf_probe_map map)
{
	if ((unsigned int)map >= ARRAY_SIZE(p2pbuf_probe_map_names))
		return "?";
	return p2pbuf_probe_map_names[map];
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_probe_map_name, P2PBUF);

/**
 * p2pbuf_probe_reason_name - stable name of a reason code
 * @reason: the reason code
 *
 * Return: a lower-case name, "?" for values out of range.
 */
const char *p2pbuf_probe_reason_name(enum p2pbuf_probe_reason reason)
{
	if ((unsigned int)reason >= ARRAY_SIZE(p2pbuf_probe_reason_names))
		return "?";
	return p2pbuf_probe_reason_names[reason];
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_probe_reason_name, P2PBUF);

/**
 * p2pbuf_probe_classify - turn what the kernel said into a map kind
 * @f: distance and mapping result of one provider/client pair
 * @reason: set to the reason code that explains the result
 *
 * The rules mirror the PCI P2PDMA core: a negative distance means the kernel
 * refuses the pair, and the reason is ACS redirect when the two share an
 * upstream bridge, the host bridge whitelist otherwise. A successful mapping
 * flagged as a bus address went through a switch; otherwise it crosses the
 * host bridge, with the CPU physical address or an IOMMU address.
 *
 * Return: the map kind.
 */
enum p2pbuf_probe_map p2pbuf_probe_classify(const struct p2pbuf_probe_facts *f,
					    enum p2pbuf_probe_reason *reason)
{
	if (f->distance < 0) {
		*reason = f->common_bridge ? P2PBUF_PROBE_REASON_ACS_REDIRECT :
					     P2PBUF_PROBE_REASON_HOST_BRIDGE;
		return P2PBUF_PROBE_MAP_NONE;
	}

	if (f->map_err == -EREMOTEIO) {
		*reason = P2PBUF_PROBE_REASON_MAP_REFUSED;
		return P2PBUF_PROBE_MAP_NONE;
	}

	if (f->map_err == -EIO) {
		*reason = P2PBUF_PROBE_REASON_DMA_MASK;
		return P2PBUF_PROBE_MAP_ERROR;
	}

	if (f->map_err) {
		*reason = P2PBUF_PROBE_REASON_MAP_FAILED;
		return P2PBUF_PROBE_MAP_ERROR;
	}

	*reason = P2PBUF_PROBE_REASON_NONE;
	if (f->bus_address)
		return P2PBUF_PROBE_MAP_BUS_ADDR;
	if (f->dma_addr == f->phys_addr)
		return P2PBUF_PROBE_MAP_HOST_BRIDGE;
	return P2PBUF_PROBE_MAP_IOMMU;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_probe_classify, P2PBUF);

static bool p2pbuf_probe_is_provider(struct pci_dev *pdev)
{
	/*
	 * Without CONFIG_PCI_P2PDMA (Debian's kernel) struct pci_dev has no
	 * p2pdma member, and no device can register P2P memory.
	 */
#ifdef CONFIG_PCI_P2PDMA
	return rcu_access_pointer(pdev->p2pdma);
#else
	return false;
#endif
}

static bool p2pbuf_probe_common_bridge(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_dev *up_a, *up_b;

	for (up_a = pci_upstream_bridge(a); up_a; up_a = pci_upstream_bridge(up_a))
		for (up_b = pci_upstream_bridge(b); up_b;
		     up_b = pci_upstream_bridge(up_b))
			if (up_a == up_b)
				return true;
	return false;
}

/*
 * Map one page of @provider's P2P memory for @client and record what the DMA
 * API did. Nothing is ever transferred; the mapping is undone at once.
 */
static int p2pbuf_probe_map_one(struct pci_dev *provider,
				struct pci_dev *client,
				struct p2pbuf_probe_facts *f)
{
	struct sg_table sgt;
	void *addr;
	int ret;

	addr = pci_alloc_p2pmem(provider, PAGE_SIZE);
	if (!addr)
		return -ENOMEM;

	ret = sg_alloc_table(&sgt, 1, GFP_KERNEL);
	if (ret)
		goto out_free_mem;

	sg_set_page(sgt.sgl, virt_to_page(addr), PAGE_SIZE, offset_in_page(addr));
	f->phys_addr = page_to_phys(virt_to_page(addr));

	f->map_err = dma_map_sgtable(&client->dev, &sgt, DMA_BIDIRECTIONAL,
				     DMA_ATTR_SKIP_CPU_SYNC);
	if (!f->map_err) {
		f->dma_addr = sg_dma_address(sgt.sgl);
		f->bus_address = sg_is_dma_bus_address(sgt.sgl);
		dma_unmap_sgtable(&client->dev, &sgt, DMA_BIDIRECTIONAL,
				  DMA_ATTR_SKIP_CPU_SYNC);
	}

	sg_free_table(&sgt);
out_free_mem:
	pci_free_p2pmem(provider, addr, PAGE_SIZE);
	return ret;
}

static bool p2pbuf_probe_is_client(struct pci_dev *pdev)
{
	return (pdev->class >> 16) != PCI_BASE_CLASS_BRIDGE;
}

static void p2pbuf_probe_show_pair(struct seq_file *m,
				   struct pci_dev *provider,
				   struct pci_dev *client)
{
	struct p2pbuf_probe_facts f = { };
	enum p2pbuf_probe_reason reason;
	enum p2pbuf_probe_map map;
	int ret;

	f.distance = pci_p2pdma_distance(provider, &client->dev, false);
	f.common_bridge = p2pbuf_probe_common_bridge(provider, client);
	if (f.distance >= 0) {
		ret = p2pbuf_probe_map_one(provider, client, &f);
		if (ret) {
			seq_printf(m, "provider=%s client=%s distance=%d map=error dma=0x0 reason=provider-alloc-%d\n",
				   pci_name(provider), pci_name(client),
				   f.distance, ret);
			return;
		}
	}

	map = p2pbuf_probe_classify(&f, &reason);
	seq_printf(m, "provider=%s client=%s distance=%d map=%s dma=0x%llx reason=%s\n",
		   pci_name(provider), pci_name(client), f.distance,
		   p2pbuf_probe_map_name(map), f.dma_addr,
		   p2pbuf_probe_reason_name(reason));
}

static int p2pbuf_probe_matrix_show(struct seq_file *m, void *unused)
{
	struct pci_dev *provider = NULL, *client;

	for_each_pci_dev(provider) {
		if (!p2pbuf_probe_is_provider(provider))
			continue;

		client = NULL;
		for_each_pci_dev(client) {
			if (client == provider || !p2pbuf_probe_is_client(client))
				continue;
			p2pbuf_probe_show_pair(m, provider, client);
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pbuf_probe_matrix);

static int p2pbuf_probe_devices_show(struct seq_file *m, void *unused)
{
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev) {
		if (!p2pbuf_probe_is_client(pdev))
			continue;
		seq_printf(m, "device=%s id=%04x:%04x class=0x%06x provider=%d driver=%s\n",
			   pci_name(pdev), pdev->vendor, pdev->device,
			   pdev->class, p2pbuf_probe_is_provider(pdev),
			   pdev->dev.driver ? pdev->dev.driver->name : "-");
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pbuf_probe_devices);

#define PCI_VENDOR_ID_QEMU_EDU		0x1234
#define PCI_DEVICE_ID_QEMU_EDU		0x11e8
#define PCI_DEVICE_ID_IVSHMEM_PLAIN	0x1110

enum p2pbuf_probe_kind {
	P2PBUF_PROBE_VRAM,
	P2PBUF_PROBE_EDU,
};

static const struct pci_device_id p2pbuf_probe_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, PCI_DEVICE_ID_IVSHMEM_PLAIN),
	  .driver_data = P2PBUF_PROBE_VRAM },
	{ PCI_DEVICE(PCI_VENDOR_ID_QEMU_EDU, PCI_DEVICE_ID_QEMU_EDU),
	  .driver_data = P2PBUF_PROBE_EDU },
	{ }
};
MODULE_DEVICE_TABLE(pci, p2pbuf_probe_ids);

static int p2pbuf_probe_pci_probe(struct pci_dev *pdev,
				  const struct pci_device_id *id)
{
	int ret;

	if (id->driver_data == P2PBUF_PROBE_VRAM && !bind_vram)
		return -ENODEV;
	if (id->driver_data == P2PBUF_PROBE_EDU && !bind_edu)
		return -ENODEV;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	if (id->driver_data == P2PBUF_PROBE_VRAM) {
		ret = pci_p2pdma_add_resource(pdev, P2PBUF_PROBE_VRAM_BAR, 0, 0);
		if (ret) {
			pci_err(pdev, "cannot register BAR %d as P2P memory: %d\n",
				P2PBUF_PROBE_VRAM_BAR, ret);
			return ret;
		}
		pci_info(pdev, "P2P provider: BAR %d, %llu MiB\n",
			 P2PBUF_PROBE_VRAM_BAR,
			 (u64)pci_resource_len(pdev, P2PBUF_PROBE_VRAM_BAR) >> 20);
	}
	return 0;
}

static struct pci_driver p2pbuf_probe_driver = {
	.name = "p2pbuf_probe",
	.id_table = p2pbuf_probe_ids,
	.probe = p2pbuf_probe_pci_probe,
};

static int __init p2pbuf_probe_init(void)
{
	int ret;

	ret = pci_register_driver(&p2pbuf_probe_driver);
	if (ret)
		return ret;

	p2pbuf_probe_debugfs = debugfs_create_dir("p2pbuf_probe", NULL);
	debugfs_create_file("matrix", 0444, p2pbuf_probe_debugfs, NULL,
			    &p2pbuf_probe_matrix_fops);
	debugfs_create_file("devices", 0444, p2pbuf_probe_debugfs, NULL,
			    &p2pbuf_probe_devices_fops);
	return 0;
}

static void __exit p2pbuf_probe_exit(void)
{
	debugfs_remove_recursive(p2pbuf_probe_debugfs);
	pci_unregister_driver(&p2pbuf_probe_driver);
}

module_init(p2pbuf_probe_init);
module_exit(p2pbuf_probe_exit);

MODULE_DESCRIPTION("p2pbuf topology probe: PCI peer-to-peer reachability matrix");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
