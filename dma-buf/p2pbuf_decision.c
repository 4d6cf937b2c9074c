// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf: the per-attachment P2P decision.
 *
 * An exporter of device memory asks, when an importer attaches, whether that
 * importer may be handed the memory peer-to-peer or must get system memory
 * (Documentation/ and ../shared/ARCHITECTURE.md hold the table). The answer
 * is a reason code that the exporter keeps with the attachment and shows to
 * users.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

#include "p2pbuf.h"

static const char * const p2pbuf_reason_names[] = {
	[P2PBUF_REASON_P2P] = "p2p",
	[P2PBUF_REASON_NO_PEER2PEER] = "importer-no-peer2peer",
	[P2PBUF_REASON_NOT_PCI] = "importer-not-pci",
	[P2PBUF_REASON_ACS_REDIRECT] = "acs-redirect",
	[P2PBUF_REASON_HOST_BRIDGE] = "host-bridge-not-whitelisted",
	[P2PBUF_REASON_MAP_REFUSED] = "dma-map-refused",
	[P2PBUF_REASON_NO_P2PDMA] = "kernel-without-pci-p2pdma",
};

static_assert(ARRAY_SIZE(p2pbuf_reason_names) == P2PBUF_REASON_COUNT);

/**
 * p2pbuf_decide() - the P2P decision table, pure logic
 * @allow_peer2peer: the importer set allow_peer2peer in its importer ops
 * @importer_is_pci: the importer's device is a PCI function
 * @kernel_p2pdma: the kernel is built with CONFIG_PCI_P2PDMA, so that
 *	device memory has P2P pages the DMA API can map for a peer
 * @distance: pci_p2pdma_distance() from the provider to the importer;
 *	ignored unless the three checks above pass
 * @common_bridge: provider and importer share an upstream bridge (tells an
 *	ACS redirect from a host bridge that is not whitelisted)
 *
 * The rules are checked in this order: no peer2peer, not PCI, no P2PDMA
 * in the kernel, unreachable. The importer's own limits come first: they
 * hold on any kernel.
 *
 * Return: %P2PBUF_REASON_P2P when the memory may be mapped peer-to-peer,
 * otherwise the reason for system memory.
 */
enum p2pbuf_reason p2pbuf_decide(bool allow_peer2peer, bool importer_is_pci,
				 bool kernel_p2pdma, int distance,
				 bool common_bridge)
{
	if (!allow_peer2peer)
		return P2PBUF_REASON_NO_PEER2PEER;
	if (!importer_is_pci)
		return P2PBUF_REASON_NOT_PCI;
	if (!kernel_p2pdma)
		return P2PBUF_REASON_NO_P2PDMA;
	if (distance < 0)
		return common_bridge ? P2PBUF_REASON_ACS_REDIRECT :
				       P2PBUF_REASON_HOST_BRIDGE;
	return P2PBUF_REASON_P2P;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_decide, P2PBUF);

/**
 * p2pbuf_reason_name() - the user-visible name of a reason code
 * @reason: the reason code
 *
 * Return: a short lower-case name, such as "p2p" or "acs-redirect";
 * "unknown" for a value outside the enumeration.
 */
const char *p2pbuf_reason_name(enum p2pbuf_reason reason)
{
	if ((unsigned int)reason >= P2PBUF_REASON_COUNT)
		return "unknown";
	return p2pbuf_reason_names[reason];
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_reason_name, P2PBUF);

static bool p2pbuf_common_bridge(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_dev *up_a, *up_b;

	for (up_a = pci_upstream_bridge(a); up_a;
	     up_a = pci_upstream_bridge(up_a))
		for (up_b = pci_upstream_bridge(b); up_b;
		     up_b = pci_upstream_bridge(up_b))
			if (up_a == up_b)
				return true;
	return false;
}

/**
 * p2pbuf_device_decision() - the P2P decision for an importer device
 * @provider: the PCI function whose memory is exported
 * @importer: the device that would DMA to it
 * @allow_peer2peer: the importer accepts memory without struct pages that
 *	it may only hand to the DMA API (dma_buf_attachment.peer2peer)
 *
 * Asks pci_p2pdma_distance() (quietly) when the importer is a PCI device
 * that allows peer2peer and the kernel has CONFIG_PCI_P2PDMA; without it
 * the answer is %P2PBUF_REASON_NO_P2PDMA (the stub distance, -1, would
 * blame the host bridge). A %P2PBUF_REASON_P2P answer is not the last word:
 * dma_map_sgtable() may still refuse with -EREMOTEIO
 * (%P2PBUF_REASON_MAP_REFUSED). Takes no lock; may sleep.
 *
 * Return: the decision, see enum p2pbuf_reason.
 */
enum p2pbuf_reason p2pbuf_device_decision(struct pci_dev *provider,
					  struct device *importer,
					  bool allow_peer2peer)
{
	const bool p2pdma = IS_ENABLED(CONFIG_PCI_P2PDMA);
	struct pci_dev *client;
	int distance;

	if (!allow_peer2peer)
		return p2pbuf_decide(false, false, p2pdma, -1, false);
	if (!importer || !dev_is_pci(importer))
		return p2pbuf_decide(true, false, p2pdma, -1, false);
	if (!p2pdma)
		return p2pbuf_decide(true, true, false, -1, false);

	client = to_pci_dev(importer);
	distance = pci_p2pdma_distance(provider, importer, false);
	return p2pbuf_decide(true, true, true, distance,
			     distance < 0 &&
			     p2pbuf_common_bridge(provider, client));
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_device_decision, P2PBUF);

/**
 * p2pbuf_attach_decision() - the P2P decision for a dma-buf attachment
 * @provider: the PCI function whose memory the dma-buf exports
 * @attach: the attachment, as given to the exporter's attach callback
 *
 * The exporter calls this in its &dma_buf_ops.attach and keeps the answer
 * with the attachment. Takes no lock; may sleep.
 *
 * Return: the decision, see p2pbuf_device_decision().
 */
enum p2pbuf_reason p2pbuf_attach_decision(struct pci_dev *provider,
					  struct dma_buf_attachment *attach)
{
	return p2pbuf_device_decision(provider, attach->dev, attach->peer2peer);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_attach_decision, P2PBUF);

MODULE_DESCRIPTION("p2pbuf: peer-to-peer aware dma-buf helpers");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
