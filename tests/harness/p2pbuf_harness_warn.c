// SPDX-License-Identifier: GPL-2.0
/*
 * A module that WARNs on load, and nothing else. The harness self-test
 * (`make check-harness`) loads it to prove that a kernel warning in the guest
 * fails the run even when every test assertion passes.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <linux/bug.h>
#include <linux/module.h>

static int __init p2pbuf_harness_warn_init(void)
{
	WARN(1, "p2pbuf harness self-test: planted warning\n");
	return 0;
}

static void __exit p2pbuf_harness_warn_exit(void)
{
}

module_init(p2pbuf_harness_warn_init);
module_exit(p2pbuf_harness_warn_exit);

MODULE_DESCRIPTION("p2pbuf harness self-test: a planted WARN");
MODULE_LICENSE("GPL");
