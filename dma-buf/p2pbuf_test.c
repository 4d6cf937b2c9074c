// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of p2pbuf's pure logic: the P2P decision table and the sg
 * merging and segment-limit arithmetic.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <kunit/test.h>
#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include "p2pbuf.h"

struct p2pbuf_decision_case {
	const char *name;
	bool allow_peer2peer;
	bool importer_is_pci;
	bool kernel_p2pdma;
	int distance;
	bool common_bridge;
	enum p2pbuf_reason reason;
};

static const struct p2pbuf_decision_case p2pbuf_decision_cases[] = {
	{ "no peer2peer", false, true, true, 4, true,
	  P2PBUF_REASON_NO_PEER2PEER },
	{ "no peer2peer, not pci", false, false, true, -1, false,
	  P2PBUF_REASON_NO_PEER2PEER },
	{ "not pci", true, false, true, 4, false, P2PBUF_REASON_NOT_PCI },
	{ "acs redirect", true, true, true, -1, true,
	  P2PBUF_REASON_ACS_REDIRECT },
	{ "host bridge", true, true, true, -1, false,
	  P2PBUF_REASON_HOST_BRIDGE },
	{ "same switch", true, true, true, 4, true, P2PBUF_REASON_P2P },
	{ "through host bridge", true, true, true, 4, false,
	  P2PBUF_REASON_P2P },
	{ "same device", true, true, true, 0, true, P2PBUF_REASON_P2P },
	/* Without CONFIG_PCI_P2PDMA: the importer's limits still come first. */
	{ "no p2pdma", true, true, false, -1, false, P2PBUF_REASON_NO_P2PDMA },
	{ "no p2pdma, same switch", true, true, false, 4, true,
	  P2PBUF_REASON_NO_P2PDMA },
	{ "no p2pdma, no peer2peer", false, true, false, -1, false,
	  P2PBUF_REASON_NO_PEER2PEER },
	{ "no p2pdma, not pci", true, false, false, -1, false,
	  P2PBUF_REASON_NOT_PCI },
};

static void p2pbuf_decision_desc(const struct p2pbuf_decision_case *c,
				 char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(p2pbuf_decision, p2pbuf_decision_cases,
		  p2pbuf_decision_desc);

static void p2pbuf_decide_test(struct kunit *test)
{
	const struct p2pbuf_decision_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, p2pbuf_decide(c->allow_peer2peer,
					    c->importer_is_pci,
					    c->kernel_p2pdma, c->distance,
					    c->common_bridge), c->reason);
}

static void p2pbuf_reason_name_test(struct kunit *test)
{
	enum p2pbuf_reason r;

	KUNIT_EXPECT_STREQ(test, p2pbuf_reason_name(P2PBUF_REASON_P2P), "p2p");
	KUNIT_EXPECT_STREQ(test, p2pbuf_reason_name(P2PBUF_REASON_HOST_BRIDGE),
			   "host-bridge-not-whitelisted");
	KUNIT_EXPECT_STREQ(test, p2pbuf_reason_name(P2PBUF_REASON_NO_P2PDMA),
			   "kernel-without-pci-p2pdma");
	/* The values p2pgem's P2P query hands to userspace stay put. */
	KUNIT_EXPECT_EQ(test, P2PBUF_REASON_MAP_REFUSED, 5);
	KUNIT_EXPECT_EQ(test, P2PBUF_REASON_NO_P2PDMA, 6);
	KUNIT_EXPECT_STREQ(test, p2pbuf_reason_name(P2PBUF_REASON_COUNT),
			   "unknown");
	KUNIT_EXPECT_STREQ(test, p2pbuf_reason_name(-1), "unknown");
	for (r = 0; r < P2PBUF_REASON_COUNT; r++)
		KUNIT_EXPECT_STRNEQ(test, p2pbuf_reason_name(r), "unknown");
}

static void p2pbuf_seg_len_test(struct kunit *test)
{
	const unsigned long none = ULONG_MAX;

	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_1M, SZ_64K, none),
			SZ_64K);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_16K, SZ_64K, none),
			SZ_16K);
	/* A limit that is not a whole number of pages is rounded down. */
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_1M, SZ_64K + 1, none),
			SZ_64K);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_1M, SZ_64K - 1, none),
			SZ_64K - PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_1M, PAGE_SIZE - 1, none),
			0);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, 0, SZ_64K, none), 0);
	/* A 4 GiB boundary cuts the segment. */
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(SZ_4G - PAGE_SIZE, SZ_1M,
						SZ_64K, 0xffffffff),
			PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(SZ_4G, SZ_1M, SZ_64K,
						0xffffffff), SZ_64K);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_1M, UINT_MAX, SZ_64K - 1),
			SZ_64K);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_1M, SZ_64K, 0), 0);
	/* Largest segment: UINT_MAX rounded down to pages. */
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_seg_len(0, SZ_4G, UINT_MAX, none),
			(u32)(UINT_MAX & PAGE_MASK));
}

static void p2pbuf_count_test(struct kunit *test)
{
	const struct p2pbuf_range one = { 0, SZ_256M };
	const struct p2pbuf_range adjacent[] = {
		{ 0, SZ_64K }, { SZ_64K, SZ_64K }, { SZ_128K, SZ_64K },
	};
	const struct p2pbuf_range apart[] = {
		{ SZ_1M, SZ_64K }, { 0, SZ_64K }, { SZ_64K, PAGE_SIZE },
	};
	const struct p2pbuf_range bad_align[] = { { 1, SZ_64K } };
	const struct p2pbuf_range bad_size[] = { { 0, 0 } };
	const struct p2pbuf_range bad_wrap[] = { { PAGE_MASK, SZ_64K } };
	const u64 bar = 0x800000000ull;

	/* A contiguous 256 MiB buffer: 1 entry without a limit, not 65536. */
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, &one, 1, UINT_MAX, ULONG_MAX),
			1);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, &one, 1, SZ_64K, ULONG_MAX),
			SZ_256M / SZ_64K);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, &one, 1, SZ_1G, 0xffffffff),
			1);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, adjacent, 3, UINT_MAX,
					      ULONG_MAX), 1);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, adjacent, 3, SZ_64K,
					      ULONG_MAX), 3);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, adjacent, 3, SZ_128K,
					      ULONG_MAX), 2);
	/* Out of order: only the last two ranges merge. */
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, apart, 3, UINT_MAX,
					      ULONG_MAX), 2);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, apart, 3, SZ_64K,
					      ULONG_MAX), 3);
	/* A run across a 4 GiB boundary is cut there. */
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(SZ_4G - SZ_64K, adjacent, 3,
					      UINT_MAX, 0xffffffff), 2);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, adjacent, 0, UINT_MAX,
					      ULONG_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, bad_align, 1, UINT_MAX,
					      ULONG_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, bad_size, 1, UINT_MAX,
					      ULONG_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, bad_wrap, 1, UINT_MAX,
					      ULONG_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2pbuf_sg_count(bar, &one, 1, PAGE_SIZE - 1,
					      ULONG_MAX), -EINVAL);
}

static int p2pbuf_test_pages(struct dma_buf_attachment *attach,
			     pgoff_t first, unsigned long count,
			     struct page **pages)
{
	return -EOPNOTSUPP;
}

/* The exporter registry: found by ops, once, and gone after unregister. */
static void p2pbuf_exporter_registry_test(struct kunit *test)
{
	static const struct p2pbuf_exporter_ops xops = {
		.pages = p2pbuf_test_pages,
	};
	static const struct p2pbuf_exporter_ops no_pages = { };
	static const struct dma_buf_ops ops_a = { }, ops_b = { };
	/* Only their ops are read; static: struct dma_buf is large. */
	static struct dma_buf a = { .ops = &ops_a }, b = { .ops = &ops_b };

	KUNIT_EXPECT_PTR_EQ(test, p2pbuf_exporter_ops_of(&a), NULL);
	KUNIT_EXPECT_EQ(test, p2pbuf_exporter_register(&ops_a, &no_pages),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, p2pbuf_exporter_register(&ops_a, NULL), -EINVAL);
	KUNIT_ASSERT_EQ(test, p2pbuf_exporter_register(&ops_a, &xops), 0);
	KUNIT_EXPECT_EQ(test, p2pbuf_exporter_register(&ops_a, &xops),
			-EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, p2pbuf_exporter_ops_of(&a), &xops);
	KUNIT_EXPECT_PTR_EQ(test, p2pbuf_exporter_ops_of(&b), NULL);
	p2pbuf_exporter_unregister(&ops_b);
	KUNIT_EXPECT_PTR_EQ(test, p2pbuf_exporter_ops_of(&a), &xops);
	p2pbuf_exporter_unregister(&ops_a);
	KUNIT_EXPECT_PTR_EQ(test, p2pbuf_exporter_ops_of(&a), NULL);
}

static struct kunit_case p2pbuf_test_cases[] = {
	KUNIT_CASE(p2pbuf_exporter_registry_test),
	KUNIT_CASE_PARAM(p2pbuf_decide_test, p2pbuf_decision_gen_params),
	KUNIT_CASE(p2pbuf_reason_name_test),
	KUNIT_CASE(p2pbuf_seg_len_test),
	KUNIT_CASE(p2pbuf_count_test),
	{}
};

static struct kunit_suite p2pbuf_test_suite = {
	.name = "p2pbuf",
	.test_cases = p2pbuf_test_cases,
};

kunit_test_suite(p2pbuf_test_suite);

MODULE_DESCRIPTION("KUnit tests of the p2pbuf framework's pure logic");
MODULE_AUTHOR("The p2pbuf authors");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(P2PBUF);
