// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf: exporter helpers kept with each dma-buf attachment.
 *
 * An exporter of device memory calls p2pbuf_exporter_attach() from its
 * &dma_buf_ops.attach: the P2P decision for the importer is taken there,
 * once, and kept with the attachment in a &struct p2pbuf_attachment. The
 * exporter's pin and map callbacks read it (p2pbuf_exporter_all_p2p(),
 * p2pbuf_attachment()) to choose between its device memory, mapped with
 * p2pbuf_map_p2p_ranges(), and system memory, mapped with
 * p2pbuf_map_pages().
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "p2pbuf.h"

/**
 * p2pbuf_exporter_attach() - take the P2P decision for a new attachment
 * @provider: the PCI function whose memory the dma-buf exports
 * @attach: the attachment, as given to &dma_buf_ops.attach
 *
 * Allocates a &struct p2pbuf_attachment as @attach->priv with the decision
 * of p2pbuf_attach_decision(). Call from &dma_buf_ops.attach (no lock held);
 * undo with p2pbuf_exporter_detach(). May sleep.
 *
 * Return: 0 or -ENOMEM.
 */
int p2pbuf_exporter_attach(struct pci_dev *provider,
			   struct dma_buf_attachment *attach)
{
	struct p2pbuf_attachment *pa;

	pa = kzalloc(sizeof(*pa), GFP_KERNEL);
	if (!pa)
		return -ENOMEM;
	pa->reason = p2pbuf_attach_decision(provider, attach);
	attach->priv = pa;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_exporter_attach, P2PBUF);

/**
 * p2pbuf_exporter_detach() - free what p2pbuf_exporter_attach() allocated
 * @attach: the attachment, as given to &dma_buf_ops.detach
 */
void p2pbuf_exporter_detach(struct dma_buf_attachment *attach)
{
	kfree(attach->priv);
	attach->priv = NULL;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_exporter_detach, P2PBUF);

/**
 * p2pbuf_attachment() - the exporter state of an attachment
 * @attach: an attachment set up by p2pbuf_exporter_attach()
 *
 * Return: the &struct p2pbuf_attachment kept with @attach.
 */
struct p2pbuf_attachment *p2pbuf_attachment(struct dma_buf_attachment *attach)
{
	return attach->priv;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_attachment, P2PBUF);

/**
 * p2pbuf_exporter_all_p2p() - may every attachment get device memory?
 * @dmabuf: a dma-buf whose attachments were set up by
 *	p2pbuf_exporter_attach()
 *
 * The pin rule: a buffer pinned for one importer must suit all of them, so
 * it is pinned in device memory only when every attachment may reach it
 * peer-to-peer. Takes no lock; the caller holds @dmabuf's reservation lock,
 * which protects the attachment list.
 *
 * Return: true when every attachment's decision is %P2PBUF_REASON_P2P.
 */
bool p2pbuf_exporter_all_p2p(struct dma_buf *dmabuf)
{
	struct dma_buf_attachment *attach;

	dma_resv_assert_held(dmabuf->resv);
	list_for_each_entry(attach, &dmabuf->attachments, node) {
		struct p2pbuf_attachment *pa = attach->priv;

		if (!pa || pa->reason != P2PBUF_REASON_P2P)
			return false;
	}
	return true;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_exporter_all_p2p, P2PBUF);

/*
 * Exporters that give importers their pages (p2pbuf_exporter_register()),
 * keyed by the dma_buf_ops of their dma-bufs. A handful of entries at most.
 */
struct p2pbuf_exporter_entry {
	struct list_head link;
	const struct dma_buf_ops *ops;
	const struct p2pbuf_exporter_ops *xops;
};

static DEFINE_SPINLOCK(p2pbuf_exporters_lock);
static LIST_HEAD(p2pbuf_exporters);

/* p2pbuf_exporters_lock held */
static struct p2pbuf_exporter_entry *
p2pbuf_exporter_find(const struct dma_buf_ops *ops)
{
	struct p2pbuf_exporter_entry *e;

	list_for_each_entry(e, &p2pbuf_exporters, link)
		if (e->ops == ops)
			return e;
	return NULL;
}

/**
 * p2pbuf_exporter_register() - offer importers more than a mapping
 * @ops: the dma_buf_ops of the exporter's dma-bufs
 * @xops: what the exporter offers for them (&struct p2pbuf_exporter_ops)
 *
 * Importers find @xops from a dma-buf whose &dma_buf.ops is @ops
 * (p2pbuf_exporter_ops_of()). Call from module init, before the first
 * export; undo with p2pbuf_exporter_unregister() at module exit. Both
 * structures must live as long as the registration; a dma-buf holds a
 * reference to its exporter's module (&dma_buf.owner), so an importer
 * holding the dma-buf may call @xops without further reference.
 *
 * Return: 0, -EINVAL for a missing @xops->pages, -EEXIST when @ops is
 * registered already, or -ENOMEM.
 */
int p2pbuf_exporter_register(const struct dma_buf_ops *ops,
			     const struct p2pbuf_exporter_ops *xops)
{
	struct p2pbuf_exporter_entry *e;
	int ret = 0;

	if (!ops || !xops || !xops->pages)
		return -EINVAL;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->ops = ops;
	e->xops = xops;
	spin_lock(&p2pbuf_exporters_lock);
	if (p2pbuf_exporter_find(ops))
		ret = -EEXIST;
	else
		list_add_tail(&e->link, &p2pbuf_exporters);
	spin_unlock(&p2pbuf_exporters_lock);
	if (ret)
		kfree(e);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_exporter_register, P2PBUF);

/**
 * p2pbuf_exporter_unregister() - undo p2pbuf_exporter_register()
 * @ops: the dma_buf_ops given there; nothing happens for others
 */
void p2pbuf_exporter_unregister(const struct dma_buf_ops *ops)
{
	struct p2pbuf_exporter_entry *e;

	spin_lock(&p2pbuf_exporters_lock);
	e = p2pbuf_exporter_find(ops);
	if (e)
		list_del(&e->link);
	spin_unlock(&p2pbuf_exporters_lock);
	kfree(e);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_exporter_unregister, P2PBUF);

/**
 * p2pbuf_exporter_ops_of() - what a dma-buf's exporter offers importers
 * @dmabuf: a dma-buf the caller holds a reference to
 *
 * Return: the &struct p2pbuf_exporter_ops its exporter registered, valid
 * while the caller holds @dmabuf; NULL for other exporters.
 */
const struct p2pbuf_exporter_ops *p2pbuf_exporter_ops_of(struct dma_buf *dmabuf)
{
	const struct p2pbuf_exporter_ops *xops = NULL;
	struct p2pbuf_exporter_entry *e;

	spin_lock(&p2pbuf_exporters_lock);
	e = p2pbuf_exporter_find(dmabuf->ops);
	if (e)
		xops = e->xops;
	spin_unlock(&p2pbuf_exporters_lock);
	return xops;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_exporter_ops_of, P2PBUF);
