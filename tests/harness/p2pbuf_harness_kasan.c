// SPDX-License-Identifier: GPL-2.0
/*
 * A module that reads freed memory twice on load, and nothing else. The
 * harness self-test (`make check-harness`) loads it from a guest test to
 * prove that KASAN reports every use-after-free, not only the first of the
 * boot (the guest boots with kasan_multi_shot), and that they fail the run.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/slab.h>

#define P2PBUF_HARNESS_KASAN_READS 2
#define P2PBUF_HARNESS_KASAN_SIZE 128

static int __init p2pbuf_harness_kasan_init(void)
{
	char *buf;
	int i;

	for (i = 0; i < P2PBUF_HARNESS_KASAN_READS; i++) {
		buf = kzalloc(P2PBUF_HARNESS_KASAN_SIZE, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		kfree(buf);
		/* Hide the pointer's history from the compiler. */
		OPTIMIZER_HIDE_VAR(buf);
		/* The planted use-after-free: KASAN reports this read. */
		pr_info("p2pbuf harness self-test: read %d after free\n",
			READ_ONCE(buf[i]));
	}
	return 0;
}

static void __exit p2pbuf_harness_kasan_exit(void)
{
}

module_init(p2pbuf_harness_kasan_init);
module_exit(p2pbuf_harness_kasan_exit);

MODULE_DESCRIPTION("p2pbuf harness self-test: two planted use-after-free reads");
MODULE_LICENSE("GPL");
