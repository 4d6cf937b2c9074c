// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for p2pgem's placement decisions and visible-window rule.
 *
 * Needs p2pgem.ko loaded (the functions under test are exported to
 * EXPORTED_FOR_KUNIT_TESTING).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include <drm/p2pgem_drm.h>

#include "p2pgem_placement.h"

#define VRAM_PAGES	(SZ_64M >> PAGE_SHIFT)
#define VISIBLE_PAGES	(SZ_16M >> PAGE_SHIFT)

struct p2pgem_create_case {
	const char *name;
	u64 size;
	u32 placement;
	u32 flags;
	int ret;
};

static const struct p2pgem_create_case p2pgem_create_cases[] = {
	{ "zero size", 0, P2PGEM_PLACEMENT_VRAM, 0, -EINVAL },
	{ "one byte", 1, P2PGEM_PLACEMENT_VRAM, 0, 0 },
	{ "all of vram", SZ_64M, P2PGEM_PLACEMENT_VRAM, 0, 0 },
	{ "vram plus a page", SZ_64M + PAGE_SIZE, P2PGEM_PLACEMENT_VRAM, 0,
	  -E2BIG },
	{ "preferred over vram", SZ_128M, P2PGEM_PLACEMENT_VRAM_PREFERRED, 0,
	  0 },
	{ "system over vram", SZ_128M, P2PGEM_PLACEMENT_SYSTEM, 0, 0 },
	{ "over system", SZ_1G + PAGE_SIZE, P2PGEM_PLACEMENT_SYSTEM, 0,
	  -E2BIG },
	{ "overflow", U64_MAX, P2PGEM_PLACEMENT_SYSTEM, 0, -E2BIG },
	{ "overflow by rounding", U64_MAX - PAGE_SIZE + 2,
	  P2PGEM_PLACEMENT_SYSTEM, 0, -E2BIG },
	{ "placement 0", PAGE_SIZE, 0, 0, -EINVAL },
	{ "placement 4", PAGE_SIZE, 4, 0, -EINVAL },
	{ "unknown flag", PAGE_SIZE, P2PGEM_PLACEMENT_VRAM, 1u << 31,
	  -EINVAL },
	{ "contiguous system", PAGE_SIZE, P2PGEM_PLACEMENT_SYSTEM,
	  P2PGEM_CREATE_CONTIGUOUS, -EINVAL },
	{ "contiguous vram", SZ_32M + 1, P2PGEM_PLACEMENT_VRAM,
	  P2PGEM_CREATE_CONTIGUOUS, 0 },
	{ "cpu access fits", SZ_16M, P2PGEM_PLACEMENT_VRAM,
	  P2PGEM_CREATE_CPU_ACCESS, 0 },
	{ "cpu access too big", SZ_16M + 1, P2PGEM_PLACEMENT_VRAM,
	  P2PGEM_CREATE_CPU_ACCESS, -E2BIG },
	{ "contiguous cpu access", SZ_8M + 1, P2PGEM_PLACEMENT_VRAM,
	  P2PGEM_CREATE_CONTIGUOUS | P2PGEM_CREATE_CPU_ACCESS, 0 },
};

static void p2pgem_create_desc(const struct p2pgem_create_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(p2pgem_create, p2pgem_create_cases, p2pgem_create_desc);

static void p2pgem_check_create_test(struct kunit *test)
{
	const struct p2pgem_create_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, p2pgem_check_create(c->size, c->placement,
						  c->flags, SZ_64M, SZ_16M,
						  SZ_1G),
			c->ret);
}

/* A 48 MiB heap: the largest contiguous block is 32 MiB. */
static void p2pgem_check_create_contiguous_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, p2pgem_check_create(SZ_32M,
						  P2PGEM_PLACEMENT_VRAM,
						  P2PGEM_CREATE_CONTIGUOUS,
						  SZ_32M + SZ_16M, SZ_32M,
						  SZ_1G), 0);
	KUNIT_EXPECT_EQ(test, p2pgem_check_create(SZ_32M + 1,
						  P2PGEM_PLACEMENT_VRAM,
						  P2PGEM_CREATE_CONTIGUOUS,
						  SZ_32M + SZ_16M, SZ_32M,
						  SZ_1G), -E2BIG);
}

static void p2pgem_placement_create_test(struct kunit *test)
{
	struct p2pgem_placement pl;

	p2pgem_placement_create(&pl, P2PGEM_PLACEMENT_VRAM, 0, VISIBLE_PAGES,
				VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.placement.num_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.placement.num_busy_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.places[0].mem_type, TTM_PL_VRAM);
	KUNIT_EXPECT_EQ(test, pl.places[0].lpfn, 0u);
	KUNIT_EXPECT_TRUE(test, pl.places[0].flags & TTM_PL_FLAG_TOPDOWN);

	p2pgem_placement_create(&pl, P2PGEM_PLACEMENT_VRAM,
				P2PGEM_CREATE_CPU_ACCESS |
				P2PGEM_CREATE_CONTIGUOUS,
				VISIBLE_PAGES, VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.places[0].lpfn, (unsigned int)VISIBLE_PAGES);
	KUNIT_EXPECT_FALSE(test, pl.places[0].flags & TTM_PL_FLAG_TOPDOWN);
	KUNIT_EXPECT_TRUE(test, pl.places[0].flags & TTM_PL_FLAG_CONTIGUOUS);

	p2pgem_placement_create(&pl, P2PGEM_PLACEMENT_VRAM_PREFERRED, 0,
				VISIBLE_PAGES, VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.placement.num_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.placement.num_busy_placement, 0u);
	KUNIT_EXPECT_EQ(test, pl.places[0].mem_type, TTM_PL_VRAM);
	KUNIT_EXPECT_TRUE(test, pl.places[0].flags & TTM_PL_FLAG_TOPDOWN);

	p2pgem_placement_create(&pl, P2PGEM_PLACEMENT_SYSTEM, 0,
				VISIBLE_PAGES, VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.placement.num_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.places[0].mem_type, TTM_PL_SYSTEM);

	/* A window as large as VRAM needs no range and no top-down. */
	p2pgem_placement_create(&pl, P2PGEM_PLACEMENT_VRAM, 0, VRAM_PAGES,
				VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.places[0].lpfn, 0u);
	KUNIT_EXPECT_EQ(test, pl.places[0].flags, 0u);
}

static void p2pgem_fault_action_test(struct kunit *test)
{
	/* In VRAM: mapped only when entirely in the window. */
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_VRAM,
						  P2PGEM_PLACEMENT_VRAM, 0,
						  16, 16, VISIBLE_PAGES),
			P2PGEM_FAULT_MAP);
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_VRAM,
						  P2PGEM_PLACEMENT_VRAM, 0,
						  16, 15, VISIBLE_PAGES),
			P2PGEM_FAULT_MOVE_VISIBLE);
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_VRAM,
						  P2PGEM_PLACEMENT_VRAM_PREFERRED,
						  0, 16, 0, VISIBLE_PAGES),
			P2PGEM_FAULT_MOVE_VISIBLE);
	/* In system memory: VRAM buffers come back when they fit. */
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_SYSTEM,
						  P2PGEM_PLACEMENT_SYSTEM, 0,
						  16, 0, VISIBLE_PAGES),
			P2PGEM_FAULT_MAP);
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_SYSTEM,
						  P2PGEM_PLACEMENT_VRAM, 0,
						  16, 0, VISIBLE_PAGES),
			P2PGEM_FAULT_RETURN_VRAM);
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_SYSTEM,
						  P2PGEM_PLACEMENT_VRAM, 0,
						  VISIBLE_PAGES + 1, 0,
						  VISIBLE_PAGES),
			P2PGEM_FAULT_MAP);
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_SYSTEM,
						  P2PGEM_PLACEMENT_VRAM,
						  P2PGEM_CREATE_CONTIGUOUS,
						  VISIBLE_PAGES / 2 + 1, 0,
						  VISIBLE_PAGES),
			P2PGEM_FAULT_RETURN_VRAM);
	KUNIT_EXPECT_EQ(test, p2pgem_fault_action(TTM_PL_SYSTEM,
						  P2PGEM_PLACEMENT_VRAM,
						  P2PGEM_CREATE_CONTIGUOUS,
						  VISIBLE_PAGES + 1, 0,
						  VISIBLE_PAGES),
			P2PGEM_FAULT_MAP);
}

static void p2pgem_placement_fault_test(struct kunit *test)
{
	struct p2pgem_placement pl;

	/* Into the window, else system memory. */
	p2pgem_placement_fault(&pl, P2PGEM_FAULT_MOVE_VISIBLE,
			       P2PGEM_PLACEMENT_VRAM, 0, VISIBLE_PAGES,
			       VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.placement.num_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.placement.num_busy_placement, 2u);
	KUNIT_EXPECT_EQ(test, pl.places[0].lpfn, (unsigned int)VISIBLE_PAGES);
	KUNIT_EXPECT_EQ(test, pl.places[1].mem_type, TTM_PL_SYSTEM);

	/* Back to VRAM: evicting for VRAM buffers, never for preferred. */
	p2pgem_placement_fault(&pl, P2PGEM_FAULT_RETURN_VRAM,
			       P2PGEM_PLACEMENT_VRAM, 0, VISIBLE_PAGES,
			       VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.placement.num_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.placement.num_busy_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.places[0].mem_type, TTM_PL_VRAM);
	KUNIT_EXPECT_EQ(test, pl.places[0].lpfn, (unsigned int)VISIBLE_PAGES);

	p2pgem_placement_fault(&pl, P2PGEM_FAULT_RETURN_VRAM,
			       P2PGEM_PLACEMENT_VRAM_PREFERRED, 0,
			       VISIBLE_PAGES, VRAM_PAGES);
	KUNIT_EXPECT_EQ(test, pl.placement.num_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.placement.num_busy_placement, 0u);

	p2pgem_placement_system(&pl);
	KUNIT_EXPECT_EQ(test, pl.placement.num_placement, 1u);
	KUNIT_EXPECT_EQ(test, pl.places[0].mem_type, TTM_PL_SYSTEM);
}

static void p2pgem_visible_overlap_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, p2pgem_visible_overlap(0, 8, 16), 8ul);
	KUNIT_EXPECT_EQ(test, p2pgem_visible_overlap(12, 8, 16), 4ul);
	KUNIT_EXPECT_EQ(test, p2pgem_visible_overlap(16, 8, 16), 0ul);
	KUNIT_EXPECT_EQ(test, p2pgem_visible_overlap(100, 8, 16), 0ul);
	KUNIT_EXPECT_EQ(test, p2pgem_visible_overlap(0, 32, 16), 16ul);
}

static void p2pgem_refused_action_test(struct kunit *test)
{
	/* Not pinned: the map moves it to system memory. */
	KUNIT_EXPECT_EQ(test, p2pgem_refused_action(0, false, 0),
			P2PGEM_REFUSED_TO_SYSTEM);
	/* Pinned in system memory already: mapped there. */
	KUNIT_EXPECT_EQ(test, p2pgem_refused_action(2, false, 1),
			P2PGEM_REFUSED_TO_SYSTEM);
	/* Pinned in VRAM by the refused attachment alone (the core's pin). */
	KUNIT_EXPECT_EQ(test, p2pgem_refused_action(1, true, 1),
			P2PGEM_REFUSED_REPIN_SYSTEM);
	KUNIT_EXPECT_EQ(test, p2pgem_refused_action(2, true, 2),
			P2PGEM_REFUSED_REPIN_SYSTEM);
	/* Another importer's pin, or a vmap's, keeps it in VRAM. */
	KUNIT_EXPECT_EQ(test, p2pgem_refused_action(2, true, 1),
			P2PGEM_REFUSED_BUSY);
	KUNIT_EXPECT_EQ(test, p2pgem_refused_action(1, true, 0),
			P2PGEM_REFUSED_BUSY);
}

static struct kunit_case p2pgem_test_cases[] = {
	KUNIT_CASE_PARAM(p2pgem_check_create_test, p2pgem_create_gen_params),
	KUNIT_CASE(p2pgem_check_create_contiguous_test),
	KUNIT_CASE(p2pgem_placement_create_test),
	KUNIT_CASE(p2pgem_fault_action_test),
	KUNIT_CASE(p2pgem_placement_fault_test),
	KUNIT_CASE(p2pgem_visible_overlap_test),
	KUNIT_CASE(p2pgem_refused_action_test),
	{}
};

static struct kunit_suite p2pgem_test_suite = {
	.name = "p2pgem",
	.test_cases = p2pgem_test_cases,
};

kunit_test_suite(p2pgem_test_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for p2pgem");
MODULE_LICENSE("GPL");
