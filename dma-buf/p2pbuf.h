/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf: exporter and importer helpers for peer-to-peer dma-bufs (symbol
 * namespace P2PBUF). Documentation/dma-buf-p2p.rst holds the decision
 * table, the fence protocol and the locking order.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef _P2PBUF_H_
#define _P2PBUF_H_

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct device;
struct dma_buf;
struct dma_buf_attachment;
struct dma_fence;
struct page;
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
 * @P2PBUF_REASON_NO_P2PDMA: the kernel is built without CONFIG_PCI_P2PDMA:
 *	no device memory has P2P pages and nothing can be mapped for a peer
 * @P2PBUF_REASON_COUNT: number of reason codes
 *
 * Every reason except @P2PBUF_REASON_P2P means system memory. The values
 * are ABI (p2pgem's P2P query answers with them): new ones go at the end.
 */
enum p2pbuf_reason {
	P2PBUF_REASON_P2P,
	P2PBUF_REASON_NO_PEER2PEER,
	P2PBUF_REASON_NOT_PCI,
	P2PBUF_REASON_ACS_REDIRECT,
	P2PBUF_REASON_HOST_BRIDGE,
	P2PBUF_REASON_MAP_REFUSED,
	P2PBUF_REASON_NO_P2PDMA,
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
				 bool kernel_p2pdma, int distance,
				 bool common_bridge);
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
struct sg_table *p2pbuf_map_pages(struct page **pages, unsigned int nr_pages,
				  struct device *importer,
				  enum dma_data_direction dir);
void p2pbuf_unmap_sgt(struct device *importer, struct sg_table *sgt,
		      enum dma_data_direction dir);
void p2pbuf_unmap_pages(struct device *importer, struct sg_table *sgt,
			enum dma_data_direction dir);
int p2pbuf_sgt_copy(struct sg_table *dst, struct sg_table *src);

/**
 * struct p2pbuf_attachment - what an exporter keeps with an attachment
 * @reason: the P2P decision taken at attach; %P2PBUF_REASON_MAP_REFUSED
 *	once dma_map_sgtable() refused the P2P pages
 * @p2p_mapped: the current mapping is of the provider's memory (P2P
 *	pages), not of system memory; under the reservation lock
 * @mapped: mappings handed out and not yet unmapped; kept by the
 *	exporter's map and unmap callbacks, under the reservation lock
 * @pins: pins the importer holds; kept by the exporter's pin and unpin
 *	callbacks, under the reservation lock
 *
 * p2pbuf_exporter_attach() allocates it as &dma_buf_attachment.priv.
 */
struct p2pbuf_attachment {
	enum p2pbuf_reason reason;
	bool p2p_mapped;
	unsigned int mapped;
	unsigned int pins;
};

int p2pbuf_exporter_attach(struct pci_dev *provider,
			   struct dma_buf_attachment *attach);
void p2pbuf_exporter_detach(struct dma_buf_attachment *attach);
struct p2pbuf_attachment *p2pbuf_attachment(struct dma_buf_attachment *attach);
bool p2pbuf_exporter_all_p2p(struct dma_buf *dmabuf);

/**
 * struct p2pbuf_exporter_ops - what an exporter offers beyond a mapping
 * @pages: the pages of the buffer's current placement: @count pages from
 *	page @first into @pages, for an attachment that is mapped, with the
 *	reservation lock held. Device memory gives its P2P pages (of a BAR
 *	registered with pci_p2pdma_add_resource()), system memory its pages.
 *	Valid while the mapping is: until the importer's move_notify, or
 *	until the unmap; for an importer that pinned the buffer, until the
 *	unpin or a move_notify (which then means a revoke: the memory is
 *	going), whichever comes first. No references are taken. Return 0, -EINVAL for a
 *	range past the end or an attachment that is not mapped, or
 *	-EOPNOTSUPP for memory without struct pages.
 *
 * Registered with p2pbuf_exporter_register(); found by importers with
 * p2pbuf_exporter_ops_of() and called through p2pbuf_importer_pages_locked().
 * The block layer and software RDMA devices take pages, not DMA addresses,
 * and a table's page pointers are not the importer's to read (the dma-buf
 * core mangles them under CONFIG_DMABUF_DEBUG).
 */
struct p2pbuf_exporter_ops {
	int (*pages)(struct dma_buf_attachment *attach, pgoff_t first,
		     unsigned long count, struct page **pages);
};

struct dma_buf_ops;
int p2pbuf_exporter_register(const struct dma_buf_ops *ops,
			     const struct p2pbuf_exporter_ops *xops);
void p2pbuf_exporter_unregister(const struct dma_buf_ops *ops);
const struct p2pbuf_exporter_ops *p2pbuf_exporter_ops_of(struct dma_buf *dmabuf);

/* p2pbuf_importer_attach() flags */
#define P2PBUF_IMPORT_DYNAMIC	BIT(0)	/* dynamic: move_notify, lazy re-map */
#define P2PBUF_IMPORT_PEER2PEER	BIT(1)	/* allow_peer2peer; needs DYNAMIC */
#define P2PBUF_IMPORT_IMPLICIT_SYNC BIT(2) /* DMA after other users' fences */

/**
 * struct p2pbuf_importer - an importer's attachment to a dma-buf
 * @attach: the attachment
 * @sgt: the current mapping, NULL when there is none; under the
 *	reservation lock (a static importer's never changes)
 * @dir: the DMA direction of every mapping
 * @flags: P2PBUF_IMPORT_* flags given at attach
 * @inflight: the last DMA fence published (p2pbuf_importer_end_dma() or
 *	p2pbuf_importer_publish_locked()), or NULL; under the reservation lock
 * @move_notifies: move_notify calls so far
 * @maps: mappings made so far (the first map and every re-map)
 * @invalidate: optional, set by the importer under the reservation lock
 *	after p2pbuf_importer_attach(): called by move_notify, with the
 *	reservation lock held, before the mapping goes. For DMA that no
 *	published fence covers, such as memory registered for a remote peer
 *	on a pinned buffer (a move_notify then means the exporter revokes
 *	the buffer): it must return once that DMA can no longer happen. It
 *	must not take the reservation lock nor wait for anything that does
 *
 * Embedded in the importer's own structure; initialised by
 * p2pbuf_importer_attach().
 */
struct p2pbuf_importer {
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	enum dma_data_direction dir;
	unsigned int flags;
	struct dma_fence *inflight;
	atomic_t move_notifies;
	atomic_t maps;
	void (*invalidate)(struct p2pbuf_importer *imp);
};

int p2pbuf_importer_attach(struct p2pbuf_importer *imp, struct dma_buf *dmabuf,
			   struct device *dev, unsigned int flags,
			   enum dma_data_direction dir);
void p2pbuf_importer_detach(struct p2pbuf_importer *imp);
int p2pbuf_importer_pin(struct p2pbuf_importer *imp);
void p2pbuf_importer_unpin(struct p2pbuf_importer *imp);
struct sg_table *p2pbuf_importer_map_locked(struct p2pbuf_importer *imp,
					    bool interruptible);
void p2pbuf_importer_publish_locked(struct p2pbuf_importer *imp,
				    struct dma_fence *fence,
				    enum dma_resv_usage usage);
struct sg_table *p2pbuf_importer_map_access_locked(struct p2pbuf_importer *imp,
						   enum dma_resv_usage usage,
						   bool interruptible,
						   struct dma_fence **dep);
struct sg_table *p2pbuf_importer_begin_dma(struct p2pbuf_importer *imp);
struct sg_table *p2pbuf_importer_begin_access(struct p2pbuf_importer *imp,
					      enum dma_resv_usage usage,
					      struct dma_fence **dep);
void p2pbuf_importer_end_dma(struct p2pbuf_importer *imp,
			     struct dma_fence *fence, enum dma_resv_usage usage);
bool p2pbuf_importer_pins_on_map(struct p2pbuf_importer *imp);
int p2pbuf_importer_pages_locked(struct p2pbuf_importer *imp, pgoff_t first,
				 unsigned long count, struct page **pages);
bool p2pbuf_importer_unmap_idle_locked(struct p2pbuf_importer *imp);
void p2pbuf_importer_unmap_locked(struct p2pbuf_importer *imp);

struct p2pbuf_timeline;

/**
 * struct p2pbuf_fence - a fence that outlives its driver (p2pbuf_fence.c)
 * @base: the fence
 * @lock: its lock
 * @timeline: a reference to its timeline
 * @data: a result of the owner's work, for those who waited for the fence
 *	(p2pbuf_fence_set_data())
 */
struct p2pbuf_fence {
	struct dma_fence base;
	spinlock_t lock; /* the fence's lock */
	struct p2pbuf_timeline *timeline;
	u64 data;
};

struct p2pbuf_timeline *p2pbuf_timeline_create(const char *driver,
					       const char *name,
					       size_t priv_size);
void *p2pbuf_timeline_priv(struct p2pbuf_timeline *tl);
const char *p2pbuf_timeline_name(struct p2pbuf_timeline *tl);
struct p2pbuf_timeline *p2pbuf_timeline_get(struct p2pbuf_timeline *tl);
void p2pbuf_timeline_put(struct p2pbuf_timeline *tl);
struct p2pbuf_fence *p2pbuf_fence_alloc(struct p2pbuf_timeline *tl);
void p2pbuf_fence_free(struct p2pbuf_fence *f);
struct dma_fence *p2pbuf_fence_init(struct p2pbuf_fence *f);
void p2pbuf_fence_set_data(struct dma_fence *fence, u64 data);
bool p2pbuf_fence_get_data(struct dma_fence *fence, u64 *data);

#endif /* _P2PBUF_H_ */
