// SPDX-License-Identifier: MIT
/*
 * Unit tests: parsing /proc/PID/fdinfo, and listing a process's dma-bufs
 * (the host has none: the list must be empty, not an error).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "test.h"

/* As Linux 6.1 prints it for a named vgem buffer. */
static const char vgem[] =
	"pos:\t0\n"
	"flags:\t02000002\n"
	"mnt_id:\t15\n"
	"ino:\t2345\n"
	"size:\t4194304\n"
	"count:\t2\n"
	"exp_name:\tvgem\n"
	"name:\tframe 0: \"left\"\n";

static int parse_dmabuf(void)
{
	struct p2pbuf_dmabuf_info info = { .size = sizeof(info), .fd = 7 };

	CHECK_EQ(p2pbuf_fdinfo_parse(vgem, &info), 0);
	CHECK_EQ(info.fd, 7);
	CHECK_EQ(info.inode, 2345);
	CHECK_EQ(info.buf_size, 4194304);
	CHECK_EQ(info.count, 2);
	CHECK_EQ(info.flags, 02000002);
	CHECK(!strcmp(info.exporter, "vgem"));
	CHECK(!strcmp(info.name, "frame 0: \"left\""));
	return 0;
}

static int parse_unnamed_no_newline(void)
{
	struct p2pbuf_dmabuf_info info = { .size = sizeof(info) };

	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t8192\ncount:\t1\nexp_name:\tudmabuf", &info), 0);
	CHECK_EQ(info.buf_size, 8192);
	CHECK(!strcmp(info.exporter, "udmabuf"));
	CHECK(!strcmp(info.name, ""));
	return 0;
}

static int parse_not_dmabuf(void)
{
	struct p2pbuf_dmabuf_info info = { .size = sizeof(info), .fd = 3, .buf_size = 99 };

	CHECK_EQ(p2pbuf_fdinfo_parse("pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t5\n", &info), -ENOENT);
	CHECK_EQ(p2pbuf_fdinfo_parse("", &info), -ENOENT);
	CHECK_EQ(info.buf_size, 99);	/* untouched */
	return 0;
}

static int parse_malformed(void)
{
	struct p2pbuf_dmabuf_info info = { .size = sizeof(info) };

	CHECK_EQ(p2pbuf_fdinfo_parse("size:\tlots\nexp_name:\tx\n", &info), -EBADMSG);
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t12x\nexp_name:\tx\n", &info), -EBADMSG);
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t-1\nexp_name:\tx\n", &info), -EBADMSG);
	CHECK_EQ(p2pbuf_fdinfo_parse("exp_name:\tx\n", &info), -EBADMSG);
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t1\nflags:\t9\nexp_name:\tx\n", &info), -EBADMSG);
	CHECK_EQ(p2pbuf_fdinfo_parse(NULL, &info), -EINVAL);
	return 0;
}

static int parse_long_values(void)
{
	struct p2pbuf_dmabuf_info info = { .size = sizeof(info) };
	char text[512];

	snprintf(text, sizeof(text), "size:\t1\nexp_name:\t%0200d\nname:\t%0100d\n", 1, 2);
	CHECK_EQ(p2pbuf_fdinfo_parse(text, &info), 0);
	CHECK_EQ(strlen(info.exporter), sizeof(info.exporter) - 1);
	CHECK_EQ(strlen(info.name), sizeof(info.name) - 1);
	return 0;
}

/*
 * The kernel prints the name last and as its owner set it, newlines
 * included: nothing in it may pass for another key.
 */
static int name_cannot_override(void)
{
	struct p2pbuf_dmabuf_info info = { .size = sizeof(info) };

	CHECK_EQ(p2pbuf_fdinfo_parse("pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t9\n"
		"size:\t4096\ncount:\t1\nexp_name:\tdrm\n"
		"name:\tx\nexp_name:\tudmabuf\n", &info), 0);
	CHECK(!strcmp(info.exporter, "drm"));
	CHECK(!strcmp(info.name, "x\nexp_name:\tudmabuf"));
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t4096\nexp_name:\tdrm\n"
		"name:\ta\nsize:\t1\ncount:\t9\nino:\t5\n", &info), 0);
	CHECK_EQ(info.buf_size, 4096);
	CHECK_EQ(info.count, 0);
	CHECK_EQ(info.inode, 0);
	CHECK(!strcmp(info.name, "a\nsize:\t1\ncount:\t9\nino:\t5"));
	/* A name cannot make a buffer of something else, nor break one. */
	CHECK_EQ(p2pbuf_fdinfo_parse("pos:\t0\nname:\tn\nexp_name:\tx\nsize:\t1\n",
				     &info), -ENOENT);
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t1\nexp_name:\tx\nname:\tflags:\t9\n",
				     &info), 0);
	CHECK(!strcmp(info.name, "flags:\t9"));
	/* Empty, and as long as a name can be. */
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t1\nexp_name:\tx\nname:\t\n", &info), 0);
	CHECK(!strcmp(info.name, ""));
	CHECK_EQ(p2pbuf_fdinfo_parse("size:\t1\nexp_name:\tx\n"
		"name:\t0123456789012345678901234567\n\n\n\n", &info), 0);
	CHECK(!strcmp(info.name, "0123456789012345678901234567\n\n\n"));
	return 0;
}

/* The directories the library lists, as it opens them (see opendir()). */
static char opened_dir[64];
static int recording;

DIR *opendir(const char *name)
{
	static DIR *(*real)(const char *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "opendir");
	if (recording)
		snprintf(opened_dir, sizeof(opened_dir), "%s", name);
	return real(name);
}

static void *list_unshared(void *arg)
{
	unsigned int n;

	(void)arg;
	/* This thread's own descriptor table, apart from the main thread's. */
	if (unshare(CLONE_FILES))
		return (void *)1;
	recording = 1;
	opened_dir[0] = '\0';
	if (p2pbuf_dmabuf_list(0, NULL, 0, &n))
		return (void *)2;
	recording = 0;
	return NULL;
}

/* The caller's dma-bufs are the calling thread's: /proc/thread-self. */
static int list_thread_self(void)
{
	unsigned int n;
	pthread_t t;
	void *ret;

	recording = 1;
	CHECK_EQ(p2pbuf_dmabuf_list(0, NULL, 0, &n), 0);
	CHECK(!strcmp(opened_dir, "/proc/thread-self/fdinfo"));
	CHECK_EQ(p2pbuf_dmabuf_list(getpid(), NULL, 0, &n), 0);
	CHECK(!strcmp(opened_dir, "/proc/thread-self/fdinfo"));
	recording = 0;
	CHECK_EQ(pthread_create(&t, NULL, list_unshared, NULL), 0);
	CHECK_EQ(pthread_join(t, &ret), 0);
	CHECK(ret == NULL);
	CHECK(!strcmp(opened_dir, "/proc/thread-self/fdinfo"));
	return 0;
}

static int list_self(void)
{
	struct p2pbuf_dmabuf_info infos[4];
	unsigned int n = 99;

	P2PBUF_INIT_ARRAY(infos, 4);

	CHECK_EQ(p2pbuf_dmabuf_list(0, infos, 4, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(p2pbuf_dmabuf_list(getpid(), NULL, 0, &n), 0);
	return 0;
}

static int list_missing_process(void)
{
	unsigned int n;

	CHECK_EQ(p2pbuf_dmabuf_list(0x7ffffff0, NULL, 0, &n), -ESRCH);
	CHECK_EQ(p2pbuf_dmabuf_list(-1, NULL, 0, &n), -EINVAL);
	return 0;
}

static const struct test tests[] = {
	TEST(parse_dmabuf),
	TEST(parse_unnamed_no_newline),
	TEST(parse_not_dmabuf),
	TEST(parse_malformed),
	TEST(parse_long_values),
	TEST(name_cannot_override),
	TEST(list_thread_self),
	TEST(list_self),
	TEST(list_missing_process),
};

int main(void)
{
	return RUN("fdinfo", tests);
}
