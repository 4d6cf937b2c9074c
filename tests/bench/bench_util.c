// SPDX-License-Identifier: MIT
/*
 * Helpers the benchmark programs share: CPU busy time, statistics, JSON
 * samples and the common options.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_util.h"

/*
 * One CPU's time not idle, in seconds since boot, from /proc/timer_list,
 * read on that CPU: the tick code's idle_sleeptime and iowait_sleeptime,
 * in nanoseconds, account each idle period exactly (an interrupt ends
 * it); a CPU reading the file is not idle, so its figures are up to
 * date ("now at"). /proc/stat's columns would be either sampled by the
 * tick (user, system: biased when the work is short and in step with the
 * device's completions) or in steps of 10 ms (idle).
 */
static int cpu_busy_one(int cpu, double *busy)
{
	unsigned long long now = 0, idle = 0, iowait = 0, v;
	char line[256];
	int this = -1, found = 0;
	cpu_set_t set;
	FILE *f;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	f = fopen("/proc/timer_list", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "now at %llu nsecs", &v) == 1)
			now = v;
		else if (sscanf(line, "cpu: %d", &this) == 1)
			continue;
		else if (this == cpu &&
			 sscanf(line, " .idle_sleeptime : %llu nsecs", &v) == 1) {
			idle = v;
			found |= 1;
		} else if (this == cpu &&
			   sscanf(line, " .iowait_sleeptime: %llu nsecs", &v) == 1) {
			iowait = v;
			found |= 2;
		}
	}
	fclose(f);
	if (!now || found != 3)
		return -ENOENT;	/* no NO_HZ tick accounting */
	*busy = (double)(now - idle - iowait) / 1e9;
	return 0;
}

/* The busy time of every CPU, summed; 0 if it cannot be had. */
double cpu_busy(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	double sum = 0, one = 0;
	cpu_set_t saved;
	int cpu;

	if (sched_getaffinity(0, sizeof(saved), &saved))
		return 0;
	for (cpu = 0; cpu < n; cpu++) {
		if (cpu_busy_one(cpu, &one)) {
			sum = 0;
			break;
		}
		sum += one;
	}
	sched_setaffinity(0, sizeof(saved), &saved);
	return sum;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, minimum and maximum of @n values. */
void stats(double *v, int n, double *med, double *lo, double *hi)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	*med = v[n / 2];
	*lo = v[0];
	*hi = v[n - 1];
}

void json_samples(FILE *f, const double *v, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%.6g", i ? "," : "", v[i]);
	fputc(']', f);
}

int common_option(int opt, const char *arg, int max_reps, int *reps,
		  FILE **json)
{
	if (opt == 'r') {
		*reps = atoi(arg);
		if (*reps < 1 || *reps > max_reps) {
			fprintf(stderr, "--reps: 1 to %d\n", max_reps);
			return 2;
		}
		return 0;
	}
	*json = fopen(arg, "w");
	if (!*json) {
		perror(arg);
		return 1;
	}
	return 0;
}
