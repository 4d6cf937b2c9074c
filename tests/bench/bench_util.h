/* SPDX-License-Identifier: MIT */
/*
 * Helpers the benchmark programs share.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_BENCH_UTIL_H
#define P2PBUF_BENCH_UTIL_H

#include <stdio.h>

/*
 * Every CPU's time not idle since boot, summed, in seconds (from the tick
 * code's idle accounting in /proc/timer_list); 0 if it cannot be had.
 */
double cpu_busy(void);
/* Median, minimum and maximum of @n values (sorts @v). */
void stats(double *v, int n, double *med, double *lo, double *hi);
/* @n samples as a JSON array on @f. */
void json_samples(FILE *f, const double *v, int n);
/*
 * The options every benchmark takes: --reps N (1 to @max_reps) into
 * *reps, --json FILE opened into *json. 0, or the exit status of a bad
 * option (the error printed).
 */
int common_option(int opt, const char *arg, int max_reps, int *reps,
		  FILE **json);

#endif
