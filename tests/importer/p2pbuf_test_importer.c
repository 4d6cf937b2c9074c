// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_test_importer: a test-only dma-buf importer built on p2pbuf.ko's
 * importer helpers.
 *
 * /dev/p2pbuf_test_importer: each open file is one importer that attaches
 * to a dma-buf on behalf of a chosen PCI function (QEMU's edu device, the
 * NVMe controller, the other VRAM device) as a static, dynamic or dynamic
 * peer-to-peer importer, and reports its mapping: the DMA segments, whether
 * they are PCI bus addresses, the move_notify calls and re-maps
 * (p2pbuf_test_importer.h has the ioctls).
 *
 * The module also binds QEMU's edu device (a DMA-capable PCI function with
 * a 4 KiB internal buffer and a DMA engine) so that tests can have a real
 * device DMA into and out of exported memory. Each DMA is a job on an
 * ordered workqueue with a dma_fence that the importer publishes in the
 * dma-buf's reservation object (p2pbuf_importer_end_dma()), so the
 * exporter's moves wait for it. With implicit synchronisation a job first
 * waits, in the worker, for the fence p2pbuf_importer_begin_access() gave.
 *
 * Lifetimes. A job's fence outlives the device and the file: it sits in
 * the exporter's reservation object and in sync_files. So it keeps its own
 * lock and points only at module text (its ops and names), and it holds a
 * reference to this module, dropped when the fence is freed: rmmod is
 * refused while any fence is reachable (see ti_fence_release()). The edu
 * state (devm) lives while the device is bound; remove() revokes the files
 * attached for it (they get -ENODEV from then on) and cancels or finishes
 * every job before devm tears the workqueue and BAR mapping down.
 *
 * Locking, outermost first: the file's mutex; ti_edu_lock (the bound edu
 * device and its list of files); the dma-buf's reservation lock (taken by
 * p2pbuf_importer_begin_access()); the edu device's submit lock. remove()
 * takes ti_edu_lock and a file's mutex one after the other, never nested.
 * The DMA worker takes no lock.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/iosys-map.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "../../dma-buf/p2pbuf.h"
#include "p2pbuf_test_importer.h"

MODULE_IMPORT_NS(DMA_BUF);
MODULE_IMPORT_NS(P2PBUF);

/* QEMU's edu device (docs/specs/edu.txt in QEMU). */
#define TI_EDU_VENDOR		0x1234
#define TI_EDU_DEVICE		0x11e8
#define TI_EDU_DMA_SRC		0x80
#define TI_EDU_DMA_DST		0x88
#define TI_EDU_DMA_COUNT	0x90
#define TI_EDU_DMA_CMD		0x98
#define TI_EDU_CMD_RUN		0x1
#define TI_EDU_CMD_TO_RAM	0x2	/* edu buffer -> RAM; else RAM -> edu */
#define TI_EDU_BUFFER		0x40000	/* the internal buffer's address */
#define TI_EDU_TIMEOUT_MS	10000	/* one DMA takes ~100 ms of QEMU time */

/**
 * struct ti_edu - the bound edu device (devm: freed after remove())
 * @pdev: the PCI function
 * @mmio: BAR 0
 * @wq: ordered workqueue: one DMA at a time, fences signal in order
 * @submit_lock: orders fence seqnos with queueing; guards @dead
 * @context: the fence context
 * @seqno: last seqno, under @submit_lock
 * @dead: remove() has begun: no new job; queued jobs are cancelled
 * @dep_wait: jobs waiting for their dependency sleep here
 * @files: the files attached for this device, under ti_edu_lock
 */
struct ti_edu {
	struct pci_dev *pdev;
	void __iomem *mmio;
	struct workqueue_struct *wq;
	spinlock_t submit_lock; /* seqno, queue order, @dead */
	u64 context;
	u64 seqno;
	bool dead;
	wait_queue_head_t dep_wait;
	struct list_head files;
};

/* The one edu device DMA is done with, while it is bound; its file list. */
static DEFINE_MUTEX(ti_edu_lock);
static struct ti_edu *ti_edu;

/**
 * struct ti_piece - a part of a DMA inside one DMA segment
 * @addr: device address in the buffer
 * @len: bytes
 * @edu_off: offset in the edu buffer (and in the request)
 */
struct ti_piece {
	u64 addr;
	u32 len;
	u32 edu_off;
};

/**
 * struct ti_job - one DMA request, as a fence
 * @base: the fence
 * @lock: the fence's lock: in the fence, which may outlive the device
 * @work: runs the DMA
 * @edu: the device; the worker's only, never used once the fence signalled
 *	and the worker returned (remove() waits for that)
 * @dep: implicit synchronisation: wait for this before the DMA, or NULL
 * @dep_cb: wakes @edu's dep_wait when @dep signals
 * @cpu: coherent bounce page (the request's bytes); freed by the worker
 * @cpu_dma: its DMA address
 * @length: bytes
 * @to_buffer: the device writes the buffer
 * @data: FROM_BUFFER: the bytes read, for the ioctl to copy out
 * @npieces: entries in @pieces
 * @pieces: the buffer's side, segment by segment
 */
struct ti_job {
	struct dma_fence base;
	spinlock_t lock; /* the fence's */
	struct work_struct work;
	struct ti_edu *edu;
	struct dma_fence *dep;
	struct dma_fence_cb dep_cb;
	void *cpu;
	dma_addr_t cpu_dma;
	u32 length;
	bool to_buffer;
	u8 data[P2PBUF_TI_DMA_MAX];
	unsigned int npieces;
	struct ti_piece pieces[];
};

/**
 * struct ti_file - one importer (an open file)
 * @ref: the open file's, and remove()'s while it revokes the file
 * @lock: serialises the ioctls of the file
 * @attached: @imp is attached
 * @pinned: @imp holds a pin
 * @gone: the edu device it was attached for went away: every ioctl fails
 * @imp: the p2pbuf importer
 * @dmabuf: the dma-buf, a reference
 * @dev: the importing PCI function, a reference
 * @edu: the edu device when @dev is it, else NULL; valid while set, under
 *	@lock: remove() clears it before the device goes
 * @edu_link: in @edu's file list, under ti_edu_lock
 */
struct ti_file {
	struct kref ref;
	struct mutex lock; /* see above */
	bool attached;
	bool pinned;
	bool gone;
	struct p2pbuf_importer imp;
	struct dma_buf *dmabuf;
	struct device *dev;
	struct ti_edu *edu;
	struct list_head edu_link;
};

/*
 * The fences' ops and names are module text, and their lock is in the
 * fence: they stay valid while the module is loaded, and every fence holds
 * a module reference until it is freed.
 */
static const char *ti_fence_driver_name(struct dma_fence *fence)
{
	return "p2pbuf_test_importer";
}

static const char *ti_fence_timeline_name(struct dma_fence *fence)
{
	return "edu-dma";
}

static void ti_job_free_rcu(struct rcu_head *rcu)
{
	struct ti_job *job = container_of(rcu, struct ti_job, base.rcu);

	kfree(job);
	module_put(THIS_MODULE);
}

/*
 * The last reference to a fence is gone. Readers may still look at it
 * under RCU (dma_fence_get_rcu_safe()), so it is freed after a grace
 * period, as dma_fence_free() would, and the module reference the fence
 * took in ti_ioctl_dma() is dropped there too. Dropping it in an RCU
 * callback is what makes it safe: the module's code runs on after
 * module_put() only to return from the callback, and ti_exit(), which
 * rmmod must run before it frees the module, ends with rcu_barrier(),
 * which waits until every queued callback has returned. (A module_put()
 * in the release op itself would leave its return unguarded: release
 * runs in any context, under no lock rmmod waits for.) The callback's
 * rcu_head is the fence's, unused once the fence is released.
 */
static void ti_fence_release(struct dma_fence *fence)
{
	call_rcu(&fence->rcu, ti_job_free_rcu);
}

static const struct dma_fence_ops ti_fence_ops = {
	.get_driver_name = ti_fence_driver_name,
	.get_timeline_name = ti_fence_timeline_name,
	.release = ti_fence_release,
};

static int ti_edu_dma(struct ti_edu *edu, u64 src, u64 dst, u32 len, u32 cmd)
{
	unsigned long timeout = jiffies + msecs_to_jiffies(TI_EDU_TIMEOUT_MS);

	writeq(src, edu->mmio + TI_EDU_DMA_SRC);
	writeq(dst, edu->mmio + TI_EDU_DMA_DST);
	writeq(len, edu->mmio + TI_EDU_DMA_COUNT);
	writeq(cmd | TI_EDU_CMD_RUN, edu->mmio + TI_EDU_DMA_CMD);
	while (readq(edu->mmio + TI_EDU_DMA_CMD) & TI_EDU_CMD_RUN) {
		if (time_after(jiffies, timeout))
			return -ETIMEDOUT;
		usleep_range(2000, 4000);
	}
	return 0;
}

static void ti_job_dep_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct ti_job *job = container_of(cb, struct ti_job, dep_cb);

	wake_up_all(&job->edu->dep_wait);
}

/*
 * Implicit synchronisation: wait, without any lock, until the dependency
 * signals or remove() cancels the job. TASK_IDLE: a userspace fence may
 * take its time. 0, or the error to fail the job with.
 */
static int ti_job_wait_dep(struct ti_job *job)
{
	struct ti_edu *edu = job->edu;
	int ret;

	if (!dma_fence_add_callback(job->dep, &job->dep_cb, ti_job_dep_cb)) {
		wait_event_idle(edu->dep_wait,
				dma_fence_is_signaled(job->dep) ||
				READ_ONCE(edu->dead));
		/* Under the fence's lock: the callback is not running after. */
		dma_fence_remove_callback(job->dep, &job->dep_cb);
	}
	if (READ_ONCE(edu->dead))
		return -ENODEV;
	ret = dma_fence_get_status(job->dep);
	return ret < 0 ? ret : 0;
}

static int ti_job_run(struct ti_job *job)
{
	struct ti_edu *edu = job->edu;
	unsigned int i;
	int ret = 0;

	if (job->to_buffer)
		ret = ti_edu_dma(edu, job->cpu_dma, TI_EDU_BUFFER, job->length,
				 0);
	for (i = 0; i < job->npieces && !ret; i++) {
		struct ti_piece *p = &job->pieces[i];

		if (job->to_buffer)
			ret = ti_edu_dma(edu, TI_EDU_BUFFER + p->edu_off,
					 p->addr, p->len, TI_EDU_CMD_TO_RAM);
		else
			ret = ti_edu_dma(edu, p->addr,
					 TI_EDU_BUFFER + p->edu_off, p->len, 0);
	}
	if (!job->to_buffer && !ret) {
		ret = ti_edu_dma(edu, TI_EDU_BUFFER, job->cpu_dma, job->length,
				 TI_EDU_CMD_TO_RAM);
		if (!ret)
			memcpy(job->data, job->cpu, job->length);
	}
	return ret;
}

static void ti_job_work(struct work_struct *work)
{
	struct ti_job *job = container_of(work, struct ti_job, work);
	struct ti_edu *edu = job->edu;
	int ret = 0;
	bool cookie;

	if (job->dep) {
		ret = ti_job_wait_dep(job);
		dma_fence_put(job->dep);
		job->dep = NULL;
	}

	cookie = dma_fence_begin_signalling();
	/* A job queued before remove() began and not started is cancelled. */
	if (!ret && READ_ONCE(edu->dead))
		ret = -ENODEV;
	if (!ret)
		ret = ti_job_run(job);
	if (ret)
		dma_fence_set_error(&job->base, ret);
	dma_fence_signal(&job->base);
	dma_fence_end_signalling(cookie);

	dma_free_coherent(&edu->pdev->dev, PAGE_SIZE, job->cpu, job->cpu_dma);
	dma_fence_put(&job->base);
}

/* Split [offset, offset + length) of the mapping into DMA pieces. */
static unsigned int ti_pieces(struct sg_table *sgt, u64 offset, u32 length,
			      struct ti_piece *pieces)
{
	struct scatterlist *sg;
	unsigned int n = 0;
	u64 pos = 0, end = offset + length;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 seg_end = pos + sg_dma_len(sg);
		u64 from = max(pos, offset), to = min(seg_end, end);

		if (from < to) {
			if (pieces) {
				pieces[n].addr = sg_dma_address(sg) + from - pos;
				pieces[n].len = to - from;
				pieces[n].edu_off = from - offset;
			}
			n++;
		}
		pos = seg_end;
		if (pos >= end)
			break;
	}
	return n;
}

static int ti_ioctl_dma(struct ti_file *f, void __user *argp)
{
	struct dma_fence *dep = NULL;
	enum dma_resv_usage usage;
	struct p2pbuf_ti_dma args;
	struct ti_edu *edu = f->edu;
	struct sg_table *sgt;
	struct ti_job *job;
	dma_addr_t cpu_dma;
	unsigned int n;
	bool to_buffer;
	void *cpu;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags != P2PBUF_TI_DMA_TO_BUFFER &&
	    args.flags != P2PBUF_TI_DMA_FROM_BUFFER)
		return -EINVAL;
	if (!args.length || args.length > P2PBUF_TI_DMA_MAX)
		return -EINVAL;
	if (!f->attached)
		return -ENOENT;
	if (args.offset > f->dmabuf->size ||
	    args.length > f->dmabuf->size - args.offset)
		return -EINVAL;
	if (!edu)
		return -EOPNOTSUPP;
	to_buffer = args.flags == P2PBUF_TI_DMA_TO_BUFFER;
	usage = to_buffer ? DMA_RESV_USAGE_WRITE : DMA_RESV_USAGE_READ;

	/* f->edu is set, under f->lock: remove() has not revoked us yet. */
	cpu = dma_alloc_coherent(&edu->pdev->dev, PAGE_SIZE, &cpu_dma,
				 GFP_KERNEL);
	if (!cpu)
		return -ENOMEM;
	if (to_buffer &&
	    copy_from_user(cpu, u64_to_user_ptr(args.data), args.length)) {
		ret = -EFAULT;
		goto err_free_cpu;
	}

	sgt = p2pbuf_importer_begin_access(&f->imp, usage, &dep);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_free_cpu;
	}
	n = ti_pieces(sgt, args.offset, args.length, NULL);
	job = kzalloc(struct_size(job, pieces, n), GFP_KERNEL);
	if (!job) {
		ret = -ENOMEM;
		goto err_end;
	}
	job->npieces = ti_pieces(sgt, args.offset, args.length, job->pieces);
	job->edu = edu;
	job->cpu = cpu;
	job->cpu_dma = cpu_dma;
	job->length = args.length;
	job->to_buffer = to_buffer;
	spin_lock_init(&job->lock);
	INIT_WORK(&job->work, ti_job_work);

	spin_lock(&edu->submit_lock);
	if (edu->dead) {
		spin_unlock(&edu->submit_lock);
		kfree(job);
		ret = -ENODEV;
		goto err_end;
	}
	dma_fence_init(&job->base, &ti_fence_ops, &job->lock, edu->context,
		       ++edu->seqno);
	/* The fence's, until ti_job_free_rcu(); our file holds one now. */
	__module_get(THIS_MODULE);
	job->dep = dep;	/* the worker's now, as are @cpu and the job */
	dep = NULL;
	dma_fence_get(&job->base);	/* the worker's */
	queue_work(edu->wq, &job->work);
	spin_unlock(&edu->submit_lock);
	p2pbuf_importer_end_dma(&f->imp, &job->base, usage);

	ret = 0;
	if (!to_buffer) {
		ret = dma_fence_wait(&job->base, true);
		if (!ret) {
			ret = dma_fence_get_status(&job->base);
			ret = ret < 0 ? ret : 0;
		}
		if (!ret && copy_to_user(u64_to_user_ptr(args.data), job->data,
					 args.length))
			ret = -EFAULT;
	}
	dma_fence_put(&job->base);
	return ret;

err_end:
	dma_fence_put(dep);
	p2pbuf_importer_end_dma(&f->imp, NULL, usage);
err_free_cpu:
	dma_free_coherent(&edu->pdev->dev, PAGE_SIZE, cpu, cpu_dma);
	return ret;
}

static int ti_ioctl_map(struct ti_file *f, void __user *argp)
{
	struct p2pbuf_ti_map args;
	struct p2pbuf_ti_entry *ent = NULL;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int n = 0;
	int i, ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.pad)
		return -EINVAL;
	if (!f->attached)
		return -ENOENT;

	sgt = p2pbuf_importer_begin_dma(&f->imp);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	args.nents = sgt->nents;
	n = min(args.max_entries, args.nents);
	if (n) {
		/* No copy_to_user under the reservation lock: a copy first. */
		ent = kvcalloc(n, sizeof(*ent), GFP_KERNEL);
		if (!ent) {
			p2pbuf_importer_end_dma(&f->imp, NULL,
						DMA_RESV_USAGE_READ);
			return -ENOMEM;
		}
		for_each_sgtable_dma_sg(sgt, sg, i) {
			if (i >= n)
				break;
			ent[i].dma_address = sg_dma_address(sg);
			ent[i].length = sg_dma_len(sg);
			if (sg_is_dma_bus_address(sg))
				ent[i].flags = P2PBUF_TI_BUS_ADDRESS;
		}
	}
	p2pbuf_importer_end_dma(&f->imp, NULL, DMA_RESV_USAGE_READ);

	args.move_notifies = atomic_read(&f->imp.move_notifies);
	args.maps = atomic_read(&f->imp.maps);
	if (n && copy_to_user(u64_to_user_ptr(args.entries), ent,
			      array_size(n, sizeof(*ent))))
		ret = -EFAULT;
	kvfree(ent);
	if (!ret && copy_to_user(argp, &args, sizeof(args)))
		ret = -EFAULT;
	return ret;
}

static int ti_ioctl_status(struct ti_file *f, void __user *argp)
{
	struct p2pbuf_ti_status args = { };
	struct dma_resv *resv;

	if (!f->attached)
		return -ENOENT;
	resv = f->dmabuf->resv;
	dma_resv_lock(resv, NULL);
	args.mapped = !!f->imp.sgt;
	dma_resv_unlock(resv);
	args.move_notifies = atomic_read(&f->imp.move_notifies);
	args.maps = atomic_read(&f->imp.maps);
	return copy_to_user(argp, &args, sizeof(args)) ? -EFAULT : 0;
}

static int ti_ioctl_cpu(void __user *argp)
{
	enum dma_data_direction dir;
	struct p2pbuf_ti_cpu args;
	struct dma_buf *dmabuf;
	struct iosys_map map;
	void *bounce;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if ((args.flags != P2PBUF_TI_CPU_READ &&
	     args.flags != P2PBUF_TI_CPU_WRITE) || args.pad ||
	    !args.length || args.length > P2PBUF_TI_CPU_MAX)
		return -EINVAL;
	dir = args.flags == P2PBUF_TI_CPU_READ ? DMA_FROM_DEVICE :
		DMA_TO_DEVICE;

	bounce = kvmalloc(args.length, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	if (args.flags == P2PBUF_TI_CPU_WRITE &&
	    copy_from_user(bounce, u64_to_user_ptr(args.data), args.length)) {
		ret = -EFAULT;
		goto out_free;
	}
	dmabuf = dma_buf_get(args.fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto out_free;
	}
	if (args.offset > dmabuf->size ||
	    args.length > dmabuf->size - args.offset) {
		ret = -EINVAL;
		goto out_put;
	}
	ret = dma_buf_vmap(dmabuf, &map);
	if (ret)
		goto out_put;
	ret = dma_buf_begin_cpu_access(dmabuf, dir);
	if (!ret) {
		if (args.flags == P2PBUF_TI_CPU_READ)
			iosys_map_memcpy_from(bounce, &map, args.offset,
					      args.length);
		else
			iosys_map_memcpy_to(&map, args.offset, bounce,
					    args.length);
		ret = dma_buf_end_cpu_access(dmabuf, dir);
	}
	dma_buf_vunmap(dmabuf, &map);
	if (!ret && args.flags == P2PBUF_TI_CPU_READ &&
	    copy_to_user(u64_to_user_ptr(args.data), bounce, args.length))
		ret = -EFAULT;
out_put:
	dma_buf_put(dmabuf);
out_free:
	kvfree(bounce);
	return ret;
}

/* The benchmark's importer keeps no mapping across its reservation lock. */
static void ti_bench_move_notify(struct dma_buf_attachment *attach)
{
}

static const struct dma_buf_attach_ops ti_bench_attach_ops = {
	.allow_peer2peer = true,
	.move_notify = ti_bench_move_notify,
};

/*
 * One cycle of MAP_BENCH: attach, map, unmap, detach. Returns its
 * nanoseconds (>= 0) or a negative errno; the last mapping's segments and
 * kind in @args.
 */
static s64 ti_bench_cycle(struct dma_buf *dmabuf, struct device *dev,
			  struct p2pbuf_ti_map_bench *args)
{
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	u64 start = ktime_get_ns();
	int ret = 0;

	attach = dma_buf_dynamic_attach(dmabuf, dev, &ti_bench_attach_ops,
					NULL);
	if (IS_ERR(attach))
		return PTR_ERR(attach);
	dma_resv_lock(dmabuf->resv, NULL);
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
	} else {
		args->nents = sgt->nents;
		args->max_seg = dma_get_max_seg_size(dev);
		args->map_flags = sgt->nents &&
			sg_is_dma_bus_address(sgt->sgl) ?
			P2PBUF_TI_BUS_ADDRESS : 0;
		dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
	}
	dma_resv_unlock(dmabuf->resv);
	dma_buf_detach(dmabuf, attach);
	return ret ? ret : (s64)(ktime_get_ns() - start);
}

/**
 * ti_ioctl_map_bench - P2PBUF_TI_IOCTL_MAP_BENCH: time map cycles
 * @argp: the user's struct p2pbuf_ti_map_bench
 *
 * Return: 0 or a negative errno (see struct p2pbuf_ti_map_bench).
 */
static int ti_ioctl_map_bench(void __user *argp)
{
	struct p2pbuf_ti_map_bench args;
	struct dma_buf *dmabuf;
	struct device *dev;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.pad || !args.iterations ||
	    args.iterations > P2PBUF_TI_BENCH_MAX_ITERATIONS ||
	    strnlen(args.device, sizeof(args.device)) == sizeof(args.device))
		return -EINVAL;

	dev = bus_find_device_by_name(&pci_bus_type, NULL, args.device);
	if (!dev)
		return -ENODEV;
	dmabuf = dma_buf_get(args.fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto out_dev;
	}
	args.ns = 0;
	args.min_ns = U64_MAX;
	for (i = 0; i < args.iterations; i++) {
		s64 ns = ti_bench_cycle(dmabuf, dev, &args);

		if (ns < 0) {
			ret = ns;
			break;
		}
		args.ns += ns;
		args.min_ns = min_t(u64, args.min_ns, ns);
		if (i + 1 < args.iterations && signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	dma_buf_put(dmabuf);
	if (!ret && copy_to_user(argp, &args, sizeof(args)))
		ret = -EFAULT;
out_dev:
	put_device(dev);
	return ret;
}

/* Leave the edu device's file list, if on it. f->lock held. */
static void ti_file_unlink(struct ti_file *f)
{
	if (!f->edu)
		return;
	mutex_lock(&ti_edu_lock);
	list_del_init(&f->edu_link);
	mutex_unlock(&ti_edu_lock);
	f->edu = NULL;
}

static void ti_detach(struct ti_file *f)
{
	if (!f->attached)
		return;
	if (f->pinned)
		p2pbuf_importer_unpin(&f->imp);
	p2pbuf_importer_detach(&f->imp);
	dma_buf_put(f->dmabuf);
	put_device(f->dev);
	ti_file_unlink(f);
	f->attached = false;
	f->pinned = false;
	f->dmabuf = NULL;
	f->dev = NULL;
}

static int ti_ioctl_attach(struct ti_file *f, void __user *argp)
{
	struct p2pbuf_ti_attach args;
	unsigned int flags = 0;
	struct dma_buf *dmabuf;
	struct device *dev;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.mode > P2PBUF_TI_DYNAMIC_P2P || args.pad ||
	    (args.flags & ~(P2PBUF_TI_ATTACH_PIN |
			    P2PBUF_TI_ATTACH_IMPLICIT_SYNC)))
		return -EINVAL;
	if ((args.flags & P2PBUF_TI_ATTACH_PIN) &&
	    args.mode == P2PBUF_TI_STATIC)
		return -EINVAL;
	if (strnlen(args.device, sizeof(args.device)) == sizeof(args.device))
		return -EINVAL;
	if (f->attached)
		return -EBUSY;

	if (args.mode != P2PBUF_TI_STATIC)
		flags |= P2PBUF_IMPORT_DYNAMIC;
	if (args.mode == P2PBUF_TI_DYNAMIC_P2P)
		flags |= P2PBUF_IMPORT_PEER2PEER;
	if (args.flags & P2PBUF_TI_ATTACH_IMPLICIT_SYNC)
		flags |= P2PBUF_IMPORT_IMPLICIT_SYNC;

	dev = bus_find_device_by_name(&pci_bus_type, NULL, args.device);
	if (!dev)
		return -ENODEV;
	dmabuf = dma_buf_get(args.fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_put_dev;
	}
	/*
	 * On the edu device's list before the first mapping for it exists,
	 * so that remove() finds it and, once we are done here, detaches it.
	 */
	mutex_lock(&ti_edu_lock);
	if (ti_edu && dev == &ti_edu->pdev->dev) {
		f->edu = ti_edu;
		list_add_tail(&f->edu_link, &ti_edu->files);
	}
	mutex_unlock(&ti_edu_lock);
	ret = p2pbuf_importer_attach(&f->imp, dmabuf, dev, flags,
				     DMA_BIDIRECTIONAL);
	if (ret)
		goto err_unlink;
	if (args.flags & P2PBUF_TI_ATTACH_PIN) {
		ret = p2pbuf_importer_pin(&f->imp);
		if (ret) {
			p2pbuf_importer_detach(&f->imp);
			goto err_unlink;
		}
		f->pinned = true;
	}
	f->attached = true;
	f->dmabuf = dmabuf;
	f->dev = dev;
	return 0;

err_unlink:
	ti_file_unlink(f);
	dma_buf_put(dmabuf);
err_put_dev:
	put_device(dev);
	return ret;
}

static long ti_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ti_file *f = file->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	mutex_lock(&f->lock);
	if (f->gone) {
		mutex_unlock(&f->lock);
		return -ENODEV;
	}
	switch (cmd) {
	case P2PBUF_TI_IOCTL_ATTACH:
		ret = ti_ioctl_attach(f, argp);
		break;
	case P2PBUF_TI_IOCTL_MAP:
		ret = ti_ioctl_map(f, argp);
		break;
	case P2PBUF_TI_IOCTL_DETACH:
		ret = f->attached ? 0 : -ENOENT;
		ti_detach(f);
		break;
	case P2PBUF_TI_IOCTL_DMA:
		ret = ti_ioctl_dma(f, argp);
		break;
	case P2PBUF_TI_IOCTL_STATUS:
		ret = ti_ioctl_status(f, argp);
		break;
	case P2PBUF_TI_IOCTL_CPU:
		ret = ti_ioctl_cpu(argp);
		break;
	case P2PBUF_TI_IOCTL_MAP_BENCH:
		ret = ti_ioctl_map_bench(argp);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&f->lock);
	return ret;
}

static int ti_open(struct inode *inode, struct file *file)
{
	struct ti_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	kref_init(&f->ref);
	mutex_init(&f->lock);
	INIT_LIST_HEAD(&f->edu_link);
	file->private_data = f;
	return 0;
}

static void ti_file_free(struct kref *ref)
{
	struct ti_file *f = container_of(ref, struct ti_file, ref);

	mutex_destroy(&f->lock);
	kfree(f);
}

static int ti_release(struct inode *inode, struct file *file)
{
	struct ti_file *f = file->private_data;

	mutex_lock(&f->lock);
	ti_detach(f);
	mutex_unlock(&f->lock);
	kref_put(&f->ref, ti_file_free);
	return 0;
}

static const struct file_operations ti_fops = {
	.owner = THIS_MODULE,
	.open = ti_open,
	.release = ti_release,
	.unlocked_ioctl = ti_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice ti_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "p2pbuf_test_importer",
	.fops = &ti_fops,
	.mode = 0600,
};

static void ti_edu_destroy_wq(void *data)
{
	destroy_workqueue(data);
}

static int ti_edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ti_edu *edu;
	int ret;

	mutex_lock(&ti_edu_lock);
	ret = ti_edu ? -EBUSY : 0;	/* one edu device is all tests need */
	mutex_unlock(&ti_edu_lock);
	if (ret)
		return ret;
	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "p2pbuf_test_importer");
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);

	edu->pdev = pdev;
	edu->mmio = pcim_iomap_table(pdev)[0];
	spin_lock_init(&edu->submit_lock);
	init_waitqueue_head(&edu->dep_wait);
	INIT_LIST_HEAD(&edu->files);
	edu->context = dma_fence_context_alloc(1);
	edu->wq = alloc_ordered_workqueue("p2pbuf-ti-%s", 0, pci_name(pdev));
	if (!edu->wq)
		return -ENOMEM;
	ret = devm_add_action_or_reset(&pdev->dev, ti_edu_destroy_wq, edu->wq);
	if (ret)
		return ret;
	pci_set_drvdata(pdev, edu);
	mutex_lock(&ti_edu_lock);
	if (ti_edu) {
		ret = -EBUSY;	/* another edu device won a race */
	} else {
		ti_edu = edu;
		ret = 0;
	}
	mutex_unlock(&ti_edu_lock);
	if (!ret)
		pci_info(pdev, "p2pbuf test importer: edu DMA engine\n");
	return ret;
}

/*
 * Unbind or hot removal, with files possibly open and attached for the
 * device and jobs queued. Everything the device's state serves must be
 * over when this returns, because devm then destroys the workqueue, unmaps
 * BAR 0 and frees the state, and the DMA-API requires every mapping and
 * coherent buffer of the device gone:
 * 1. no new importer for the device (ti_edu cleared);
 * 2. no new job (dead), queued jobs cancelled: their fences signal with
 *    -ENODEV (a job already running its DMA finishes it), a job waiting
 *    for its dependency is woken; the workqueue drained, so every worker,
 *    which frees its coherent page, has returned;
 * 3. every file attached for the device is detached (the last DMA waited
 *    for, the mapping dropped) and marked gone: its ioctls fail with
 *    -ENODEV. A file's mutex is taken after its ioctl in progress, which
 *    by now waits for nothing of ours for long.
 * The fences live on in reservation objects and sync_files; they need
 * neither the device nor its state (see ti_fence_release()).
 */
static void ti_edu_remove(struct pci_dev *pdev)
{
	struct ti_edu *edu = pci_get_drvdata(pdev);
	struct ti_file *f;

	mutex_lock(&ti_edu_lock);
	ti_edu = NULL;
	mutex_unlock(&ti_edu_lock);

	spin_lock(&edu->submit_lock);
	edu->dead = true;
	spin_unlock(&edu->submit_lock);
	wake_up_all(&edu->dep_wait);
	drain_workqueue(edu->wq);

	for (;;) {
		mutex_lock(&ti_edu_lock);
		f = list_first_entry_or_null(&edu->files, struct ti_file,
					     edu_link);
		if (f) {
			list_del_init(&f->edu_link);
			kref_get(&f->ref);
		}
		mutex_unlock(&ti_edu_lock);
		if (!f)
			break;
		mutex_lock(&f->lock);
		if (f->edu == edu) {
			f->edu = NULL;	/* off the list already */
			ti_detach(f);
			f->gone = true;
		}
		mutex_unlock(&f->lock);
		kref_put(&f->ref, ti_file_free);
	}
	pci_info(pdev, "p2pbuf test importer: edu DMA engine removed\n");
}

static const struct pci_device_id ti_edu_ids[] = {
	{ PCI_DEVICE(TI_EDU_VENDOR, TI_EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ti_edu_ids);

static struct pci_driver ti_edu_driver = {
	.name = "p2pbuf_test_importer",
	.id_table = ti_edu_ids,
	.probe = ti_edu_probe,
	.remove = ti_edu_remove,
};

static int __init ti_init(void)
{
	int ret;

	ret = pci_register_driver(&ti_edu_driver);
	if (ret)
		return ret;
	ret = misc_register(&ti_misc);
	if (ret)
		pci_unregister_driver(&ti_edu_driver);
	return ret;
}

static void __exit ti_exit(void)
{
	misc_deregister(&ti_misc);
	pci_unregister_driver(&ti_edu_driver);
	/* The last fences' module_put() calls have returned: see above. */
	rcu_barrier();
}

module_init(ti_init);
module_exit(ti_exit);

MODULE_DESCRIPTION("p2pbuf test-only dma-buf importer (edu DMA engine)");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
