// SPDX-License-Identifier: GPL-2.0
/*
 * A module that leaks one allocation on load, and nothing else. The harness
 * self-test (`make check-harness`) loads it from a guest test to prove that
 * a memory leak fails the run: the harness has kmemleak scan at the end of
 * the guest run and fails on any leak allocated after boot.
 *
 * The module stays loaded, so that kmemleak's backtrace of the leaked
 * object names this module's function that allocated it.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#define P2PBUF_HARNESS_LEAK_SIZE 1000

static const char p2pbuf_harness_leak_text[] = "p2pbuf harness: planted leak";

/*
 * Not in the init section, which is freed once the module is loaded: the
 * backtrace kmemleak prints must still name this function then.
 */
static noinline int p2pbuf_harness_leak_alloc(void)
{
	char *leak;

	leak = kmalloc(P2PBUF_HARNESS_LEAK_SIZE, GFP_KERNEL);
	if (!leak)
		return -ENOMEM;
	/* Recognisable in kmemleak's hex dump; then the pointer is dropped. */
	memset(leak, 0, P2PBUF_HARNESS_LEAK_SIZE);
	strscpy(leak, p2pbuf_harness_leak_text, P2PBUF_HARNESS_LEAK_SIZE);
	return 0;
}

static int __init p2pbuf_harness_leak_init(void)
{
	int ret;

	ret = p2pbuf_harness_leak_alloc();
	if (!ret)
		pr_info("p2pbuf harness self-test: leaked %d bytes\n",
			P2PBUF_HARNESS_LEAK_SIZE);
	return ret;
}

static void __exit p2pbuf_harness_leak_exit(void)
{
}

module_init(p2pbuf_harness_leak_init);
module_exit(p2pbuf_harness_leak_exit);

MODULE_DESCRIPTION("p2pbuf harness self-test: a planted memory leak");
MODULE_LICENSE("GPL");
