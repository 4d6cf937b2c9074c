// SPDX-License-Identifier: MIT
/*
 * Unit tests: the p2pbuf tool's argument parsing and output helpers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"
#include "test.h"

static int sizes(void)
{
	uint64_t v;

	CHECK_EQ(cli_parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(cli_parse_size("0x1000", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(cli_parse_size("4K", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(cli_parse_size("4k", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(cli_parse_size("2M", &v), 0);
	CHECK_EQ(v, 2 << 20);
	CHECK_EQ(cli_parse_size("2MiB", &v), 0);
	CHECK_EQ(v, 2 << 20);
	CHECK_EQ(cli_parse_size("1G", &v), 0);
	CHECK_EQ(v, 1 << 30);
	CHECK_EQ(cli_parse_size("", &v), -EINVAL);
	CHECK_EQ(cli_parse_size("M", &v), -EINVAL);
	CHECK_EQ(cli_parse_size("-1", &v), -EINVAL);
	CHECK_EQ(cli_parse_size("4X", &v), -EINVAL);
	CHECK_EQ(cli_parse_size("4MM", &v), -EINVAL);
	CHECK_EQ(cli_parse_size("99999999999999999999", &v), -EINVAL);
	CHECK_EQ(cli_parse_size("17179869184T", &v), -ERANGE);
	return 0;
}

static int numbers(void)
{
	uint64_t v;
	pid_t pid;

	CHECK_EQ(cli_parse_u64("18446744073709551615", &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_EQ(cli_parse_u64("1 ", &v), -EINVAL);
	CHECK_EQ(cli_parse_u64(" 1", &v), -EINVAL);
	CHECK_EQ(cli_parse_pid("1234", &pid), 0);
	CHECK_EQ(pid, 1234);
	CHECK_EQ(cli_parse_pid("0", &pid), -EINVAL);
	CHECK_EQ(cli_parse_pid("4294967297", &pid), -EINVAL);
	return 0;
}

static int buffer_refs(void)
{
	pid_t pid = 0;
	int fd = -1;

	CHECK_EQ(cli_parse_buffer_ref("1234:5", &pid, &fd), 0);
	CHECK_EQ(pid, 1234);
	CHECK_EQ(fd, 5);
	CHECK_EQ(cli_parse_buffer_ref("1234", &pid, &fd), -EINVAL);
	CHECK_EQ(cli_parse_buffer_ref(":5", &pid, &fd), -EINVAL);
	CHECK_EQ(cli_parse_buffer_ref("1234:", &pid, &fd), -EINVAL);
	CHECK_EQ(cli_parse_buffer_ref("0:5", &pid, &fd), -EINVAL);
	CHECK_EQ(cli_parse_buffer_ref("12:5:6", &pid, &fd), -EINVAL);
	CHECK_EQ(cli_parse_buffer_ref("123456789012345678901234567890:1", &pid, &fd), -EINVAL);
	CHECK_EQ(pid, 1234);	/* untouched on failure */
	return 0;
}

static int placements(void)
{
	unsigned int p = 99;

	CHECK_EQ(cli_parse_placement("vram", &p), 0);
	CHECK_EQ(p, P2PBUF_PLACEMENT_VRAM);
	CHECK_EQ(cli_parse_placement("system", &p), 0);
	CHECK_EQ(p, P2PBUF_PLACEMENT_SYSTEM);
	CHECK_EQ(cli_parse_placement("VRAM", &p), -EINVAL);
	return 0;
}

static int json_strings(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f);
	cli_json_string(f, "a\"b\\c\nd\x01");
	fclose(f);
	CHECK(!strcmp(buf, "\"a\\\"b\\\\c\\u000ad\\u0001\""));
	free(buf);
	return 0;
}

static int human_sizes(void)
{
	char s[32];

	cli_human_size(4 << 20, s, sizeof(s));
	CHECK(!strcmp(s, "4 MiB"));
	cli_human_size(1536, s, sizeof(s));
	CHECK(!strcmp(s, "1536 B"));
	cli_human_size(0, s, sizeof(s));
	CHECK(!strcmp(s, "0 B"));
	return 0;
}

static int pattern(void)
{
	/* Different seeds and positions give different bytes. */
	int same = 0;

	for (uint64_t i = 0; i < 4096; i++)
		same += cli_pattern_byte(1, i) == cli_pattern_byte(2, i);
	CHECK(same < 64);
	same = 0;
	for (uint64_t i = 0; i < 4096; i++)
		same += cli_pattern_byte(1, i) == cli_pattern_byte(1, i + 4096);
	CHECK(same < 64);
	return 0;
}

static const struct test tests[] = {
	TEST(sizes),
	TEST(numbers),
	TEST(buffer_refs),
	TEST(placements),
	TEST(json_strings),
	TEST(human_sizes),
	TEST(pattern),
};

int main(void)
{
	return RUN("args", tests);
}
