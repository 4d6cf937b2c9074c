// SPDX-License-Identifier: MIT
/*
 * nvme_bench: NVMe reads and writes into a VRAM buffer by p2pbuf_nvme,
 * against the bounce through RAM, side by side in one boot.
 *
 * For each operation (read: namespace -> buffer, write: buffer ->
 * namespace), size (4 KiB to 16 MiB) and queue depth (1 and 8: that many
 * threads, each doing synchronous I/O), four modes:
 *
 *   ram     O_DIRECT between the namespace and an aligned buffer in RAM:
 *           what any application's I/O costs, the baseline
 *   p2p     between the namespace and a VRAM buffer, through p2pbuf_nvme
 *           (libp2pbuf's p2pbuf_file_read/write; the path each took)
 *   compat  between the namespace and the same VRAM buffer through RAM
 *           and a CPU copy (the same calls, P2PBUF_FILE_COMPAT)
 *   system  between the namespace and a p2pgem buffer in system memory,
 *           through p2pbuf_nvme (the direct-system path): the module's
 *           own cost per I/O, without P2P; p2p/system near 1 says the
 *           P2P DMA itself costs the CPU nothing more
 *
 * Each run lasts at least a second (the threads go on until told to stop,
 * and finish the I/O they are in; each does at least one I/O, however late
 * it got a CPU on a loaded machine); the four modes take turns, REPS times,
 * so that drift on a shared, noisy machine hits them alike; the
 * median is reported with the spread. Each ratio is the median of the
 * ratios within a turn (paired: the two runs a second apart), not the
 * ratio of two medians, so that a slow spell of the host that fell on
 * one mode's runs in one turn and another's in the next does not decide
 * it. Measured per MiB: guest CPU time
 * (every CPU's time not idle, to the nanosecond, from the tick code's idle
 * accounting in /proc/timer_list: process, interrupt and workqueue time
 * alike, so that bio completions count, not only this process) and wall
 * time. The bytes the CPU copied are those libp2pbuf reports for each
 * I/O (struct p2pbuf_io_info.cpu_bytes: the compat path copies every byte
 * once; the raw namespace has no holes, so p2p none). Under TCG absolute
 * figures mean nothing; the ratios are the result:
 *
 *   p2p CPU / ram CPU       goal <= 1.0  (P2P costs no more than RAM)
 *   compat CPU / p2p CPU    goal >= 1.5  (and clearly less than compat)
 *
 * Each thread has its own range of each buffer, so that no two I/Os in
 * flight touch the same memory (DMA-API debugging reports overlapping
 * mappings a device writes): RAM buffers and the system-memory buffer are
 * sized for every thread. The VRAM buffer is BUF_SIZE (p2pgem's
 * CPU-visible window is small): where it holds fewer ranges than the
 * queue depth (16 MiB at depth 8), the p2p threads that share a range
 * take turns, and the row says how many were in flight.
 *
 * usage: nvme_bench [--json FILE] [--quick] [--seconds S] [--op read|write]
 *                   [--size BYTES] [--qd N] [--mode ram|p2p|compat|system] NAMESPACE
 * (--op, --size, --qd and --mode pick a part of the table, for a profile)
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "bench_util.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define MAX_QD 8
#define REPS 5
#define BUF_SIZE (16 * MiB)	/* the VRAM buffer; the largest I/O */
#define DEV_SPAN (48 * MiB)	/* the namespace's first 48 MiB */

enum mode { RAM, P2P, COMPAT, SYS, NMODES };
static const char *const mode_names[NMODES] = { "ram", "p2p", "compat", "system" };

static double min_seconds = 1.0;
static volatile int stop_jobs;

struct ctx {
	int direct_fd;			/* the namespace, O_DIRECT */
	struct p2pbuf_file *file;	/* through the module */
	struct p2pbuf_file *compat;	/* always compat */
	int dmabuf;			/* the VRAM buffer, BUF_SIZE */
	int sys_dmabuf;			/* in system memory, a range per thread */
	void *ram[MAX_QD];		/* RAM buffers, one per thread */
	/* The p2p threads that share a range of the VRAM buffer take turns. */
	pthread_mutex_t vram_range[MAX_QD];
};

/*
 * How many I/Os of @size the VRAM buffer takes at a time, without two of
 * them in one range: at most @qd.
 */
static unsigned int vram_ranges(uint64_t size, unsigned int qd)
{
	uint64_t n = BUF_SIZE / size;

	return n < qd ? (unsigned int)n : qd;
}

struct job {
	struct ctx *c;
	enum mode mode;
	int write;
	uint64_t size;
	unsigned int qd, t;
	uint64_t ops;		/* done */
	uint64_t cpu_bytes;	/* the CPU moved, as libp2pbuf reports */
	unsigned int paths;		/* 1 << enum p2pbuf_io_path seen */
	int err;
	pthread_t th;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *job_run(void *arg)
{
	struct job *j = arg;
	struct ctx *c = j->c;
	uint64_t slots = DEV_SPAN / j->size;
	unsigned int ranges = vram_ranges(j->size, j->qd);
	/* Its own range: of the VRAM buffer, shared when it has too few. */
	unsigned int range = j->mode == SYS ? j->t : j->t % ranges;
	uint64_t buf_off = range * j->size;
	pthread_mutex_t *turn = j->mode == P2P && ranges < j->qd ?
				&c->vram_range[range] : NULL;
	struct p2pbuf_io_info info = { .size = sizeof(info) };
	unsigned int k = 0;
	ssize_t n;

	/* One I/O at least: a thread that starts late still counts. */
	do {
		uint64_t off = ((k * j->qd + j->t) % slots) * j->size;

		info.path = 0;
		if (turn)
			pthread_mutex_lock(turn);
		switch (j->mode) {
		case RAM:
			n = j->write ? pwrite(c->direct_fd, c->ram[j->t], j->size, (off_t)off) :
				       pread(c->direct_fd, c->ram[j->t], j->size, (off_t)off);
			if (n != (ssize_t)j->size)
				j->err = n < 0 ? -errno : -EIO;
			break;
		case P2P:
		case COMPAT:
		case SYS:
			j->err = j->write ?
				p2pbuf_file_write(j->mode == COMPAT ? c->compat : c->file,
						  j->mode == SYS ? c->sys_dmabuf : c->dmabuf,
						  buf_off, j->size, off, &info) :
				p2pbuf_file_read(j->mode == COMPAT ? c->compat : c->file,
						 j->mode == SYS ? c->sys_dmabuf : c->dmabuf,
						 buf_off, j->size, off, &info);
			j->paths |= 1u << info.path;
			if (!j->err)
				j->cpu_bytes += info.cpu_bytes;
			break;
		default:
			j->err = -EINVAL;
		}
		if (turn)
			pthread_mutex_unlock(turn);
		if (!j->err)
			j->ops++;
		k++;
	} while (!stop_jobs && !j->err);
	return NULL;
}

struct sample {
	double cpu_per_mib;	/* guest CPU seconds per MiB */
	double wall_per_mib;
	unsigned int paths;
};

/*
 * The median over the turns of @a's figure divided by @b's in the same
 * turn; 0 when a figure is missing.
 */
static double paired_ratio(struct sample (*s)[REPS], enum mode a,
			   enum mode b)
{
	double v[REPS], med, lo, hi;
	unsigned int r;

	for (r = 0; r < REPS; r++) {
		if (s[b][r].cpu_per_mib <= 0)
			return 0;
		v[r] = s[a][r].cpu_per_mib / s[b][r].cpu_per_mib;
	}
	stats(v, REPS, &med, &lo, &hi);
	return med;
}

/* Bytes moved and bytes the CPU moved, per mode, over every run. */
static uint64_t moved[NMODES], cpu_moved[NMODES];

static int run(struct ctx *c, enum mode mode, int write, uint64_t size,
	       unsigned int qd, struct sample *s)
{
	struct job jobs[MAX_QD];
	struct timespec ts;
	double t0, c0, mib;
	uint64_t ops = 0;
	unsigned int t;
	int err = 0;

	stop_jobs = 0;
	t0 = now();
	c0 = cpu_busy();
	for (t = 0; t < qd; t++) {
		jobs[t] = (struct job){ .c = c, .mode = mode, .write = write,
					.size = size, .qd = qd, .t = t };
		if (pthread_create(&jobs[t].th, NULL, job_run, &jobs[t])) {
			stop_jobs = 1;
			while (t--)
				pthread_join(jobs[t].th, NULL);
			return -EAGAIN;
		}
	}
	ts.tv_sec = (time_t)min_seconds;
	ts.tv_nsec = (long)((min_seconds - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	stop_jobs = 1;
	s->paths = 0;
	for (t = 0; t < qd; t++) {
		pthread_join(jobs[t].th, NULL);
		if (jobs[t].err && !err)
			err = jobs[t].err;
		s->paths |= jobs[t].paths;
		ops += jobs[t].ops;
		cpu_moved[mode] += jobs[t].cpu_bytes;
	}
	if (!ops)
		return err ?: -EIO;
	moved[mode] += ops * size;
	mib = (double)(ops * size) / (double)MiB;
	s->cpu_per_mib = (cpu_busy() - c0) / mib;
	s->wall_per_mib = (now() - t0) / mib;
	return err;
}

static void paths_text(unsigned int paths, char *buf, size_t len)
{
	const char *name;
	unsigned int p;
	size_t used = 0;

	buf[0] = 0;
	for (p = 0; p <= P2PBUF_IO_PATH_COMPAT; p++) {
		if (!(paths & 1u << p) || p2pbuf_io_path_name(p, &name))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? "+" : "", name);
		if (used >= len)
			break;
	}
}

/*
 * @max_size: the largest I/O, @max_qd: the deepest queue of the runs to
 * come; RAM and system-memory buffers are sized for them.
 */
static int setup(struct ctx *c, const char *ns, uint64_t max_size,
		 unsigned int max_qd)
{
	struct p2pbuf_device *dev;
	struct p2pbuf_buffer *buf;
	int fd, ret, t;

	c->direct_fd = open(ns, O_RDWR | O_DIRECT | O_CLOEXEC);
	fd = open(ns, O_RDWR | O_CLOEXEC);
	if (c->direct_fd < 0 || fd < 0)
		return -errno;
	ret = p2pbuf_file_open(fd, 0, &c->file);
	if (!ret)
		ret = p2pbuf_file_open(fd, P2PBUF_FILE_COMPAT, &c->compat);
	close(fd);
	if (ret)
		return ret;
	ret = p2pbuf_device_open("p2pgem", &dev);
	if (ret)
		return ret;
	ret = p2pbuf_buffer_alloc(dev, BUF_SIZE, P2PBUF_PLACEMENT_VRAM,
				  P2PBUF_ALLOC_CPU_ACCESS, &buf);
	if (!ret)
		ret = p2pbuf_buffer_export(buf, &c->dmabuf);
	if (ret)
		return ret;
	ret = p2pbuf_buffer_alloc(dev, max_size * max_qd,
				  P2PBUF_PLACEMENT_SYSTEM, 0, &buf);
	if (!ret)
		ret = p2pbuf_buffer_export(buf, &c->sys_dmabuf);
	if (ret)
		return ret;
	/* The dma-buf keeps the buffer; the device stays open. */
	for (t = 0; t < (int)max_qd; t++) {
		if (posix_memalign(&c->ram[t], 4096, max_size))
			return -ENOMEM;
		memset(c->ram[t], t, max_size);
	}
	for (t = 0; t < MAX_QD; t++)
		pthread_mutex_init(&c->vram_range[t], NULL);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: nvme_bench [--json FILE] [--quick] [--seconds S] [--op read|write]\n"
		"                  [--size BYTES] [--qd N] [--mode ram|p2p|compat|system] NAMESPACE\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 's' },
		{ "op", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 'S' },
		{ "qd", required_argument, NULL, 'Q' },
		{ "mode", required_argument, NULL, 'm' },
		{ 0 }
	};
	int only_op = -1, only_mode = -1;
	uint64_t only_size = 0;
	unsigned int only_qd = 0, max_qd = 0;
	uint64_t max_size = 0;
	static const uint64_t all_sizes[] = { 4 * KiB, 64 * KiB, 1 * MiB, 16 * MiB };
	static const unsigned int all_qds[] = { 1, 8 };
	const uint64_t *sizes = all_sizes;
	const unsigned int *qds = all_qds;
	unsigned int n_sizes = 4, n_qds = 2;
	const char *ns = NULL, *json_path = NULL;
	struct sample s[NMODES][REPS];
	int ret, op, r, m, noisy, fail = 0;
	unsigned int qi, si;
	FILE *json = NULL;
	struct ctx c = { 0 };
	char pathbuf[64];

	for (;;) {
		int opt = getopt_long(argc, argv, "", long_opts, NULL);

		if (opt == -1)
			break;
		switch (opt) {
		case 'j':
			json_path = optarg;
			break;
		case 'q':
			min_seconds = 0.2;
			break;
		case 's':
			min_seconds = strtod(optarg, NULL);
			if (min_seconds <= 0)
				return usage();
			break;
		case 'o':
			if (!strcmp(optarg, "read"))
				only_op = 0;
			else if (!strcmp(optarg, "write"))
				only_op = 1;
			else
				return usage();
			break;
		case 'S':
			only_size = strtoull(optarg, NULL, 0);
			if (!only_size || only_size > BUF_SIZE || only_size % 4096)
				return usage();
			break;
		case 'Q':
			only_qd = (unsigned int)strtoul(optarg, NULL, 0);
			if (!only_qd || only_qd > MAX_QD)
				return usage();
			break;
		case 'm':
			for (m = 0; m < NMODES; m++)
				if (!strcmp(optarg, mode_names[m]))
					break;
			if (m == NMODES)
				return usage();
			only_mode = m;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	ns = argv[optind];
	if (only_size) {
		sizes = &only_size;
		n_sizes = 1;
	}
	if (only_qd) {
		qds = &only_qd;
		n_qds = 1;
	}
	if (cpu_busy() <= 0) {
		fprintf(stderr, "nvme_bench: no idle accounting in /proc/timer_list (NO_HZ and root needed)\n");
		return 1;
	}
	for (si = 0; si < n_sizes; si++)
		if (sizes[si] > max_size)
			max_size = sizes[si];
	for (qi = 0; qi < n_qds; qi++)
		if (qds[qi] > max_qd)
			max_qd = qds[qi];
	ret = setup(&c, ns, max_size, max_qd);
	if (ret) {
		fprintf(stderr, "nvme_bench: setup: %s\n", strerror(-ret));
		return 1;
	}
	if (json_path) {
		json = fopen(json_path, "w");
		if (!json) {
			perror(json_path);
			return 1;
		}
		fprintf(json, "{\"benchmark\":\"nvme\",\"namespace\":\"%s\",\"reps\":%d,\"seconds_per_run\":%.1f,\"results\":[",
			ns, REPS, min_seconds);
	}
	printf("NVMe importer: guest CPU time (all CPUs, not idle) and wall time\n"
	       "per MiB, medians of %d runs of %.1f s each; a row whose runs spread\n"
	       "by more than half its median says so. The ratios are the result\n"
	       "(CPU: the median of the ratios within each turn of the modes);\n"
	       "absolute figures under TCG mean nothing.\n"
	       "Goals: p2p/ram CPU <= 1.0, compat/p2p CPU >= 1.5.\n\n",
	       REPS, min_seconds);
	printf("%-5s %6s %2s | %-31s | %-26s | %-17s | %s\n", "", "", "",
	       "CPU ms/MiB", "CPU ratio", "wall ratio", "");
	printf("%-5s %6s %2s | %7s %7s %7s %7s | %8s %8s %8s | %8s %8s | %s\n",
	       "op", "size", "qd", "ram", "p2p", "system", "compat", "p2p/ram",
	       "cmp/p2p", "p2p/sys", "p2p/ram", "cmp/p2p", "p2p path");
	for (op = 0; op < 2; op++) {
		if (only_op >= 0 && op != only_op)
			continue;
		for (si = 0; si < n_sizes; si++) {
			for (qi = 0; qi < n_qds; qi++) {
				double cpu[NMODES], wall[NMODES], spread[NMODES];
				double p2p_ram, cmp_p2p, p2p_sys;
				double v[REPS], w[REPS], lo, hi, med;
				unsigned int paths = 0;
				unsigned int p2p_turns = vram_ranges(sizes[si], qds[qi]);
				char size_txt[24], turns_txt[48] = "";

				for (r = 0; r < REPS; r++)
					for (m = 0; m < NMODES; m++) {
						if (only_mode >= 0 && m != only_mode) {
							s[m][r] = (struct sample){ 0 };
							continue;
						}
						ret = run(&c, (enum mode)m, op, sizes[si],
							  qds[qi], &s[m][r]);
						if (ret) {
							fprintf(stderr, "nvme_bench: %s %s: %s\n",
								mode_names[m], op ? "write" : "read",
								strerror(-ret));
							return 1;
						}
					}
				noisy = 0;
				for (m = 0; m < NMODES; m++) {
					for (r = 0; r < REPS; r++) {
						v[r] = s[m][r].cpu_per_mib;
						w[r] = s[m][r].wall_per_mib;
					}
					stats(v, REPS, &med, &lo, &hi);
					cpu[m] = med;
					spread[m] = med > 0 ? (hi - lo) / med : 0;
					if (spread[m] > 0.5)
						noisy = 1;
					stats(w, REPS, &med, &lo, &hi);
					wall[m] = med;
				}
				for (r = 0; r < REPS; r++)
					paths |= s[P2P][r].paths;
				p2p_ram = paired_ratio(s, P2P, RAM);
				cmp_p2p = paired_ratio(s, COMPAT, P2P);
				p2p_sys = paired_ratio(s, P2P, SYS);
				paths_text(paths, pathbuf, sizeof(pathbuf));
				snprintf(size_txt, sizeof(size_txt), "%lluK",
					 (unsigned long long)(sizes[si] / KiB));
				if (p2p_turns < qds[qi] &&
				    (only_mode < 0 || only_mode == P2P))
					snprintf(turns_txt, sizeof(turns_txt),
						 "  (p2p: %u in flight, VRAM)", p2p_turns);
				printf("%-5s %6s %2u | %7.2f %7.2f %7.2f %7.2f | %5.2f%s %5.2f%s %8.2f | %8.2f %8.2f | %s%s%s\n",
				       op ? "write" : "read", size_txt, qds[qi],
				       cpu[RAM] * 1e3, cpu[P2P] * 1e3, cpu[SYS] * 1e3,
				       cpu[COMPAT] * 1e3,
				       p2p_ram, p2p_ram > 0 && p2p_ram <= 1.0 ? " ok" : "   ",
				       cmp_p2p, cmp_p2p >= 1.5 ? " ok" : "   ",
				       p2p_sys,
				       wall[RAM] > 0 ? wall[P2P] / wall[RAM] : 0,
				       wall[P2P] > 0 ? wall[COMPAT] / wall[P2P] : 0,
				       pathbuf, noisy ? "  (noisy: spread > 50%)" : "",
				       turns_txt);
				if ((only_mode < 0 || only_mode == P2P) &&
				    !(paths & (1u << P2PBUF_IO_PATH_P2P |
					       1u << P2PBUF_IO_PATH_DIRECT_SYSTEM)))
					fail = 1;
				if (json) {
					static int first = 1;

					fprintf(json, "%s{\"op\":\"%s\",\"size\":%llu,\"qd\":%u,\"p2p_in_flight\":%u,\"path\":\"%s\",\"noisy\":%s",
						first ? "" : ",", op ? "write" : "read",
						(unsigned long long)sizes[si], qds[qi], p2p_turns,
						pathbuf, noisy ? "true" : "false");
					first = 0;
					for (m = 0; m < NMODES; m++) {
						fprintf(json, ",\"%s\":{\"cpu_s_per_mib\":[", mode_names[m]);
						for (r = 0; r < REPS; r++)
							fprintf(json, "%s%.6f", r ? "," : "", s[m][r].cpu_per_mib);
						fprintf(json, "],\"wall_s_per_mib\":[");
						for (r = 0; r < REPS; r++)
							fprintf(json, "%s%.6f", r ? "," : "", s[m][r].wall_per_mib);
						fprintf(json, "],\"cpu_copied_bytes_per_byte\":%d}",
							m == COMPAT);
					}
					fprintf(json, "}");
				}
				fflush(stdout);
			}
		}
	}
	if (json) {
		fprintf(json, "]}\n");
		fclose(json);
	}
	printf("\nBytes the CPU moved per byte moved, as libp2pbuf reports them:\n"
	       "ram 0 (by construction), p2p %.3f, system %.3f, compat %.3f.\n",
	       moved[P2P] ? (double)cpu_moved[P2P] / (double)moved[P2P] : 0,
	       moved[SYS] ? (double)cpu_moved[SYS] / (double)moved[SYS] : 0,
	       moved[COMPAT] ? (double)cpu_moved[COMPAT] / (double)moved[COMPAT] : 0);
	return fail;
}
