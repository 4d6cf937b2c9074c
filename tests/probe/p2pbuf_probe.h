/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf topology probe: classification of one provider/client pair.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PBUF_PROBE_H_
#define _P2PBUF_PROBE_H_

#include <linux/types.h>

/**
 * enum p2pbuf_probe_map - how a client reaches a provider's memory
 * @P2PBUF_PROBE_MAP_NONE: the kernel refuses a peer-to-peer mapping
 * @P2PBUF_PROBE_MAP_BUS_ADDR: PCI bus address, routed by a common switch
 * @P2PBUF_PROBE_MAP_HOST_BRIDGE: CPU physical address through the host bridge
 * @P2PBUF_PROBE_MAP_IOMMU: an IOMMU address (IOVA) through the host bridge
 * @P2PBUF_PROBE_MAP_ERROR: the mapping failed for a reason other than P2P
 *	reachability (for example the client's DMA mask)
 */
enum p2pbuf_probe_map {
	P2PBUF_PROBE_MAP_NONE,
	P2PBUF_PROBE_MAP_BUS_ADDR,
	P2PBUF_PROBE_MAP_HOST_BRIDGE,
	P2PBUF_PROBE_MAP_IOMMU,
	P2PBUF_PROBE_MAP_ERROR,
};

/**
 * enum p2pbuf_probe_reason - why a pair maps the way it does
 * @P2PBUF_PROBE_REASON_NONE: nothing to explain, the mapping is peer-to-peer
 * @P2PBUF_PROBE_REASON_ACS_REDIRECT: a bridge on the path between the two has
 *	ACS redirect set and the host bridge is not whitelisted
 * @P2PBUF_PROBE_REASON_HOST_BRIDGE: no common upstream bridge and the host
 *	bridge is not whitelisted for peer-to-peer traffic
 * @P2PBUF_PROBE_REASON_MAP_REFUSED: pci_p2pdma_distance allowed the pair but
 *	dma_map_sgtable refused it with -EREMOTEIO
 * @P2PBUF_PROBE_REASON_DMA_MASK: the client's DMA mask cannot address the
 *	provider's memory
 * @P2PBUF_PROBE_REASON_MAP_FAILED: dma_map_sgtable failed otherwise
 */
enum p2pbuf_probe_reason {
	P2PBUF_PROBE_REASON_NONE,
	P2PBUF_PROBE_REASON_ACS_REDIRECT,
	P2PBUF_PROBE_REASON_HOST_BRIDGE,
	P2PBUF_PROBE_REASON_MAP_REFUSED,
	P2PBUF_PROBE_REASON_DMA_MASK,
	P2PBUF_PROBE_REASON_MAP_FAILED,
};

/**
 * struct p2pbuf_probe_facts - what the kernel said about one pair
 * @distance: pci_p2pdma_distance() of provider and client
 * @common_bridge: provider and client share an upstream PCI bridge
 * @map_err: return value of dma_map_sgtable() (0 on success)
 * @bus_address: the mapped segment carries the PCI bus address flag
 * @dma_addr: the DMA address the client was given
 * @phys_addr: CPU physical address of the provider page that was mapped
 */
struct p2pbuf_probe_facts {
	int distance;
	bool common_bridge;
	int map_err;
	bool bus_address;
	u64 dma_addr;
	u64 phys_addr;
};

enum p2pbuf_probe_map p2pbuf_probe_classify(const struct p2pbuf_probe_facts *f,
					    enum p2pbuf_probe_reason *reason);
const char *p2pbuf_probe_map_name(enum p2pbuf_probe_map map);
const char *p2pbuf_probe_reason_name(enum p2pbuf_probe_reason reason);

#endif /* _P2PBUF_PROBE_H_ */
