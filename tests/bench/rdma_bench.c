// SPDX-License-Identifier: MIT
/*
 * rdma_bench: the RDMA importer (p2pbuf_rdma.ko) moving data between a
 * remote peer and a p2pgem VRAM buffer, against the same transfers with a
 * p2pgem buffer in system memory, side by side in one boot
 * (Documentation/benchmarks.rst explains each figure).
 *
 *   rdma-read      the module's RDMA READ from the peer into the buffer
 *                  (the own protocol's WRITE request), MB/s per request
 *                  size
 *   rdma-write     the module's RDMA WRITE from the buffer to the peer
 *                  (a READ request), MB/s
 *   rdma-read-cpu, rdma-write-cpu
 *                  guest CPU milliseconds per MiB for the same transfers:
 *                  every CPU's busy time, since the work is done in the
 *                  module's completion path and the RDMA device's
 *                  softirqs, not in this process
 *   remap          one 64 KiB READ right after the VRAM buffer was moved
 *                  (evicted, then brought back by a CPU touch), so the
 *                  module re-maps it first, against the same request with
 *                  the mapping in place: microseconds
 *
 * The peer is this program, connected through the RDMA device on the
 * address given (rxe on the guest's NIC in make bench): its memory is
 * registered once, and requests go out one at a time (the own protocol
 * has one in flight), each as large as the size measured.
 *
 * --quick: each figure at its smallest size, twice, moving 1 MiB (make
 * check's smoke test: rxe under the debug kernel moves well under 1 MB/s). Every figure is taken REPS times, VRAM and system memory
 * taking turns.
 *
 * usage: rdma_bench --addr ADDR [--quick] [--reps N] [--json FILE]
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <p2pbuf/p2pbuf_rdma.h>

#include "../uapi/p2pgem_test_lib.h"
#include "bench_util.h"

#define MiB (1024ull * 1024)
#define KiB 1024ull
#define MAX_REPS 32
#define MAX_POINTS 8
#define BUF_SIZE (16 * MiB)
#define PORT_VRAM 7181
#define PORT_RAM 7182
#define REMAP_SIZE (64 * KiB)

struct point {
	uint64_t x;
	int n;
	double p2p[MAX_REPS], base[MAX_REPS];
};

struct metric {
	const char *name, *title, *unit, *x_unit;
	int higher_better;
	int n;
	struct point pt[MAX_POINTS];
};

/* One side: a buffer served on a port and the peer's connection to it. */
struct side {
	const char *what;
	int fd, dmabuf;
	uint32_t handle;
	volatile uint8_t *cpu;
	struct p2pbuf_rdma_server *srv;
	struct p2pbuf_rdma_client *c;
	struct ibv_mr *mr;
	uint64_t next_id;
};

static int quick, reps = 5;
/* Each figure moves at least this much (smaller sizes: more requests). */
static uint64_t min_bytes = 16 * MiB;
static FILE *json;
static int first_metric = 1;
/* The peer's memory, registered with each connection's PD. */
static uint8_t *peer;

static void emit(const struct metric *m)
{
	double a, alo, ahi, b, blo, bhi, va[MAX_REPS], vb[MAX_REPS];

	printf("%s (%s): VRAM / system memory, median (min..max)\n",
	       m->name, m->unit);
	for (int i = 0; i < m->n; i++) {
		const struct point *p = &m->pt[i];

		memcpy(va, p->p2p, sizeof(va));
		memcpy(vb, p->base, sizeof(vb));
		stats(va, p->n, &a, &alo, &ahi);
		stats(vb, p->n, &b, &blo, &bhi);
		printf("  %8llu %s: %10.3f (%.3f..%.3f)  %10.3f (%.3f..%.3f)\n",
		       (unsigned long long)p->x, m->x_unit, a, alo, ahi, b,
		       blo, bhi);
	}
	if (!json)
		return;
	fprintf(json, "%s{\"name\":\"%s\",\"title\":\"%s\",\"unit\":\"%s\",\"x_unit\":\"%s\",\"p2pbuf_label\":\"VRAM (p2pgem)\",\"baseline_label\":\"system memory (p2pgem)\",\"higher_is_better\":%s,\"points\":[",
		first_metric ? "" : ",", m->name, m->title, m->unit, m->x_unit,
		m->higher_better ? "true" : "false");
	first_metric = 0;
	for (int i = 0; i < m->n; i++) {
		fprintf(json, "%s{\"x\":%llu,\"p2pbuf\":", i ? "," : "",
			(unsigned long long)m->pt[i].x);
		json_samples(json, m->pt[i].p2p, m->pt[i].n);
		fprintf(json, ",\"baseline\":");
		json_samples(json, m->pt[i].base, m->pt[i].n);
		fputc('}', json);
	}
	fprintf(json, "]}");
	fflush(json);
}

/* One request of @len bytes at buffer offset @off: 0 or -errno. */
static int request(struct side *s, uint32_t op, uint64_t off, uint64_t len)
{
	struct p2pbuf_rdma_req req = {
		.op = htole32(op), .id = htole64(++s->next_id),
		.offset = htole64(off), .length = htole64(len),
		.addr = htole64((uintptr_t)peer + off),
		.rkey = htole32(s->mr->rkey),
	};
	struct p2pbuf_rdma_reply rep;
	int ret = p2pbuf_rdma_request(s->c, &req, &rep);

	if (ret)
		return ret;
	if (le64toh(rep.id) != s->next_id)
		return -EPROTO;
	if (rep.status)
		return -(int)le32toh(rep.status);
	return le64toh(rep.bytes) == len ? 0 : -EPROTO;
}

static int side_up(struct side *s, const char *what, uint32_t placement,
		   uint16_t port, const char *addr)
{
	struct p2pbuf_rdma_serve_args a = { .size = sizeof(a), .port = port };
	int ret;

	memset(s, 0, sizeof(*s));
	s->what = what;
	s->fd = p2p_open(0);
	if (s->fd < 0)
		return s->fd;
	ret = p2p_create(s->fd, BUF_SIZE, placement,
			 placement == P2PGEM_PLACEMENT_VRAM ?
			 P2PGEM_CREATE_CPU_ACCESS : 0, &s->handle);
	if (ret)
		return ret;
	s->cpu = p2p_map(s->fd, s->handle, BUF_SIZE);
	if (!s->cpu)
		return -ENOMEM;
	s->dmabuf = export_bo(s->fd, s->handle);
	if (s->dmabuf < 0)
		return s->dmabuf;
	a.dmabuf_fd = s->dmabuf;
	ret = p2pbuf_rdma_serve(&a, &s->srv);
	if (ret)
		return ret;
	ret = p2pbuf_rdma_connect(addr, port, 20000, &s->c);
	if (ret)
		return ret;
	s->mr = ibv_reg_mr(p2pbuf_rdma_client_pd(s->c), peer, BUF_SIZE,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			   IBV_ACCESS_REMOTE_WRITE);
	return s->mr ? 0 : -errno;
}

static void side_down(struct side *s)
{
	if (s->mr)
		ibv_dereg_mr(s->mr);
	p2pbuf_rdma_disconnect(s->c);
	p2pbuf_rdma_server_stop(s->srv);
	if (s->cpu)
		munmap((void *)s->cpu, BUF_SIZE);
	if (s->dmabuf > 0)
		close(s->dmabuf);
	if (s->fd > 0)
		close(s->fd);
}

/*
 * Requests of @size until min_bytes moved (at least one): MB/s and guest
 * CPU ms per MiB in *mbs and *cpu.
 */
static int transfer(struct side *s, uint32_t op, uint64_t size, double *mbs,
		    double *cpu)
{
	uint64_t moved = 0, off = 0;
	double t0, c0, t;
	int ret;

	c0 = cpu_busy();
	t0 = now();
	do {
		ret = request(s, op, off, size);
		if (ret) {
			fprintf(stderr, "rdma_bench: %s %s %llu: %s\n", s->what,
				op == P2PBUF_RDMA_OP_WRITE ? "read" : "write",
				(unsigned long long)size, strerror(-ret));
			return ret;
		}
		moved += size;
		off = (off + size) % BUF_SIZE;
	} while (moved < min_bytes);
	t = now() - t0;
	*mbs = moved / t / 1e6;
	*cpu = (cpu_busy() - c0) * 1e3 / (moved / (double)MiB);
	return 0;
}

/* rdma-read/-write and their CPU figures, for one operation. */
static int bench_dir(struct side *vram, struct side *ram, uint32_t op)
{
	static const uint64_t sizes[] = { 64 * KiB, 256 * KiB, MiB, 4 * MiB,
					  16 * MiB };
	const int into = op == P2PBUF_RDMA_OP_WRITE;
	static struct metric m, mc;
	int nsizes = quick ? 1 : 5;

	memset(&m, 0, sizeof(m));
	memset(&mc, 0, sizeof(mc));
	m.name = into ? "rdma-read" : "rdma-write";
	m.title = into ? "RDMA READ from the peer into the buffer" :
		"RDMA WRITE from the buffer to the peer";
	m.unit = "MB/s";
	m.x_unit = "bytes";
	m.higher_better = 1;
	mc.name = into ? "rdma-read-cpu" : "rdma-write-cpu";
	mc.title = into ? "guest CPU per MiB, RDMA READ into the buffer" :
		"guest CPU per MiB, RDMA WRITE from the buffer";
	mc.unit = "ms/MiB";
	mc.x_unit = "bytes";
	for (int i = 0; i < nsizes; i++) {
		struct point *p = &m.pt[m.n++], *pc = &mc.pt[mc.n++];

		p->x = pc->x = sizes[i];
		for (int r = 0; r < reps; r++) {
			int ret = transfer(vram, op, sizes[i], &p->p2p[r],
					   &pc->p2p[r]);

			if (!ret)
				ret = transfer(ram, op, sizes[i], &p->base[r],
					       &pc->base[r]);
			if (ret)
				return ret;
			p->n = pc->n = r + 1;
		}
	}
	emit(&m);
	emit(&mc);
	return 0;
}

/*
 * The re-map: evict the VRAM buffer, bring it back with a CPU touch (the
 * module got a move_notify and dropped its mapping; on a kernel without
 * move_notify, the module let its mapping go pin_linger_ms after the last
 * request, and the move waited for that), then time one READ request (the
 * module maps again first) and one more (mapped).
 */
static int bench_remap(struct side *vram)
{
	struct p2pbuf_rdma_query q0, q1;
	static struct metric m;
	struct point *p;
	double t;
	int ret;

	memset(&m, 0, sizeof(m));
	m.name = "remap";
	m.title = "64 KiB READ request after a move (re-map), and mapped";
	m.unit = "us";
	m.x_unit = "bytes";
	p = &m.pt[m.n++];
	p->x = REMAP_SIZE;
	ret = p2pbuf_rdma_server_query(vram->srv, &q0);
	for (int r = 0; r < reps && !ret; r++) {
		/*
		 * Without move_notify the last request's mapping pins the
		 * buffer for the module's pin_linger_ms: the move waits.
		 */
		t = now();
		while ((ret = p2p_evict(vram->fd, vram->handle)) == -EBUSY &&
		       now() - t < 5)
			usleep(2000);
		if (ret)
			break;
		(void)vram->cpu[0];
		t = now();
		ret = request(vram, P2PBUF_RDMA_OP_READ, 0, REMAP_SIZE);
		p->p2p[r] = (now() - t) * 1e6;
		t = now();
		if (!ret)
			ret = request(vram, P2PBUF_RDMA_OP_READ, 0, REMAP_SIZE);
		p->base[r] = (now() - t) * 1e6;
		p->n = r + 1;
	}
	if (!ret)
		ret = p2pbuf_rdma_server_query(vram->srv, &q1);
	if (ret) {
		fprintf(stderr, "rdma_bench: remap: %s\n", strerror(-ret));
		return ret;
	}
	printf("remap: %llu maps and %llu move_notifies in %d moves\n",
	       (unsigned long long)(q1.maps - q0.maps),
	       (unsigned long long)(q1.move_notifies - q0.move_notifies),
	       reps);
	emit(&m);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "quick", no_argument, NULL, 'q' },
		{ "reps", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = getenv("P2PBUF_RDMA_ADDR");
	struct side vram, ram;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'q':
			quick = 1;
			reps = 2;
			min_bytes = MiB;
			break;
		case 'r':
		case 'j':
			ret = common_option(c, optarg, MAX_REPS, &reps, &json);
			if (ret)
				return ret;
			break;
		default:
			fprintf(stderr, "usage: rdma_bench --addr ADDR [--quick] [--reps N] [--json FILE]\n");
			return 2;
		}
	}
	if (!addr || optind != argc) {
		fprintf(stderr, "usage: rdma_bench --addr ADDR [--quick] [--reps N] [--json FILE]\n");
		return 2;
	}
	if (cpu_busy() <= 0) {
		fprintf(stderr, "rdma_bench: no CPU accounting in /proc/timer_list\n");
		return 1;
	}
	/*
	 * 64 bytes into a page: 6.1's rxe reads past the map array of an MR
	 * that starts on a page and is a whole number of MiB long.
	 */
	peer = aligned_alloc(4096, BUF_SIZE + 4096);
	if (!peer)
		return 1;
	peer += 64;
	memset(peer, 0x5a, BUF_SIZE);
	ret = side_up(&vram, "VRAM", P2PGEM_PLACEMENT_VRAM, PORT_VRAM, addr);
	if (!ret)
		ret = side_up(&ram, "system memory", P2PGEM_PLACEMENT_SYSTEM,
			      PORT_RAM, addr);
	if (ret) {
		fprintf(stderr, "rdma_bench: setting up: %s\n", strerror(-ret));
		return 1;
	}
	printf("RDMA importer: two 16 MiB p2pgem buffers, VRAM and system memory; peer at %s\n",
	       addr);
	if (json)
		fprintf(json, "{\"benchmark\":\"rdma\",\"quick\":%s,\"reps\":%d,\"metrics\":[",
			quick ? "true" : "false", reps);
	ret = bench_dir(&vram, &ram, P2PBUF_RDMA_OP_WRITE);
	if (!ret)
		ret = bench_dir(&vram, &ram, P2PBUF_RDMA_OP_READ);
	if (!ret)
		ret = bench_remap(&vram);
	if (json) {
		fprintf(json, "]}\n");
		fclose(json);
	}
	side_down(&ram);
	side_down(&vram);
	free(peer - 64);
	return ret ? 1 : 0;
}
