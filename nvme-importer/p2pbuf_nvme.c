// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_nvme: block I/O between a block device and a dma-buf, by the
 * device's own DMA into the buffer's memory (uAPI in
 * include/uapi/linux/p2pbuf_nvme.h, design in
 * Documentation/nvme-importer.rst).
 *
 * A binding attaches the dma-buf as a dynamic importer (p2pbuf.ko's
 * helpers) for the PCI function behind the block device, allowing
 * peer2peer when the device's queue has QUEUE_FLAG_PCI_P2PDMA. The
 * attachment's mapping is never used for DMA: the block layer takes
 * pages, and the block driver maps them itself. The mapping is what makes
 * the exporter place the buffer where that function can reach it and tell
 * us, with move_notify, when it moves; the pages come from the exporter
 * (p2pbuf_importer_pages_locked()). It is made with DMA_TO_DEVICE, so that
 * DMA-API debugging, which tracks cachelines that a device may write, does
 * not take the block driver's own mapping of the same pages for an
 * overlap.
 *
 * An I/O: under the reservation lock, map, take the pages of the range
 * and publish a fence on the binding's timeline (a write when the device
 * writes the buffer, a read when it reads it); then, without the lock,
 * the binding's worker waits for the I/O's in-fence (and, with implicit
 * sync, the buffer's other users), bounded by dep_timeout_ms, and
 * submits bios of those pages (an I/O with nothing to wait for, first in
 * line, is submitted by its ioctl's task instead), REQ_NOMERGE (6.1 would merge P2P and
 * ordinary pages across requests) and sized to the queue's limits so
 * that the block layer never splits them. The fences signal in order:
 * one whose bios are done waits for the ones before it. move_notify waits
 * for the last fence published, and with it for every I/O.
 *
 * Lifetimes: the fences are p2pbuf fences (ops and lock in p2pbuf.ko,
 * timeline reference counted), so sync_files and reservation objects may
 * keep them after this module is gone. A binding holds the dma-buf, the
 * block device's file and the DMA device; each I/O holds its binding.
 * Closing the file (or UNBIND) cancels the I/Os that have not started,
 * waits for those that have and for their clean-up, and detaches, so no
 * bio completion runs this module's code once its files are closed and
 * the buffer is free to move; module exit drains the workqueue.
 *
 * Locking: the reservation lock, then &struct p2pbuf_nvme_binding.lock
 * (a spinlock, also taken from bio completion). &struct
 * p2pbuf_nvme_file.lock (a mutex) protects the file's bindings.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/ioprio.h>
#include <linux/iosys-map.h>
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <linux/p2pbuf_nvme.h>

#include "../dma-buf/p2pbuf.h"

MODULE_IMPORT_NS(P2PBUF);
MODULE_IMPORT_NS(DMA_BUF);

static unsigned int p2pbuf_nvme_dep_timeout_ms = 10000;
module_param_named(dep_timeout_ms, p2pbuf_nvme_dep_timeout_ms, uint, 0644);
MODULE_PARM_DESC(dep_timeout_ms,
		 "How long an I/O waits for its in-fence before it fails with ETIMEDOUT (default 10000)");

static unsigned int p2pbuf_nvme_queue_depth = 64;
module_param_named(queue_depth, p2pbuf_nvme_queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth,
		 "I/Os a binding may have unfinished before the next one gets EAGAIN (default 64)");

/* A pin nobody uses must not last: more than a second is refused. */
static int p2pbuf_nvme_set_linger(const char *val,
				  const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 1000);
}

static const struct kernel_param_ops p2pbuf_nvme_linger_ops = {
	.set = p2pbuf_nvme_set_linger,
	.get = param_get_uint,
};

static unsigned int p2pbuf_nvme_pin_linger_ms = 10;
module_param_cb(pin_linger_ms, &p2pbuf_nvme_linger_ops,
		&p2pbuf_nvme_pin_linger_ms, 0644);
MODULE_PARM_DESC(pin_linger_ms,
		 "On a kernel without move_notify, how long a binding keeps its mapping (and with it the buffer pinned) after its last I/O, for the next one (default 10, at most 1000, EINVAL above; 0: let go at once)");

static struct workqueue_struct *p2pbuf_nvme_wq;
/* Every binding, for the DMA devices' driver unbind. */
static DEFINE_MUTEX(p2pbuf_nvme_bindings_lock);
static LIST_HEAD(p2pbuf_nvme_bindings);
/* The DMA device of bindings to block devices without a PCI function. */
static struct platform_device *p2pbuf_nvme_pdev;

/**
 * struct p2pbuf_nvme_binding - a dma-buf bound to a block device
 * @ref: the file's reference and one per I/O
 * @imp: the dma-buf attachment
 * @dmabuf: a reference to the dma-buf
 * @file: a reference to the block device's or regular file's file (keeps
 *	it open)
 * @bdev: the block device, or the one the file's filesystem is on
 * @is_file: @file is a regular file, read and written through its
 *	filesystem's direct I/O
 * @seek_file: for a regular file opened for reading, the module's own
 *	open file of it, whose position SEEK_DATA and SEEK_HOLE may move
 *	(p2pbuf_nvme_holes()); NULL otherwise, or when it could not be opened
 * @dma_dev: the device the dma-buf is attached for, referenced
 * @tl: the fence timeline
 * @lock: protects @pending, @to_submit, @submitting, @count, @closing and
 *	@dead
 * @pending: unsignalled I/Os, in fence order
 * @to_submit: I/Os not started yet (by the worker or an ioctl), in fence
 *	order
 * @submitting: an I/O is being started, by the worker (which holds it
 *	while the I/O waits for its dependencies) or by an ioctl (its own,
 *	then those queued behind it: p2pbuf_nvme_start_now()): no other may
 *	start before it is
 * @count: I/Os on @pending
 * @closing: UNBIND or close: cancel what has not started
 * @dead: the DMA device's driver unbound (the NVMe controller went away):
 *	what has not started fails with ENODEV, and so does every new I/O
 * @node: on p2pbuf_nvme_bindings
 * @dying: on the bus notifier's list of bindings to kill
 * @wq: woken when an I/O signals, a dependency signals, or on @closing
 * @work: the worker that starts I/Os in order
 * @unmap_work: on a kernel without move_notify, lets go of the mapping,
 *	and so of the pin, pin_linger_ms after the binding went idle
 * @idle_since: jiffies when the binding last went idle (@unmap_work waits
 *	on until pin_linger_ms after it)
 * @buf_writable: the dma-buf fd was open for writing
 * @p2p: peer2peer was allowed (the queue has QUEUE_FLAG_PCI_P2PDMA)
 * @bounce: the exporter gives no pages but has vmap: @imp is not attached;
 *	each I/O goes through pages of its own and a CPU copy (bounce path)
 * @bounce_attach: for the bounce path, a static attachment for the
 *	module's own device, which pins the buffer
 * @implicit: P2PBUF_NVME_BIND_IMPLICIT_SYNC (what @imp does otherwise)
 */
struct p2pbuf_nvme_binding {
	struct kref ref;
	struct p2pbuf_importer imp;
	struct dma_buf *dmabuf;
	struct file *file;
	struct block_device *bdev;
	bool is_file;
	struct file *seek_file;
	struct device *dma_dev;
	struct p2pbuf_timeline *tl;
	spinlock_t lock; /* see above */
	struct list_head pending;
	struct list_head to_submit;
	bool submitting;
	unsigned int count;
	bool closing;
	bool dead;
	struct list_head node;
	struct list_head dying;
	wait_queue_head_t wq;
	struct work_struct work;
	struct delayed_work unmap_work;
	unsigned long idle_since;
	bool buf_writable;
	bool p2p;
	bool bounce;
	struct dma_buf_attachment *bounce_attach;
	bool implicit;
};

/* The pages of an I/O that needs no arrays of its own: 64 KiB. */
#define P2PBUF_NVME_INLINE_PAGES (SZ_64K >> PAGE_SHIFT)

/**
 * struct p2pbuf_nvme_req - one I/O
 * @b: its binding, referenced
 * @fence: its fence, published
 * @deps: what it waits for before it starts: the in-fence and the
 *	implicit-sync fence, either NULL
 * @deadline: in jiffies, dep_timeout_ms after it was queued: the latest
 *	it may wait for @deps
 * @pages: the pages of the buffer range
 * @first_offset: byte offset of the range in its first page
 * @dev_offset: byte offset on the device
 * @length: bytes
 * @write: buffer to device
 * @bvecs: for a file, the pages as a bio_vec array
 * @iocb: for a file, the direct I/O
 * @bios: bios in flight, plus one while submitting
 * @error: the first error
 * @done: finished; signalled once every I/O before it is
 * @pending_link: on &p2pbuf_nvme_binding.pending
 * @submit_link: on &p2pbuf_nvme_binding.to_submit
 * @free_work: frees it, in process context
 * @bounce_work: the bounce path's copy into the buffer after a read
 * @buf_offset: byte offset in the buffer (the bounce path's copies)
 * @cpu_bytes: bytes of it the CPU moves rather than the device's DMA
 *	(p2pbuf_nvme_cpu_bytes(), plus a file write's page-cache fallback);
 *	left in the fence when it signals (p2pbuf_fence_set_data())
 * @tgid: the thread group of the task that queued it
 * @ioprio: that task's I/O priority then
 * @inline_pages: @pages of an I/O of P2PBUF_NVME_INLINE_PAGES pages or
 *	fewer, and @inline_bvecs its @bvecs: no allocation of their own for a
 *	small I/O. Not zeroed (p2pbuf_nvme_req_alloc()): they come last.
 * @inline_bvecs: see @inline_pages
 */
struct p2pbuf_nvme_req {
	struct p2pbuf_nvme_binding *b;
	struct dma_fence *fence;
	struct dma_fence *deps[2];
	unsigned long deadline;
	struct page **pages;
	unsigned int first_offset;
	u64 dev_offset;
	u64 length;
	bool write;
	struct bio_vec *bvecs;
	struct kiocb iocb;
	atomic_t bios;
	int error;
	bool done;
	struct list_head pending_link;
	struct list_head submit_link;
	struct work_struct free_work;
	struct work_struct bounce_work;
	u64 buf_offset;
	u64 cpu_bytes;
	pid_t tgid;
	int ioprio;
	struct page *inline_pages[P2PBUF_NVME_INLINE_PAGES];
	struct bio_vec inline_bvecs[P2PBUF_NVME_INLINE_PAGES];
};

/**
 * struct p2pbuf_nvme_file - an open /dev/p2pbuf_nvme
 * @lock: protects @bindings
 * @bindings: handle -> &struct p2pbuf_nvme_binding
 */
struct p2pbuf_nvme_file {
	struct mutex lock; /* see above */
	struct xarray bindings;
};

static void p2pbuf_nvme_binding_free(struct kref *ref)
{
	struct p2pbuf_nvme_binding *b =
		container_of(ref, struct p2pbuf_nvme_binding, ref);

	/* The worker may still be looking for more to do. */
	cancel_work_sync(&b->work);
	cancel_delayed_work_sync(&b->unmap_work);
	/*
	 * Detached under the list's lock: a driver unbind that does not find
	 * the binding on the list any more must find its mapping gone.
	 */
	mutex_lock(&p2pbuf_nvme_bindings_lock);
	list_del(&b->node);
	if (b->bounce)
		dma_buf_detach(b->dmabuf, b->bounce_attach);
	else
		p2pbuf_importer_detach(&b->imp);
	mutex_unlock(&p2pbuf_nvme_bindings_lock);
	dma_buf_put(b->dmabuf);
	if (b->seek_file)
		fput(b->seek_file);
	fput(b->file);
	put_device(b->dma_dev);
	p2pbuf_timeline_put(b->tl);
	kfree(b);
}

/*
 * Drop a reference that is not the file's. UNBIND and close wait for these
 * (p2pbuf_nvme_binding_close()) and free the binding themselves, so this
 * put is never the last one; wake_up_var() only hashes the address. The
 * barrier orders the count's decrement before the waker's look at the
 * wait queue (wake_up_var() wants one).
 */
static void p2pbuf_nvme_binding_put(struct p2pbuf_nvme_binding *b)
{
	kref_put(&b->ref, p2pbuf_nvme_binding_free);
	/* The decrement before wake_up_var()'s look at the queue. */
	smp_mb__after_atomic();
	wake_up_var(&b->ref);
}

static void p2pbuf_nvme_io_done(struct p2pbuf_nvme_req *io, int error);

/* The bounce path's own pages, if any. */
static void p2pbuf_nvme_bounce_free(struct p2pbuf_nvme_req *io)
{
	unsigned long i, n;

	if (!io->b->bounce || !io->pages)
		return;
	n = DIV_ROUND_UP(io->first_offset + io->length, PAGE_SIZE);
	for (i = 0; i < n && io->pages[i]; i++)
		__free_page(io->pages[i]);
}

/*
 * The bounce path's CPU copy between the buffer (its vmap) and the I/O's
 * own pages; process context. Only exporters without begin_cpu_access
 * take this path (BIND): their CPU mapping needs no cache maintenance, and
 * no bracket could be used anyway, since the dma-buf core's (and
 * exporters' own, such as i915's) waits for the buffer's fences, this
 * I/O's own among them, which signals only after this copy. What the I/O
 * must wait for it has waited for already (its dependencies). In 6.1
 * dma_buf_vmap() takes the dma-buf's own mutex, not the reservation lock.
 */
static int p2pbuf_nvme_bounce_copy(struct p2pbuf_nvme_req *io, bool to_buf)
{
	struct dma_buf *dmabuf = io->b->dmabuf;
	unsigned int offset = io->first_offset;
	struct iosys_map map;
	u64 done = 0;
	int ret;

	ret = dma_buf_vmap(dmabuf, &map);
	if (ret)
		return ret;
	for (; done < io->length; offset = 0) {
		struct page *page = io->pages[(io->first_offset + done) >> PAGE_SHIFT];
		unsigned int len = min_t(u64, PAGE_SIZE - offset,
					 io->length - done);
		void *va = kmap_local_page(page);

		if (to_buf)
			iosys_map_memcpy_to(&map, io->buf_offset + done,
					    va + offset, len);
		else
			iosys_map_memcpy_from(va + offset, &map,
					      io->buf_offset + done, len);
		kunmap_local(va);
		done += len;
	}
	dma_buf_vunmap(dmabuf, &map);
	return 0;
}

/* After the device read into the bounce pages: into the buffer, then done. */
static void p2pbuf_nvme_bounce_work(struct work_struct *work)
{
	struct p2pbuf_nvme_req *io = container_of(work, struct p2pbuf_nvme_req,
						 bounce_work);
	int ret = 0;

	if (!READ_ONCE(io->error))
		ret = p2pbuf_nvme_bounce_copy(io, true);
	p2pbuf_nvme_io_done(io, ret);
}

/*
 * pin_linger_ms, in jiffies. None once the NVMe controller's driver is
 * unbinding (@b dead): the mapping goes with the last I/O, while the
 * device may still have its DMA ops.
 */
static unsigned long p2pbuf_nvme_linger(struct p2pbuf_nvme_binding *b)
{
	if (READ_ONCE(b->dead))
		return 0;
	return msecs_to_jiffies(READ_ONCE(p2pbuf_nvme_pin_linger_ms));
}

static bool p2pbuf_nvme_idle(struct p2pbuf_nvme_binding *b)
{
	bool idle;

	spin_lock_irq(&b->lock);
	idle = list_empty(&b->pending);
	spin_unlock_irq(&b->lock);
	return idle;
}

/*
 * With no I/O left, let go of a mapping that pins the buffer (kernels
 * without move_notify), so that the exporter may move it again, once
 * pin_linger_ms passed since the binding went idle: armed once by the
 * first idle moment, the work waits on for a later one (no timer to move
 * per I/O). An I/O queued since keeps the mapping:
 * p2pbuf_importer_unmap_idle_locked() sees its fence, published under the
 * lock taken here; its completion arms the work again.
 */
static void p2pbuf_nvme_unmap_work(struct work_struct *work)
{
	struct p2pbuf_nvme_binding *b =
		container_of(to_delayed_work(work), struct p2pbuf_nvme_binding,
			     unmap_work);
	unsigned long due = READ_ONCE(b->idle_since) + p2pbuf_nvme_linger(b);

	if (!p2pbuf_nvme_idle(b))
		return;
	if (time_before(jiffies, due)) {
		queue_delayed_work(p2pbuf_nvme_wq, &b->unmap_work,
				   due - jiffies);
		return;
	}
	dma_resv_lock(b->dmabuf->resv, NULL);
	p2pbuf_importer_unmap_idle_locked(&b->imp);
	dma_resv_unlock(b->dmabuf->resv);
}

/* The binding went idle: its mapping goes @linger jiffies from now. */
static void p2pbuf_nvme_linger_arm(struct p2pbuf_nvme_binding *b,
				   unsigned long linger)
{
	WRITE_ONCE(b->idle_since, jiffies);
	queue_delayed_work(p2pbuf_nvme_wq, &b->unmap_work, linger);
}

/* The I/O and its arrays; any context unless they were vmalloc'ed. */
static void p2pbuf_nvme_req_free(struct p2pbuf_nvme_req *io)
{
	if (io->pages != io->inline_pages)
		kvfree(io->pages);
	if (io->bvecs != io->inline_bvecs)
		kvfree(io->bvecs);
	kfree(io);
}

/*
 * An I/O for @n pages of a binding (@file: a file's, which needs bio_vecs
 * too), or NULL. Zeroed but for the inline arrays, which a small I/O uses
 * instead of arrays of its own (filled before they are read).
 */
static struct p2pbuf_nvme_req *p2pbuf_nvme_req_alloc(unsigned long n,
						     bool file)
{
	struct p2pbuf_nvme_req *io = kmalloc(sizeof(*io), GFP_KERNEL);

	if (!io)
		return NULL;
	memset(io, 0, offsetof(struct p2pbuf_nvme_req, inline_pages));
	if (n <= P2PBUF_NVME_INLINE_PAGES) {
		io->pages = io->inline_pages;
		if (file)
			io->bvecs = io->inline_bvecs;
		return io;
	}
	io->pages = kvmalloc_array(n, sizeof(*io->pages), GFP_KERNEL);
	if (file)
		io->bvecs = kvmalloc_array(n, sizeof(*io->bvecs), GFP_KERNEL);
	if (!io->pages || (file && !io->bvecs)) {
		p2pbuf_nvme_req_free(io);
		return NULL;
	}
	return io;
}

/*
 * The last of an I/O, after its fence signalled: in any context when
 * p2pbuf_nvme_free_now_ok() said so, else in process context. The
 * binding's reference goes last.
 */
static void p2pbuf_nvme_io_release(struct p2pbuf_nvme_req *io)
{
	struct p2pbuf_nvme_binding *b = io->b;

	dma_fence_put(io->deps[0]);
	dma_fence_put(io->deps[1]);
	dma_fence_put(io->fence);
	p2pbuf_nvme_bounce_free(io);
	p2pbuf_nvme_req_free(io);
	p2pbuf_nvme_binding_put(b);
}

/*
 * Process context, after the fence signalled: with no I/O left, let go of
 * a mapping that pins the buffer (kernels without move_notify) after
 * pin_linger_ms, unless the next I/O comes first: mapping and pinning
 * again for every I/O of a sequential reader would cost more than its
 * I/O. Then free.
 */
static void p2pbuf_nvme_io_free_work(struct work_struct *work)
{
	struct p2pbuf_nvme_req *io = container_of(work, struct p2pbuf_nvme_req,
						 free_work);
	struct p2pbuf_nvme_binding *b = io->b;

	if (!b->bounce && p2pbuf_importer_pins_on_map(&b->imp) &&
	    p2pbuf_nvme_idle(b)) {
		unsigned long linger = p2pbuf_nvme_linger(b);

		if (linger)
			p2pbuf_nvme_linger_arm(b, linger);
		else
			p2pbuf_nvme_unmap_work(&b->unmap_work.work);
	}
	/* What a buffered reader cached during the write is stale. */
	if (io->write && !b->is_file)
		invalidate_inode_pages2_range(b->file->f_mapping,
					      io->dev_offset >> PAGE_SHIFT,
					      (io->dev_offset + io->length - 1) >>
					      PAGE_SHIFT);
	p2pbuf_nvme_io_release(io);
}

/*
 * Whether @io's clean-up may run where it finished, whatever the context,
 * without a work item (and the worker's wake-up, per I/O): nothing of it
 * sleeps unless the bounce path's pages, vmalloc'ed arrays, or a
 * block device's page cache to invalidate after a write are involved.
 * The page cache is seldom there: a write finding none has nothing to
 * make stale; one cached later is read after the write.
 */
static bool p2pbuf_nvme_free_now_ok(struct p2pbuf_nvme_req *io)
{
	struct p2pbuf_nvme_binding *b = io->b;

	if (b->bounce || is_vmalloc_addr(io->pages) ||
	    is_vmalloc_addr(io->bvecs))
		return false;
	return !io->write || b->is_file ||
	       !READ_ONCE(b->file->f_mapping->nrpages);
}

/*
 * An I/O is finished (any context): signal every finished I/O at the head
 * of the binding's queue, in order, and free them, here when that cannot
 * sleep, else from the workqueue.
 */
static void p2pbuf_nvme_io_done(struct p2pbuf_nvme_req *io, int error)
{
	struct p2pbuf_nvme_binding *b = io->b;
	struct p2pbuf_nvme_req *head, *next;
	unsigned long flags, linger = 0;
	LIST_HEAD(reap);

	spin_lock_irqsave(&b->lock, flags);
	if (error && !io->error)
		io->error = error;
	io->done = true;
	while ((head = list_first_entry_or_null(&b->pending,
						struct p2pbuf_nvme_req,
						pending_link)) && head->done) {
		list_del(&head->pending_link);
		b->count--;
		if (head->error)
			dma_fence_set_error(head->fence, head->error);
		p2pbuf_fence_set_data(head->fence, head->cpu_bytes);
		dma_fence_signal(head->fence);
		if (p2pbuf_nvme_free_now_ok(head))
			list_add_tail(&head->pending_link, &reap);
		else
			queue_work(p2pbuf_nvme_wq, &head->free_work);
	}
	/*
	 * Idle, with a mapping that pins: let go of it later (the free work
	 * does that for the I/Os it frees). Unmapping at once sleeps: the
	 * last I/O's clean-up goes to the workqueue then.
	 */
	if (!list_empty(&reap) && list_empty(&b->pending) &&
	    p2pbuf_importer_pins_on_map(&b->imp)) {
		linger = p2pbuf_nvme_linger(b);
		if (!linger) {
			head = list_last_entry(&reap, struct p2pbuf_nvme_req,
					       pending_link);
			list_del(&head->pending_link);
			queue_work(p2pbuf_nvme_wq, &head->free_work);
		}
	}
	/*
	 * Under the lock: once it is dropped, a free work may free @b. The
	 * I/Os on @reap hold it until their release.
	 */
	wake_up_all(&b->wq);
	spin_unlock_irqrestore(&b->lock, flags);
	if (linger)
		p2pbuf_nvme_linger_arm(b, linger);
	list_for_each_entry_safe(head, next, &reap, pending_link)
		p2pbuf_nvme_io_release(head);
}

/* Every bio (or the filesystem) is done: a bounce read copies first. */
static void p2pbuf_nvme_io_finish(struct p2pbuf_nvme_req *io)
{
	if (io->b->bounce && !io->write)
		queue_work(p2pbuf_nvme_wq, &io->bounce_work);
	else
		p2pbuf_nvme_io_done(io, 0);
}

/*
 * Completions may run in process context (threaded interrupts, stacked
 * block drivers, a filesystem's workqueue), where the last I/O's release
 * wakes a closer that may let the module go: the RCU read-side section
 * makes the module's exit (synchronize_rcu()) wait until this code has
 * returned, whatever the context. Nothing in it sleeps.
 */
static void p2pbuf_nvme_bio_end(struct bio *bio)
{
	struct p2pbuf_nvme_req *io = bio->bi_private;
	int error = blk_status_to_errno(bio->bi_status);

	rcu_read_lock();
	if (error)
		cmpxchg(&io->error, 0, error);
	bio_put(bio);
	if (atomic_dec_and_test(&io->bios))
		p2pbuf_nvme_io_finish(io);
	rcu_read_unlock();
}

/*
 * The bytes of the next bio, starting at device sector @sector (of the
 * whole disk, after the partition's start) and @offset into its first
 * page, with @left bytes to go: as many as the block layer takes without
 * splitting (6.1's bio_split_rw() and get_max_io_size()). Within
 * max_sectors, not across a chunk boundary, ending on a physical block
 * boundary when it ends early; and one segment per page at most within
 * max_segments (pages that merge only make fewer). Whole logical blocks.
 */
static u64 p2pbuf_nvme_bio_len(struct block_device *bdev, sector_t sector,
			       unsigned int offset, u64 left)
{
	const struct queue_limits *lim = &bdev_get_queue(bdev)->limits;
	unsigned int pbs = lim->physical_block_size >> SECTOR_SHIFT;
	unsigned int lbs = lim->logical_block_size;
	unsigned int segs = min_t(unsigned int, lim->max_segments,
				  BIO_MAX_VECS);
	u64 max_sectors = lim->max_sectors, start, end, len;

	if (lim->chunk_sectors)
		max_sectors = min_t(u64, max_sectors,
				    lim->chunk_sectors -
				    (sector & (lim->chunk_sectors - 1)));
	start = sector & (pbs - 1);
	end = (start + max_sectors) & ~(u64)(pbs - 1);
	if (end > start)
		max_sectors = end - start;
	len = min_t(u64, left, max_sectors << SECTOR_SHIFT);
	len = min_t(u64, len, ((u64)segs << PAGE_SHIFT) - offset);
	if (len < left)
		len = round_down(len, lbs);
	return len;
}

/* The worker or the ioctl: submit the bios of an I/O, from its pages. */
static void p2pbuf_nvme_io_submit(struct p2pbuf_nvme_req *io)
{
	struct p2pbuf_nvme_binding *b = io->b;
	/* As direct I/O's: a write is not background writeback. */
	blk_opf_t opf = (io->write ? REQ_OP_WRITE | REQ_SYNC | REQ_IDLE :
				     REQ_OP_READ) | REQ_NOMERGE;
	sector_t sector = io->dev_offset >> SECTOR_SHIFT;
	unsigned int offset = io->first_offset;
	unsigned long page = 0;
	struct blk_plug plug;
	bool plugged = false;
	u64 done = 0;

	atomic_set(&io->bios, 1);
	while (done < io->length) {
		u64 this = p2pbuf_nvme_bio_len(b->bdev,
					       b->bdev->bd_start_sect + sector,
					       offset, io->length - done);
		unsigned int nr = DIV_ROUND_UP(offset + this, PAGE_SIZE);
		struct bio *bio;
		u64 added = 0;

		if (WARN_ON_ONCE(!this))
			break;
		/*
		 * Several bios go to the driver together; one alone is
		 * issued directly, as a read(2) of the same size would be.
		 */
		if (!plugged && this < io->length - done) {
			blk_start_plug(&plug);
			plugged = true;
		}
		/* No reclaim into I/O: the fence is published already. */
		bio = bio_alloc(b->bdev, nr, opf, GFP_NOIO);
		bio->bi_iter.bi_sector = sector;
		bio->bi_end_io = p2pbuf_nvme_bio_end;
		bio->bi_private = io;
		while (added < this) {
			unsigned int len = min_t(u64, PAGE_SIZE - offset,
						 this - added);

			/* Sized to fit: cannot fail. */
			if (WARN_ON_ONCE(bio_add_page(bio, io->pages[page],
						      len, offset) != len)) {
				bio_put(bio);
				goto out;
			}
			added += len;
			offset += len;
			if (offset == PAGE_SIZE) {
				offset = 0;
				page++;
			}
		}
		atomic_inc(&io->bios);
		submit_bio(bio);
		done += this;
		sector += this >> SECTOR_SHIFT;
	}
out:
	if (plugged)
		blk_finish_plug(&plug);
	if (done < io->length)
		cmpxchg(&io->error, 0, -EIO);
	if (atomic_dec_and_test(&io->bios))
		p2pbuf_nvme_io_finish(io);
}

/* The submitter's and the completion's references to a file I/O. */
static void p2pbuf_nvme_file_put(struct p2pbuf_nvme_req *io)
{
	if (atomic_dec_and_test(&io->bios))
		p2pbuf_nvme_io_finish(io);
}

static void p2pbuf_nvme_kiocb_done(struct kiocb *iocb, long ret)
{
	struct p2pbuf_nvme_req *io = container_of(iocb, struct p2pbuf_nvme_req,
						  iocb);

	/* As in p2pbuf_nvme_bio_end(): the module's exit waits for this. */
	rcu_read_lock();
	/* A short transfer (the file ended) is an error too. */
	if (ret < 0 || ret != io->length)
		cmpxchg(&io->error, 0, ret < 0 ? (int)ret : -EIO);
	if (io->write)
		kiocb_end_write(iocb);
	p2pbuf_nvme_file_put(io);
	rcu_read_unlock();
}

/*
 * The bytes of [@pos, @end) of a file in holes and unwritten extents,
 * which a direct read gives as zeros written by the CPU. SEEK_DATA and
 * SEEK_HOLE move the position of @f, the binding's own open file. A
 * filesystem without them has no holes (generic_file_llseek()); an error
 * stops the count where it is.
 */
static u64 p2pbuf_nvme_holes(struct file *f, loff_t pos, loff_t end)
{
	loff_t data, hole;
	u64 holes = 0;

	while (pos < end) {
		data = vfs_llseek(f, pos, SEEK_DATA);
		if (data == -ENXIO)
			data = end;	/* nothing but hole to the end */
		else if (data < 0)
			break;
		if (data > pos) {
			holes += min(data, end) - pos;
			pos = data;
			if (pos >= end)
				break;
		}
		hole = vfs_llseek(f, pos, SEEK_HOLE);
		if (hole <= pos)
			break;
		pos = hole;
	}
	return holes;
}

/*
 * The bytes of an I/O the CPU will move instead of the device's DMA, as
 * far as the file says before it starts: everything on the bounce path
 * (the copy), and for a file its filesystem will not do direct I/O on:
 * STATX_DIOALIGN of 0 (ext4 with data journalling, inline data or
 * verity), or an I/O not aligned to its alignment (ext4's encrypted
 * files), which go through the page cache; for a direct read, the holes
 * and unwritten extents of the range. Counted just before the I/O starts
 * (the I/Os before it may have filled holes), and for an asynchronous
 * ioctl also when it is queued. Finding the holes costs a walk of the
 * file's extents from @pos on, under its inode lock shared.
 */
static u64 p2pbuf_nvme_cpu_bytes(struct p2pbuf_nvme_binding *b, bool write,
				 u64 pos, u64 length, unsigned int mem_offset)
{
	struct kstat st;

	if (b->bounce)
		return length;
	if (!b->is_file)
		return 0;
	if (!vfs_getattr(&b->file->f_path, &st, STATX_DIOALIGN,
			 AT_STATX_SYNC_AS_STAT) &&
	    (st.result_mask & STATX_DIOALIGN) &&
	    (!st.dio_offset_align ||
	     !IS_ALIGNED(pos | length, st.dio_offset_align) ||
	     (st.dio_mem_align && !IS_ALIGNED(mem_offset, st.dio_mem_align))))
		return length;
	if (write || !b->seek_file)
		return 0;
	return p2pbuf_nvme_holes(b->seek_file, pos, pos + length);
}

/*
 * The worker or the ioctl: a file's I/O, through its filesystem's direct
 * I/O with a bvec
 * iterator over the pages, as loop and nvmet's file backend drive the VFS.
 * The filesystem builds and submits the bios (iomap takes a bvec
 * iterator's pages as they are, without references) and may do part of
 * the I/O with the CPU (holes read as zeros; ext4 writes some parts
 * through the page cache). The request is freed once both the completion
 * and this function are done with the kiocb (the filesystem may still
 * read it after its last bio completed, as aio and loop allow for).
 * Writes hold the filesystem's freeze protection until they complete.
 * No allocation in here may recurse into I/O: the fence is published.
 */
static void p2pbuf_nvme_file_submit(struct p2pbuf_nvme_req *io)
{
	unsigned int offset = io->first_offset, i = 0, noio;
	struct file *file = io->b->file;
	struct iov_iter iter;
	u64 left = io->length;
	ssize_t ret;

	while (left) {
		unsigned int len = min_t(u64, PAGE_SIZE - offset, left);

		io->bvecs[i].bv_page = io->pages[i];
		io->bvecs[i].bv_offset = offset;
		io->bvecs[i].bv_len = len;
		left -= len;
		offset = 0;
		i++;
	}
	iov_iter_bvec(&iter, io->write ? ITER_SOURCE : ITER_DEST, io->bvecs, i,
		      io->length);
	io->iocb.ki_filp = file;
	io->iocb.ki_pos = io->dev_offset;
	io->iocb.ki_flags = IOCB_DIRECT |
			    (file->f_iocb_flags & (IOCB_DSYNC | IOCB_SYNC));
	io->iocb.ki_complete = p2pbuf_nvme_kiocb_done;
	atomic_set(&io->bios, 2);
	noio = memalloc_noio_save();
	io->cpu_bytes = p2pbuf_nvme_cpu_bytes(io->b, io->write, io->dev_offset,
					      io->length, io->first_offset);
	if (io->write) {
		unsigned long paused = current->dirty_paused_when;
		int dirtied = current->nr_dirtied;
		bool cached;

		cached = filemap_range_has_page(file->f_mapping, io->dev_offset,
						io->dev_offset + io->length - 1);
		kiocb_start_write(&io->iocb);
		ret = call_write_iter(file, &io->iocb, &iter);
		/*
		 * ext4 finishes a direct write through its page cache when
		 * it cannot drop the range's cached pages. With pages cached
		 * before, a page this task dirtied says it went that way
		 * (balance_dirty_pages() resets the count, and stamps the
		 * pause): count all of it, as near as one can tell.
		 */
		if (cached && (current->nr_dirtied != dirtied ||
			       current->dirty_paused_when != paused))
			io->cpu_bytes = io->length;
	} else {
		ret = call_read_iter(file, &io->iocb, &iter);
	}
	memalloc_noio_restore(noio);
	if (ret != -EIOCBQUEUED)
		p2pbuf_nvme_kiocb_done(&io->iocb, ret);
	p2pbuf_nvme_file_put(io);
}

struct p2pbuf_nvme_dep_wait {
	struct dma_fence_cb cb;
	struct p2pbuf_nvme_binding *b;
};

static void p2pbuf_nvme_dep_wake(struct dma_fence *fence,
				 struct dma_fence_cb *cb)
{
	struct p2pbuf_nvme_dep_wait *w =
		container_of(cb, struct p2pbuf_nvme_dep_wait, cb);

	wake_up_all(&w->b->wq);
}

/* Why the binding takes no more I/O: -ECANCELED, -ENODEV, or 0. */
static int p2pbuf_nvme_stopped(struct p2pbuf_nvme_binding *b)
{
	if (READ_ONCE(b->closing))
		return -ECANCELED;
	return READ_ONCE(b->dead) ? -ENODEV : 0;
}

/*
 * Worker: wait for a dependency until @deadline, cut short by closing or
 * by the device going away. Return 0, the dependency's error, -ETIMEDOUT,
 * -ECANCELED or -ENODEV.
 */
static int p2pbuf_nvme_wait_dep(struct p2pbuf_nvme_binding *b,
				struct dma_fence *dep, unsigned long deadline)
{
	struct p2pbuf_nvme_dep_wait w = { .b = b };
	long left;
	int ret;

	if (!dep)
		return 0;
	if (!dma_fence_add_callback(dep, &w.cb, p2pbuf_nvme_dep_wake)) {
		left = (long)(deadline - jiffies);
		if (left > 0)
			wait_event_timeout(b->wq, dma_fence_is_signaled(dep) ||
					   p2pbuf_nvme_stopped(b), left);
		dma_fence_remove_callback(dep, &w.cb);
		if (!dma_fence_is_signaled(dep))
			return p2pbuf_nvme_stopped(b) ?: -ETIMEDOUT;
	}
	ret = dma_fence_get_status(dep);
	return ret < 0 ? ret : 0;
}

/* Start @io, or end it with @error. @io may be freed on return. */
static void p2pbuf_nvme_start(struct p2pbuf_nvme_binding *b,
			      struct p2pbuf_nvme_req *io, int error)
{
	if (error)
		p2pbuf_nvme_io_done(io, error);
	else if (b->is_file)
		p2pbuf_nvme_file_submit(io);
	else
		p2pbuf_nvme_io_submit(io);
}

/* Start the binding's I/Os in order, once their dependencies are met. */
static void p2pbuf_nvme_work(struct work_struct *work)
{
	struct p2pbuf_nvme_binding *b =
		container_of(work, struct p2pbuf_nvme_binding, work);
	struct p2pbuf_nvme_req *io;
	bool started = false;
	int ret;

	for (;;) {
		spin_lock_irq(&b->lock);
		/* Done starting the last one: the next may start. */
		if (started)
			b->submitting = false;
		/* One started by its ioctl kicks the worker when it is. */
		io = b->submitting ? NULL :
		     list_first_entry_or_null(&b->to_submit,
					      struct p2pbuf_nvme_req,
					      submit_link);
		if (io) {
			list_del(&io->submit_link);
			b->submitting = true;
		}
		spin_unlock_irq(&b->lock);
		if (!io)
			return;
		ret = p2pbuf_nvme_wait_dep(b, io->deps[0], io->deadline);
		if (!ret)
			ret = p2pbuf_nvme_wait_dep(b, io->deps[1], io->deadline);
		if (!ret)
			ret = p2pbuf_nvme_stopped(b);
		/* The bounce path: the buffer's bytes into the I/O's pages. */
		if (!ret && b->bounce && io->write)
			ret = p2pbuf_nvme_bounce_copy(io, false);
		p2pbuf_nvme_start(b, io, ret);
		started = true;
	}
}

/* At most this many I/Os one ioctl starts before the worker takes over. */
#define P2PBUF_NVME_START_BATCH 16

/*
 * Whether the current task may start @io, queued by another: one of its
 * own process's threads, with the same I/O priority, so that the bios
 * carry what that thread's own would (the block cgroup, the I/O
 * priority; for a file the process's limits and credentials).
 */
static bool p2pbuf_nvme_start_here_ok(struct p2pbuf_nvme_req *io)
{
	return io->tgid == current->tgid &&
	       io->ioprio == get_current_ioprio();
}

/*
 * An I/O with nothing to wait for, queued when no other was waiting to
 * start: its ioctl starts it (the ioctl's task submits the bios, or calls
 * the filesystem, with the task's limits, cgroup and I/O priority, and may
 * block as a direct I/O system call does), saving the worker's wake-up
 * for every small I/O. The I/Os other threads of its process queued
 * meanwhile behind it (the binding starts one at a time, in order) are
 * started here too while they need no wait, P2PBUF_NVME_START_BATCH in
 * all: a wake-up of the worker for each, and its context switches, would
 * cost several threads sharing a binding more than their I/O (what a
 * queue depth above one is). The worker takes over at the first that
 * must wait for a dependency or copy (the bounce path), or that another
 * process (or another I/O priority) queued. The caller holds a binding
 * reference; each I/O may be freed once started.
 */
static void p2pbuf_nvme_start_now(struct p2pbuf_nvme_binding *b,
				  struct p2pbuf_nvme_req *io)
{
	unsigned int batch = P2PBUF_NVME_START_BATCH;
	bool kick;

	for (;;) {
		/* Closed or dead since it was queued: as the worker would. */
		p2pbuf_nvme_start(b, io, p2pbuf_nvme_stopped(b));
		spin_lock_irq(&b->lock);
		io = list_first_entry_or_null(&b->to_submit,
					      struct p2pbuf_nvme_req,
					      submit_link);
		if (io && !io->deps[0] && !io->deps[1] && !b->bounce &&
		    p2pbuf_nvme_start_here_ok(io) && --batch) {
			list_del(&io->submit_link);
			spin_unlock_irq(&b->lock);
			continue;
		}
		b->submitting = false;
		kick = io;
		spin_unlock_irq(&b->lock);
		break;
	}
	if (kick)
		queue_work(p2pbuf_nvme_wq, &b->work);
}

/*
 * Cancel what has not started, wait for the rest and for every other
 * reference (the I/Os' free works, other ioctls), then free the binding
 * here: when UNBIND or close returns, the dma-buf is detached, so a kernel
 * without move_notify lets the buffer move again, and the file is let go.
 */
static void p2pbuf_nvme_binding_close(struct p2pbuf_nvme_binding *b)
{
	spin_lock_irq(&b->lock);
	b->closing = true;
	spin_unlock_irq(&b->lock);
	wake_up_all(&b->wq);
	flush_work(&b->work);
	wait_event(b->wq, p2pbuf_nvme_idle(b));
	/* From one to zero only: nobody can take a reference afterwards. */
	wait_var_event(&b->ref, refcount_dec_if_one(&b->ref.refcount));
	p2pbuf_nvme_binding_free(&b->ref);
}

/* The PCI function that DMAs for a block device, or NULL. */
static struct device *p2pbuf_nvme_pci_dev(struct block_device *bdev)
{
	struct device *dev = disk_to_dev(bdev->bd_disk);

	for (; dev; dev = dev->parent)
		if (dev_is_pci(dev))
			return dev;
	return NULL;
}

static int p2pbuf_nvme_bind(struct p2pbuf_nvme_file *pf,
			    struct p2pbuf_nvme_bind __user *uarg)
{
	struct p2pbuf_nvme_bind arg;
	struct p2pbuf_nvme_binding *b;
	struct request_queue *q;
	struct inode *inode;
	unsigned int flags;
	struct file *file;
	bool is_pci;
	u32 handle;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~P2PBUF_NVME_BIND_IMPLICIT_SYNC || arg.handle ||
	    arg.p2p || arg.pad || arg.reserved[0] || arg.reserved[1])
		return -EINVAL;

	file = fget(arg.fd);
	if (!file)
		return -EBADF;
	inode = file_inode(file);
	if (S_ISREG(inode->i_mode)) {
		/* Through the filesystem's direct I/O, on a block device. */
		if (!(file->f_mode & FMODE_CAN_ODIRECT) ||
		    !inode->i_sb->s_bdev || IS_DAX(inode)) {
			ret = -EOPNOTSUPP;
			goto err_fput;
		}
	} else if (!S_ISBLK(inode->i_mode)) {
		ret = -ENOTBLK;
		goto err_fput;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto err_fput;
	}
	kref_init(&b->ref);
	INIT_LIST_HEAD(&b->node);
	spin_lock_init(&b->lock);
	INIT_LIST_HEAD(&b->pending);
	INIT_LIST_HEAD(&b->to_submit);
	init_waitqueue_head(&b->wq);
	INIT_WORK(&b->work, p2pbuf_nvme_work);
	INIT_DELAYED_WORK(&b->unmap_work, p2pbuf_nvme_unmap_work);
	b->file = file;
	b->is_file = S_ISREG(inode->i_mode);
	b->bdev = b->is_file ? inode->i_sb->s_bdev :
			       I_BDEV(file->f_mapping->host);
	if (b->is_file && (file->f_mode & FMODE_READ)) {
		/*
		 * With the opener's rights, and without waiting for a lease
		 * to break; when it cannot be had, no hole is counted.
		 */
		b->seek_file = dentry_open(&file->f_path,
					   O_RDONLY | O_LARGEFILE | O_NONBLOCK,
					   file->f_cred);
		if (IS_ERR(b->seek_file))
			b->seek_file = NULL;
	}

	b->dmabuf = dma_buf_get(arg.dmabuf_fd);
	if (IS_ERR(b->dmabuf)) {
		ret = PTR_ERR(b->dmabuf);
		goto err_free;
	}
	b->buf_writable = b->dmabuf->file->f_mode & FMODE_WRITE;
	if (!PAGE_ALIGNED(b->dmabuf->size)) {
		ret = -EINVAL;
		goto err_dmabuf;
	}
	/*
	 * Only exporters that give their pages (p2pbuf_exporter_register()):
	 * the block layer needs pages. A static exporter's mapping would also
	 * stay, cached by the dma-buf core, until the detach.
	 */
	if (!p2pbuf_exporter_ops_of(b->dmabuf)) {
		/*
		 * The bounce path needs a CPU mapping, and one without a CPU
		 * access bracket (see p2pbuf_nvme_bounce_copy()). A static
		 * attachment for the module's own device pins the buffer
		 * (drm_gem_map_attach(), or the core for a dynamic exporter),
		 * so that its vmap keeps naming its memory (TTM exporters).
		 */
		if (!b->dmabuf->ops->vmap || b->dmabuf->ops->begin_cpu_access) {
			ret = -EOPNOTSUPP;
			goto err_dmabuf;
		}
		b->bounce_attach = dma_buf_attach(b->dmabuf,
						  &p2pbuf_nvme_pdev->dev);
		if (IS_ERR(b->bounce_attach)) {
			ret = PTR_ERR(b->bounce_attach);
			goto err_dmabuf;
		}
		b->bounce = true;
	}
	b->implicit = arg.flags & P2PBUF_NVME_BIND_IMPLICIT_SYNC;

	q = bdev_get_queue(b->bdev);
	b->dma_dev = p2pbuf_nvme_pci_dev(b->bdev);
	b->p2p = b->dma_dev && blk_queue_pci_p2pdma(q);
	if (!b->dma_dev)
		b->dma_dev = &p2pbuf_nvme_pdev->dev;
	get_device(b->dma_dev);

	b->tl = p2pbuf_timeline_create("p2pbuf_nvme",
				       b->bdev->bd_disk->disk_name, 0);
	if (!b->tl) {
		ret = -ENOMEM;
		goto err_dev;
	}
	flags = P2PBUF_IMPORT_DYNAMIC;
	if (b->p2p)
		flags |= P2PBUF_IMPORT_PEER2PEER;
	if (arg.flags & P2PBUF_NVME_BIND_IMPLICIT_SYNC)
		flags |= P2PBUF_IMPORT_IMPLICIT_SYNC;
	/*
	 * Under the device lock, which its driver's unbind holds: either the
	 * binding is on the list before the unbind notifier looks, or the
	 * driver is gone already and the bind fails.
	 */
	is_pci = dev_is_pci(b->dma_dev);
	if (is_pci) {
		ret = device_lock_interruptible(b->dma_dev);
		if (ret)
			goto err_tl;
	}
	ret = is_pci && !b->dma_dev->driver ? -ENODEV : 0;
	if (!ret && !b->bounce)
		ret = p2pbuf_importer_attach(&b->imp, b->dmabuf, b->dma_dev,
					     flags, DMA_TO_DEVICE);
	if (!ret) {
		mutex_lock(&p2pbuf_nvme_bindings_lock);
		list_add(&b->node, &p2pbuf_nvme_bindings);
		mutex_unlock(&p2pbuf_nvme_bindings_lock);
	}
	if (is_pci)
		device_unlock(b->dma_dev);
	if (ret)
		goto err_tl;

	/*
	 * The handle is told before anyone else can use it: another thread
	 * of the file could otherwise unbind it while a failed copy here
	 * tears the binding down.
	 */
	mutex_lock(&pf->lock);
	ret = xa_alloc(&pf->bindings, &handle, b, xa_limit_31b, GFP_KERNEL);
	if (!ret) {
		arg.handle = handle;
		arg.p2p = b->bounce ? P2PBUF_NVME_BOUNCE :
			  b->p2p ? P2PBUF_NVME_QUEUE_P2P :
				   P2PBUF_NVME_QUEUE_NO_P2P;
		if (copy_to_user(uarg, &arg, sizeof(arg))) {
			xa_erase(&pf->bindings, handle);
			ret = -EFAULT;
		}
	}
	mutex_unlock(&pf->lock);
	/*
	 * On the list, a driver unbind may hold a reference: tear down as
	 * UNBIND does (which drops the file, the dma-buf and the rest).
	 */
	if (ret)
		p2pbuf_nvme_binding_close(b);
	return ret;

err_tl:
	p2pbuf_timeline_put(b->tl);
err_dev:
	put_device(b->dma_dev);
err_dmabuf:
	if (b->bounce)
		dma_buf_detach(b->dmabuf, b->bounce_attach);
	dma_buf_put(b->dmabuf);
err_free:
	if (b->seek_file)
		fput(b->seek_file);
	kfree(b);
err_fput:
	fput(file);
	return ret;
}

static int p2pbuf_nvme_unbind(struct p2pbuf_nvme_file *pf,
			      struct p2pbuf_nvme_unbind __user *uarg)
{
	struct p2pbuf_nvme_unbind arg;
	struct p2pbuf_nvme_binding *b;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.pad)
		return -EINVAL;
	mutex_lock(&pf->lock);
	b = xa_erase(&pf->bindings, arg.handle);
	mutex_unlock(&pf->lock);
	if (!b)
		return -ENOENT;
	p2pbuf_nvme_binding_close(b);
	return 0;
}

#define P2PBUF_NVME_IO_FLAGS (P2PBUF_NVME_IO_ASYNC | P2PBUF_NVME_IO_IN_FENCE | \
			      P2PBUF_NVME_IO_DMABUF_FD)

/*
 * P2PBUF_NVME_IO_DMABUF_FD: whether @fd is open on @b's dma-buf. No
 * reference is kept: the binding holds the dma-buf.
 */
static int p2pbuf_nvme_same_dmabuf(struct p2pbuf_nvme_binding *b, int fd)
{
	struct fd f = fdget(fd);
	int ret;

	if (!f.file)
		return -EBADF;
	ret = f.file == b->dmabuf->file ? 0 : -ESTALE;
	fdput(f);
	return ret;
}

/* Validate an I/O against its binding; 0 or the errno. */
static int p2pbuf_nvme_io_check(struct p2pbuf_nvme_binding *b,
				const struct p2pbuf_nvme_io *arg)
{
	unsigned int lbs = bdev_logical_block_size(b->bdev);

	if (arg->op > P2PBUF_NVME_WRITE || arg->flags & ~P2PBUF_NVME_IO_FLAGS ||
	    arg->out_fence_fd || arg->path || arg->cpu_bytes || arg->reserved)
		return -EINVAL;
	if (arg->flags & P2PBUF_NVME_IO_IN_FENCE ? arg->in_fence_fd < 0 :
						   arg->in_fence_fd)
		return -EINVAL;
	if (!(arg->flags & P2PBUF_NVME_IO_DMABUF_FD) && arg->dmabuf_fd)
		return -EINVAL;
	if (!arg->length || !IS_ALIGNED(arg->buf_offset | arg->length |
					arg->dev_offset, lbs))
		return -EINVAL;
	if (arg->buf_offset > b->dmabuf->size ||
	    arg->length > b->dmabuf->size - arg->buf_offset)
		return -EINVAL;
	if (!b->is_file && (arg->dev_offset > bdev_nr_bytes(b->bdev) ||
			    arg->length > bdev_nr_bytes(b->bdev) -
					  arg->dev_offset))
		return -EINVAL;
	/* A file is read within its size, and written within the limit. */
	if (b->is_file && arg->op == P2PBUF_NVME_READ &&
	    (arg->dev_offset > i_size_read(file_inode(b->file)) ||
	     arg->length > i_size_read(file_inode(b->file)) - arg->dev_offset))
		return -EINVAL;
	if (b->is_file && (arg->dev_offset > b->file->f_inode->i_sb->s_maxbytes ||
			   arg->length > b->file->f_inode->i_sb->s_maxbytes -
					 arg->dev_offset))
		return -EFBIG;
	/* The rights of the fds given at bind. */
	if (arg->op == P2PBUF_NVME_READ &&
	    (!(b->file->f_mode & FMODE_READ) || !b->buf_writable))
		return -EBADF;
	if (arg->op == P2PBUF_NVME_WRITE &&
	    !(b->file->f_mode & FMODE_WRITE))
		return -EBADF;
	/* As a write(2) to the device would be refused. */
	if (arg->op == P2PBUF_NVME_WRITE && !b->is_file &&
	    bdev_read_only(b->bdev))
		return -EPERM;
	/* Appends only: not what a write at an offset is. */
	if (arg->op == P2PBUF_NVME_WRITE &&
	    (IS_APPEND(b->file->f_mapping->host) ||
	     (b->is_file && b->file->f_flags & O_APPEND)))
		return -EPERM;
	if (arg->op == P2PBUF_NVME_WRITE && IS_SWAPFILE(b->file->f_mapping->host))
		return -ETXTBSY;
	/* The caller's permission, as read(2) and write(2) ask for it. */
	return rw_verify_area(arg->op == P2PBUF_NVME_WRITE ? WRITE : READ,
			      b->file, &(loff_t){ arg->dev_offset },
			      arg->length);
}

/*
 * The bounce path, under the reservation lock, without an attachment: what
 * the I/O waits for (the exporter's moves, or with implicit sync the
 * buffer's other users, as p2pbuf_importer_map_access_locked() says), and
 * a fence slot, so that publishing cannot fail.
 */
static int p2pbuf_nvme_bounce_deps_locked(struct p2pbuf_nvme_binding *b,
					  struct p2pbuf_nvme_req *io,
					  enum dma_resv_usage usage)
{
	struct dma_resv *resv = b->dmabuf->resv;
	enum dma_resv_usage wait = DMA_RESV_USAGE_KERNEL;
	int ret;

	if (b->implicit)
		wait = usage == DMA_RESV_USAGE_WRITE ? DMA_RESV_USAGE_READ :
						       DMA_RESV_USAGE_WRITE;
	ret = dma_resv_get_singleton(resv, wait, &io->deps[1]);
	if (ret)
		return ret;
	return dma_resv_reserve_fences(resv, 1);
}

/*
 * Under the reservation lock: map, take the pages, publish the fence and
 * queue the I/O; its fence, with a reference for the caller, in *@fence.
 * On error nothing is published.
 */
static int p2pbuf_nvme_io_queue(struct p2pbuf_nvme_binding *b,
				struct p2pbuf_nvme_req *io,
				struct p2pbuf_fence *pfence,
				const struct p2pbuf_nvme_io *arg, u32 *path,
				struct dma_fence **fence)
{
	enum dma_resv_usage usage = io->write ? DMA_RESV_USAGE_READ :
						DMA_RESV_USAGE_WRITE;
	pgoff_t first = arg->buf_offset >> PAGE_SHIFT;
	unsigned long n = DIV_ROUND_UP((arg->buf_offset & ~PAGE_MASK) +
				       arg->length, PAGE_SIZE);
	struct dma_resv *resv = b->dmabuf->resv;
	struct sg_table *sgt;
	bool now = false, kick;
	unsigned int count;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	/* Queuers take this lock one at a time: the count only drops. */
	spin_lock_irq(&b->lock);
	count = b->count;
	ret = b->closing || b->dead ? -ENODEV : 0;
	spin_unlock_irq(&b->lock);
	if (!ret && count >= p2pbuf_nvme_queue_depth)
		ret = -EAGAIN;
	if (ret)
		goto out_unlock;
	if (b->bounce) {
		ret = p2pbuf_nvme_bounce_deps_locked(b, io, usage);
		if (ret)
			goto out_unlock;
		*path = P2PBUF_NVME_PATH_BOUNCE;
	} else {
		sgt = p2pbuf_importer_map_access_locked(&b->imp, usage, true,
							&io->deps[1]);
		if (IS_ERR(sgt)) {
			ret = PTR_ERR(sgt);
			goto out_unlock;
		}
		ret = p2pbuf_importer_pages_locked(&b->imp, first, n,
						   io->pages);
		if (ret)
			goto out_unlock;
		*path = is_pci_p2pdma_page(io->pages[0]) ?
			P2PBUF_NVME_PATH_P2P : P2PBUF_NVME_PATH_DIRECT_SYSTEM;
	}

	/*
	 * Seqnos in queue order: queuers hold the reservation lock. Published
	 * and referenced before the I/O can start (and be freed).
	 */
	io->fence = p2pbuf_fence_init(pfence);
	*fence = dma_fence_get(io->fence);
	if (b->bounce)
		dma_resv_add_fence(resv, io->fence, usage);
	else
		p2pbuf_importer_publish_locked(&b->imp, io->fence, usage);
	io->deadline = jiffies + msecs_to_jiffies(p2pbuf_nvme_dep_timeout_ms);
	kref_get(&b->ref);
	spin_lock_irq(&b->lock);
	list_add_tail(&io->pending_link, &b->pending);
	/* Nothing to wait for, and first in line: started below. */
	now = !io->deps[0] && !io->deps[1] && !b->bounce &&
	      !b->submitting && list_empty(&b->to_submit);
	if (now)
		b->submitting = true;
	else
		list_add_tail(&io->submit_link, &b->to_submit);
	/*
	 * Whoever is starting I/Os (an ioctl, p2pbuf_nvme_start_now(), or the
	 * worker) looks at the queue again when done, under the lock.
	 */
	kick = !now && !b->submitting;
	b->count++;
	spin_unlock_irq(&b->lock);
	if (kick)
		queue_work(p2pbuf_nvme_wq, &b->work);
out_unlock:
	/* A failed map may have pinned (no move_notify): let go of it. */
	if (ret && !count && !b->bounce)
		p2pbuf_importer_unmap_idle_locked(&b->imp);
	dma_resv_unlock(resv);
	if (ret) {
		dma_fence_put(io->deps[1]);
		io->deps[1] = NULL;
	}
	if (now)
		p2pbuf_nvme_start_now(b, io);
	return ret;
}

/*
 * As direct I/O does: write back what the device's page cache holds dirty
 * in the range, and for a write to the device drop the cached pages, so
 * that neither buffered readers nor later write-back see stale bytes.
 */
static int p2pbuf_nvme_sync_cache(struct p2pbuf_nvme_binding *b,
				  const struct p2pbuf_nvme_io *arg)
{
	struct address_space *mapping = b->file->f_mapping;
	loff_t end = arg->dev_offset + arg->length - 1;
	int ret;

	/* A filesystem's direct I/O does this itself. */
	if (b->is_file)
		return 0;
	ret = filemap_write_and_wait_range(mapping, arg->dev_offset, end);
	if (ret || arg->op != P2PBUF_NVME_WRITE)
		return ret;
	return invalidate_inode_pages2_range(mapping,
					     arg->dev_offset >> PAGE_SHIFT,
					     end >> PAGE_SHIFT);
}

/*
 * Check an I/O, queue it, and give back its fence (a reference), path and
 * the bytes the CPU is expected to move: what IO and the uring command
 * share. On error nothing is queued.
 */
static int p2pbuf_nvme_io_start(struct p2pbuf_nvme_file *pf,
				const struct p2pbuf_nvme_io *arg,
				struct dma_fence **fence, u32 *path,
				u64 *cpu_bytes)
{
	struct p2pbuf_fence *pfence = NULL;
	struct p2pbuf_nvme_binding *b;
	struct p2pbuf_nvme_req *io;
	unsigned long n;
	int ret;

	mutex_lock(&pf->lock);
	b = xa_load(&pf->bindings, arg->handle);
	if (b)
		kref_get(&b->ref);
	mutex_unlock(&pf->lock);
	if (!b)
		return -ENOENT;
	ret = READ_ONCE(b->dead) ? -ENODEV : p2pbuf_nvme_io_check(b, arg);
	if (!ret && arg->flags & P2PBUF_NVME_IO_DMABUF_FD)
		ret = p2pbuf_nvme_same_dmabuf(b, arg->dmabuf_fd);
	if (!ret)
		ret = p2pbuf_nvme_sync_cache(b, arg);
	if (ret)
		goto out_put;

	n = DIV_ROUND_UP((arg->buf_offset & ~PAGE_MASK) + arg->length,
			 PAGE_SIZE);
	io = p2pbuf_nvme_req_alloc(n, b->is_file);
	pfence = p2pbuf_fence_alloc(b->tl);
	if (!io || !pfence) {
		ret = -ENOMEM;
		goto out_free;
	}
	io->b = b;
	io->tgid = current->tgid;
	io->ioprio = get_current_ioprio();
	io->write = arg->op == P2PBUF_NVME_WRITE;
	io->first_offset = arg->buf_offset & ~PAGE_MASK;
	io->buf_offset = arg->buf_offset;
	io->dev_offset = arg->dev_offset;
	io->length = arg->length;
	/*
	 * Asynchronous: the count the caller gets is the one from now. A
	 * file's I/O counts again as it starts; a block device's bounce is
	 * all copy.
	 */
	if (b->bounce || arg->flags & P2PBUF_NVME_IO_ASYNC)
		io->cpu_bytes = p2pbuf_nvme_cpu_bytes(b, io->write,
						      arg->dev_offset,
						      arg->length,
						      io->first_offset);
	*cpu_bytes = io->cpu_bytes;
	INIT_WORK(&io->free_work, p2pbuf_nvme_io_free_work);
	INIT_WORK(&io->bounce_work, p2pbuf_nvme_bounce_work);
	if (b->bounce) {
		unsigned long i;

		/* Zeroed: kvmalloc_array() is not; bounce_free() stops at NULL. */
		memset(io->pages, 0, n * sizeof(*io->pages));
		for (i = 0; i < n; i++) {
			/* Charged to the caller's memory cgroup. */
			io->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT);
			if (!io->pages[i]) {
				ret = -ENOMEM;
				goto out_free;
			}
		}
	}
	if (arg->flags & P2PBUF_NVME_IO_IN_FENCE) {
		io->deps[0] = sync_file_get_fence(arg->in_fence_fd);
		if (!io->deps[0]) {
			ret = -EINVAL;
			goto out_free;
		}
	}
	ret = p2pbuf_nvme_io_queue(b, io, pfence, arg, path, fence);
	if (!ret) {
		/* Queued: the I/O owns itself and a binding reference now. */
		p2pbuf_nvme_binding_put(b);
		return 0;
	}
out_free:
	if (io) {
		dma_fence_put(io->deps[0]);
		if (io->b)
			p2pbuf_nvme_bounce_free(io);
		p2pbuf_nvme_req_free(io);
	}
	p2pbuf_fence_free(pfence);
out_put:
	p2pbuf_nvme_binding_put(b);
	return ret;
}

struct p2pbuf_nvme_sync_wait {
	struct dma_fence_cb cb;
	struct completion done;
};

static void p2pbuf_nvme_sync_wake(struct dma_fence *fence,
				  struct dma_fence_cb *cb)
{
	complete(&container_of(cb, struct p2pbuf_nvme_sync_wait, cb)->done);
}

/*
 * A synchronous I/O's wait, as for a read(2) of a disk: only a fatal
 * signal ends it early. Any other signal would turn into EINTR for an I/O
 * that goes on, and io_uring's task work interrupts interruptible waits of
 * every task that uses a ring (TIF_NOTIFY_SIGNAL). The I/O is bounded:
 * dep_timeout_ms for its dependencies, then the device's own timeouts.
 * Return: 0 or -EINTR.
 */
static int p2pbuf_nvme_wait_killable(struct dma_fence *fence)
{
	struct p2pbuf_nvme_sync_wait w;

	init_completion(&w.done);
	if (dma_fence_add_callback(fence, &w.cb, p2pbuf_nvme_sync_wake))
		return 0;
	if (!wait_for_completion_killable(&w.done))
		return 0;
	/*
	 * The callback runs under the fence's lock, which removing it takes:
	 * once this returns, nothing touches @w any more.
	 */
	dma_fence_remove_callback(fence, &w.cb);
	return dma_fence_is_signaled(fence) ? 0 : -EINTR;
}

static int p2pbuf_nvme_io(struct p2pbuf_nvme_file *pf,
			  struct p2pbuf_nvme_io __user *uarg)
{
	struct sync_file *sync_file = NULL;
	struct p2pbuf_nvme_io arg;
	struct dma_fence *fence;
	int ret, fd = -1;
	u64 cpu_bytes;
	u32 path = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	/* Checked here too: the fd is reserved before anything is queued. */
	if (arg.flags & ~P2PBUF_NVME_IO_FLAGS)
		return -EINVAL;
	if (arg.flags & P2PBUF_NVME_IO_ASYNC) {
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (fd < 0)
			return fd;
	}
	ret = p2pbuf_nvme_io_start(pf, &arg, &fence, &path, &cpu_bytes);
	if (ret) {
		if (fd >= 0)
			put_unused_fd(fd);
		return ret;
	}

	if (fd >= 0) {
		sync_file = sync_file_create(fence);
		if (!sync_file) {
			/* The I/O goes on; its fence is in the buffer. */
			put_unused_fd(fd);
			fd = -1;
			ret = -ENOMEM;
		}
	} else {
		/* Not restarted when killed: it was queued. */
		ret = p2pbuf_nvme_wait_killable(fence);
		if (!ret)
			ret = fence->error;
		/* Done: what the CPU moved in the end. */
		if (!ret)
			p2pbuf_fence_get_data(fence, &cpu_bytes);
	}
	dma_fence_put(fence);

	arg.out_fence_fd = fd;
	arg.path = path;
	arg.cpu_bytes = cpu_bytes;
	if (copy_to_user(uarg, &arg, sizeof(arg)) && !ret)
		ret = -EFAULT;
	if (sync_file) {
		if (ret) {
			put_unused_fd(fd);
			fput(sync_file->file);
		} else {
			fd_install(fd, sync_file->file);
		}
	}
	return ret;
}

/*
 * io_uring: IORING_OP_URING_CMD with cmd_op P2PBUF_NVME_URING_IO and a
 * struct p2pbuf_nvme_uring_io in the SQE (a ring with SQE128). The command
 * completes when the I/O's fence signals: res is the path or -errno; the
 * second result (a ring with CQE32 has it) is the count of bytes the CPU
 * moved (0 on error).
 * The fence callback's room holds that count once the callback ran.
 */
struct p2pbuf_nvme_uring_pdu {
	union {
		struct dma_fence_cb cb;
		u64 cpu_bytes;
	};
	u32 path;
	int res;
};

static void p2pbuf_nvme_uring_done(struct io_uring_cmd *ioucmd,
				   unsigned int issue_flags)
{
	struct p2pbuf_nvme_uring_pdu *pdu = (void *)ioucmd->pdu;

	io_uring_cmd_done(ioucmd, pdu->res, pdu->cpu_bytes, issue_flags);
}

/* The fence signalled, its callback done with: the command's results. */
static void p2pbuf_nvme_uring_result(struct p2pbuf_nvme_uring_pdu *pdu,
				     struct dma_fence *fence)
{
	u64 cpu_bytes = 0;

	if (fence->error || !p2pbuf_fence_get_data(fence, &cpu_bytes))
		cpu_bytes = 0;
	pdu->cpu_bytes = cpu_bytes;
	pdu->res = fence->error ?: (int)pdu->path;
}

/* The fence signalled (any context, its lock held): finish in the task. */
static void p2pbuf_nvme_uring_signalled(struct dma_fence *fence,
					struct dma_fence_cb *cb)
{
	struct p2pbuf_nvme_uring_pdu *pdu =
		container_of(cb, struct p2pbuf_nvme_uring_pdu, cb);
	struct io_uring_cmd *ioucmd =
		container_of((void *)pdu, struct io_uring_cmd, pdu);

	p2pbuf_nvme_uring_result(pdu, fence);
	io_uring_cmd_complete_in_task(ioucmd, p2pbuf_nvme_uring_done);
}

static int p2pbuf_nvme_uring_cmd(struct io_uring_cmd *ioucmd,
				 unsigned int issue_flags)
{
	struct p2pbuf_nvme_file *pf = ioucmd->file->private_data;
	struct p2pbuf_nvme_uring_pdu *pdu = (void *)ioucmd->pdu;
	struct p2pbuf_nvme_uring_io cmd;
	struct p2pbuf_nvme_io arg = { 0 };
	struct dma_fence *fence;
	u64 cpu_bytes;
	int ret;

	BUILD_BUG_ON(sizeof(*pdu) > sizeof_field(struct io_uring_cmd, pdu));
	if (ioucmd->cmd_op != P2PBUF_NVME_URING_IO)
		return -ENOTTY;
	if (!(issue_flags & IO_URING_F_SQE128))
		return -EINVAL;
	/* Queueing sleeps (locks, page cache): from io_uring's workers. */
	if (issue_flags & IO_URING_F_NONBLOCK)
		return -EAGAIN;
	/* The SQE is shared with user space: read it once. */
	memcpy(&cmd, ioucmd->cmd, sizeof(cmd));
	if (cmd.flags & ~P2PBUF_NVME_IO_IN_FENCE || cmd.reserved[0] ||
	    cmd.reserved[1])
		return -EINVAL;
	arg.handle = cmd.handle;
	arg.op = cmd.op;
	arg.buf_offset = cmd.buf_offset;
	arg.length = cmd.length;
	arg.dev_offset = cmd.dev_offset;
	arg.in_fence_fd = cmd.in_fence_fd;
	arg.flags = cmd.flags;
	ret = p2pbuf_nvme_io_start(pf, &arg, &fence, &pdu->path, &cpu_bytes);
	if (ret)
		return ret;
	ret = dma_fence_add_callback(fence, &pdu->cb,
				     p2pbuf_nvme_uring_signalled);
	if (ret) {
		/*
		 * Signalled already. Complete as the callback would: 6.1's
		 * io_uring completes a command here only for 0 or -errno, and
		 * the path is positive.
		 */
		p2pbuf_nvme_uring_result(pdu, fence);
		io_uring_cmd_complete_in_task(ioucmd, p2pbuf_nvme_uring_done);
	}
	dma_fence_put(fence);
	return -EIOCBQUEUED;
}

/*
 * The DMA device's driver unbinds (the NVMe controller is removed, hot or
 * through sysfs, or its driver unloaded). Before its remove
 * (BUS_NOTIFY_UNBIND_DRIVER): the binding is dead, what has not started
 * fails with ENODEV, and so will every new I/O. After it
 * (BUS_NOTIFY_UNBOUND_DRIVER), when the driver has completed or failed
 * every request: wait for the binding's last I/O and unmap, so that
 * nothing stays mapped for a device without a driver. This notifier runs
 * before DMA-API debugging's, which checks exactly that then. Waiting
 * before the remove would hang after a surprise removal: nvme-pci fails
 * the requests of a gone controller only in its remove. The bindings stay
 * until their files let go of them.
 */
static void p2pbuf_nvme_binding_kill(struct p2pbuf_nvme_binding *b,
				     bool unbound)
{
	if (!unbound) {
		spin_lock_irq(&b->lock);
		b->dead = true;
		spin_unlock_irq(&b->lock);
		wake_up_all(&b->wq);
		/*
		 * A mapping kept for the next I/O (pin_linger_ms): none comes
		 * now. Dropped before the driver's remove, while the device
		 * still has its DMA ops.
		 */
		if (!b->bounce && p2pbuf_importer_pins_on_map(&b->imp)) {
			cancel_delayed_work_sync(&b->unmap_work);
			p2pbuf_nvme_unmap_work(&b->unmap_work.work);
		}
		return;
	}
	wait_event(b->wq, p2pbuf_nvme_idle(b));
	if (b->bounce)
		return;
	dma_resv_lock(b->dmabuf->resv, NULL);
	p2pbuf_importer_unmap_locked(&b->imp);
	dma_resv_unlock(b->dmabuf->resv);
}

static int p2pbuf_nvme_bus_notify(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	bool unbound = action == BUS_NOTIFY_UNBOUND_DRIVER;
	struct p2pbuf_nvme_binding *b, *next;
	struct device *dev = data;
	LIST_HEAD(dying);

	if (action != BUS_NOTIFY_UNBIND_DRIVER && !unbound)
		return NOTIFY_DONE;
	/*
	 * A binding being freed (reference count zero) is detached under
	 * this lock: once it is taken, such a binding has no mapping left.
	 */
	mutex_lock(&p2pbuf_nvme_bindings_lock);
	list_for_each_entry(b, &p2pbuf_nvme_bindings, node)
		if (b->dma_dev == dev && kref_get_unless_zero(&b->ref))
			list_add_tail(&b->dying, &dying);
	mutex_unlock(&p2pbuf_nvme_bindings_lock);
	list_for_each_entry_safe(b, next, &dying, dying) {
		p2pbuf_nvme_binding_kill(b, unbound);
		p2pbuf_nvme_binding_put(b);
	}
	return NOTIFY_OK;
}

static struct notifier_block p2pbuf_nvme_bus_nb = {
	.notifier_call = p2pbuf_nvme_bus_notify,
	/* Before DMA-API debugging's check at BUS_NOTIFY_UNBOUND_DRIVER. */
	.priority = 1,
};

static long p2pbuf_nvme_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct p2pbuf_nvme_file *pf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case P2PBUF_NVME_IOC_BIND:
		return p2pbuf_nvme_bind(pf, uarg);
	case P2PBUF_NVME_IOC_IO:
		return p2pbuf_nvme_io(pf, uarg);
	case P2PBUF_NVME_IOC_UNBIND:
		return p2pbuf_nvme_unbind(pf, uarg);
	default:
		return -ENOTTY;
	}
}

static int p2pbuf_nvme_open(struct inode *inode, struct file *file)
{
	struct p2pbuf_nvme_file *pf = kzalloc(sizeof(*pf), GFP_KERNEL);

	if (!pf)
		return -ENOMEM;
	mutex_init(&pf->lock);
	xa_init_flags(&pf->bindings, XA_FLAGS_ALLOC1);
	file->private_data = pf;
	return 0;
}

static int p2pbuf_nvme_release(struct inode *inode, struct file *file)
{
	struct p2pbuf_nvme_file *pf = file->private_data;
	struct p2pbuf_nvme_binding *b;
	unsigned long handle;

	xa_for_each(&pf->bindings, handle, b) {
		xa_erase(&pf->bindings, handle);
		p2pbuf_nvme_binding_close(b);
	}
	xa_destroy(&pf->bindings);
	mutex_destroy(&pf->lock);
	kfree(pf);
	return 0;
}

static const struct file_operations p2pbuf_nvme_fops = {
	.owner = THIS_MODULE,
	.open = p2pbuf_nvme_open,
	.release = p2pbuf_nvme_release,
	.uring_cmd = p2pbuf_nvme_uring_cmd,
	.unlocked_ioctl = p2pbuf_nvme_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice p2pbuf_nvme_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "p2pbuf_nvme",
	.fops = &p2pbuf_nvme_fops,
	.mode = 0666,
};

static int __init p2pbuf_nvme_init(void)
{
	int ret;

	p2pbuf_nvme_wq = alloc_workqueue("p2pbuf_nvme", WQ_UNBOUND, 0);
	if (!p2pbuf_nvme_wq)
		return -ENOMEM;
	p2pbuf_nvme_pdev = platform_device_register_simple("p2pbuf_nvme", -1,
							   NULL, 0);
	if (IS_ERR(p2pbuf_nvme_pdev)) {
		ret = PTR_ERR(p2pbuf_nvme_pdev);
		goto err_wq;
	}
	ret = dma_coerce_mask_and_coherent(&p2pbuf_nvme_pdev->dev,
					   DMA_BIT_MASK(64));
	if (ret)
		goto err_pdev;
	ret = bus_register_notifier(&pci_bus_type, &p2pbuf_nvme_bus_nb);
	if (ret)
		goto err_pdev;
	ret = misc_register(&p2pbuf_nvme_misc);
	if (ret)
		goto err_nb;
	return 0;

err_nb:
	bus_unregister_notifier(&pci_bus_type, &p2pbuf_nvme_bus_nb);
err_pdev:
	platform_device_unregister(p2pbuf_nvme_pdev);
err_wq:
	destroy_workqueue(p2pbuf_nvme_wq);
	return ret;
}
module_init(p2pbuf_nvme_init);

static void __exit p2pbuf_nvme_exit(void)
{
	misc_deregister(&p2pbuf_nvme_misc);
	bus_unregister_notifier(&pci_bus_type, &p2pbuf_nvme_bus_nb);
	/* No file is open: what is left are the I/Os' free works. */
	destroy_workqueue(p2pbuf_nvme_wq);
	/*
	 * And completions still returning from the last I/Os' release, in
	 * RCU read-side sections (p2pbuf_nvme_bio_end()).
	 */
	synchronize_rcu();
	platform_device_unregister(p2pbuf_nvme_pdev);
}
module_exit(p2pbuf_nvme_exit);

MODULE_DESCRIPTION("p2pbuf: block I/O straight into and out of dma-bufs");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
