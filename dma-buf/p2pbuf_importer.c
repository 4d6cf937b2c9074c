// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf: importer helpers that obey the fence protocol.
 *
 * A driver that DMAs to dma-bufs embeds a &struct p2pbuf_importer and
 * brackets every DMA with p2pbuf_importer_begin_dma() and
 * p2pbuf_importer_end_dma():
 *
 * - begin takes the reservation lock, maps the attachment if it has no
 *   mapping (the first use, or the first after a move_notify), waits for the
 *   exporter's DMA_RESV_USAGE_KERNEL fences (its moves into the memory) and
 *   reserves a fence slot, so that publishing the DMA cannot fail;
 * - the driver submits its DMA to the addresses of the returned table;
 * - end adds the DMA's fence to the reservation object, so that the
 *   exporter's next move waits for it, and drops the lock.
 *
 * move_notify (called by the exporter with the reservation lock held) waits
 * for the importer's last published DMA, then drops the mapping; it
 * allocates nothing. The next begin re-maps.
 *
 * Implicit synchronisation with the buffer's other users is an option
 * (P2PBUF_IMPORT_IMPLICIT_SYNC at attach): p2pbuf_importer_begin_access()
 * then also hands back, as one fence, what the DMA must wait for: the
 * writers before a read, every reader and writer before a write. The
 * driver's job waits for it without any lock before it starts the DMA.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/module.h>
#include <linux/sched.h>

#include "p2pbuf.h"

MODULE_IMPORT_NS(DMA_BUF);

static struct dma_resv *p2pbuf_importer_resv(struct p2pbuf_importer *imp)
{
	return imp->attach->dmabuf->resv;
}

/* Reservation lock held: wait for our own DMA, then unmap. */
static void p2pbuf_importer_drop_map(struct p2pbuf_importer *imp)
{
	if (imp->inflight) {
		dma_fence_wait(imp->inflight, false);
		dma_fence_put(imp->inflight);
		imp->inflight = NULL;
	}
	if (imp->sgt && (imp->flags & P2PBUF_IMPORT_DYNAMIC)) {
		dma_buf_unmap_attachment(imp->attach, imp->sgt, imp->dir);
		imp->sgt = NULL;
	}
}

static void p2pbuf_importer_move_notify(struct dma_buf_attachment *attach)
{
	struct p2pbuf_importer *imp = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	atomic_inc(&imp->move_notifies);
	if (imp->invalidate)
		imp->invalidate(imp);
	p2pbuf_importer_drop_map(imp);
}

static const struct dma_buf_attach_ops p2pbuf_importer_ops = {
	.allow_peer2peer = false,
	.move_notify = p2pbuf_importer_move_notify,
};

static const struct dma_buf_attach_ops p2pbuf_importer_p2p_ops = {
	.allow_peer2peer = true,
	.move_notify = p2pbuf_importer_move_notify,
};

/**
 * p2pbuf_importer_attach() - attach to a dma-buf as a p2pbuf importer
 * @imp: the importer state, embedded in the caller's structure
 * @dmabuf: the dma-buf
 * @dev: the device that will DMA
 * @flags: %P2PBUF_IMPORT_DYNAMIC for a dynamic importer (move_notify, lazy
 *	re-map), plus %P2PBUF_IMPORT_PEER2PEER to accept the exporter's
 *	device memory (allow_peer2peer); 0 for a static importer, which the
 *	exporter pins and which is mapped here, once. Either kind may add
 *	%P2PBUF_IMPORT_IMPLICIT_SYNC: p2pbuf_importer_map_access_locked()
 *	and p2pbuf_importer_begin_access() then order each DMA after the
 *	buffer's other users (see there)
 * @dir: the DMA direction of every mapping
 *
 * Takes no lock on entry (the dma-buf core takes the reservation lock).
 * May sleep. Undo with p2pbuf_importer_detach().
 *
 * Return: 0; -EINVAL for unknown flags or PEER2PEER without DYNAMIC; an
 * error of dma_buf_attach() or, for a static importer, of the mapping.
 */
int p2pbuf_importer_attach(struct p2pbuf_importer *imp, struct dma_buf *dmabuf,
			   struct device *dev, unsigned int flags,
			   enum dma_data_direction dir)
{
	const struct dma_buf_attach_ops *ops = &p2pbuf_importer_ops;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	if (flags & ~(P2PBUF_IMPORT_DYNAMIC | P2PBUF_IMPORT_PEER2PEER |
		      P2PBUF_IMPORT_IMPLICIT_SYNC))
		return -EINVAL;
	if ((flags & P2PBUF_IMPORT_PEER2PEER) &&
	    !(flags & P2PBUF_IMPORT_DYNAMIC))
		return -EINVAL;
	if (!valid_dma_direction(dir))
		return -EINVAL;

	memset(imp, 0, sizeof(*imp));
	imp->flags = flags;
	imp->dir = dir;
	if (flags & P2PBUF_IMPORT_PEER2PEER)
		ops = &p2pbuf_importer_p2p_ops;
	if (flags & P2PBUF_IMPORT_DYNAMIC)
		attach = dma_buf_dynamic_attach(dmabuf, dev, ops, imp);
	else
		attach = dma_buf_attach(dmabuf, dev);
	if (IS_ERR(attach))
		return PTR_ERR(attach);
	imp->attach = attach;

	if (!(flags & P2PBUF_IMPORT_DYNAMIC)) {
		sgt = dma_buf_map_attachment_unlocked(attach, dir);
		if (IS_ERR(sgt)) {
			dma_buf_detach(dmabuf, attach);
			imp->attach = NULL;
			return PTR_ERR(sgt);
		}
		imp->sgt = sgt;
		atomic_inc(&imp->maps);
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_attach, P2PBUF);

/**
 * p2pbuf_importer_detach() - wait for the last DMA, unmap and detach
 * @imp: an importer set up by p2pbuf_importer_attach()
 *
 * Takes the reservation lock. May sleep.
 */
void p2pbuf_importer_detach(struct p2pbuf_importer *imp)
{
	struct dma_buf *dmabuf = imp->attach->dmabuf;

	dma_resv_lock(dmabuf->resv, NULL);
	p2pbuf_importer_drop_map(imp);
	dma_resv_unlock(dmabuf->resv);
	if (imp->sgt) {
		dma_buf_unmap_attachment_unlocked(imp->attach, imp->sgt,
						  imp->dir);
		imp->sgt = NULL;
	}
	dma_buf_detach(dmabuf, imp->attach);
	imp->attach = NULL;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_detach, P2PBUF);

/**
 * p2pbuf_importer_pin() - pin the buffer where it is mapped next
 * @imp: a dynamic importer
 *
 * For dynamic importers that cannot stop their DMA on move_notify. Takes
 * the reservation lock, interruptibly. Undo with p2pbuf_importer_unpin().
 *
 * Return: 0, -EINVAL for a static importer (the exporter pins those
 * itself), -EINTR, or the exporter's pin error.
 */
int p2pbuf_importer_pin(struct p2pbuf_importer *imp)
{
	struct dma_resv *resv = p2pbuf_importer_resv(imp);
	int ret;

	if (!(imp->flags & P2PBUF_IMPORT_DYNAMIC))
		return -EINVAL;
	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	ret = dma_buf_pin(imp->attach);
	dma_resv_unlock(resv);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_pin, P2PBUF);

/**
 * p2pbuf_importer_unpin() - undo p2pbuf_importer_pin()
 * @imp: a dynamic importer that pinned
 *
 * Takes the reservation lock.
 */
void p2pbuf_importer_unpin(struct p2pbuf_importer *imp)
{
	struct dma_resv *resv = p2pbuf_importer_resv(imp);

	dma_resv_lock(resv, NULL);
	dma_buf_unpin(imp->attach);
	dma_resv_unlock(resv);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_unpin, P2PBUF);

/*
 * Whether the exporter's moves are done, looked at under the reservation
 * lock: the common case of every I/O costs no RCU walk and no references,
 * as dma_resv_wait_timeout() takes even when it has nothing to wait for.
 */
static bool p2pbuf_resv_kernel_idle_locked(struct dma_resv *resv)
{
	struct dma_resv_iter cursor;
	struct dma_fence *fence;

	dma_resv_for_each_fence(&cursor, resv, DMA_RESV_USAGE_KERNEL, fence)
		if (!dma_fence_is_signaled(fence))
			return false;
	return true;
}

/**
 * p2pbuf_importer_map_locked() - get a mapping that is safe to DMA to
 * @imp: an importer set up by p2pbuf_importer_attach()
 * @interruptible: waits may be interrupted by signals
 *
 * With the reservation lock held by the caller (alone, or with other
 * reservation locks in one ww_acquire context): maps the attachment when it
 * has no mapping, waits for the exporter's DMA_RESV_USAGE_KERNEL fences and
 * reserves one fence slot for p2pbuf_importer_publish_locked().
 *
 * It does not order the DMA after the buffer's other users, whatever the
 * attach flags: for a mapping that no DMA uses, or a DMA that orders
 * itself. p2pbuf_importer_map_access_locked() adds implicit
 * synchronisation.
 *
 * Return: the mapping, valid while the lock is held and after that until
 * the DMA published has completed; or an ERR_PTR: -ERESTARTSYS, -ENOMEM,
 * or the exporter's map error.
 */
struct sg_table *p2pbuf_importer_map_locked(struct p2pbuf_importer *imp,
					    bool interruptible)
{
	struct dma_resv *resv = p2pbuf_importer_resv(imp);
	struct sg_table *sgt;
	long wait;
	int ret;

	dma_resv_assert_held(resv);
	if (!imp->sgt) {
		sgt = dma_buf_map_attachment(imp->attach, imp->dir);
		if (IS_ERR(sgt))
			return sgt;
		imp->sgt = sgt;
		atomic_inc(&imp->maps);
	}
	if (!p2pbuf_resv_kernel_idle_locked(resv)) {
		wait = dma_resv_wait_timeout(resv, DMA_RESV_USAGE_KERNEL,
					     interruptible,
					     MAX_SCHEDULE_TIMEOUT);
		if (wait < 0)
			return ERR_PTR(wait);
	}
	ret = dma_resv_reserve_fences(resv, 1);
	if (ret)
		return ERR_PTR(ret);
	return imp->sgt;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_map_locked, P2PBUF);

/**
 * p2pbuf_importer_pages_locked() - the pages behind the current mapping
 * @imp: an importer set up by p2pbuf_importer_attach()
 * @first: the first page, counted from the start of the buffer
 * @count: how many pages
 * @pages: out: @count page pointers
 *
 * For importers whose DMA takes struct pages (the block layer, software
 * RDMA devices), not the DMA addresses of the mapping. Call with the
 * reservation lock held, after p2pbuf_importer_map_locked() or
 * p2pbuf_importer_map_access_locked(): the pages are those of the
 * placement that mapping names (the exporter's P2P pages of device memory,
 * or system pages), valid as long as the mapping: a DMA to them must be
 * published (p2pbuf_importer_publish_locked()) before the lock is dropped,
 * so that the exporter's next move waits for it. No page references are
 * taken.
 *
 * Return: 0; -EINVAL without a mapping or for a range past the end of the
 * buffer; -EOPNOTSUPP when the exporter does not offer pages
 * (p2pbuf_exporter_register()) or its memory has none.
 */
int p2pbuf_importer_pages_locked(struct p2pbuf_importer *imp, pgoff_t first,
				 unsigned long count, struct page **pages)
{
	struct dma_buf *dmabuf = imp->attach->dmabuf;
	const struct p2pbuf_exporter_ops *xops;
	unsigned long nr = dmabuf->size >> PAGE_SHIFT;

	dma_resv_assert_held(dmabuf->resv);
	if (!imp->sgt || !count || first >= nr || count > nr - first)
		return -EINVAL;
	xops = p2pbuf_exporter_ops_of(dmabuf);
	if (!xops)
		return -EOPNOTSUPP;
	return xops->pages(imp->attach, first, count, pages);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_pages_locked, P2PBUF);

/**
 * p2pbuf_importer_pins_on_map() - does a mapping of this importer pin?
 * @imp: an importer set up by p2pbuf_importer_attach()
 *
 * A kernel built without CONFIG_DMABUF_MOVE_NOTIFY calls a dynamic
 * exporter's pin before every map of a dynamic importer and unpin after
 * the unmap: the buffer cannot move while the importer holds a mapping,
 * and the exporter never needs to call move_notify for a move. Static
 * importers are pinned from attach to detach on every kernel.
 *
 * Return: true when @imp is dynamic, its exporter is dynamic and the
 * kernel has no CONFIG_DMABUF_MOVE_NOTIFY.
 */
bool p2pbuf_importer_pins_on_map(struct p2pbuf_importer *imp)
{
	return !IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY) &&
	       (imp->flags & P2PBUF_IMPORT_DYNAMIC) &&
	       dma_buf_is_dynamic(imp->attach->dmabuf);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_pins_on_map, P2PBUF);

/**
 * p2pbuf_importer_unmap_idle_locked() - let go of a mapping that pins
 * @imp: an importer set up by p2pbuf_importer_attach()
 *
 * With the reservation lock held: when a mapping of @imp pins the buffer
 * (p2pbuf_importer_pins_on_map()) and the last DMA published has
 * completed, drops the mapping, and with it the pin, so that the exporter
 * may move the buffer again (and give back whatever the pin holds, such
 * as device memory charged to a quota). The next map maps again. For an
 * importer that keeps its mapping between DMAs on a kernel with
 * CONFIG_DMABUF_MOVE_NOTIFY, where its mapping pins nothing, and while a
 * DMA is in flight, it does nothing. Waits for nothing and allocates
 * nothing.
 *
 * Return: true when a mapping was dropped.
 */
bool p2pbuf_importer_unmap_idle_locked(struct p2pbuf_importer *imp)
{
	dma_resv_assert_held(p2pbuf_importer_resv(imp));
	if (!imp->sgt || !p2pbuf_importer_pins_on_map(imp))
		return false;
	if (imp->inflight && !dma_fence_is_signaled(imp->inflight))
		return false;
	p2pbuf_importer_drop_map(imp);
	return true;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_unmap_idle_locked, P2PBUF);

/**
 * p2pbuf_importer_unmap_locked() - let go of the mapping, pinned or not
 * @imp: a dynamic importer set up by p2pbuf_importer_attach()
 *
 * With the reservation lock held: waits for the last DMA published, then
 * drops the mapping (and the pin a kernel without move_notify took for
 * it). For an importer whose device goes away while it stays attached
 * (the device's driver unbinds): nothing may stay mapped for a device
 * without a driver. The importer must not map again afterwards. A static
 * importer keeps its mapping until the detach.
 */
void p2pbuf_importer_unmap_locked(struct p2pbuf_importer *imp)
{
	dma_resv_assert_held(p2pbuf_importer_resv(imp));
	p2pbuf_importer_drop_map(imp);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_unmap_locked, P2PBUF);

/**
 * p2pbuf_importer_map_access_locked() - map, and say what a DMA waits for
 * @imp: an importer set up by p2pbuf_importer_attach()
 * @usage: how the DMA uses the buffer, as it will be published:
 *	DMA_RESV_USAGE_WRITE when it writes the buffer, DMA_RESV_USAGE_READ
 *	when it only reads it
 * @interruptible: waits may be interrupted by signals
 * @dep: out: a fence the DMA must not start before, or NULL
 *
 * p2pbuf_importer_map_locked(), with the reservation lock held by the
 * caller; then, for an importer attached with %P2PBUF_IMPORT_IMPLICIT_SYNC,
 * the implicit synchronisation of dma_resv: before a DMA that reads the
 * buffer, its writers (the fences up to DMA_RESV_USAGE_WRITE: userspace
 * fences imported with DMA_BUF_IOCTL_IMPORT_SYNC_FILE as writes, other
 * importers' writes such as p2pgem's copies into it); before a DMA that
 * writes it, every reader and writer (up to DMA_RESV_USAGE_READ). Those
 * still unsignalled are returned in @dep as one fence (a
 * dma_fence_array when there are several), a reference the caller drops.
 * Without the flag @dep is NULL: the DMA waits for the exporter's moves
 * only, the default.
 *
 * The helper does not wait for @dep itself. Other users' fences may signal
 * late (a userspace fence, a job queued behind others), and a wait here,
 * under the reservation lock, would hold up the exporter's moves and every
 * other user of the buffer for that long. The driver publishes its DMA's
 * fence as usual and has its job wait for @dep, without any lock, before it
 * starts the DMA, as a scheduler dependency; an error of @dep should fail
 * the job. The DMA's fence then signals after @dep: the exporter's next
 * move, and move_notify, wait for both.
 *
 * Return: the mapping, as p2pbuf_importer_map_locked(); or an ERR_PTR:
 * -EINVAL for another @usage, the errors of p2pbuf_importer_map_locked(),
 * -ENOMEM. On error @dep is NULL.
 */
struct sg_table *p2pbuf_importer_map_access_locked(struct p2pbuf_importer *imp,
						   enum dma_resv_usage usage,
						   bool interruptible,
						   struct dma_fence **dep)
{
	struct sg_table *sgt;
	int ret;

	*dep = NULL;
	if (usage != DMA_RESV_USAGE_WRITE && usage != DMA_RESV_USAGE_READ)
		return ERR_PTR(-EINVAL);
	sgt = p2pbuf_importer_map_locked(imp, interruptible);
	if (IS_ERR(sgt) || !(imp->flags & P2PBUF_IMPORT_IMPLICIT_SYNC))
		return sgt;
	ret = dma_resv_get_singleton(p2pbuf_importer_resv(imp),
				     dma_resv_usage_rw(usage ==
						       DMA_RESV_USAGE_WRITE),
				     dep);
	if (ret) {
		*dep = NULL;
		return ERR_PTR(ret);
	}
	return sgt;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_map_access_locked, P2PBUF);

/**
 * p2pbuf_importer_publish_locked() - publish a DMA in the reservation object
 * @imp: an importer on which p2pbuf_importer_map_locked() succeeded
 * @fence: the fence of the DMA submitted to the mapping's addresses
 * @usage: DMA_RESV_USAGE_WRITE when the DMA writes the buffer,
 *	DMA_RESV_USAGE_READ when it only reads it
 *
 * With the reservation lock still held since the map: adds @fence in the
 * slot the map reserved (so the exporter's next move waits for it) and
 * remembers it for move_notify. Cannot fail.
 */
void p2pbuf_importer_publish_locked(struct p2pbuf_importer *imp,
				    struct dma_fence *fence,
				    enum dma_resv_usage usage)
{
	dma_resv_assert_held(p2pbuf_importer_resv(imp));
	dma_resv_add_fence(p2pbuf_importer_resv(imp), fence, usage);
	dma_fence_put(imp->inflight);
	imp->inflight = dma_fence_get(fence);
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_publish_locked, P2PBUF);

/**
 * p2pbuf_importer_begin_dma() - lock, and get a mapping that is safe to DMA to
 * @imp: an importer set up by p2pbuf_importer_attach()
 *
 * Takes the reservation lock (interruptibly) and returns with it held on
 * success, after p2pbuf_importer_map_locked() (waits interruptibly; no
 * implicit synchronisation, see p2pbuf_importer_begin_access()). The
 * table stays valid until p2pbuf_importer_end_dma() drops the lock, and
 * after that until the DMA published there has completed.
 *
 * Return: the mapping, or an ERR_PTR with the lock not held: -EINTR or
 * -ERESTARTSYS, -ENOMEM, or the exporter's map error.
 */
struct sg_table *p2pbuf_importer_begin_dma(struct p2pbuf_importer *imp)
{
	struct dma_resv *resv = p2pbuf_importer_resv(imp);
	struct sg_table *sgt;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ERR_PTR(ret);
	sgt = p2pbuf_importer_map_locked(imp, true);
	if (IS_ERR(sgt))
		dma_resv_unlock(resv);
	return sgt;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_begin_dma, P2PBUF);

/**
 * p2pbuf_importer_begin_access() - lock, map, and say what a DMA waits for
 * @imp: an importer set up by p2pbuf_importer_attach()
 * @usage: DMA_RESV_USAGE_WRITE when the DMA writes the buffer,
 *	DMA_RESV_USAGE_READ when it only reads it
 * @dep: out: a fence the DMA must not start before, or NULL
 *
 * p2pbuf_importer_begin_dma() with p2pbuf_importer_map_access_locked():
 * takes the reservation lock (interruptibly) and returns with it held on
 * success; finish with p2pbuf_importer_end_dma(), with the same @usage.
 * With %P2PBUF_IMPORT_IMPLICIT_SYNC, @dep is what the DMA waits for (see
 * p2pbuf_importer_map_access_locked()).
 *
 * Return: the mapping, or an ERR_PTR with the lock not held and @dep NULL:
 * -EINVAL, -EINTR or -ERESTARTSYS, -ENOMEM, or the exporter's map error.
 */
struct sg_table *p2pbuf_importer_begin_access(struct p2pbuf_importer *imp,
					      enum dma_resv_usage usage,
					      struct dma_fence **dep)
{
	struct dma_resv *resv = p2pbuf_importer_resv(imp);
	struct sg_table *sgt;
	int ret;

	*dep = NULL;
	if (usage != DMA_RESV_USAGE_WRITE && usage != DMA_RESV_USAGE_READ)
		return ERR_PTR(-EINVAL);
	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ERR_PTR(ret);
	sgt = p2pbuf_importer_map_access_locked(imp, usage, true, dep);
	if (IS_ERR(sgt))
		dma_resv_unlock(resv);
	return sgt;
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_begin_access, P2PBUF);

/**
 * p2pbuf_importer_end_dma() - publish the DMA and drop the lock
 * @imp: an importer on which p2pbuf_importer_begin_dma() succeeded
 * @fence: the fence of the DMA submitted, or NULL when it already
 *	completed (or nothing was submitted)
 * @usage: DMA_RESV_USAGE_WRITE when the DMA writes the buffer,
 *	DMA_RESV_USAGE_READ when it only reads it
 *
 * p2pbuf_importer_publish_locked() for @fence, then drops the reservation
 * lock. Cannot fail.
 */
void p2pbuf_importer_end_dma(struct p2pbuf_importer *imp,
			     struct dma_fence *fence, enum dma_resv_usage usage)
{
	if (fence)
		p2pbuf_importer_publish_locked(imp, fence, usage);
	dma_resv_unlock(p2pbuf_importer_resv(imp));
}
EXPORT_SYMBOL_NS_GPL(p2pbuf_importer_end_dma, P2PBUF);
