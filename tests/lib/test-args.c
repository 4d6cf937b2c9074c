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
#include <pthread.h>
#include <signal.h>
#include <time.h>
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
	int argc = 0, null, out, err, ret;

	argv[argc++] = (char *)"cmd";
	while (*words && argc < 31)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	memset(o, 0, sizeof(*o));
	/* The messages are test-cli's business: quiet here. */
	cli_json = 0;
	fflush(stdout);
	fflush(stderr);
	out = dup(STDOUT_FILENO);
	err = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
	ret = cli_parse_options(argc, argv, accept, o, pos, max_pos, npos,
				count_help);
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	cli_json = 0;
	return ret;
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
	/* Usage errors: EXIT_USAGE, a message naming it, no help text. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"a", "b", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse("--json", &o, pos, 1, &n, (const char *const[]){
		"--hold", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size", "0", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size=0", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size=", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--count", "33", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--placement", "gpu", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--importer", "none", NULL }), EXIT_USAGE);
	/* A prefix of an accepted option is not that option. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--js", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--si=4K", NULL }), EXIT_USAGE);
	/* No value for an option that takes none; no short options but -h. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--json=1", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"-j", NULL }), EXIT_USAGE);
	/* Octal is not a number here: "08" is 8, "0x" alone nothing. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--pattern", "0x", NULL }), EXIT_USAGE);
	CHECK_EQ(helps, 0);
	/* --help wherever it is: -1, parsing stops. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--size", "1K", "-h", "--bogus", NULL }), -1);
	CHECK_EQ(helps, 1);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"a", "--help", NULL }), -1);
	CHECK_EQ(helps, 2);
	/* --version: -1 too, without help. */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--version", NULL }), -1);
	CHECK_EQ(helps, 2);
	/* serve's and rdma-read's --passive: a flag, for those that take it. */
	CHECK_EQ(run_parse("--port --passive", &o, pos, 1, &n, (const char *const[]){
		"--passive", "--port=7471", "1:2", NULL }), 0);
	CHECK(o.passive && o.port == 7471 && n == 1);
	CHECK_EQ(run_parse("--port --passive", &o, pos, 1, &n, (const char *const[]){
		"1:2", NULL }), 0);
	CHECK(!o.passive);
	CHECK_EQ(run_parse("--port --passive", &o, pos, 1, &n, (const char *const[]){
		"--passive=1", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse("--port --passive", &o, pos, 1, &n, (const char *const[]){
		"--pass", NULL }), EXIT_USAGE);
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--passive", NULL }), EXIT_USAGE);
	/* "-" alone is a positional argument (stdin, say). */
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"-", NULL }), 0);
	CHECK(n == 1 && !strcmp(pos[0], "-"));
	return 0;
}

/* getopt_long's forms: --opt=VALUE, options after arguments, "--". */
static int option_forms(void)
{
	const char *all = "--json --size --device --udmabuf --pattern --name";
	const char *pos[2];
	struct opts o;
	int n, r;

	CHECK_EQ(run_parse(all, &o, pos, 2, &n, (const char *const[]){
		"--size=2M", "a", "--device=p2pgem", "--pattern=010", "--json",
		NULL }), 0);
	CHECK_EQ(o.size, 2 << 20);
	CHECK(!strcmp(o.device, "p2pgem"));
	CHECK(o.have_pattern && o.pattern == 10 && o.json);
	CHECK(n == 1 && !strcmp(pos[0], "a"));
	/* A value may begin with a dash, in either form. */
	CHECK_EQ(run_parse(all, &o, pos, 2, &n, (const char *const[]){
		"--name", "--json", "--name=-x", NULL }), 0);
	CHECK(!strcmp(o.name, "-x") && !o.json && n == 0);
	/* After "--" only arguments, even ones that look like options. */
	CHECK_EQ(run_parse(all, &o, pos, 2, &n, (const char *const[]){
		"--json", "--", "-5", "--size", NULL }), 0);
	CHECK(o.json && !o.size && n == 2);
	CHECK(!strcmp(pos[0], "-5") && !strcmp(pos[1], "--size"));
	CHECK_EQ(run_parse(all, &o, pos, 1, &n, (const char *const[]){
		"--", "a", "b", NULL }), EXIT_USAGE);
	/* POSIXLY_CORRECT does not stop the options at the first argument. */
	setenv("POSIXLY_CORRECT", "1", 1);
	r = run_parse(all, &o, pos, 2, &n, (const char *const[]){
		"a", "--json", NULL });
	unsetenv("POSIXLY_CORRECT");
	CHECK_EQ(r, 0);
	CHECK(o.json);
	return 0;
}

/* Error words: what a user can act on, for the errors commands meet. */
static int error_words(void)
{
	CHECK(strstr(cli_error_words(CLI_OP_TAKE, -EPERM), "ptrace"));
	CHECK(strstr(cli_error_words(CLI_OP_TAKE, EPERM), "ptrace"));
	CHECK(!strcmp(cli_error_words(CLI_OP_TAKE, -ESRCH), "no such process"));
	CHECK(!strcmp(cli_error_words(CLI_OP_TAKE, -EBADFD), "not a dma-buf"));
	CHECK(strstr(cli_error_words(CLI_OP_TAKE, -EBADF), "no such descriptor"));
	CHECK(strstr(cli_error_words(CLI_OP_ALLOC, -ENOENT), "udmabuf"));
	CHECK(strstr(cli_error_words(CLI_OP_LISTEN, -EADDRINUSE), "left alone"));
	CHECK(strstr(cli_error_words(CLI_OP_CONNECT, -ECONNREFUSED), "nobody"));
	CHECK(strstr(cli_error_words(CLI_OP_ACCESS, -EACCES), "read-only"));
	/* Others: strerror's words. */
	CHECK(!strcmp(cli_error_words(CLI_OP_TAKE, -EIO), strerror(EIO)));
	return 0;
}

/*
 * alloc --hold's wait, with @in as what it watches: after 200 ms a helper
 * thread closes @release (if >= 0) or sends the process SIGTERM. The wait
 * must last that long and return @want (0: the end of @in; or SIGTERM).
 */
struct hold_helper {
	int release;
};

static void *hold_helper(void *arg)
{
	struct hold_helper *hh = arg;
	struct timespec ms200 = { 0, 200000000 };

	nanosleep(&ms200, NULL);
	if (hh->release >= 0)
		close(hh->release);
	else
		kill(getpid(), SIGTERM);
	return NULL;
}

static int hold_case(int in, int release, int want)
{
	struct hold_helper hh = { release };
	struct timespec t0, t1;
	struct cli_hold h;
	pthread_t t;
	int got;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cli_hold_start(&h);
	/* Started after: the helper inherits the blocked signals. */
	if (pthread_create(&t, NULL, hold_helper, &hh))
		return -1;
	got = cli_hold_wait(&h, in);
	pthread_join(t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (got != want || ms < 150) {
		fprintf(stderr, "    hold: returned %d after %ld ms, want %d\n",
			got, ms, want);
		return -1;
	}
	return 0;
}

static int hold(void)
{
	char path[] = "/tmp/p2pbuf-test-hold.XXXXXX";
	int null, file, p[2];

	/* /dev/null, as a background job has: held until a signal. */
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(null >= 0);
	CHECK_EQ(hold_case(null, -1, SIGTERM), 0);
	close(null);
	/* A file at its end: the same. */
	file = mkostemp(path, O_CLOEXEC);
	CHECK(file >= 0);
	unlink(path);
	CHECK_EQ(hold_case(file, -1, SIGTERM), 0);
	close(file);
	/* Closed stdin: the same. */
	CHECK_EQ(hold_case(-1, -1, SIGTERM), 0);
	/* A pipe: held while its writer has it open, released at its end... */
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ(write(p[1], "x\n", 2), 2);	/* data is no release */
	CHECK_EQ(hold_case(p[0], p[1], 0), 0);
	close(p[0]);
	/* ... and by a signal too. */
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ(hold_case(p[0], -1, SIGTERM), 0);
	close(p[0]);
	close(p[1]);
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
	TEST(option_forms),
	TEST(error_words),
	TEST(hold),
};

int main(void)
{
	return RUN("args", tests);
}
