// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the topology probe's classification rules.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <kunit/test.h>
#include <linux/module.h>

#include "p2pbuf_probe.h"

struct p2pbuf_probe_case {
	const char *name;
	struct p2pbuf_probe_facts facts;
	enum p2pbuf_probe_map map;
	enum p2pbuf_probe_reason reason;
};

static const struct p2pbuf_probe_case p2pbuf_probe_cases[] = {
	{ "switch", { .distance = 4, .common_bridge = true, .bus_address = true,
		      .dma_addr = 0x80000000, .phys_addr = 0x800000000ull },
	  P2PBUF_PROBE_MAP_BUS_ADDR, P2PBUF_PROBE_REASON_NONE },
	{ "host bridge", { .distance = 4, .dma_addr = 0x800000000ull,
			   .phys_addr = 0x800000000ull },
	  P2PBUF_PROBE_MAP_HOST_BRIDGE, P2PBUF_PROBE_REASON_NONE },
	{ "iommu", { .distance = 4, .dma_addr = 0xfff00000,
		     .phys_addr = 0x800000000ull },
	  P2PBUF_PROBE_MAP_IOMMU, P2PBUF_PROBE_REASON_NONE },
	{ "not whitelisted", { .distance = -1 },
	  P2PBUF_PROBE_MAP_NONE, P2PBUF_PROBE_REASON_HOST_BRIDGE },
	{ "acs redirect", { .distance = -1, .common_bridge = true },
	  P2PBUF_PROBE_MAP_NONE, P2PBUF_PROBE_REASON_ACS_REDIRECT },
	{ "map refused", { .distance = 2, .map_err = -EREMOTEIO },
	  P2PBUF_PROBE_MAP_NONE, P2PBUF_PROBE_REASON_MAP_REFUSED },
	{ "dma mask", { .distance = 2, .map_err = -EIO },
	  P2PBUF_PROBE_MAP_ERROR, P2PBUF_PROBE_REASON_DMA_MASK },
	{ "other failure", { .distance = 2, .map_err = -ENOMEM },
	  P2PBUF_PROBE_MAP_ERROR, P2PBUF_PROBE_REASON_MAP_FAILED },
};

static void p2pbuf_probe_case_desc(const struct p2pbuf_probe_case *c,
				   char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(p2pbuf_probe, p2pbuf_probe_cases, p2pbuf_probe_case_desc);

static void p2pbuf_probe_classify_test(struct kunit *test)
{
	const struct p2pbuf_probe_case *c = test->param_value;
	enum p2pbuf_probe_reason reason = -1;

	KUNIT_EXPECT_EQ(test, p2pbuf_probe_classify(&c->facts, &reason), c->map);
	KUNIT_EXPECT_EQ(test, reason, c->reason);
}

static void p2pbuf_probe_names_test(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, p2pbuf_probe_map_name(P2PBUF_PROBE_MAP_BUS_ADDR),
			   "bus-address");
	KUNIT_EXPECT_STREQ(test, p2pbuf_probe_map_name(P2PBUF_PROBE_MAP_HOST_BRIDGE),
			   "host-bridge");
	KUNIT_EXPECT_STREQ(test, p2pbuf_probe_map_name(P2PBUF_PROBE_MAP_NONE),
			   "none");
	KUNIT_EXPECT_STREQ(test, p2pbuf_probe_map_name(100), "?");
	KUNIT_EXPECT_STREQ(test, p2pbuf_probe_reason_name(-1), "?");
	KUNIT_EXPECT_STREQ(test,
			   p2pbuf_probe_reason_name(P2PBUF_PROBE_REASON_HOST_BRIDGE),
			   "host-bridge-not-whitelisted");
}

static struct kunit_case p2pbuf_probe_test_cases[] = {
	KUNIT_CASE_PARAM(p2pbuf_probe_classify_test, p2pbuf_probe_gen_params),
	KUNIT_CASE(p2pbuf_probe_names_test),
	{ }
};

static struct kunit_suite p2pbuf_probe_test_suite = {
	.name = "p2pbuf_probe",
	.test_cases = p2pbuf_probe_test_cases,
};

kunit_test_suite(p2pbuf_probe_test_suite);

MODULE_IMPORT_NS(P2PBUF);
MODULE_DESCRIPTION("KUnit tests for the p2pbuf topology probe");
MODULE_LICENSE("GPL");
