// SPDX-License-Identifier: MIT
/*
 * Unit tests: the metadata header's wire format, encoding and validation.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "p2pbuf/p2pbuf.h"
#include "test.h"

static struct p2pbuf_meta sample(unsigned int i)
{
	struct p2pbuf_meta m = {
		.size = sizeof(m),
		.buf_size = 1u << 20,
		.offset = 4096 * i,
		.length = 8192,
		.cookie = 0x1122334455667788ull + i,
		.placement = P2PBUF_PLACEMENT_VRAM,
	};

	snprintf(m.name, sizeof(m.name), "buffer-%u", i);
	return m;
}

static int roundtrip(void)
{
	struct p2pbuf_meta in[3] = { sample(0), sample(1), sample(2) };
	struct p2pbuf_meta out[3];
	uint8_t wire[P2PBUF_WIRE_MAX_SIZE];
	unsigned int n = 0;
	size_t used = 0;

	P2PBUF_INIT_ARRAY(out, 3);

	CHECK_EQ(p2pbuf_meta_encode(in, 3, wire, sizeof(wire), &used), 0);
	CHECK_EQ(used, P2PBUF_WIRE_HEADER_SIZE + 3 * P2PBUF_WIRE_ENTRY_SIZE);
	CHECK_EQ(p2pbuf_meta_decode(wire, used, out, 3, &n), 0);
	CHECK_EQ(n, 3);
	CHECK(!memcmp(in, out, sizeof(in)));
	return 0;
}

/* The byte layout is the ABI: pin it down. */
static int layout(void)
{
	struct p2pbuf_meta m = sample(0);
	uint8_t wire[256];
	size_t used;

	CHECK_EQ(p2pbuf_meta_encode(&m, 1, wire, sizeof(wire), &used), 0);
	CHECK(!memcmp(wire, "P2PB", 4));		/* magic, little-endian */
	CHECK_EQ(wire[4] | wire[5] << 8, 1);		/* version */
	CHECK_EQ(wire[6] | wire[7] << 8, 1);		/* count */
	CHECK_EQ(wire[8], P2PBUF_WIRE_ENTRY_SIZE);
	CHECK_EQ(wire[16 + 2], 0x10);			/* size 1 MiB */
	CHECK_EQ(wire[16 + 24], 0x88);			/* cookie, low byte */
	CHECK_EQ(wire[16 + 32], P2PBUF_PLACEMENT_VRAM);
	CHECK(!strcmp((char *)wire + 16 + 40, "buffer-0"));
	return 0;
}

static int encode_rejects(void)
{
	struct p2pbuf_meta m = sample(0), many[P2PBUF_MAX_BUFFERS + 1];
	uint8_t wire[P2PBUF_WIRE_MAX_SIZE + 128];
	size_t used = 0;

	CHECK_EQ(p2pbuf_meta_encode(&m, 0, wire, sizeof(wire), &used), -EINVAL);
	for (unsigned int i = 0; i <= P2PBUF_MAX_BUFFERS; i++)
		many[i] = sample(0);
	CHECK_EQ(p2pbuf_meta_encode(many, P2PBUF_MAX_BUFFERS + 1, wire,
				    sizeof(wire), &used), -EINVAL);
	CHECK_EQ(p2pbuf_meta_encode(&m, 1, wire, 20, &used), -ENOSPC);
	m.length = 0;
	CHECK_EQ(p2pbuf_meta_encode(&m, 1, wire, sizeof(wire), &used), -EINVAL);
	m = sample(0);
	m.offset = m.buf_size - 4096;	/* range runs past the end */
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m = sample(0);
	m.offset = UINT64_MAX - 10;	/* overflow */
	m.length = 100;
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m = sample(0);
	m.flags = 1;
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m = sample(0);
	m.placement = 7;
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	m = sample(0);
	memset(m.name, 'x', sizeof(m.name));	/* no NUL */
	CHECK_EQ(p2pbuf_meta_validate(&m), -EINVAL);
	CHECK_EQ(used, 0);	/* untouched on failure */
	return 0;
}

static size_t good(uint8_t *wire, unsigned int count)
{
	struct p2pbuf_meta m[4] = { sample(0), sample(1), sample(2), sample(3) };
	size_t used = 0;

	p2pbuf_meta_encode(m, count, wire, P2PBUF_WIRE_MAX_SIZE, &used);
	return used;
}

static int decode_rejects(void)
{
	uint8_t wire[P2PBUF_WIRE_MAX_SIZE + 8];
	struct p2pbuf_meta out[4];
	unsigned int n = 99;
	size_t len;

	P2PBUF_INIT_ARRAY(out, 4);

	len = good(wire, 2);
	CHECK_EQ(p2pbuf_meta_decode(wire, 0, out, 4, &n), -EBADMSG);
	CHECK_EQ(p2pbuf_meta_decode(wire, 15, out, 4, &n), -EBADMSG);
	CHECK_EQ(p2pbuf_meta_decode(wire, len - 1, out, 4, &n), -EBADMSG);
	CHECK_EQ(p2pbuf_meta_decode(wire, len + 1, out, 4, &n), -EBADMSG);
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 1, &n), -ENOSPC);

	len = good(wire, 2);
	wire[0] ^= 1;				/* magic */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 2);
	wire[4] = 2;				/* version */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 2);
	wire[6] = 0;				/* count 0 */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 2);
	wire[6] = 3;				/* count disagrees with length */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 2);
	wire[8] = 8;				/* entry too small */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 2);
	wire[12] = 1;				/* reserved */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 2);
	wire[16 + P2PBUF_WIRE_ENTRY_SIZE + 36] = 1;	/* flags, entry 1 */
	memset(out, 0x5a, sizeof(out));
	out[0].size = sizeof(out[0]);
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	/* Entry 0 was good, but nothing is stored when entry 1 is bad. */
	for (size_t i = sizeof(out[0].size); i < sizeof(out); i++)
		CHECK_EQ(((const uint8_t *)out)[i], 0x5a);
	P2PBUF_INIT_ARRAY(out, 4);
	len = good(wire, 1);
	wire[16 + 40 + 31] = 'x';		/* byte hidden after the NUL */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 1);
	memset(wire + 16 + 40, 'a', 32);	/* unterminated name */
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	len = good(wire, 1);
	wire[16 + 16] = 0;			/* length 0 */
	wire[16 + 17] = 0;
	CHECK_EQ(p2pbuf_meta_decode(wire, len, out, 4, &n), -EBADMSG);
	CHECK_EQ(n, 99);			/* untouched on failure */
	return 0;
}

/* A later minor revision appends to entries: old readers skip the rest. */
static int decode_longer_entries(void)
{
	uint8_t wire[16 + 2 * 80], old[P2PBUF_WIRE_MAX_SIZE];
	struct p2pbuf_meta out[2], want[2] = { sample(0), sample(1) };
	unsigned int n;

	P2PBUF_INIT_ARRAY(out, 2);
	good(old, 2);
	memset(wire, 0, sizeof(wire));
	memcpy(wire, old, 16);
	wire[8] = 80;
	memcpy(wire + 16, old + 16, 72);
	memcpy(wire + 16 + 80, old + 16 + 72, 72);
	wire[16 + 72] = 0xee;	/* a future field */
	CHECK_EQ(p2pbuf_meta_decode(wire, sizeof(wire), out, 2, &n), 0);
	CHECK_EQ(n, 2);
	CHECK(!memcmp(out, want, sizeof(want)));
	return 0;
}

/* Every single-byte corruption is either rejected or decodes to valid data. */
static int decode_fuzz(void)
{
	uint8_t wire[P2PBUF_WIRE_MAX_SIZE], bad[P2PBUF_WIRE_MAX_SIZE];
	struct p2pbuf_meta out[4];
	size_t len = good(wire, 4);
	unsigned int n;

	P2PBUF_INIT_ARRAY(out, 4);

	for (size_t i = 0; i < len; i++) {
		for (unsigned int bit = 0; bit < 8; bit++) {
			int ret;

			memcpy(bad, wire, len);
			bad[i] ^= (uint8_t)(1u << bit);
			ret = p2pbuf_meta_decode(bad, len, out, 4, &n);
			CHECK(ret == 0 || ret == -EBADMSG || ret == -ENOSPC);
			if (!ret)
				for (unsigned int k = 0; k < n; k++)
					CHECK_EQ(p2pbuf_meta_validate(&out[k]), 0);
		}
	}
	return 0;
}

static int names(void)
{
	const char *s = NULL;

	CHECK_EQ(p2pbuf_placement_name(P2PBUF_PLACEMENT_VRAM, &s), 0);
	CHECK(!strcmp(s, "vram"));
	CHECK_EQ(p2pbuf_placement_name(3, &s), -EINVAL);
	CHECK_EQ(p2pbuf_map_name(P2PBUF_MAP_BUS_ADDRESS, &s), 0);
	CHECK(!strcmp(s, "bus-address"));
	CHECK_EQ(p2pbuf_map_name(-1, &s), -EINVAL);
	CHECK_EQ(p2pbuf_reason_name(P2PBUF_REASON_ACS_REDIRECT, &s), 0);
	CHECK(!strcmp(s, "acs-redirect"));
	CHECK_EQ(p2pbuf_reason_name(1000, &s), -EINVAL);
	return 0;
}

static const struct test tests[] = {
	TEST(roundtrip),
	TEST(layout),
	TEST(encode_rejects),
	TEST(decode_rejects),
	TEST(decode_longer_entries),
	TEST(decode_fuzz),
	TEST(names),
};

int main(void)
{
	return RUN("meta", tests);
}
