// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_rdma: remote peers read and write dma-bufs over RDMA (uAPI in
 * include/uapi/linux/p2pbuf_rdma.h).
 *
 * A server is a wildcard rdma_cm listener (RDMA_PS_TCP) that speaks the
 * server side of rdma-core's rping: per ping, the client advertises its
 * source buffer (address, rkey, size; big-endian), the server RDMA READs
 * it into the dma-buf at the connection's window and sends a 16-byte "go
 * ahead"; the client advertises its sink, the server RDMA WRITEs the same
 * bytes back from the dma-buf and sends another "go ahead". The window
 * then advances by the ping's size and wraps inside the served range.
 *
 * A client that sends struct p2pbuf_rdma_hello as its connect private data
 * speaks the project's own protocol instead (wire format in the uAPI
 * header): per request {op, offset, length, addr, rkey, id} the server
 * RDMA READs into or WRITEs out of the served range, in chunks of
 * P2PBUF_RDMA_CHUNK (each a transfer as below, with its fence), and
 * replies {id, status, bytes}; a bad request gets its errno in the reply.
 *
 * One connection is one RC QP, one dynamic p2pbuf importer (attached, with
 * peer2peer allowed, for the PCI function that does the DMA: the RDMA
 * device's DMA device, or for a device with virtual DMA such as rxe the
 * PCI function behind its netdev) and one fence timeline. A transfer, in
 * the connection's worker: under the reservation lock, map, take the
 * pages of the window, post the RDMA work request through rdma_rw over a
 * table of those pages, and publish its fence (a write for a READ into
 * the buffer, a read for a WRITE out of it); the completion signals the
 * fence, with an error when the work request failed, and never takes the
 * reservation lock. move_notify (p2pbuf_importer.c) waits for that fence
 * and unmaps; the next transfer maps again. A connection has one transfer
 * at a time, so its fences signal in publish order. Each transfer is
 * bounded by op_timeout_ms: then the QP is disconnected, which flushes the
 * work request and signals its fence with an error.
 *
 * On a kernel without CONFIG_DMABUF_MOVE_NOTIFY a mapping pins the buffer:
 * an idle connection lets it go pin_linger_ms after its last transfer.
 *
 * Lifetimes: a connection is released once, by its release work, in
 * process context: stop new work, disconnect, drain the QP (every fence
 * is signalled then), detach, and destroy QP, CQ, cm id and PD in that
 * order. Everything that ends a connection queues that work (a CM event,
 * an error, STOP, close, the RDMA device's removal through the ib_client,
 * the DMA device's driver unbind through a bus notifier) and the
 * synchronous ones wait for it. A DEVICE_REMOVAL event that comes first
 * (a connection made after the ib_client's remove) tears down in the
 * handler and returns non-zero, so that the core destroys the id.
 *
 * Locking: the reservation lock, then &struct p2pbuf_rdma_conn.lock (a
 * spinlock, also taken in completion context). &struct
 * p2pbuf_rdma_server.lock protects a server's connections and counters;
 * p2pbuf_rdma_conns_lock the list of every connection.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/completion.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/in.h>
#include <linux/kref.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>
#include <rdma/rw.h>

#include <linux/p2pbuf_rdma.h>

#include "../dma-buf/p2pbuf.h"

MODULE_IMPORT_NS(P2PBUF);
MODULE_IMPORT_NS(DMA_BUF);

static int p2pbuf_rdma_set_timeout(const char *val,
				   const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 10, 600000);
}

static const struct kernel_param_ops p2pbuf_rdma_timeout_ops = {
	.set = p2pbuf_rdma_set_timeout,
	.get = param_get_uint,
};

static unsigned int p2pbuf_rdma_op_timeout_ms = 10000;
module_param_cb(op_timeout_ms, &p2pbuf_rdma_timeout_ops,
		&p2pbuf_rdma_op_timeout_ms, 0644);
MODULE_PARM_DESC(op_timeout_ms,
		 "How long an RDMA READ or WRITE may take before its connection is disconnected and its fence fails (default 10000, 10 to 600000, EINVAL outside)");

/* A pin nobody uses must not last: more than a second is refused. */
static int p2pbuf_rdma_set_linger(const char *val,
				  const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, 1000);
}

static const struct kernel_param_ops p2pbuf_rdma_linger_ops = {
	.set = p2pbuf_rdma_set_linger,
	.get = param_get_uint,
};

static unsigned int p2pbuf_rdma_pin_linger_ms = 10;
module_param_cb(pin_linger_ms, &p2pbuf_rdma_linger_ops,
		&p2pbuf_rdma_pin_linger_ms, 0644);
MODULE_PARM_DESC(pin_linger_ms,
		 "On a kernel without move_notify, how long an idle connection keeps its mapping (and the buffer pinned) for the next ping (default 10, at most 1000, EINVAL above)");

/* rping's message: every field big-endian. */
struct p2pbuf_rdma_msg {
	__be64 buf;
	__be32 rkey;
	__be32 size;
};

#define P2PBUF_RDMA_MSG_SIZE	sizeof(struct p2pbuf_rdma_msg)
/*
 * The largest ping, and the largest chunk of a request of the own
 * protocol: rdma_rw splits it at the device's SGE limits.
 */
#define P2PBUF_RDMA_MAX_PING	P2PBUF_RDMA_CHUNK

/* What a RECV or a SEND carries, in either protocol. */
union p2pbuf_rdma_wire {
	struct p2pbuf_rdma_msg ping;
	struct p2pbuf_rdma_req req;
	struct p2pbuf_rdma_reply reply;
};

#define P2PBUF_RDMA_BUF_SIZE	sizeof(union p2pbuf_rdma_wire)
#define P2PBUF_RDMA_SQ_DEPTH	16
#define P2PBUF_RDMA_RQ_DEPTH	2

/*
 * The ping state machine, the timeouts and the lingering unmaps; with a
 * rescuer: a stuck transfer's timeout is what signals its fence, which
 * reclaim may wait for through an eviction.
 */
static struct workqueue_struct *p2pbuf_rdma_wq;
/* Teardowns, which wait for work on p2pbuf_rdma_wq. */
static struct workqueue_struct *p2pbuf_rdma_release_wq;
/* Connections not yet freed: module exit waits for none. */
static atomic_t p2pbuf_rdma_nconns = ATOMIC_INIT(0);
/* Servers one open file may have. */
#define P2PBUF_RDMA_MAX_SERVERS	16
/* Every connection: for the ib_client's remove and the bus notifier. */
static DEFINE_MUTEX(p2pbuf_rdma_conns_lock);
static LIST_HEAD(p2pbuf_rdma_conns);

/*
 * A PCI function whose driver is unbinding, between BUS_NOTIFY_UNBIND_DRIVER
 * and BUS_NOTIFY_UNBOUND_DRIVER: no connection attaches for it. On
 * p2pbuf_rdma_unbinding, under p2pbuf_rdma_conns_lock.
 */
struct p2pbuf_rdma_unbinding {
	struct list_head node;
	struct device *dev;
};

static LIST_HEAD(p2pbuf_rdma_unbinding);

enum p2pbuf_rdma_kind {
	P2PBUF_RDMA_SERVER,
	P2PBUF_RDMA_CONN,
};

/**
 * struct p2pbuf_rdma_server - a dma-buf range served to remote clients
 * @kind: %P2PBUF_RDMA_SERVER (the cm handler tells ids apart by it)
 * @ref: the file's reference and one per connection
 * @listen_id: the wildcard listener
 * @dmabuf: a reference to the dma-buf
 * @offset: the range's byte offset in the buffer
 * @length: the range's length
 * @flags: P2PBUF_RDMA_SERVE_* given at SERVE
 * @lock: protects @conns, @stopping and the counters
 * @conns: the connections, on &p2pbuf_rdma_conn.srv_node
 * @stopping: STOP or close: no new connection joins
 * @seq: connections made, for their timelines' names
 * @handle: the file's handle for it
 * @net: the network namespace of the process that made it, referenced
 * @q: the counters QUERY reports (maps and move_notifies of connections
 *	already gone; the live ones are added at QUERY)
 */
struct p2pbuf_rdma_server {
	enum p2pbuf_rdma_kind kind;
	struct kref ref;
	struct rdma_cm_id *listen_id;
	struct dma_buf *dmabuf;
	u64 offset;
	u64 length;
	u32 flags;
	spinlock_t lock; /* see above */
	struct list_head conns;
	bool stopping;
	unsigned int seq;
	u32 handle;
	struct net *net;
	struct p2pbuf_rdma_query q;
};

enum p2pbuf_rdma_state {
	P2PBUF_RDMA_WAIT_SOURCE,	/* next advert: the READ's source */
	P2PBUF_RDMA_READING,
	P2PBUF_RDMA_WAIT_SINK,		/* next advert: the WRITE's sink */
	P2PBUF_RDMA_WRITING,
	P2PBUF_RDMA_REQUEST,		/* own protocol: a request runs */
};

/**
 * struct p2pbuf_rdma_preg - a passive registration (P2PBUF_RDMA_OP_REGISTER)
 * @mr: the fast-reg MR the client's key names; NULL when there is none
 *	(never made, ended, or revoked by the exporter)
 * @sgt: the registered pages, mapped for the RDMA device
 * @pages: those pages
 * @offset: the first byte's offset in the served range (the MR's iova)
 * @length: bytes
 * @rkey: the key handed to the client
 * @pinned: the buffer is pinned for the registration (until it ends, or
 *	the teardown; a revoke leaves the pin to them)
 * @pending: the REG_MR failed or timed out: the device may still hold
 *	@mr, which only the teardown frees, after the drain (its key was
 *	never handed out, and the QP is disconnected)
 *
 * Under the reservation lock: the exporter's move_notify (a revoke, as
 * the buffer is pinned) ends it from p2pbuf_rdma_invalidate().
 */
struct p2pbuf_rdma_preg {
	struct ib_mr *mr;
	struct sg_table sgt;
	struct page **pages;
	u64 offset;
	u64 length;
	u32 rkey;
	bool pinned;
	bool pending;
};

/**
 * struct p2pbuf_rdma_conn - one client connection
 * @kind: %P2PBUF_RDMA_CONN
 * @ref: the connection's own (dropped by its teardown) and its waiters'
 * @srv: its server, referenced
 * @id: its cm id
 * @ibdev: the RDMA device
 * @port_num: the device's port
 * @pd: protection domain
 * @cq: the completion queue of both work queues
 * @qp: the RC QP
 * @dma_dev: the device the dma-buf is attached for, referenced
 * @imp: the dma-buf attachment
 * @tl: the fence timeline
 * @own: the client speaks the project's protocol, not rping's
 * @recv_msg: the posted RECV's buffer
 * @send_msg: rping's "go ahead" (zeros), or the own protocol's reply
 * @recv_dma: @recv_msg's DMA address
 * @send_dma: @send_msg's DMA address
 * @recv_cqe: RECV completions
 * @send_cqe: SEND completions
 * @rw_cqe: RDMA READ and WRITE completions
 * @reg_cqe: the REG_MR work request's completion
 * @reg_done: completed by it
 * @reg_status: its status
 * @preg: the connection's passive registration
 * @lock: protects @state, @adv, @adv_pending, @send_busy, @rw_done,
 *	@rw_status, @dead and @release_queued
 * @state: where the ping is
 * @adv: the advert received and not yet acted on
 * @adv_pending: @adv is valid
 * @send_busy: a reply of the own protocol is posted and not completed: no
 *	request starts before it completes, so a client that does not
 *	receive its replies cannot pile SENDs up in the send queue, and
 *	@send_msg is never rewritten while the device may read it
 * @rw_done: the transfer in flight has completed
 * @rw_status: its status
 * @dead: ending: no new work request is posted
 * @release_queued: @release_work was queued (or the DEVICE_REMOVAL
 *	handler tears down): once
 * @rw_active: a transfer is posted (@rw, @sgt, @pages, @fence valid)
 * @rw_mapped: @rw still maps @sgt for the device (until the completion,
 *	or the teardown for a transfer that never completes)
 * @rw_dir: @rw's direction
 * @rw: its rdma_rw context
 * @sgt: its page table
 * @pages: its pages
 * @fence: its fence, referenced
 * @rw_len: its bytes
 * @window: byte offset of the current window in the range
 * @req: the own protocol's request running (@state %P2PBUF_RDMA_REQUEST)
 * @req_done: its bytes moved so far
 * @setup_done: the CONNECT_REQUEST handler finished with the connection
 * @done: torn down
 * @work: the ping state machine
 * @release_work: the teardown
 * @timeout_work: op_timeout_ms after a transfer was posted
 * @unmap_work: lets go of a mapping that pins (kernels without
 *	move_notify), pin_linger_ms after @idle_since
 * @idle_since: jiffies at the end of the last transfer
 * @srv_node: on &p2pbuf_rdma_server.conns
 * @all_node: on p2pbuf_rdma_conns
 */
struct p2pbuf_rdma_conn {
	enum p2pbuf_rdma_kind kind;
	struct kref ref;
	struct p2pbuf_rdma_server *srv;
	struct rdma_cm_id *id;
	struct ib_device *ibdev;
	u32 port_num;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
	struct device *dma_dev;
	struct p2pbuf_importer imp;
	struct p2pbuf_timeline *tl;
	bool own;
	union p2pbuf_rdma_wire *recv_msg;
	union p2pbuf_rdma_wire *send_msg;
	u64 recv_dma;
	u64 send_dma;
	struct ib_cqe recv_cqe;
	struct ib_cqe send_cqe;
	struct ib_cqe rw_cqe;
	struct ib_cqe reg_cqe;
	struct completion reg_done;
	enum ib_wc_status reg_status;
	struct p2pbuf_rdma_preg preg;
	spinlock_t lock; /* see above */
	enum p2pbuf_rdma_state state;
	union p2pbuf_rdma_wire adv;
	bool adv_pending;
	bool send_busy;
	bool rw_done;
	enum ib_wc_status rw_status;
	bool dead;
	bool release_queued;
	bool rw_active;
	bool rw_mapped;
	enum dma_data_direction rw_dir;
	struct rdma_rw_ctx rw;
	struct sg_table sgt;
	struct page **pages;
	struct dma_fence *fence;
	u32 rw_len;
	u64 window;
	struct p2pbuf_rdma_req req;
	u64 req_done;
	struct completion setup_done;
	struct completion done;
	struct work_struct work;
	struct work_struct release_work;
	struct delayed_work timeout_work;
	struct delayed_work unmap_work;
	unsigned long idle_since;
	struct list_head srv_node;
	struct list_head all_node;
};

/**
 * struct p2pbuf_rdma_file - an open /dev/p2pbuf_rdma
 * @lock: serialises SERVE, STOP and QUERY
 * @servers: handle -> &struct p2pbuf_rdma_server
 */
struct p2pbuf_rdma_file {
	struct mutex lock; /* see above */
	struct xarray servers;
};

static void p2pbuf_rdma_server_free(struct kref *ref)
{
	struct p2pbuf_rdma_server *srv =
		container_of(ref, struct p2pbuf_rdma_server, ref);

	dma_buf_put(srv->dmabuf);
	put_net(srv->net);
	kfree(srv);
}

static void p2pbuf_rdma_conn_free(struct kref *ref)
{
	struct p2pbuf_rdma_conn *conn =
		container_of(ref, struct p2pbuf_rdma_conn, ref);

	kref_put(&conn->srv->ref, p2pbuf_rdma_server_free);
	kfree(conn);
	if (atomic_dec_and_test(&p2pbuf_rdma_nconns))
		wake_up_var(&p2pbuf_rdma_nconns);
}

static void p2pbuf_rdma_conn_put(struct p2pbuf_rdma_conn *conn)
{
	kref_put(&conn->ref, p2pbuf_rdma_conn_free);
}

static void p2pbuf_rdma_count_error(struct p2pbuf_rdma_conn *conn)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	unsigned long flags;

	spin_lock_irqsave(&srv->lock, flags);
	srv->q.errors++;
	spin_unlock_irqrestore(&srv->lock, flags);
}

/* End the connection (once): its release work tears it down. */
static void p2pbuf_rdma_conn_end(struct p2pbuf_rdma_conn *conn)
{
	unsigned long flags;

	spin_lock_irqsave(&conn->lock, flags);
	conn->dead = true;
	if (!conn->release_queued) {
		conn->release_queued = true;
		queue_work(p2pbuf_rdma_release_wq, &conn->release_work);
	}
	spin_unlock_irqrestore(&conn->lock, flags);
}

static void p2pbuf_rdma_conn_fail(struct p2pbuf_rdma_conn *conn)
{
	p2pbuf_rdma_count_error(conn);
	p2pbuf_rdma_conn_end(conn);
}

static int p2pbuf_rdma_post_recv(struct p2pbuf_rdma_conn *conn)
{
	struct ib_sge sge = {
		.addr = conn->recv_dma,
		.length = P2PBUF_RDMA_BUF_SIZE,
		.lkey = conn->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &conn->recv_cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};

	ib_dma_sync_single_for_device(conn->ibdev, conn->recv_dma,
				      P2PBUF_RDMA_BUF_SIZE, DMA_FROM_DEVICE);
	return ib_post_recv(conn->qp, &wr, NULL);
}

/* SEND the first @len bytes of @conn->send_msg. */
static int p2pbuf_rdma_post_send(struct p2pbuf_rdma_conn *conn, u32 len)
{
	struct ib_sge sge = {
		.addr = conn->send_dma,
		.length = len,
		.lkey = conn->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe = &conn->send_cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};

	return ib_post_send(conn->qp, &wr, NULL);
}

/* Completion context: copy the advert out, repost, hand it to the worker. */
static void p2pbuf_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct p2pbuf_rdma_conn *conn = cq->cq_context;
	union p2pbuf_rdma_wire msg;
	unsigned long flags;
	bool bad = false;

	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR) {
			pr_debug("p2pbuf_rdma: RECV failed: %s\n",
				 ib_wc_status_msg(wc->status));
			p2pbuf_rdma_conn_fail(conn);
		} else {
			p2pbuf_rdma_conn_end(conn);
		}
		return;
	}
	if (wc->byte_len != (conn->own ? sizeof(struct p2pbuf_rdma_req) :
			     P2PBUF_RDMA_MSG_SIZE)) {
		p2pbuf_rdma_conn_fail(conn);
		return;
	}
	ib_dma_sync_single_for_cpu(conn->ibdev, conn->recv_dma,
				   P2PBUF_RDMA_BUF_SIZE, DMA_FROM_DEVICE);
	memcpy(&msg, conn->recv_msg, sizeof(msg));
	/*
	 * Reposted under the lock: once the teardown set @dead, nothing is
	 * posted behind its drain.
	 */
	spin_lock_irqsave(&conn->lock, flags);
	if (conn->dead) {
		spin_unlock_irqrestore(&conn->lock, flags);
		return;
	}
	if (conn->adv_pending) {
		bad = true;
	} else {
		conn->adv = msg;
		conn->adv_pending = true;
		queue_work(p2pbuf_rdma_wq, &conn->work);
		bad = p2pbuf_rdma_post_recv(conn);
	}
	spin_unlock_irqrestore(&conn->lock, flags);
	if (bad)
		p2pbuf_rdma_conn_fail(conn);
}

static void p2pbuf_rdma_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct p2pbuf_rdma_conn *conn = cq->cq_context;
	unsigned long flags;

	if (wc->status == IB_WC_SUCCESS) {
		/* The reply went: the next request may start. */
		spin_lock_irqsave(&conn->lock, flags);
		conn->send_busy = false;
		if (conn->adv_pending && !conn->dead)
			queue_work(p2pbuf_rdma_wq, &conn->work);
		spin_unlock_irqrestore(&conn->lock, flags);
		return;
	}
	if (wc->status == IB_WC_WR_FLUSH_ERR)
		p2pbuf_rdma_conn_end(conn);
	else
		p2pbuf_rdma_conn_fail(conn);
}

/*
 * Completion context: signal the transfer's fence (never the reservation
 * lock here: move_notify waits for this fence with it held), then let the
 * worker go on.
 */
static void p2pbuf_rdma_rw_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct p2pbuf_rdma_conn *conn = cq->cq_context;
	unsigned long flags;
	bool cookie;

	cancel_delayed_work(&conn->timeout_work);
	/*
	 * Unmapped before the fence says the data is there: an unmap may
	 * still copy (swiotlb) or invalidate caches.
	 */
	rdma_rw_ctx_destroy(&conn->rw, conn->qp, conn->port_num,
			    conn->sgt.sgl, conn->sgt.orig_nents, conn->rw_dir);
	conn->rw_mapped = false;
	cookie = dma_fence_begin_signalling();
	if (wc->status != IB_WC_SUCCESS)
		dma_fence_set_error(conn->fence, wc->status ==
				    IB_WC_WR_FLUSH_ERR ? -ECANCELED : -EIO);
	dma_fence_signal(conn->fence);
	dma_fence_end_signalling(cookie);

	spin_lock_irqsave(&conn->lock, flags);
	conn->rw_done = true;
	conn->rw_status = wc->status;
	queue_work(p2pbuf_rdma_wq, &conn->work);
	spin_unlock_irqrestore(&conn->lock, flags);
}

/* A transfer took longer than op_timeout_ms: disconnect, which flushes it. */
static void p2pbuf_rdma_timeout_work(struct work_struct *work)
{
	struct p2pbuf_rdma_conn *conn =
		container_of(to_delayed_work(work), struct p2pbuf_rdma_conn,
			     timeout_work);

	bool stuck;

	spin_lock_irq(&conn->lock);
	stuck = conn->rw_active && !conn->rw_done;
	spin_unlock_irq(&conn->lock);
	if (!stuck)
		return;
	pr_warn_ratelimited("p2pbuf_rdma: a transfer timed out after %u ms; disconnecting\n",
			    READ_ONCE(p2pbuf_rdma_op_timeout_ms));
	rdma_disconnect(conn->id);
	p2pbuf_rdma_conn_fail(conn);
}

/* Kernels without move_notify: let go of an idle mapping, and its pin. */
static void p2pbuf_rdma_unmap_work(struct work_struct *work)
{
	struct p2pbuf_rdma_conn *conn =
		container_of(to_delayed_work(work), struct p2pbuf_rdma_conn,
			     unmap_work);
	struct dma_resv *resv = conn->srv->dmabuf->resv;
	unsigned long due = READ_ONCE(conn->idle_since) +
		msecs_to_jiffies(READ_ONCE(p2pbuf_rdma_pin_linger_ms));

	/*
	 * Armed once, by the first transfer to end: a later one moved
	 * @idle_since on, so wait on until then (no timer to move for every
	 * transfer). A transfer in flight keeps the mapping anyway:
	 * p2pbuf_importer_unmap_idle_locked() sees its fence.
	 */
	if (time_before(jiffies, due)) {
		queue_delayed_work(p2pbuf_rdma_wq, &conn->unmap_work,
				   due - jiffies);
		return;
	}
	dma_resv_lock(resv, NULL);
	p2pbuf_importer_unmap_idle_locked(&conn->imp);
	dma_resv_unlock(resv);
}

/*
 * The connection's use of the buffer ended (a transfer, a registration):
 * on kernels without move_notify its mapping, and so a pin, goes
 * pin_linger_ms later unless it is used again.
 */
static void p2pbuf_rdma_idle(struct p2pbuf_rdma_conn *conn)
{
	if (!p2pbuf_importer_pins_on_map(&conn->imp))
		return;
	WRITE_ONCE(conn->idle_since, jiffies);
	queue_delayed_work(p2pbuf_rdma_wq, &conn->unmap_work,
			   msecs_to_jiffies(READ_ONCE(p2pbuf_rdma_pin_linger_ms)));
}

/* Process context, after the transfer's completion or the drain. */
static void p2pbuf_rdma_rw_cleanup(struct p2pbuf_rdma_conn *conn)
{
	if (!conn->rw_active)
		return;
	/* Never completed (drained, or never wholly posted). */
	if (conn->rw_mapped) {
		rdma_rw_ctx_destroy(&conn->rw, conn->qp, conn->port_num,
				    conn->sgt.sgl, conn->sgt.orig_nents,
				    conn->rw_dir);
		conn->rw_mapped = false;
	}
	if (!dma_fence_is_signaled(conn->fence)) {
		dma_fence_set_error(conn->fence, -ECANCELED);
		dma_fence_signal(conn->fence);
	}
	sg_free_table(&conn->sgt);
	kfree(conn->pages);
	conn->pages = NULL;
	dma_fence_put(conn->fence);
	conn->fence = NULL;
	conn->rw_active = false;
}

static void p2pbuf_rdma_invalidate(struct p2pbuf_importer *imp);

/*
 * Attach the connection's importer, once: on the first transfer or
 * registration, not in the CM handler, since the attach may take the
 * reservation lock, which an eviction may hold for as long as another
 * connection's transfer lasts, and ib_cm handles every rdma_cm user's
 * events one at a time.
 */
static int p2pbuf_rdma_attach(struct p2pbuf_rdma_conn *conn)
{
	struct dma_resv *resv = conn->srv->dmabuf->resv;
	int ret;

	if (conn->imp.attach)
		return 0;
	/* The mapping is never DMA'd to: see the NVMe importer. */
	ret = p2pbuf_importer_attach(&conn->imp, conn->srv->dmabuf,
				     conn->dma_dev,
				     P2PBUF_IMPORT_DYNAMIC |
				     P2PBUF_IMPORT_PEER2PEER, DMA_TO_DEVICE);
	if (ret)
		return ret;
	dma_resv_lock(resv, NULL);
	conn->imp.invalidate = p2pbuf_rdma_invalidate;
	dma_resv_unlock(resv);
	return 0;
}

/*
 * Reservation lock held: map the buffer (again, after a move) and take
 * its @npages pages from the one holding byte @pos into @pages, and the
 * @len bytes from @pos into a table @sgt for the RDMA device. @usage: what
 * the DMA will do to the buffer. Undo @sgt with sg_free_table().
 */
static int p2pbuf_rdma_pages_locked(struct p2pbuf_rdma_conn *conn,
				    enum dma_resv_usage usage, u64 pos,
				    u64 len, unsigned long npages,
				    struct page **pages, struct sg_table *sgt)
{
	struct sg_table *map;
	struct dma_fence *dep;
	int ret;

	map = p2pbuf_importer_map_access_locked(&conn->imp, usage, false, &dep);
	if (IS_ERR(map))
		return PTR_ERR(map);
	/* Attached without implicit sync: no dependency. */
	WARN_ON_ONCE(dep);
	ret = p2pbuf_importer_pages_locked(&conn->imp, pos >> PAGE_SHIFT,
					   npages, pages);
	if (ret)
		return ret;
	return sg_alloc_table_from_pages_segment(sgt, pages, npages,
						 offset_in_page(pos), len,
						 ib_dma_max_seg_size(conn->ibdev),
						 GFP_KERNEL);
}

/*
 * Post the RDMA READ (@read: remote source into the range at @where) or
 * WRITE (the range at @where to the remote sink) of @len bytes, and
 * publish its fence.
 */
static int p2pbuf_rdma_start_rw(struct p2pbuf_rdma_conn *conn, bool read,
				u64 where, u64 raddr, u32 rkey, u32 len)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	struct dma_resv *resv = srv->dmabuf->resv;
	enum dma_resv_usage usage = read ? DMA_RESV_USAGE_WRITE :
					   DMA_RESV_USAGE_READ;
	enum dma_data_direction dir = read ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	u64 pos = srv->offset + where;
	unsigned long npages = DIV_ROUND_UP(offset_in_page(pos) + len,
					    PAGE_SIZE);
	struct p2pbuf_fence *pfence;
	bool p2p;
	int ret;

	ret = p2pbuf_rdma_attach(conn);
	if (ret)
		return ret;
	conn->pages = kcalloc(npages, sizeof(*conn->pages), GFP_KERNEL);
	pfence = p2pbuf_fence_alloc(conn->tl);
	if (!conn->pages || !pfence) {
		ret = -ENOMEM;
		goto err_free;
	}

	dma_resv_lock(resv, NULL);
	ret = p2pbuf_rdma_pages_locked(conn, usage, pos, len, npages,
				       conn->pages, &conn->sgt);
	if (ret)
		goto err_unlock;
	p2p = is_pci_p2pdma_page(conn->pages[0]);
	ret = rdma_rw_ctx_init(&conn->rw, conn->qp, conn->port_num,
			       conn->sgt.sgl, conn->sgt.orig_nents, 0, raddr,
			       rkey, dir);
	if (ret < 0)
		goto err_sgt;
	conn->rw_mapped = true;
	conn->rw_dir = dir;

	conn->fence = p2pbuf_fence_init(pfence);
	pfence = NULL;
	conn->rw_len = len;
	conn->rw_done = false;
	conn->rw_active = true;
	/* Published before the post: its completion may come at once. */
	p2pbuf_importer_publish_locked(&conn->imp, conn->fence, usage);
	queue_delayed_work(p2pbuf_rdma_wq, &conn->timeout_work,
			   msecs_to_jiffies(READ_ONCE(p2pbuf_rdma_op_timeout_ms)));
	ret = rdma_rw_ctx_post(&conn->rw, conn->qp, conn->port_num,
			       &conn->rw_cqe, NULL);
	if (ret) {
		/*
		 * Part of the chain may be posted and running, with no
		 * completion of its own: the fence must not signal before
		 * the drain. The QP goes to the error state; the teardown
		 * drains it, unmaps and fails the fence.
		 */
		dma_resv_unlock(resv);
		rdma_disconnect(conn->id);
		return ret;
	}
	dma_resv_unlock(resv);

	spin_lock_irq(&srv->lock);
	srv->q.placement = p2p ? P2PBUF_RDMA_PLACEMENT_P2P :
				 P2PBUF_RDMA_PLACEMENT_SYSTEM;
	spin_unlock_irq(&srv->lock);
	return 0;

err_sgt:
	sg_free_table(&conn->sgt);
err_unlock:
	dma_resv_unlock(resv);
err_free:
	if (pfence)
		p2pbuf_fence_free(pfence);
	kfree(conn->pages);
	conn->pages = NULL;
	return ret;
}

/**
 * p2pbuf_rdma_reply() - answer a request of the own protocol
 * @conn: the connection
 * @id: the request's id
 * @status: 0 or a positive errno value
 * @rkey: the key of a registration made, or 0
 * @bytes: the bytes moved
 *
 * At most one reply is in flight (@conn->send_busy): the worker starts
 * no request before the previous reply's SEND completed, so the send
 * buffer is free here whatever the client does.
 *
 * Return: 0, or the post's error.
 */
static int p2pbuf_rdma_reply(struct p2pbuf_rdma_conn *conn, u64 id,
			     u32 status, u32 rkey, u64 bytes)
{
	struct p2pbuf_rdma_reply *r = &conn->send_msg->reply;

	ib_dma_sync_single_for_cpu(conn->ibdev, conn->send_dma,
				   P2PBUF_RDMA_BUF_SIZE, DMA_TO_DEVICE);
	memset(r, 0, sizeof(*r));
	r->id = cpu_to_le64(id);
	r->status = cpu_to_le32(status);
	r->rkey = cpu_to_le32(rkey);
	r->bytes = cpu_to_le64(bytes);
	ib_dma_sync_single_for_device(conn->ibdev, conn->send_dma,
				      P2PBUF_RDMA_BUF_SIZE, DMA_TO_DEVICE);
	spin_lock_irq(&conn->lock);
	conn->send_busy = true;
	spin_unlock_irq(&conn->lock);
	return p2pbuf_rdma_post_send(conn, sizeof(*r));
}

/**
 * p2pbuf_rdma_req_next() - go on with the own protocol's request
 * @conn: the connection, with a request running
 *
 * Posts the next chunk of at most %P2PBUF_RDMA_CHUNK bytes (the QP is
 * sized for that much), each with a fence of its own, or replies once
 * every byte moved.
 *
 * Return: 0, or an error that ends the connection.
 */
static int p2pbuf_rdma_req_next(struct p2pbuf_rdma_conn *conn)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	const struct p2pbuf_rdma_req *req = &conn->req;
	u64 len = le64_to_cpu(req->length);
	u32 chunk;

	if (conn->req_done == len) {
		spin_lock_irq(&srv->lock);
		srv->q.requests++;
		spin_unlock_irq(&srv->lock);
		spin_lock_irq(&conn->lock);
		conn->state = P2PBUF_RDMA_WAIT_SOURCE;
		spin_unlock_irq(&conn->lock);
		return p2pbuf_rdma_reply(conn, le64_to_cpu(req->id), 0, 0, len);
	}
	chunk = min_t(u64, len - conn->req_done, P2PBUF_RDMA_CHUNK);
	return p2pbuf_rdma_start_rw(conn,
				    le32_to_cpu(req->op) == P2PBUF_RDMA_OP_WRITE,
				    le64_to_cpu(req->offset) + conn->req_done,
				    le64_to_cpu(req->addr) + conn->req_done,
				    le32_to_cpu(req->rkey), chunk);
}

/*
 * The largest MR page size the registration's table allows: every
 * boundary between two entries must fall on a page of that size
 * (ib_sg_to_pages()), and the device must support it. Hardware finds the
 * first byte at the iova's offset in the first MR page, so there the
 * iova (@iova, not the DMA address ib_map_mr_sg() chose) must share the
 * first byte's offset in a page of that size; rxe keeps that offset
 * itself. 0 when no size fits.
 */
static unsigned int p2pbuf_rdma_mr_page_size(struct ib_device *ibdev,
					     struct sg_table *sgt,
					     unsigned int nents, u64 iova)
{
	u64 cap = ibdev->attrs.page_size_cap & GENMASK_ULL(30, PAGE_SHIFT);
	struct scatterlist *sg;
	u64 bounds = 0;
	unsigned int i;

	if (!ib_uses_virt_dma(ibdev))
		bounds = iova ^ sg_dma_address(sgt->sgl);

	for_each_sg(sgt->sgl, sg, nents, i) {
		if (i)
			bounds |= sg_dma_address(sg);
		if (i + 1 < nents)
			bounds |= sg_dma_address(sg) + sg_dma_len(sg);
	}
	if (bounds) {
		if (__ffs64(bounds) < PAGE_SHIFT)
			return 0;
		cap &= GENMASK_ULL(__ffs64(bounds), 0);
	}
	return cap ? 1U << (fls64(cap) - 1) : 0;
}

/* The MR pages of @page_size that the table's entries cover. */
static u64 p2pbuf_rdma_mr_pages(struct sg_table *sgt, unsigned int nents,
				unsigned int page_size)
{
	struct scatterlist *sg;
	unsigned int i;
	u64 n = 0;

	for_each_sg(sgt->sgl, sg, nents, i)
		n += (ALIGN(sg_dma_address(sg) + sg_dma_len(sg), page_size) -
		      ALIGN_DOWN(sg_dma_address(sg), page_size)) / page_size;
	return n;
}

static void p2pbuf_rdma_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct p2pbuf_rdma_conn *conn = cq->cq_context;

	conn->reg_status = wc->status;
	complete(&conn->reg_done);
}

/*
 * Reservation lock held: the key stops working (rxe's dereg waits for its
 * responder's copy in progress; hardware stops its DMA), then the pages
 * are unmapped. The pin stays: the caller drops it.
 */
static void p2pbuf_rdma_unreg_locked(struct p2pbuf_rdma_conn *conn)
{
	struct p2pbuf_rdma_preg *pr = &conn->preg;

	if (!pr->mr)
		return;
	ib_dereg_mr(pr->mr);
	pr->mr = NULL;
	pr->pending = false;
	ib_dma_unmap_sg(conn->ibdev, pr->sgt.sgl, pr->sgt.orig_nents,
			DMA_BIDIRECTIONAL);
	sg_free_table(&pr->sgt);
	kvfree(pr->pages);
	pr->pages = NULL;
}

/* End the registration, if any, and drop its pin. */
static void p2pbuf_rdma_unreg(struct p2pbuf_rdma_conn *conn)
{
	struct dma_resv *resv = conn->srv->dmabuf->resv;

	dma_resv_lock(resv, NULL);
	p2pbuf_rdma_unreg_locked(conn);
	dma_resv_unlock(resv);
	if (conn->preg.pinned) {
		p2pbuf_importer_unpin(&conn->imp);
		conn->preg.pinned = false;
	}
}

/*
 * move_notify, reservation lock held. A registered buffer is pinned, so
 * this is the exporter revoking it (p2pgem's unbind): stop the peer, whose
 * accesses no fence covers, before the memory goes, and end the
 * connection.
 */
static void p2pbuf_rdma_invalidate(struct p2pbuf_importer *imp)
{
	struct p2pbuf_rdma_conn *conn =
		container_of(imp, struct p2pbuf_rdma_conn, imp);

	if (!conn->preg.mr || conn->preg.pending)
		return;
	pr_debug("p2pbuf_rdma: the exporter revokes a registered buffer\n");
	/* The QP in the error state takes no new request from the peer. */
	rdma_disconnect(conn->id);
	p2pbuf_rdma_unreg_locked(conn);
	p2pbuf_rdma_conn_fail(conn);
}

/**
 * p2pbuf_rdma_reg() - a passive registration of part of the served range
 * @conn: the connection, with none
 * @where: offset in the served range
 * @len: bytes
 * @fatal: set when the connection cannot go on (the REG_MR work request
 *	failed or timed out; the teardown frees what it left)
 *
 * Pins the buffer, takes the pages of where it is and registers them in a
 * fast-reg MR with remote READ and WRITE, whose iova is @where. The REG_MR
 * is waited for, under the reservation lock, before the client hears of
 * the key: a revoke then finds the MR whole or none.
 *
 * Return: 0, or a negative errno for the reply (and the connection).
 */
static int p2pbuf_rdma_reg(struct p2pbuf_rdma_conn *conn, u64 where, u64 len,
			   bool *fatal)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	struct dma_resv *resv = srv->dmabuf->resv;
	struct p2pbuf_rdma_preg *pr = &conn->preg;
	struct ib_device *ibdev = conn->ibdev;
	u64 pos = srv->offset + where;
	unsigned long npages = DIV_ROUND_UP(offset_in_page(pos) + len,
					    PAGE_SIZE);
	struct ib_reg_wr wr = {};
	unsigned int psz;
	unsigned long timeout;
	struct ib_mr *mr;
	long left;
	u64 mrpages;
	bool p2p;
	int nents, n, ret;

	ret = p2pbuf_rdma_attach(conn);
	if (ret)
		return ret;
	/* Where it is now, or where the exporter's pin rules put it. */
	ret = p2pbuf_importer_pin(&conn->imp);
	if (ret)
		return ret;
	pr->pinned = true;
	pr->pages = kvcalloc(npages, sizeof(*pr->pages), GFP_KERNEL);
	if (!pr->pages) {
		ret = -ENOMEM;
		goto err_unpin;
	}

	dma_resv_lock(resv, NULL);
	ret = p2pbuf_rdma_pages_locked(conn, DMA_RESV_USAGE_WRITE, pos, len,
				       npages, pr->pages, &pr->sgt);
	if (ret)
		goto err_unlock;
	nents = ib_dma_map_sg(ibdev, pr->sgt.sgl, pr->sgt.orig_nents,
			      DMA_BIDIRECTIONAL);
	if (!nents) {
		ret = -EIO;
		goto err_sgt;
	}
	pr->sgt.nents = nents;

	/*
	 * One more page than the range needs: 6.1's rxe reads its next map
	 * array entry after an access that ends on the last page of a full
	 * one.
	 */
	psz = p2pbuf_rdma_mr_page_size(ibdev, &pr->sgt, nents, where);
	if (!psz) {
		ret = -EOPNOTSUPP;
		goto err_dma;
	}
	mrpages = p2pbuf_rdma_mr_pages(&pr->sgt, nents, psz) + 1;
	if (mrpages > ibdev->attrs.max_fast_reg_page_list_len) {
		ret = -E2BIG;
		goto err_dma;
	}
	mr = ib_alloc_mr(conn->pd, IB_MR_TYPE_MEM_REG, mrpages);
	if (IS_ERR(mr)) {
		ret = PTR_ERR(mr);
		goto err_dma;
	}
	n = ib_map_mr_sg(mr, pr->sgt.sgl, nents, NULL, psz);
	if (n != nents) {
		ret = n < 0 ? n : -E2BIG;
		goto err_mr;
	}
	/* The client addresses the range by its offsets. */
	mr->iova = where;
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	wr.wr.opcode = IB_WR_REG_MR;
	wr.wr.wr_cqe = &conn->reg_cqe;
	wr.wr.send_flags = IB_SEND_SIGNALED;
	wr.mr = mr;
	wr.key = mr->rkey;
	wr.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ |
		    IB_ACCESS_REMOTE_WRITE;
	reinit_completion(&conn->reg_done);
	ret = ib_post_send(conn->qp, &wr.wr, NULL);
	if (ret)
		goto err_mr;
	pr->mr = mr;
	pr->offset = where;
	pr->length = len;
	pr->rkey = mr->rkey;
	timeout = msecs_to_jiffies(READ_ONCE(p2pbuf_rdma_op_timeout_ms));
	left = wait_for_completion_timeout(&conn->reg_done, timeout);
	if (!left || conn->reg_status != IB_WC_SUCCESS) {
		/*
		 * The MR may still be the device's: the teardown drains the
		 * QP, then ends the registration.
		 */
		pr_debug("p2pbuf_rdma: REG_MR %s\n", left ?
			 ib_wc_status_msg(conn->reg_status) : "timed out");
		pr->pending = true;
		dma_resv_unlock(resv);
		rdma_disconnect(conn->id);
		*fatal = true;
		return -EIO;
	}
	/* Before the unlock: a revoke then frees the pages. */
	p2p = is_pci_p2pdma_page(pr->pages[0]);
	dma_resv_unlock(resv);
	spin_lock_irq(&srv->lock);
	srv->q.registrations++;
	srv->q.placement = p2p ? P2PBUF_RDMA_PLACEMENT_P2P :
				 P2PBUF_RDMA_PLACEMENT_SYSTEM;
	spin_unlock_irq(&srv->lock);
	return 0;

err_mr:
	ib_dereg_mr(mr);
err_dma:
	ib_dma_unmap_sg(ibdev, pr->sgt.sgl, pr->sgt.orig_nents,
			DMA_BIDIRECTIONAL);
err_sgt:
	sg_free_table(&pr->sgt);
err_unlock:
	dma_resv_unlock(resv);
	kvfree(pr->pages);
	pr->pages = NULL;
err_unpin:
	p2pbuf_importer_unpin(&conn->imp);
	pr->pinned = false;
	return ret;
}

/**
 * p2pbuf_rdma_reg_req() - answer REGISTER or UNREGISTER
 * @conn: the connection
 * @req: the request, as received
 *
 * Return: 0, or an error that ends the connection.
 */
static int p2pbuf_rdma_reg_req(struct p2pbuf_rdma_conn *conn,
			       const struct p2pbuf_rdma_req *req)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	struct p2pbuf_rdma_preg *pr = &conn->preg;
	u64 id = le64_to_cpu(req->id);
	u64 off = le64_to_cpu(req->offset);
	u64 len = le64_to_cpu(req->length);
	bool fatal = false;
	u32 rkey = 0;
	int ret;

	if (!(srv->flags & P2PBUF_RDMA_SERVE_PASSIVE)) {
		ret = -EPERM;
	} else if (le32_to_cpu(req->op) == P2PBUF_RDMA_OP_UNREGISTER) {
		if (req->flags || req->reserved || off || len || req->addr)
			ret = -EINVAL;
		else if (!pr->pinned || le32_to_cpu(req->rkey) != pr->rkey)
			ret = -ENOENT;
		else
			ret = 0;
		if (!ret) {
			len = pr->length;
			p2pbuf_rdma_unreg(conn);
			p2pbuf_rdma_idle(conn);
		}
	} else {
		if (req->flags || req->reserved || req->addr || req->rkey ||
		    !len)
			ret = -EINVAL;
		else if (off >= srv->length || len > srv->length - off)
			ret = -ERANGE;
		else if (pr->pinned)
			ret = -EBUSY;
		else
			ret = p2pbuf_rdma_reg(conn, off, len, &fatal);
		if (fatal)
			return ret;
		/* A mapping it made may pin (no move_notify): let it go. */
		if (ret)
			p2pbuf_rdma_idle(conn);
		rkey = ret ? 0 : pr->rkey;
	}
	if (ret) {
		pr_debug("p2pbuf_rdma: registration request refused: %d\n",
			 ret);
		p2pbuf_rdma_count_error(conn);
		return p2pbuf_rdma_reply(conn, id, -ret, 0, 0);
	}
	return p2pbuf_rdma_reply(conn, id, 0, rkey, len);
}

/**
 * p2pbuf_rdma_req_start() - validate and start a request of the own protocol
 * @conn: the connection, with no request running
 * @req: the request, as received
 *
 * A request the server refuses is answered with its errno at once; the
 * connection goes on.
 *
 * Return: 0, or an error that ends the connection.
 */
static int p2pbuf_rdma_req_start(struct p2pbuf_rdma_conn *conn,
				 const struct p2pbuf_rdma_req *req)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	u32 op = le32_to_cpu(req->op);
	u64 off = le64_to_cpu(req->offset);
	u64 len = le64_to_cpu(req->length);
	u64 addr = le64_to_cpu(req->addr);
	u32 status = 0;

	if (op == P2PBUF_RDMA_OP_REGISTER || op == P2PBUF_RDMA_OP_UNREGISTER)
		return p2pbuf_rdma_reg_req(conn, req);
	if ((op != P2PBUF_RDMA_OP_READ && op != P2PBUF_RDMA_OP_WRITE) ||
	    req->flags || req->reserved || !len || len - 1 > U64_MAX - addr)
		status = EINVAL;
	else if (off >= srv->length || len > srv->length - off)
		status = ERANGE;
	if (status) {
		pr_debug("p2pbuf_rdma: request refused: op %u offset %llu length %llu: %u\n",
			 op, off, len, status);
		p2pbuf_rdma_count_error(conn);
		return p2pbuf_rdma_reply(conn, le64_to_cpu(req->id), status, 0,
					 0);
	}
	conn->req = *req;
	conn->req_done = 0;
	spin_lock_irq(&conn->lock);
	conn->state = P2PBUF_RDMA_REQUEST;
	spin_unlock_irq(&conn->lock);
	return p2pbuf_rdma_req_next(conn);
}

/* The transfer in flight completed: account for it, go on. */
static int p2pbuf_rdma_finish_rw(struct p2pbuf_rdma_conn *conn,
				 enum ib_wc_status status)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	bool read = conn->rw_dir == DMA_FROM_DEVICE;
	u32 len = conn->rw_len;

	p2pbuf_rdma_rw_cleanup(conn);
	p2pbuf_rdma_idle(conn);
	if (status != IB_WC_SUCCESS) {
		pr_debug("p2pbuf_rdma: RDMA %s failed: %s\n",
			 read ? "READ" : "WRITE", ib_wc_status_msg(status));
		return -EIO;
	}
	if (conn->own) {
		spin_lock_irq(&srv->lock);
		if (read)
			srv->q.bytes_read += len;
		else
			srv->q.bytes_written += len;
		spin_unlock_irq(&srv->lock);
		conn->req_done += len;
		return p2pbuf_rdma_req_next(conn);
	}
	spin_lock_irq(&srv->lock);
	if (read) {
		srv->q.bytes_read += len;
	} else {
		srv->q.bytes_written += len;
		srv->q.pings++;
	}
	spin_unlock_irq(&srv->lock);
	spin_lock_irq(&conn->lock);
	if (read) {
		conn->state = P2PBUF_RDMA_WAIT_SINK;
	} else {
		conn->state = P2PBUF_RDMA_WAIT_SOURCE;
		conn->window += len;
		if (conn->window >= srv->length)
			conn->window = 0;
	}
	spin_unlock_irq(&conn->lock);
	/* The "go ahead": zeros. */
	return p2pbuf_rdma_post_send(conn, P2PBUF_RDMA_MSG_SIZE);
}

/* The ping state machine; one transfer at a time. */
static void p2pbuf_rdma_work(struct work_struct *work)
{
	struct p2pbuf_rdma_conn *conn =
		container_of(work, struct p2pbuf_rdma_conn, work);
	struct p2pbuf_rdma_server *srv = conn->srv;
	enum ib_wc_status status;
	union p2pbuf_rdma_wire adv;
	bool finish, start;
	u32 len;
	int ret = 0;

	spin_lock_irq(&conn->lock);
	if (conn->dead) {
		spin_unlock_irq(&conn->lock);
		return;
	}
	finish = conn->rw_active && conn->rw_done;
	status = conn->rw_status;
	spin_unlock_irq(&conn->lock);
	if (finish) {
		ret = p2pbuf_rdma_finish_rw(conn, status);
		if (ret)
			goto fail;
	}

	spin_lock_irq(&conn->lock);
	start = !conn->rw_active && conn->adv_pending && !conn->dead &&
		!conn->send_busy;
	adv = conn->adv;
	if (start)
		conn->adv_pending = false;
	spin_unlock_irq(&conn->lock);
	if (!start)
		return;

	if (conn->own) {
		ret = conn->state == P2PBUF_RDMA_WAIT_SOURCE ?
		      p2pbuf_rdma_req_start(conn, &adv.req) : -EPROTO;
		if (ret)
			goto fail;
		return;
	}
	len = be32_to_cpu(adv.ping.size);
	if (conn->state == P2PBUF_RDMA_WAIT_SOURCE) {
		if (!len || len > srv->length || len > P2PBUF_RDMA_MAX_PING) {
			pr_debug("p2pbuf_rdma: a ping of %u bytes does not fit\n",
				 len);
			ret = -EMSGSIZE;
			goto fail;
		}
		if (conn->window + len > srv->length)
			conn->window = 0;
		conn->state = P2PBUF_RDMA_READING;
	} else if (conn->state == P2PBUF_RDMA_WAIT_SINK) {
		if (len < conn->rw_len) {
			ret = -EPROTO;
			goto fail;
		}
		len = conn->rw_len;
		conn->state = P2PBUF_RDMA_WRITING;
	} else {
		ret = -EPROTO;
		goto fail;
	}
	ret = p2pbuf_rdma_start_rw(conn, conn->state == P2PBUF_RDMA_READING,
				   conn->window, be64_to_cpu(adv.ping.buf),
				   be32_to_cpu(adv.ping.rkey), len);
	if (ret)
		goto fail;
	return;

fail:
	pr_debug("p2pbuf_rdma: connection fails: %d\n", ret);
	p2pbuf_rdma_conn_fail(conn);
}

/*
 * Tear the connection down, in process context, once; the caller then
 * completes @conn->done and drops the connection's own reference.
 * @destroy_id is false in the DEVICE_REMOVAL handler, whose non-zero
 * return has the core destroy the id.
 */
static void p2pbuf_rdma_teardown(struct p2pbuf_rdma_conn *conn,
				 bool destroy_id)
{
	struct p2pbuf_rdma_server *srv = conn->srv;
	unsigned long flags;

	wait_for_completion(&conn->setup_done);
	spin_lock_irq(&conn->lock);
	conn->dead = true;
	spin_unlock_irq(&conn->lock);
	/* No poster may race the drain: the worker posts no more. */
	flush_work(&conn->work);
	rdma_disconnect(conn->id);
	ib_drain_qp(conn->qp);
	/* Every completion has run: the transfer's fence is signalled. */
	cancel_delayed_work_sync(&conn->timeout_work);
	flush_work(&conn->work);
	p2pbuf_rdma_rw_cleanup(conn);
	cancel_delayed_work_sync(&conn->unmap_work);

	/*
	 * Detached before it leaves the list: the bus notifier, which finds
	 * connections there, must wait for the mapping to go. Not under
	 * p2pbuf_rdma_conns_lock: the detach waits for the reservation lock.
	 */
	if (conn->imp.attach) {
		/* After the drain: the REG_MR is done with the MR. */
		p2pbuf_rdma_unreg(conn);
		p2pbuf_importer_detach(&conn->imp);
	}
	mutex_lock(&p2pbuf_rdma_conns_lock);
	list_del(&conn->all_node);
	mutex_unlock(&p2pbuf_rdma_conns_lock);
	spin_lock_irqsave(&srv->lock, flags);
	list_del(&conn->srv_node);
	srv->q.maps += atomic_read(&conn->imp.maps);
	srv->q.move_notifies += atomic_read(&conn->imp.move_notifies);
	srv->q.active--;
	spin_unlock_irqrestore(&srv->lock, flags);

	ib_dma_unmap_single(conn->ibdev, conn->recv_dma, P2PBUF_RDMA_BUF_SIZE,
			    DMA_FROM_DEVICE);
	ib_dma_unmap_single(conn->ibdev, conn->send_dma, P2PBUF_RDMA_BUF_SIZE,
			    DMA_TO_DEVICE);
	rdma_destroy_qp(conn->id);
	ib_free_cq(conn->cq);
	if (destroy_id)
		rdma_destroy_id(conn->id);
	ib_dealloc_pd(conn->pd);
	kfree(conn->recv_msg);
	kfree(conn->send_msg);
	put_device(conn->dma_dev);
	p2pbuf_timeline_put(conn->tl);
}

static void p2pbuf_rdma_release_work(struct work_struct *work)
{
	struct p2pbuf_rdma_conn *conn =
		container_of(work, struct p2pbuf_rdma_conn, release_work);

	p2pbuf_rdma_teardown(conn, true);
	complete_all(&conn->done);
	p2pbuf_rdma_conn_put(conn);
}

/* End @conn and wait until it is torn down; the caller holds a reference. */
static void p2pbuf_rdma_conn_end_sync(struct p2pbuf_rdma_conn *conn)
{
	p2pbuf_rdma_conn_end(conn);
	wait_for_completion(&conn->done);
}

/*
 * The PCI function that does the connection's DMA, referenced: the RDMA
 * device's DMA device, or for a device with virtual DMA (rxe, siw) the PCI
 * function behind the netdev the route goes through.
 */
static struct device *p2pbuf_rdma_dma_device(struct rdma_cm_id *id,
					     struct net *net)
{
	struct ib_device *ibdev = id->device;
	struct net_device *ndev;
	struct device *dev;

	if (!ib_uses_virt_dma(ibdev))
		return ibdev->dma_device ? get_device(ibdev->dma_device) : NULL;
	ndev = dev_get_by_index(net, id->route.addr.dev_addr.bound_dev_if);
	if (!ndev)
		return NULL;
	for (dev = ndev->dev.parent; dev && !dev_is_pci(dev); dev = dev->parent)
		;
	dev = get_device(dev);
	dev_put(ndev);
	return dev;
}

static void p2pbuf_rdma_qp_event(struct ib_event *event, void *ctx)
{
	pr_debug("p2pbuf_rdma: QP event %s\n", ib_event_msg(event->event));
}

/* The QP and what it needs; undone by the teardown or the caller. */
static int p2pbuf_rdma_conn_setup(struct p2pbuf_rdma_conn *conn,
				  struct rdma_cm_id *id)
{
	struct ib_device *ibdev = id->device;
	size_t msg_alloc = max_t(size_t, P2PBUF_RDMA_BUF_SIZE,
				 roundup_pow_of_two(dma_get_cache_alignment()));
	struct ib_qp_init_attr attr = {};
	unsigned int pages = DIV_ROUND_UP(P2PBUF_RDMA_MAX_PING, PAGE_SIZE) + 1;
	unsigned int ctxs, ncqe, sge;
	int ret;

	/*
	 * A cache line each (kmalloc aligns these sizes): DMA-API debugging
	 * tracks mappings by cache line, and two connections' messages in
	 * one line would overlap.
	 */
	conn->recv_msg = kzalloc(msg_alloc, GFP_KERNEL);
	conn->send_msg = kzalloc(msg_alloc, GFP_KERNEL);
	if (!conn->recv_msg || !conn->send_msg)
		return -ENOMEM;
	conn->pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(conn->pd)) {
		ret = PTR_ERR(conn->pd);
		conn->pd = NULL;
		return ret;
	}
	conn->recv_dma = ib_dma_map_single(ibdev, conn->recv_msg,
					   P2PBUF_RDMA_BUF_SIZE,
					   DMA_FROM_DEVICE);
	if (ib_dma_mapping_error(ibdev, conn->recv_dma))
		return -ENOMEM;
	conn->send_dma = ib_dma_map_single(ibdev, conn->send_msg,
					   P2PBUF_RDMA_BUF_SIZE, DMA_TO_DEVICE);
	if (ib_dma_mapping_error(ibdev, conn->send_dma)) {
		ib_dma_unmap_single(ibdev, conn->recv_dma,
				    P2PBUF_RDMA_BUF_SIZE, DMA_FROM_DEVICE);
		return -ENOMEM;
	}

	/*
	 * The largest ping may take many work requests: rdma_rw splits it
	 * at the device's SGE limit, or its MRs' page lists. The send queue
	 * holds all of them (rdma_rw_init_qp() adds them for @ctxs) besides
	 * the SENDs; a flush completes each, signalled or not. The CQ takes
	 * them, the RECVs and the drain's two.
	 */
	/* As rdma_rw splits: the QP's send SGEs, at most max_sge_rd. */
	sge = min_t(u32, min_t(u32, ibdev->attrs.max_send_sge, 32),
		    max_t(u32, ibdev->attrs.max_sge_rd, 1));
	ctxs = max(rdma_rw_mr_factor(ibdev, id->port_num, pages),
		   DIV_ROUND_UP(pages, sge));
	ncqe = P2PBUF_RDMA_SQ_DEPTH + 1 +
	       rdma_rw_max_send_wr(ibdev, id->port_num, ctxs, 0) +
	       P2PBUF_RDMA_RQ_DEPTH + 1 + 2;
	conn->cq = ib_alloc_cq(ibdev, conn, ncqe, 0, IB_POLL_WORKQUEUE);
	if (IS_ERR(conn->cq)) {
		ret = PTR_ERR(conn->cq);
		conn->cq = NULL;
		goto err_unmap;
	}
	attr.event_handler = p2pbuf_rdma_qp_event;
	attr.qp_context = conn;
	attr.send_cq = conn->cq;
	attr.recv_cq = conn->cq;
	attr.sq_sig_type = IB_SIGNAL_REQ_WR;
	attr.qp_type = IB_QPT_RC;
	attr.port_num = id->port_num;
	attr.cap.max_send_wr = P2PBUF_RDMA_SQ_DEPTH + 1;
	attr.cap.max_recv_wr = P2PBUF_RDMA_RQ_DEPTH + 1;
	attr.cap.max_send_sge = min_t(u32, ibdev->attrs.max_send_sge, 32);
	attr.cap.max_recv_sge = 1;
	attr.cap.max_rdma_ctxs = ctxs;
	ret = rdma_create_qp(id, conn->pd, &attr);
	if (ret)
		goto err_cq;
	conn->qp = id->qp;
	return 0;

err_cq:
	ib_free_cq(conn->cq);
	conn->cq = NULL;
err_unmap:
	ib_dma_unmap_single(ibdev, conn->recv_dma, P2PBUF_RDMA_BUF_SIZE,
			    DMA_FROM_DEVICE);
	ib_dma_unmap_single(ibdev, conn->send_dma, P2PBUF_RDMA_BUF_SIZE,
			    DMA_TO_DEVICE);
	return ret;
}

/* A connection that never became visible; the core destroys the id. */
static void p2pbuf_rdma_conn_abort(struct p2pbuf_rdma_conn *conn)
{
	if (conn->qp) {
		ib_dma_unmap_single(conn->ibdev, conn->recv_dma,
				    P2PBUF_RDMA_BUF_SIZE, DMA_FROM_DEVICE);
		ib_dma_unmap_single(conn->ibdev, conn->send_dma,
				    P2PBUF_RDMA_BUF_SIZE, DMA_TO_DEVICE);
		rdma_destroy_qp(conn->id);
	}
	if (conn->cq)
		ib_free_cq(conn->cq);
	if (conn->pd)
		ib_dealloc_pd(conn->pd);
	if (conn->imp.attach)
		p2pbuf_importer_detach(&conn->imp);
	if (conn->tl)
		p2pbuf_timeline_put(conn->tl);
	put_device(conn->dma_dev);
	kfree(conn->recv_msg);
	kfree(conn->send_msg);
	p2pbuf_rdma_conn_put(conn);
}

/* Whether @dev's driver is unbinding. Under p2pbuf_rdma_conns_lock. */
static bool p2pbuf_rdma_unbinding_locked(struct device *dev)
{
	struct p2pbuf_rdma_unbinding *u;

	lockdep_assert_held(&p2pbuf_rdma_conns_lock);
	list_for_each_entry(u, &p2pbuf_rdma_unbinding, node)
		if (u->dev == dev)
			return true;
	return false;
}

/*
 * Whether @srv serves a client already: one at a time, since a client's
 * RDMA WRITE sends back what its READ put in the window, which another
 * client's READ could overwrite meanwhile. Under @srv->lock.
 */
static bool p2pbuf_rdma_busy_locked(struct p2pbuf_rdma_server *srv)
{
	struct p2pbuf_rdma_conn *conn;

	lockdep_assert_held(&srv->lock);
	list_for_each_entry(conn, &srv->conns, srv_node)
		if (!READ_ONCE(conn->dead))
			return true;
	return false;
}

static int p2pbuf_rdma_connect_request(struct rdma_cm_id *id,
				       struct p2pbuf_rdma_server *srv,
				       struct rdma_cm_event *event)
{
	const struct p2pbuf_rdma_hello *hello = event->param.conn.private_data;
	struct ib_device *ibdev = id->device;
	struct rdma_conn_param param = {};
	struct p2pbuf_rdma_conn *conn;
	bool own = false;
	char name[32];
	int ret;

	/*
	 * The own protocol's hello; rping sends no private data (zeros).
	 * Another version is refused: the core rejects the request.
	 */
	if (hello && event->param.conn.private_data_len >= sizeof(*hello) &&
	    le32_to_cpu(hello->magic) == P2PBUF_RDMA_HELLO_MAGIC) {
		if (le16_to_cpu(hello->version) != P2PBUF_RDMA_PROTO_VERSION ||
		    hello->flags) {
			pr_debug("p2pbuf_rdma: protocol version %u flags %#x refused\n",
				 le16_to_cpu(hello->version),
				 le16_to_cpu(hello->flags));
			return -EPROTONOSUPPORT;
		}
		own = true;
	}

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return -ENOMEM;
	atomic_inc(&p2pbuf_rdma_nconns);
	conn->kind = P2PBUF_RDMA_CONN;
	conn->own = own;
	kref_init(&conn->ref);
	kref_get(&srv->ref);
	conn->srv = srv;
	conn->id = id;
	conn->ibdev = ibdev;
	conn->port_num = id->port_num;
	spin_lock_init(&conn->lock);
	init_completion(&conn->setup_done);
	init_completion(&conn->done);
	INIT_WORK(&conn->work, p2pbuf_rdma_work);
	INIT_WORK(&conn->release_work, p2pbuf_rdma_release_work);
	INIT_DELAYED_WORK(&conn->timeout_work, p2pbuf_rdma_timeout_work);
	INIT_DELAYED_WORK(&conn->unmap_work, p2pbuf_rdma_unmap_work);
	conn->recv_cqe.done = p2pbuf_rdma_recv_done;
	conn->send_cqe.done = p2pbuf_rdma_send_done;
	conn->rw_cqe.done = p2pbuf_rdma_rw_done;
	conn->reg_cqe.done = p2pbuf_rdma_reg_done;
	init_completion(&conn->reg_done);
	conn->state = P2PBUF_RDMA_WAIT_SOURCE;
	INIT_LIST_HEAD(&conn->srv_node);
	INIT_LIST_HEAD(&conn->all_node);

	ret = -ENODEV;
	conn->dma_dev = p2pbuf_rdma_dma_device(id, srv->net);
	if (!conn->dma_dev) {
		pr_debug("p2pbuf_rdma: %s has no DMA device to attach for\n",
			 dev_name(&ibdev->dev));
		goto err;
	}
	spin_lock_irq(&srv->lock);
	snprintf(name, sizeof(name), "server%u-conn%u", srv->handle,
		 ++srv->seq);
	spin_unlock_irq(&srv->lock);
	ret = -ENOMEM;
	conn->tl = p2pbuf_timeline_create("p2pbuf_rdma", name, 0);
	if (!conn->tl)
		goto err;
	ret = p2pbuf_rdma_conn_setup(conn, id);
	if (ret)
		goto err;
	id->context = conn;

	/* Visible from here on: the teardown undoes the rest. */
	mutex_lock(&p2pbuf_rdma_conns_lock);
	spin_lock_irq(&srv->lock);
	ret = srv->stopping ? -ESHUTDOWN :
	      p2pbuf_rdma_unbinding_locked(conn->dma_dev) ? -ENODEV :
	      p2pbuf_rdma_busy_locked(srv) ? -EBUSY : 0;
	if (ret) {
		spin_unlock_irq(&srv->lock);
		mutex_unlock(&p2pbuf_rdma_conns_lock);
		id->context = srv;
		/* A second client while one is served is no failure of ours. */
		if (ret == -EBUSY) {
			p2pbuf_rdma_conn_abort(conn);
			return ret;
		}
		goto err;
	}
	list_add_tail(&conn->srv_node, &srv->conns);
	srv->q.connections++;
	srv->q.active++;
	spin_unlock_irq(&srv->lock);
	list_add_tail(&conn->all_node, &p2pbuf_rdma_conns);
	mutex_unlock(&p2pbuf_rdma_conns_lock);

	ret = p2pbuf_rdma_post_recv(conn);
	if (!ret) {
		/* rping's client READs nothing; it needs our READ credit. */
		param.initiator_depth =
			max_t(u8, 1, min_t(u32, event->param.conn.initiator_depth,
					   ibdev->attrs.max_qp_init_rd_atom));
		param.responder_resources =
			min_t(u32, event->param.conn.responder_resources,
			      ibdev->attrs.max_qp_rd_atom);
		param.rnr_retry_count = 7;
		ret = rdma_accept(id, &param);
	}
	complete_all(&conn->setup_done);
	if (ret) {
		pr_debug("p2pbuf_rdma: accept failed: %d\n", ret);
		p2pbuf_rdma_conn_fail(conn);
	}
	return 0;

err:
	p2pbuf_rdma_count_error(conn);
	p2pbuf_rdma_conn_abort(conn);
	return ret;
}

static int p2pbuf_rdma_cm_handler(struct rdma_cm_id *id,
				  struct rdma_cm_event *event)
{
	enum p2pbuf_rdma_kind *kind = id->context;
	struct p2pbuf_rdma_conn *conn;
	bool mine;

	if (*kind == P2PBUF_RDMA_SERVER) {
		if (event->event == RDMA_CM_EVENT_CONNECT_REQUEST)
			return p2pbuf_rdma_connect_request(id, id->context,
							   event);
		/*
		 * A wildcard listener hears of no device removal; the core
		 * listens on new devices by itself.
		 */
		pr_debug("p2pbuf_rdma: listener event %s\n",
			 rdma_event_msg(event->event));
		return 0;
	}

	conn = id->context;
	switch (event->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		return 0;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/*
		 * The ib_client's remove normally ended the connection first.
		 * A connection made after that is torn down here.
		 */
		spin_lock_irq(&conn->lock);
		mine = !conn->release_queued;
		conn->release_queued = true;
		conn->dead = true;
		spin_unlock_irq(&conn->lock);
		if (!mine)
			return 0;
		p2pbuf_rdma_count_error(conn);
		p2pbuf_rdma_teardown(conn, false);
		/*
		 * Once @done completes, a closer may let the module go: the
		 * RCU read-side section makes its exit (synchronize_rcu())
		 * wait until this code is done with @conn. Nothing here
		 * sleeps.
		 */
		rcu_read_lock();
		complete_all(&conn->done);
		p2pbuf_rdma_conn_put(conn);
		rcu_read_unlock();
		return 1;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		p2pbuf_rdma_conn_end(conn);
		return 0;
	default:
		pr_debug("p2pbuf_rdma: connection event %s (%d)\n",
			 rdma_event_msg(event->event), event->status);
		p2pbuf_rdma_conn_fail(conn);
		return 0;
	}
}

/* Stop listening, end the connections and wait for them; drop the file's reference. */
static void p2pbuf_rdma_server_stop(struct p2pbuf_rdma_server *srv)
{
	struct p2pbuf_rdma_conn *conn;

	spin_lock_irq(&srv->lock);
	srv->stopping = true;
	spin_unlock_irq(&srv->lock);
	rdma_destroy_id(srv->listen_id);
	for (;;) {
		spin_lock_irq(&srv->lock);
		conn = list_first_entry_or_null(&srv->conns,
						struct p2pbuf_rdma_conn,
						srv_node);
		if (conn)
			kref_get(&conn->ref);
		spin_unlock_irq(&srv->lock);
		if (!conn)
			break;
		p2pbuf_rdma_conn_end_sync(conn);
		p2pbuf_rdma_conn_put(conn);
	}
	kref_put(&srv->ref, p2pbuf_rdma_server_free);
}

/* End every connection matching @match(@conn, @data) and wait for them. */
static void p2pbuf_rdma_end_matching(bool (*match)(struct p2pbuf_rdma_conn *,
						   void *),
				     void *data)
{
	struct p2pbuf_rdma_conn *conn, *found;

	for (;;) {
		found = NULL;
		mutex_lock(&p2pbuf_rdma_conns_lock);
		list_for_each_entry(conn, &p2pbuf_rdma_conns, all_node) {
			if (match(conn, data) &&
			    kref_get_unless_zero(&conn->ref)) {
				found = conn;
				break;
			}
		}
		mutex_unlock(&p2pbuf_rdma_conns_lock);
		if (!found)
			return;
		p2pbuf_rdma_conn_end_sync(found);
		p2pbuf_rdma_conn_put(found);
	}
}

static bool p2pbuf_rdma_on_ibdev(struct p2pbuf_rdma_conn *conn, void *data)
{
	return conn->ibdev == data;
}

static bool p2pbuf_rdma_on_dma_dev(struct p2pbuf_rdma_conn *conn, void *data)
{
	return conn->dma_dev == data;
}

static int p2pbuf_rdma_add_one(struct ib_device *ibdev)
{
	return 0;
}

/*
 * The RDMA device goes away (rdma link delete, its netdev or driver gone):
 * before rdma_cm's own remove, which waits for every id on it.
 */
static void p2pbuf_rdma_remove_one(struct ib_device *ibdev, void *data)
{
	p2pbuf_rdma_end_matching(p2pbuf_rdma_on_ibdev, ibdev);
}

static struct ib_client p2pbuf_rdma_client = {
	.name = "p2pbuf_rdma",
	.add = p2pbuf_rdma_add_one,
	.remove = p2pbuf_rdma_remove_one,
};

/*
 * The driver of a DMA device we are attached for unbinds (the NIC behind
 * rxe, an HCA): end its connections before its remove, so that nothing
 * stays mapped for a device without a driver (DMA-API debugging checks at
 * BUS_NOTIFY_UNBOUND_DRIVER), and refuse new ones until it is unbound
 * (rxe unregisters its device after the netdev went, asynchronously).
 */
static int p2pbuf_rdma_bus_notify(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	struct p2pbuf_rdma_unbinding *u, *tmp;
	struct device *dev = data;

	switch (action) {
	case BUS_NOTIFY_UNBIND_DRIVER:
		/* Refused from now on; without memory, only ended. */
		u = kmalloc(sizeof(*u), GFP_KERNEL);
		mutex_lock(&p2pbuf_rdma_conns_lock);
		if (u) {
			u->dev = dev;
			list_add(&u->node, &p2pbuf_rdma_unbinding);
		}
		mutex_unlock(&p2pbuf_rdma_conns_lock);
		p2pbuf_rdma_end_matching(p2pbuf_rdma_on_dma_dev, dev);
		return NOTIFY_OK;
	case BUS_NOTIFY_UNBOUND_DRIVER:
		mutex_lock(&p2pbuf_rdma_conns_lock);
		list_for_each_entry_safe(u, tmp, &p2pbuf_rdma_unbinding, node) {
			if (u->dev == dev) {
				list_del(&u->node);
				kfree(u);
			}
		}
		mutex_unlock(&p2pbuf_rdma_conns_lock);
		return NOTIFY_OK;
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block p2pbuf_rdma_bus_nb = {
	.notifier_call = p2pbuf_rdma_bus_notify,
	.priority = 1,
};

static int p2pbuf_rdma_serve(struct p2pbuf_rdma_file *pf, void __user *uarg)
{
	struct p2pbuf_rdma_serve args;
	struct p2pbuf_rdma_server *srv;
	struct sockaddr_in sin = {};
	struct dma_buf *dmabuf;
	struct rdma_cm_id *id;
	u32 handle;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.pad || (args.flags & ~P2PBUF_RDMA_SERVE_PASSIVE) ||
	    args.handle || args.reserved[0] ||
	    args.reserved[1] || !args.port || !args.length)
		return -EINVAL;
	/* As bind(2) of a TCP port: the low ones are privileged. */
	if (args.port < PROT_SOCK && !capable(CAP_NET_BIND_SERVICE))
		return -EACCES;
	dmabuf = dma_buf_get(args.dmabuf_fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	ret = -EBADF;
	if ((dmabuf->file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE))
		goto err_put;
	ret = -EINVAL;
	if (args.offset >= dmabuf->size ||
	    args.length > dmabuf->size - args.offset)
		goto err_put;
	ret = -EOPNOTSUPP;
	if (!p2pbuf_exporter_ops_of(dmabuf))
		goto err_put;

	ret = -ENOMEM;
	srv = kzalloc(sizeof(*srv), GFP_KERNEL_ACCOUNT);
	if (!srv)
		goto err_put;
	srv->kind = P2PBUF_RDMA_SERVER;
	/* The caller's namespace, as librdmacm's ids get theirs. */
	srv->net = get_net(current->nsproxy->net_ns);
	kref_init(&srv->ref);
	spin_lock_init(&srv->lock);
	INIT_LIST_HEAD(&srv->conns);
	srv->dmabuf = dmabuf;
	srv->offset = args.offset;
	srv->length = args.length;
	srv->flags = args.flags;

	ret = xa_alloc(&pf->servers, &handle, srv,
		       XA_LIMIT(1, P2PBUF_RDMA_MAX_SERVERS), GFP_KERNEL_ACCOUNT);
	if (ret == -EBUSY)
		ret = -ENOSPC;	/* as many servers as a file may have */
	if (ret)
		goto err_free;
	srv->handle = handle;
	id = rdma_create_id(srv->net, p2pbuf_rdma_cm_handler, srv,
			    RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(id)) {
		ret = PTR_ERR(id);
		goto err_xa;
	}
	srv->listen_id = id;
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = htons(args.port);
	ret = rdma_bind_addr(id, (struct sockaddr *)&sin);
	/* rdma_cm says EADDRNOTAVAIL when a wildcard bind finds the port taken. */
	if (ret == -EADDRNOTAVAIL)
		ret = -EADDRINUSE;
	if (ret)
		goto err_id;
	ret = rdma_listen(id, 16);
	if (ret)
		goto err_id;
	args.handle = handle;
	if (copy_to_user(uarg, &args, sizeof(args))) {
		xa_erase(&pf->servers, handle);
		p2pbuf_rdma_server_stop(srv);
		return -EFAULT;
	}
	return 0;

err_id:
	rdma_destroy_id(id);
err_xa:
	xa_erase(&pf->servers, handle);
err_free:
	put_net(srv->net);
	kfree(srv);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}

static int p2pbuf_rdma_stop(struct p2pbuf_rdma_file *pf, void __user *uarg)
{
	struct p2pbuf_rdma_server *srv;
	struct p2pbuf_rdma_stop args;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.pad || args.reserved)
		return -EINVAL;
	srv = xa_erase(&pf->servers, args.handle);
	if (!srv)
		return -ENOENT;
	p2pbuf_rdma_server_stop(srv);
	return 0;
}

static int p2pbuf_rdma_query(struct p2pbuf_rdma_file *pf, void __user *uarg)
{
	struct p2pbuf_rdma_server *srv;
	struct p2pbuf_rdma_query args;
	struct p2pbuf_rdma_conn *conn;
	u32 handle;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.pad || args.pad2 || args.registrations)
		return -EINVAL;
	handle = args.handle;
	srv = xa_load(&pf->servers, handle);
	if (!srv)
		return -ENOENT;
	spin_lock_irq(&srv->lock);
	args = srv->q;
	list_for_each_entry(conn, &srv->conns, srv_node) {
		args.maps += atomic_read(&conn->imp.maps);
		args.move_notifies += atomic_read(&conn->imp.move_notifies);
	}
	spin_unlock_irq(&srv->lock);
	args.handle = handle;
	if (copy_to_user(uarg, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

static long p2pbuf_rdma_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct p2pbuf_rdma_file *pf = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&pf->lock);
	switch (cmd) {
	case P2PBUF_RDMA_IOC_SERVE:
		ret = p2pbuf_rdma_serve(pf, uarg);
		break;
	case P2PBUF_RDMA_IOC_STOP:
		ret = p2pbuf_rdma_stop(pf, uarg);
		break;
	case P2PBUF_RDMA_IOC_QUERY:
		ret = p2pbuf_rdma_query(pf, uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	mutex_unlock(&pf->lock);
	return ret;
}

static int p2pbuf_rdma_open(struct inode *inode, struct file *file)
{
	struct p2pbuf_rdma_file *pf = kzalloc(sizeof(*pf), GFP_KERNEL);

	if (!pf)
		return -ENOMEM;
	mutex_init(&pf->lock);
	xa_init_flags(&pf->servers, XA_FLAGS_ALLOC1);
	file->private_data = pf;
	return 0;
}

static int p2pbuf_rdma_release(struct inode *inode, struct file *file)
{
	struct p2pbuf_rdma_file *pf = file->private_data;
	struct p2pbuf_rdma_server *srv;
	unsigned long handle;

	xa_for_each(&pf->servers, handle, srv) {
		xa_erase(&pf->servers, handle);
		p2pbuf_rdma_server_stop(srv);
	}
	xa_destroy(&pf->servers);
	mutex_destroy(&pf->lock);
	kfree(pf);
	return 0;
}

static const struct file_operations p2pbuf_rdma_fops = {
	.owner = THIS_MODULE,
	.open = p2pbuf_rdma_open,
	.release = p2pbuf_rdma_release,
	.unlocked_ioctl = p2pbuf_rdma_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice p2pbuf_rdma_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "p2pbuf_rdma",
	.fops = &p2pbuf_rdma_fops,
	.mode = 0666,
};

static int __init p2pbuf_rdma_init(void)
{
	int ret;

	p2pbuf_rdma_wq = alloc_workqueue("p2pbuf_rdma",
					 WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!p2pbuf_rdma_wq)
		return -ENOMEM;
	p2pbuf_rdma_release_wq = alloc_workqueue("p2pbuf_rdma_release",
						 WQ_UNBOUND, 0);
	if (!p2pbuf_rdma_release_wq) {
		ret = -ENOMEM;
		goto err_wq;
	}
	ret = ib_register_client(&p2pbuf_rdma_client);
	if (ret)
		goto err_release_wq;
	ret = bus_register_notifier(&pci_bus_type, &p2pbuf_rdma_bus_nb);
	if (ret)
		goto err_client;
	ret = misc_register(&p2pbuf_rdma_misc);
	if (ret)
		goto err_nb;
	return 0;

err_nb:
	bus_unregister_notifier(&pci_bus_type, &p2pbuf_rdma_bus_nb);
err_client:
	ib_unregister_client(&p2pbuf_rdma_client);
err_release_wq:
	destroy_workqueue(p2pbuf_rdma_release_wq);
err_wq:
	destroy_workqueue(p2pbuf_rdma_wq);
	return ret;
}
module_init(p2pbuf_rdma_init);

static void __exit p2pbuf_rdma_exit(void)
{
	/*
	 * No file is open: every server stopped, every connection ended. A
	 * DEVICE_REMOVAL handler may still be letting its connection go:
	 * wait for the last to be freed, and for that handler's RCU
	 * read-side section.
	 */
	misc_deregister(&p2pbuf_rdma_misc);
	wait_var_event(&p2pbuf_rdma_nconns, !atomic_read(&p2pbuf_rdma_nconns));
	synchronize_rcu();
	bus_unregister_notifier(&pci_bus_type, &p2pbuf_rdma_bus_nb);
	destroy_workqueue(p2pbuf_rdma_release_wq);
	destroy_workqueue(p2pbuf_rdma_wq);
	ib_unregister_client(&p2pbuf_rdma_client);
}
module_exit(p2pbuf_rdma_exit);

MODULE_DESCRIPTION("p2pbuf: RDMA READ and WRITE of dma-bufs for remote peers (rping's protocol and p2pbuf's own)");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
