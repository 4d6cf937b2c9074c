// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf: sg tables of a provider's P2P pages, mapped for an importer.
 *
 * The provider registered its BAR with pci_p2pdma_add_resource(), so every
 * page of the BAR has a struct page in the P2P DMA pagemap. The exporter
 * names the memory of a buffer as a list of BAR ranges; the builder turns
 * them into as few sg entries as the importer's segment limits allow and
 * lets dma_map_sgtable() decide how the importer reaches them: a PCI bus
 * address (same switch), the CPU physical address through the host bridge,
 * an IOMMU mapping, or -EREMOTEIO.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-mapping.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pbuf.h"

/**
 * p2pbuf_sg_seg_len() - length of the next sg segment, pure arithmetic
 * @addr: address where the segment starts, page aligned
 * @len: bytes left in the physically contiguous run, page aligned
 * @max_seg: the importer's dma_get_max_seg_size()
 * @boundary: the importer's dma_get_seg_boundary() mask
 *
 * A segment is at most @max_seg rounded down to whole pages and never
 * crosses a (@boundary + 1) aligned boundary.
 *
 * Return: the segment length in bytes, a multiple of PAGE_SIZE; 0 when
 * @len is 0, @max_seg is below PAGE_SIZE or @boundary is below
 * PAGE_SIZE - 1.
 */
u32 p2pbuf_sg_seg_len(u64 addr, u64 len, unsigned int max_seg,
		      unsigned long boundary)
{
	u64 seg = min_t(u64, len, max_seg & PAGE_MASK);
	u64 rest;

	if (boundary < PAGE_SIZE - 1)
		return 0;
	/* Bytes from @addr to the last byte before the next boundary, - 1. */
	rest = (addr | boundary) - addr;
	if (seg && rest < seg - 1)
		seg = rest + 1;
	return seg;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_sg_seg_len, P2PBUF);

/*
 * Merge the ranges from *@i on while each starts where the previous one
 * ends; return the run in @offset and @len and advance *@i. -EINVAL for a
 * range that is empty, not page aligned or wraps around.
 */
static int p2pbuf_next_run(const struct p2pbuf_range *ranges, unsigned int nr,
			   unsigned int *i, u64 *offset, u64 *len)
{
	u64 end = 0;

	*len = 0;
	for (; *i < nr; (*i)++) {
		const struct p2pbuf_range *r = &ranges[*i];

		if (!r->size || !PAGE_ALIGNED(r->offset) ||
		    !PAGE_ALIGNED(r->size) || r->offset + r->size < r->offset)
			return -EINVAL;
		if (*len && r->offset != end)
			break;
		if (!*len)
			*offset = r->offset;
		end = r->offset + r->size;
		*len += r->size;
	}
	return 0;
}

/**
 * p2pbuf_sg_count() - number of sg entries for a list of ranges, pure logic
 * @base: address of offset 0 (the BAR's start), page aligned
 * @ranges: the ranges, in the buffer's order
 * @nr: number of ranges
 * @max_seg: the importer's dma_get_max_seg_size()
 * @boundary: the importer's dma_get_seg_boundary() mask
 *
 * Ranges that follow each other in memory are merged, then cut into
 * segments with p2pbuf_sg_seg_len().
 *
 * Return: the number of entries, or -EINVAL for no ranges, a range that is
 * empty, not page aligned or wraps, or segment limits below a page;
 * -E2BIG when the count does not fit an sg table.
 */
int p2pbuf_sg_count(u64 base, const struct p2pbuf_range *ranges,
		    unsigned int nr, unsigned int max_seg,
		    unsigned long boundary)
{
	unsigned int i = 0;
	u64 nents = 0;

	if (!nr)
		return -EINVAL;
	while (i < nr) {
		u64 offset, len, seg;
		int ret;

		ret = p2pbuf_next_run(ranges, nr, &i, &offset, &len);
		if (ret)
			return ret;
		while (len) {
			seg = p2pbuf_sg_seg_len(base + offset, len, max_seg,
						boundary);
			if (!seg)
				return -EINVAL;
			offset += seg;
			len -= seg;
			if (++nents > INT_MAX)
				return -E2BIG;
		}
	}
	return nents;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_sg_count, P2PBUF);

static int p2pbuf_fill_sg(struct sg_table *sgt, resource_size_t bar_start,
			  const struct p2pbuf_range *ranges, unsigned int nr,
			  unsigned int max_seg, unsigned long boundary)
{
	struct scatterlist *sg = sgt->sgl;
	unsigned int i = 0;

	while (i < nr) {
		u64 offset, len;
		int ret;

		ret = p2pbuf_next_run(ranges, nr, &i, &offset, &len);
		if (ret)
			return ret;
		while (len) {
			phys_addr_t phys = bar_start + offset;
			struct page *page = pfn_to_page(PHYS_PFN(phys));
			u32 seg = p2pbuf_sg_seg_len(phys, len, max_seg,
						    boundary);

			if (!sg || !seg || !is_pci_p2pdma_page(page))
				return -EINVAL;
			sg_set_page(sg, page, seg, 0);
			sg = sg_next(sg);
			offset += seg;
			len -= seg;
		}
	}
	return 0;
}

/*
 * Map a filled table for @importer; on failure free it. Exporters do the
 * CPU cache maintenance themselves (DMA_ATTR_SKIP_CPU_SYNC): a buffer may
 * be mapped for several importers at once, which DMA-API debugging
 * reports as overlapping mappings unless the CPU syncs are left to the
 * exporter. System memory is synced for the device here, once; P2P memory
 * needs no CPU cache maintenance.
 */
static struct sg_table *p2pbuf_map_table(struct sg_table *sgt,
					 struct device *importer,
					 enum dma_data_direction dir,
					 bool system)
{
	int ret = dma_map_sgtable(importer, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);

	if (!ret) {
		if (system)
			dma_sync_sgtable_for_device(importer, sgt, dir);
		return sgt;
	}
	sg_free_table(sgt);
	kfree(sgt);
	return ERR_PTR(ret);
}

/**
 * p2pbuf_map_p2p_ranges() - map a provider's memory for an importer
 * @provider: the PCI function that registered @bar with
 *	pci_p2pdma_add_resource()
 * @bar: the BAR holding the memory
 * @ranges: the memory, as BAR offsets, in the buffer's order
 * @nr: number of ranges
 * @importer: the device that will DMA to the memory
 * @dir: the DMA direction
 *
 * Builds an sg table of the BAR's P2P pages, ranges that follow each other
 * merged into as few entries as dma_get_max_seg_size() and
 * dma_get_seg_boundary() of @importer allow, and maps it with
 * dma_map_sgtable() for @importer, with %DMA_ATTR_SKIP_CPU_SYNC (P2P
 * memory needs no CPU cache maintenance). The caller holds whatever keeps the
 * ranges allocated (for a dma-buf exporter, the reservation lock). May
 * sleep.
 *
 * Return: the mapped table, to be released with p2pbuf_unmap_sgt();
 * ERR_PTR(-EINVAL) for ranges that are malformed or outside the BAR or
 * memory without P2P pages, ERR_PTR(-EREMOTEIO) when the importer cannot
 * reach the provider, ERR_PTR(-ENODEV) when the provider's P2P memory is
 * going away (unbind), ERR_PTR(-ENOMEM) or another DMA-API error. The
 * table holds a reference to the P2P pages' pagemap until it is unmapped,
 * so their removal at unbind waits for every importer to unmap.
 */
struct sg_table *p2pbuf_map_p2p_ranges(struct pci_dev *provider, int bar,
				       const struct p2pbuf_range *ranges,
				       unsigned int nr, struct device *importer,
				       enum dma_data_direction dir)
{
	resource_size_t bar_start, bar_len;
	unsigned int max_seg = dma_get_max_seg_size(importer);
	unsigned long boundary = dma_get_seg_boundary(importer);
	struct dev_pagemap *pgmap;
	struct sg_table *sgt;
	unsigned int i;
	int nents, ret;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS)
		return ERR_PTR(-EINVAL);
	bar_start = pci_resource_start(provider, bar);
	bar_len = pci_resource_len(provider, bar);
	for (i = 0; i < nr; i++)
		if (ranges[i].offset >= bar_len ||
		    ranges[i].size > bar_len - ranges[i].offset)
			return ERR_PTR(-EINVAL);

	nents = p2pbuf_sg_count(bar_start, ranges, nr, max_seg, boundary);
	if (nents < 0)
		return ERR_PTR(nents);

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		goto err_free;
	ret = p2pbuf_fill_sg(sgt, bar_start, ranges, nr, max_seg, boundary);
	if (ret) {
		sg_free_table(sgt);
		goto err_free;
	}
	/*
	 * The table holds the provider's P2P pages until it is unmapped:
	 * memunmap_pages() at unbind waits for this reference, so the pages
	 * and their memmap outlive every mapping handed to an importer.
	 */
	pgmap = get_dev_pagemap(page_to_pfn(sg_page(sgt->sgl)), NULL);
	if (!pgmap) {
		sg_free_table(sgt);
		ret = -ENODEV;
		goto err_free;
	}
	sgt = p2pbuf_map_table(sgt, importer, dir, false);
	if (IS_ERR(sgt))
		put_dev_pagemap(pgmap);
	return sgt;

err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_map_p2p_ranges, P2PBUF);

/**
 * p2pbuf_map_pages() - map system memory pages for an importer
 * @pages: the pages, in the buffer's order
 * @nr_pages: number of pages, not zero
 * @importer: the device that will DMA to the memory
 * @dir: the DMA direction
 *
 * The fallback of a P2P exporter: builds an sg table of @pages, physically
 * contiguous pages merged up to dma_get_max_seg_size() of @importer, and
 * maps it with dma_map_sgtable() and %DMA_ATTR_SKIP_CPU_SYNC, then syncs it
 * for the device: the exporter owns the CPU cache maintenance of the
 * mapping from then on (dma_sync_sgtable_for_cpu() and
 * dma_sync_sgtable_for_device() in its begin_cpu_access and
 * end_cpu_access), so that one buffer may be mapped for several importers
 * at once. The caller keeps the pages alive while the table exists. May
 * sleep.
 *
 * Return: the mapped table, to be released with p2pbuf_unmap_sgt();
 * ERR_PTR(-EINVAL) for no pages or a segment limit below a page,
 * ERR_PTR(-ENOMEM) or another DMA-API error.
 */
struct sg_table *p2pbuf_map_pages(struct page **pages, unsigned int nr_pages,
				  struct device *importer,
				  enum dma_data_direction dir)
{
	unsigned int max_seg = dma_get_max_seg_size(importer) & PAGE_MASK;
	struct sg_table *sgt;
	int ret;

	if (!nr_pages || !max_seg)
		return ERR_PTR(-EINVAL);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages_segment(sgt, pages, nr_pages, 0,
						(unsigned long)nr_pages <<
						PAGE_SHIFT, max_seg,
						GFP_KERNEL);
	if (ret) {
		kfree(sgt);
		return ERR_PTR(ret);
	}
	return p2pbuf_map_table(sgt, importer, dir, true);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_map_pages, P2PBUF);

/**
 * p2pbuf_unmap_sgt() - undo p2pbuf_map_p2p_ranges() or p2pbuf_map_pages()
 * @importer: the device the table was mapped for
 * @sgt: the table the map function returned
 * @dir: the DMA direction it was mapped with
 *
 * Unmaps the table for @importer with %DMA_ATTR_SKIP_CPU_SYNC and frees
 * it: a table of system memory is synced for the CPU first, see
 * p2pbuf_unmap_pages(). Reads the first page pointer, to drop the
 * pagemap reference a table of P2P pages holds: the dma-buf core undoes
 * its debugging's mangling of the page pointers before it calls the
 * exporter's unmap. May sleep.
 */
void p2pbuf_unmap_sgt(struct device *importer, struct sg_table *sgt,
		      enum dma_data_direction dir)
{
	struct page *page = sg_page(sgt->sgl);

	dma_unmap_sgtable(importer, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	/* A table of P2P pages held their pagemap (p2pbuf_map_p2p_ranges()). */
	if (is_pci_p2pdma_page(page))
		put_dev_pagemap(page->pgmap);
	sg_free_table(sgt);
	kfree(sgt);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_unmap_sgt, P2PBUF);

/**
 * p2pbuf_unmap_pages() - undo p2pbuf_map_pages()
 * @importer: the device the table was mapped for
 * @sgt: the table p2pbuf_map_pages() returned
 * @dir: the DMA direction it was mapped with
 *
 * Syncs the table for the CPU (what the device wrote becomes visible, out
 * of a bounce buffer if there is one), then p2pbuf_unmap_sgt(). May sleep.
 */
void p2pbuf_unmap_pages(struct device *importer, struct sg_table *sgt,
			enum dma_data_direction dir)
{
	dma_sync_sgtable_for_cpu(importer, sgt, dir);
	p2pbuf_unmap_sgt(importer, sgt, dir);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_unmap_pages, P2PBUF);

/**
 * p2pbuf_sgt_copy() - another table with the same mapping
 * @dst: an unused table, filled in
 * @src: a mapped table
 *
 * For an exporter that hands one DMA mapping to several importers of the
 * same device: @dst gets the pages, the DMA addresses and lengths and the
 * bus-address marks of @src, without a mapping of its own; free it with
 * sg_free_table() and keep @src mapped while @dst is in use. @dst may be
 * handed out and mangled by dma-buf debugging; @src stays the exporter's.
 *
 * Return: 0 or -ENOMEM.
 */
int p2pbuf_sgt_copy(struct sg_table *dst, struct sg_table *src)
{
	struct scatterlist *s, *d;
	unsigned int i;
	int ret;

	ret = sg_alloc_table(dst, src->orig_nents, GFP_KERNEL);
	if (ret)
		return ret;
	d = dst->sgl;
	for_each_sgtable_sg(src, s, i) {
		sg_set_page(d, sg_page(s), s->length, s->offset);
		d = sg_next(d);
	}
	d = dst->sgl;
	for_each_sgtable_dma_sg(src, s, i) {
		sg_dma_address(d) = sg_dma_address(s);
		sg_dma_len(d) = sg_dma_len(s);
		if (sg_is_dma_bus_address(s))
			sg_dma_mark_bus_address(d);
		d = sg_next(d);
	}
	dst->nents = src->nents;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_sgt_copy, P2PBUF);
