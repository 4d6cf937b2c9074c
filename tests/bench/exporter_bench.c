// SPDX-License-Identifier: MIT
/*
 * exporter_bench: what p2pgem's VRAM costs against its alternative, side
 * by side in one boot (Documentation/benchmarks.rst explains each figure).
 *
 *   map-nvme, map-edu  attach + map + unmap + detach of a dma-buf for the
 *             NVMe and the edu PCI function, by the test importer's
 *             P2PBUF_TI_IOCTL_MAP_BENCH: a contiguous p2pgem VRAM buffer
 *             against a udmabuf (the kernel's own exporter) of the same
 *             size; microseconds per cycle and the sg entries, per size
 *   evict     VRAM -> system memory on the copy engine (GEM_EVICT, then
 *             GEM_WAIT), MB/s, against a memcpy of the same size in RAM
 *   restore   the first CPU fault after that eviction, which brings the
 *             buffer back (MB/s of the buffer), against the same memcpy
 *   d2d       device 0's VRAM -> device 1's VRAM with GEM_COPY, against
 *             the same bytes bounced through a buffer in RAM by the CPU
 *             (two copies): guest CPU milliseconds per MiB
 *   overcommit  a working set of 1x, 2x, 4x VRAM in 4 MiB buffer objects
 *             written in a loop (MB/s), against the same bytes in RAM
 *
 * --quick: each figure at its smallest size or two (the smoke test of
 * make check), twice; overcommit at 1x and 2x only, once.
 *
 * Every figure is taken REPS times, p2pbuf and baseline taking turns, and
 * written raw to the JSON file; tests/bench/report.py makes the tables.
 *
 * usage: exporter_bench [--quick] [--reps N] [--json FILE]
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "../uapi/p2pbuf_ti_lib.h"
#include "bench_util.h"

#define MAX_REPS 32
#define MAX_POINTS 16
#define OC_BO_SIZE (4 * MiB)

/* One figure: samples of p2pbuf and of the baseline at one x. */
struct point {
	uint64_t x;
	int n;
	double p2p[MAX_REPS], base[MAX_REPS];
	int p2p_nents, base_nents, p2p_bus;
	unsigned int max_seg;
	const char *note;
};

struct metric {
	const char *name, *title, *unit, *x_unit, *p2p_label, *base_label;
	int higher_better;
	int n;
	struct point pt[MAX_POINTS];
};

static int quick, reps = 5;
static FILE *json;
static int first_metric = 1;

/* Print a metric's medians and write it to the JSON file. */
static void emit(struct metric *m)
{
	int i;

	printf("%s (%s, %s; p2pbuf: %s, baseline: %s)\n", m->name, m->title,
	       m->unit, m->p2p_label, m->base_label);
	for (i = 0; i < m->n; i++) {
		struct point *p = &m->pt[i];
		double a[MAX_REPS], b[MAX_REPS], ma, mb, lo, hi;

		if (!p->n)
			continue;
		memcpy(a, p->p2p, sizeof(a));
		memcpy(b, p->base, sizeof(b));
		stats(a, p->n, &ma, &lo, &hi);
		stats(b, p->n, &mb, &lo, &hi);
		printf("  %10llu %s: %12.3f  baseline %12.3f%s%s\n",
		       (unsigned long long)p->x, m->x_unit, ma, mb,
		       p->note ? "  " : "", p->note ? p->note : "");
	}
	if (!json)
		return;
	fprintf(json, "%s{\"name\":\"%s\",\"title\":\"%s\",\"unit\":\"%s\",\"x_unit\":\"%s\",\"p2pbuf_label\":\"%s\",\"baseline_label\":\"%s\",\"higher_is_better\":%s,\"points\":[",
		first_metric ? "" : ",", m->name, m->title, m->unit, m->x_unit,
		m->p2p_label, m->base_label, m->higher_better ? "true" : "false");
	first_metric = 0;
	for (i = 0; i < m->n; i++) {
		struct point *p = &m->pt[i];

		fprintf(json, "%s{\"x\":%llu,\"p2pbuf\":", i ? "," : "",
			(unsigned long long)p->x);
		json_samples(json, p->p2p, p->n);
		fprintf(json, ",\"baseline\":");
		json_samples(json, p->base, p->n);
		if (p->p2p_nents || p->base_nents)
			fprintf(json, ",\"p2pbuf_nents\":%d,\"baseline_nents\":%d,\"p2pbuf_peer2peer\":%s,\"max_seg\":%u",
				p->p2p_nents, p->base_nents,
				p->p2p_bus ? "true" : "false", p->max_seg);
		if (p->note)
			fprintf(json, ",\"note\":\"%s\"", p->note);
		fputc('}', json);
	}
	fprintf(json, "]}");
	fflush(json);
}

static int map_cycle(int ti, int dmabuf, const char *dev, unsigned int iter,
		     double *us, int *nents, int *bus, unsigned int *max_seg)
{
	struct p2pbuf_ti_map_bench mb = { .fd = dmabuf, .iterations = iter };

	snprintf(mb.device, sizeof(mb.device), "%s", dev);
	if (ioctl(ti, P2PBUF_TI_IOCTL_MAP_BENCH, &mb))
		return -errno;
	*us = (double)mb.ns / iter / 1e3;
	*nents = (int)mb.nents;
	*max_seg = mb.max_seg;
	*bus = !!(mb.map_flags & P2PBUF_TI_BUS_ADDRESS);
	return 0;
}

/* map-<fn>: attach/map/unmap/detach cycles, p2pgem VRAM against udmabuf. */
static int bench_map(int fd, int ti, const char *fn, const char *dev,
		     uint64_t max_size)
{
	static const uint64_t sizes[] = { 4 * KiB, 64 * KiB, 1 * MiB, 4 * MiB,
					  16 * MiB, 32 * MiB };
	static struct metric m;
	char name[32];
	size_t s;
	int r, ret;

	memset(&m, 0, sizeof(m));
	snprintf(name, sizeof(name), "map-%s", fn);
	m.name = strdup(name);
	m.title = "dma-buf attach+map+unmap+detach";
	m.unit = "us";
	m.x_unit = "bytes";
	m.p2p_label = "p2pgem VRAM, contiguous";
	m.base_label = "udmabuf";
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		struct point *p = &m.pt[m.n];
		int dmabuf, ubuf, memfd, nb;
		uint32_t h;

		if (size > max_size || (quick && s > 1))
			break;
		ret = p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM,
				 P2PGEM_CREATE_CONTIGUOUS |
				 P2PGEM_CREATE_CPU_ACCESS, &h);
		if (ret) {
			fprintf(stderr, "%s: create %llu: %s\n", name,
				(unsigned long long)size, strerror(-ret));
			return ret;
		}
		dmabuf = export_bo(fd, h);
		ubuf = udmabuf_new(size, &memfd);
		if (dmabuf < 0 || ubuf < 0) {
			fprintf(stderr, "%s: export or udmabuf: %s\n", name,
				strerror(-(dmabuf < 0 ? dmabuf : ubuf)));
			return -1;
		}
		p->x = size;
		for (r = 0; r < reps; r++) {
			unsigned int it = quick ? 2 : 8;

			ret = map_cycle(ti, dmabuf, dev, it, &p->p2p[r],
					&p->p2p_nents, &p->p2p_bus,
					&p->max_seg);
			if (!ret)
				ret = map_cycle(ti, ubuf, dev, it, &p->base[r],
						&p->base_nents, &nb,
						&p->max_seg);
			if (ret) {
				fprintf(stderr, "%s: MAP_BENCH %llu: %s\n",
					name, (unsigned long long)size,
					strerror(-ret));
				return ret;
			}
			p->n++;
		}
		if (!p->p2p_bus)
			p->note = "system memory: no P2P path";
		m.n++;
		close(ubuf);
		close(memfd);
		close(dmabuf);
		p2p_close_bo(fd, h);
	}
	emit(&m);
	return 0;
}

static void touch(void *p, size_t size)
{
	memset(p, 0x5a, size);
}

/* evict and restore, against memcpy in RAM. */
static int bench_evict(int fd)
{
	static const uint64_t sizes[] = { 1 * MiB, 4 * MiB, 16 * MiB };
	static struct metric ev, re;
	size_t s;
	int r, ret;

	memset(&ev, 0, sizeof(ev));
	memset(&re, 0, sizeof(re));
	ev.name = "evict";
	ev.title = "VRAM -> system on the copy engine";
	re.name = "restore";
	re.title = "first CPU fault after eviction (buffer brought back)";
	ev.unit = re.unit = "MB/s";
	ev.x_unit = re.x_unit = "bytes";
	ev.p2p_label = "p2pgem eviction";
	re.p2p_label = "p2pgem first fault";
	ev.base_label = re.base_label = "memcpy in RAM";
	ev.higher_better = re.higher_better = 1;
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		struct point *pe = &ev.pt[ev.n], *pr = &re.pt[re.n];
		char *src, *dst;
		uint8_t *cpu;
		uint32_t h;

		if (quick && s)
			break;
		ret = p2p_create(fd, size, P2PGEM_PLACEMENT_VRAM,
				 P2PGEM_CREATE_CPU_ACCESS, &h);
		if (ret)
			return ret;
		cpu = p2p_map(fd, h, size);
		src = malloc(size);
		dst = malloc(size);
		if (!cpu || !src || !dst)
			return -ENOMEM;
		touch(cpu, size);
		touch(src, size);
		touch(dst, size);
		pe->x = pr->x = size;
		for (r = 0; r < reps; r++) {
			double t0, t1, t2, t3;
			struct drm_p2pgem_gem_info info;

			t0 = now();
			ret = p2p_evict(fd, h);
			if (!ret)
				ret = p2p_wait(fd, h, 10000000000ll);
			t1 = now();
			if (ret) {
				fprintf(stderr, "evict: %s\n", strerror(-ret));
				return ret;
			}
			/* The first CPU fault brings it back. */
			*(volatile uint8_t *)cpu = 1;
			t2 = now();
			if (!p2p_info(fd, h, &info) &&
			    info.placement != P2PGEM_PLACEMENT_VRAM)
				pr->note = "restore left it in system memory";
			memcpy(dst, src, size);
			t3 = now();
			pe->p2p[r] = size / 1e6 / (t1 - t0);
			pr->p2p[r] = size / 1e6 / (t2 - t1);
			pe->base[r] = pr->base[r] = size / 1e6 / (t3 - t2);
			pe->n++;
			pr->n++;
		}
		ev.n++;
		re.n++;
		munmap(cpu, size);
		free(src);
		free(dst);
		p2p_close_bo(fd, h);
	}
	emit(&ev);
	emit(&re);
	return 0;
}

static int import_fd(int fd, int dmabuf, uint32_t *handle)
{
	return drmPrimeFDToHandle(fd, dmabuf, handle) ? -errno : 0;
}

/* d2d: GEM_COPY VRAM -> peer VRAM against a CPU bounce through RAM. */
static int bench_d2d(int fd0, int fd1)
{
	static const uint64_t sizes[] = { 1 * MiB, 4 * MiB, 16 * MiB };
	static struct metric m;
	size_t s;
	int r, ret;

	memset(&m, 0, sizeof(m));
	m.name = "d2d";
	m.title = "device-to-device copy, guest CPU time";
	m.unit = "ms CPU/MiB";
	m.x_unit = "bytes";
	m.p2p_label = "GEM_COPY VRAM -> peer VRAM";
	m.base_label = "CPU bounce through RAM";
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t size = sizes[s];
		struct point *p = &m.pt[m.n];
		uint32_t a, b, b_in0;
		void *ca, *cb, *bounce;
		int dmabuf;

		if (quick && s)
			break;
		if (p2p_create(fd0, size, P2PGEM_PLACEMENT_VRAM,
			       P2PGEM_CREATE_CPU_ACCESS, &a) ||
		    p2p_create(fd1, size, P2PGEM_PLACEMENT_VRAM,
			       P2PGEM_CREATE_CPU_ACCESS, &b))
			return -ENOMEM;
		dmabuf = export_bo(fd1, b);
		if (dmabuf < 0)
			return dmabuf;
		ret = import_fd(fd0, dmabuf, &b_in0);
		if (ret)
			return ret;
		ca = p2p_map(fd0, a, size);
		cb = p2p_map(fd1, b, size);
		bounce = malloc(size);
		if (!ca || !cb || !bounce)
			return -ENOMEM;
		touch(ca, size);
		touch(cb, size);
		touch(bounce, size);
		p->x = size;
		for (r = 0; r < reps; r++) {
			double c0, c1, c2, mib = (double)size / MiB;

			c0 = cpu_busy();
			ret = p2p_copy(fd0, a, 0, b_in0, 0, size);
			if (!ret)
				ret = p2p_wait(fd0, b_in0, 10000000000ll);
			c1 = cpu_busy();
			if (ret) {
				fprintf(stderr, "d2d: copy: %s\n",
					strerror(-ret));
				return ret;
			}
			memcpy(bounce, ca, size);
			memcpy(cb, bounce, size);
			c2 = cpu_busy();
			p->p2p[r] = (c1 - c0) * 1e3 / mib;
			p->base[r] = (c2 - c1) * 1e3 / mib;
			p->n++;
		}
		m.n++;
		munmap(ca, size);
		munmap(cb, size);
		free(bounce);
		close(dmabuf);
		p2p_close_bo(fd0, b_in0);
		p2p_close_bo(fd0, a);
		p2p_close_bo(fd1, b);
	}
	emit(&m);
	return 0;
}

/* overcommit: 1x, 2x, 4x VRAM written in a loop, against RAM. */
static int bench_overcommit(int fd, uint64_t vram)
{
	static struct metric m;
	unsigned int factor;
	int r, ret = 0;

	memset(&m, 0, sizeof(m));
	m.name = "overcommit";
	m.title = "working set written in a loop";
	m.unit = "MB/s";
	m.x_unit = "x VRAM";
	m.p2p_label = "p2pgem VRAM buffers";
	m.base_label = "RAM";
	m.higher_better = 1;
	/* --quick: 1x and 2x, once, without writing the buffers first. */
	for (factor = 1; factor <= (quick ? 2u : 4u); factor *= 2) {
		uint64_t total = vram * factor;
		unsigned int n = (unsigned int)(total / OC_BO_SIZE), i;
		struct point *p = &m.pt[m.n];
		uint32_t *h = calloc(n, sizeof(*h));
		void **cpu = calloc(n, sizeof(*cpu));
		char *ram = malloc(total);

		if (!h || !cpu || !ram)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			ret = p2p_create(fd, OC_BO_SIZE, P2PGEM_PLACEMENT_VRAM,
					 0, &h[i]);
			if (ret)
				break;
			cpu[i] = p2p_map(fd, h[i], OC_BO_SIZE);
			if (!cpu[i]) {
				ret = -errno;
				break;
			}
			if (!quick)
				touch(cpu[i], OC_BO_SIZE);
		}
		if (ret) {
			fprintf(stderr, "overcommit %ux: buffer %u: %s\n",
				factor, i, strerror(-ret));
			return ret;
		}
		touch(ram, total);
		p->x = factor;
		for (r = 0; r < (quick ? 1 : reps); r++) {
			double t0, t1, t2;

			t0 = now();
			for (i = 0; i < n; i++)
				touch(cpu[i], OC_BO_SIZE);
			t1 = now();
			touch(ram, total);
			t2 = now();
			p->p2p[r] = total / 1e6 / (t1 - t0);
			p->base[r] = total / 1e6 / (t2 - t1);
			p->n++;
		}
		m.n++;
		for (i = 0; i < n; i++) {
			munmap(cpu[i], OC_BO_SIZE);
			p2p_close_bo(fd, h[i]);
		}
		free(h);
		free(cpu);
		free(ram);
	}
	emit(&m);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "reps", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct drm_p2pgem_device_info di;
	char edu[32], nvme[32];
	int c, ret, fd0, fd1, ti, failed = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quick = 1;
			reps = 2;
			break;
		case 'r':
		case 'j':
			ret = common_option(c, optarg, MAX_REPS, &reps, &json);
			if (ret)
				return ret;
			break;
		default:
			fprintf(stderr, "usage: exporter_bench [--quick] [--reps N] [--json FILE]\n");
			return 2;
		}
	}
	fd0 = p2p_open(0);
	fd1 = p2p_open(1);
	ti = ti_open();
	if (fd0 < 0 || fd1 < 0 || ti < 0 || p2p_dev_info(fd0, &di)) {
		fprintf(stderr, "exporter_bench: needs two p2pgem devices and the test importer\n");
		return 1;
	}
	if (json)
		fprintf(json, "{\"benchmark\":\"exporter\",\"quick\":%s,\"reps\":%d,\"vram_size\":%llu,\"visible_size\":%llu,\"metrics\":[",
			quick ? "true" : "false", reps,
			(unsigned long long)di.vram_size,
			(unsigned long long)di.visible_size);
	/* QEMU's NVMe controller, 1b36:0010. */
	if (!pci_find("0x1b36", "0x0010", 0, nvme, sizeof(nvme)))
		failed |= !!bench_map(fd0, ti, "nvme", nvme, di.visible_size);
	else
		fprintf(stderr, "exporter_bench: no NVMe controller\n"), failed = 1;
	if (!edu_name(edu, sizeof(edu)))
		failed |= !!bench_map(fd0, ti, "edu", edu, di.visible_size);
	else
		fprintf(stderr, "exporter_bench: no edu device\n"), failed = 1;
	failed |= !!bench_evict(fd0);
	failed |= !!bench_d2d(fd0, fd1);
	failed |= !!bench_overcommit(fd0, di.vram_size);
	if (json) {
		fprintf(json, "]}\n");
		fclose(json);
	}
	return failed;
}
