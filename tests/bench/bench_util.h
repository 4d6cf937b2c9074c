/* SPDX-License-Identifier: MIT */
/*
 * Helpers the benchmark programs share.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_BENCH_UTIL_H
#define P2PBUF_BENCH_UTIL_H

/*
 * Every CPU's time not idle since boot, summed, in seconds (from the tick
 * code's idle accounting in /proc/timer_list); 0 if it cannot be had.
 */
double cpu_busy(void);
/* Median, minimum and maximum of @n values (sorts @v). */
void stats(double *v, int n, double *med, double *lo, double *hi);

#endif
