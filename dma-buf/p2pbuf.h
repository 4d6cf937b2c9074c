/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf: exporter helpers for peer-to-peer dma-bufs (symbol namespace
 * P2PBUF).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PBUF_H_
#define _P2PBUF_H_

#include <linux/dma-direction.h>
#include <linux/types.h>

struct device;
struct dma_buf_attachment;
struct pci_dev;
struct sg_table;

/**
 * enum p2pbuf_reason - the P2P decision for one attachment, and why
 * @P2PBUF_REASON_P2P: the importer can reach the provider's memory; map
 *	the BAR's P2P pages for it
 * @P2PBUF_REASON_NO_PEER2PEER: the importer did not set allow_peer2peer
 * @P2PBUF_REASON_NOT_PCI: the importer device is not a PCI device
 * @P2PBUF_REASON_ACS_REDIRECT: pci_p2pdma_distance() < 0 although both
 *	devices sit below a common bridge: ACS redirects their traffic
 * @P2PBUF_REASON_HOST_BRIDGE: pci_p2pdma_distance() < 0 through the host
 *	bridge: it is not whitelisted for P2P
 * @P2PBUF_REASON_MAP_REFUSED: reachable by distance, but dma_map_sgtable()
 *	of the P2P pages said -EREMOTEIO
 * @P2PBUF_REASON_COUNT: number of reason codes
 *
 * Every reason except @P2PBUF_REASON_P2P means system memory.
 */
enum p2pbuf_reason {
	P2PBUF_REASON_P2P,
	P2PBUF_REASON_NO_PEER2PEER,
	P2PBUF_REASON_NOT_PCI,
	P2PBUF_REASON_ACS_REDIRECT,
	P2PBUF_REASON_HOST_BRIDGE,
	P2PBUF_REASON_MAP_REFUSED,
	P2PBUF_REASON_COUNT,
};

/**
 * struct p2pbuf_range - a physically contiguous range of provider memory
 * @offset: byte offset from the start of the provider's BAR, page aligned
 * @size: bytes, page aligned, not zero
 */
struct p2pbuf_range {
	u64 offset;
	u64 size;
};

enum p2pbuf_reason p2pbuf_decide(bool allow_peer2peer, bool importer_is_pci,
				 int distance, bool common_bridge);
const char *p2pbuf_reason_name(enum p2pbuf_reason reason);
enum p2pbuf_reason p2pbuf_attach_decision(struct pci_dev *provider,
					  struct dma_buf_attachment *attach);
enum p2pbuf_reason p2pbuf_device_decision(struct pci_dev *provider,
					  struct device *importer,
					  bool allow_peer2peer);

u32 p2pbuf_sg_seg_len(u64 addr, u64 len, unsigned int max_seg,
		      unsigned long boundary);
int p2pbuf_sg_count(u64 base, const struct p2pbuf_range *ranges,
		    unsigned int nr, unsigned int max_seg,
		    unsigned long boundary);
struct sg_table *p2pbuf_map_p2p_ranges(struct pci_dev *provider, int bar,
				       const struct p2pbuf_range *ranges,
				       unsigned int nr, struct device *importer,
				       enum dma_data_direction dir);
void p2pbuf_unmap_p2p_ranges(struct device *importer, struct sg_table *sgt,
			     enum dma_data_direction dir);

#endif /* _P2PBUF_H_ */
