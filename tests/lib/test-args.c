// SPDX-License-Identifier: MIT
/*
 * Unit tests: the p2pbuf tool's argument parsing and output helpers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

/* Decimal, or hexadecimal after 0x, as the help says: never octal. */
static int no_octal(void)
{
	uint64_t v;
	pid_t pid;

	CHECK_EQ(cli_parse_u64("010", &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(cli_parse_u64("08", &v), 0);
	CHECK_EQ(v, 8);
	CHECK_EQ(cli_parse_u64("0x10", &v), 0);
	CHECK_EQ(v, 16);
	CHECK_EQ(cli_parse_u64("0XfF", &v), 0);
	CHECK_EQ(v, 255);
	CHECK_EQ(cli_parse_u64("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(cli_parse_u64("0x", &v), -EINVAL);
	CHECK_EQ(cli_parse_u64("0x-1", &v), -EINVAL);
	CHECK_EQ(cli_parse_u64("0x 1", &v), -EINVAL);
	CHECK_EQ(cli_parse_u64("0x+1", &v), -EINVAL);
	CHECK_EQ(cli_parse_u64("0b1", &v), -EINVAL);
	CHECK_EQ(cli_parse_pid("010", &pid), 0);
	CHECK_EQ(pid, 10);
	CHECK_EQ(cli_parse_size("010K", &v), 0);
	CHECK_EQ(v, 10 << 10);
	CHECK_EQ(cli_parse_size("0x10K", &v), 0);
	CHECK_EQ(v, 16 << 10);
	CHECK_EQ(cli_parse_size("0xK", &v), -EINVAL);
	return 0;
}

/* Names other processes choose reach the terminal escaped. */
static int escapes(void)
{
	char buf[64];

	cli_escape("frame 0: \"left\"", buf, sizeof(buf));
	CHECK(!strcmp(buf, "frame 0: \"left\""));
	cli_escape("x\nexp_name:\tudmabuf", buf, sizeof(buf));
	CHECK(!strcmp(buf, "x\\nexp_name:\\tudmabuf"));
	cli_escape("\x1b[2J\\\x7f\xc3\xa9", buf, sizeof(buf));
	CHECK(!strcmp(buf, "\\x1b[2J\\\\\\x7f\\xc3\\xa9"));
	/* Cut at a whole escape, always terminated. */
	cli_escape("ab\n", buf, 4);
	CHECK(!strcmp(buf, "ab"));
	cli_escape("\x01", buf, 4);
	CHECK(!strcmp(buf, ""));
	return 0;
}

/* share's socket: what was there before stays; only its own socket goes. */
static int listen_unlink(void)
{
	char dir[] = "/tmp/p2pbuf-test-args.XXXXXX", path[64];
	struct cli_bound a = { 0 }, b = { 0 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, fa, fb, c;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	/* An ordinary file given by mistake. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(cli_listen(path, &fa, &a), -EADDRINUSE);
	cli_unlisten(path, -1, &a);
	CHECK(!stat(path, &st) && S_ISREG(st.st_mode));
	CHECK_EQ(unlink(path), 0);

	/* A second listener leaves the first one's live socket alone. */
	CHECK_EQ(cli_listen(path, &fa, &a), 0);
	CHECK_EQ(cli_listen(path, &fb, &b), -EADDRINUSE);
	cli_unlisten(path, -1, &b);
	memcpy(sun.sun_path, path, strlen(path));
	c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(c >= 0);
	CHECK_EQ(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(c);
	/* Its own goes. */
	cli_unlisten(path, fa, &a);
	CHECK(stat(path, &st) && errno == ENOENT);

	/* Replaced meanwhile by someone else: theirs stays. */
	CHECK_EQ(cli_listen(path, &fa, &a), 0);
	CHECK_EQ(unlink(path), 0);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	cli_unlisten(path, fa, &a);
	CHECK(!stat(path, &st) && S_ISREG(st.st_mode));
	unlink(path);
	rmdir(dir);
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
	TEST(no_octal),
	TEST(escapes),
	TEST(listen_unlink),
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
