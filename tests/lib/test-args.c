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

static int importers(void)
{
	unsigned int k = 99;

	CHECK_EQ(cli_parse_importer("p2p", &k), 0);
	CHECK_EQ(k, P2PBUF_IMPORTER_P2P);
	CHECK_EQ(cli_parse_importer("dynamic", &k), 0);
	CHECK_EQ(k, P2PBUF_IMPORTER_DYNAMIC);
	CHECK_EQ(cli_parse_importer("static", &k), 0);
	CHECK_EQ(k, P2PBUF_IMPORTER_STATIC);
	k = 99;
	CHECK_EQ(cli_parse_importer("Static", &k), -EINVAL);
	CHECK_EQ(cli_parse_importer("", &k), -EINVAL);
	CHECK_EQ(k, 99);
	return 0;
}

static int helps;

static void count_help(FILE *out)
{
	(void)out;
	helps++;
}

/* cli_parse_options() over an argv built from words; frees nothing. */
static int run_parse(const char *accept, struct opts *o, const char **pos,
		     int max_pos, int *npos, const char *const *words)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"cmd";
	while (*words && argc < 31)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	memset(o, 0, sizeof(*o));
	return cli_parse_options(argc, argv, accept, o, pos, max_pos, npos,
				 count_help);
}

static int options(void)
{
	const char *all = "--json --size --device --udmabuf --count --placement --name --pattern --hold --importer";
	const char *pos[2];
	struct opts o;
	int n;

	CHECK_EQ(run_parse(all, &o, pos, 2, &n, (const char *const[]){
		"a", "--size", "2M", "--device", "p2pgem", "--json", "--count", "32",
		"--placement", "vram", "--pattern", "0x10", "--hold",
		"--importer", "static", "b", NULL }), 0);
	CHECK_EQ(n, 2);
	CHECK(!strcmp(pos[0], "a") && !strcmp(pos[1], "b"));
	CHECK_EQ(o.size, 2 << 20);
	CHECK(!strcmp(o.device, "p2pgem"));
	CHECK(o.json && o.hold && o.have_pattern);
	CHECK_EQ(o.count, 32);
	CHECK_EQ(o.placement, P2PBUF_PLACEMENT_VRAM);
	CHECK_EQ(o.pattern, 16);
	CHECK_EQ(o.importer, P2PBUF_IMPORTER_STATIC);
	/* --udmabuf after --device wins. */
	CHECK_EQ(run_parse(all, &o, pos, 0, &n, (const char *const[]){
		"--device", "vgem", "--udmabuf", NULL }), 0);
	CHECK(!o.device);

	helps = 0;
	/* Usage errors: help on stderr, EXIT_USAGE. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"a", "b", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse("--json", &o, pos, 1, &n, (const char *const[]){
		"--hold", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size", "0", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--count", "33", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--placement", "gpu", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--importer", "none", NULL }), EXIT_USAGE);
	/* A prefix of an accepted option is not that option. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--js", NULL }), EXIT_USAGE);
	CHECK_EQ(helps, 8);
	/* --help wherever it is: -1, parsing stops. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size", "1K", "-h", "--bogus", NULL }), -1);
	CHECK_EQ(helps, 9);
	/* "-" alone is a positional argument (stdin, say). */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"-", NULL }), 0);
	CHECK(n == 1 && !strcmp(pos[0], "-"));
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
	TEST(importers),
	TEST(options),
};

int main(void)
{
	return RUN("args", tests);
}
