// SPDX-License-Identifier: MIT
/*
 * p2pbuf command-line tool: argument parsing and output helpers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"

/*
 * The number at the start of @s: decimal, or hexadecimal after "0x". Not
 * octal (strtoull's base 0 takes "010" for 8), no sign, no space. -EINVAL,
 * or 0 and the first character after it in *@end.
 */
static int parse_number(const char *s, unsigned long long *v, char **end)
{
	int base = 10;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
		if (!isxdigit((unsigned char)*s))
			return -EINVAL;
	}
	errno = 0;
	*v = strtoull(s, end, base);
	return errno ? -EINVAL : 0;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!out || parse_number(s, &v, &end) || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	if (!out || parse_number(s, &v, &end))
		return -EINVAL;
	if (*end) {
		u = strchr(units, end[0] & ~0x20);
		if (!u || !end[0])
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		/* "4M", "4MB", "4MiB" */
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (~0ull >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int cli_parse_pid(const char *s, pid_t *pid)
{
	uint64_t v;

	if (!s || !pid || cli_parse_u64(s, &v) || !v || v > 0x7fffffff)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

int cli_parse_buffer_ref(const char *s, pid_t *pid, int *fd)
{
	const char *colon;
	char head[24];
	uint64_t v;
	pid_t p;

	if (!s || !pid || !fd)
		return -EINVAL;
	colon = strchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(head))
		return -EINVAL;
	memcpy(head, s, (size_t)(colon - s));
	head[colon - s] = '\0';
	if (cli_parse_pid(head, &p) || cli_parse_u64(colon + 1, &v) ||
	    v > 0x7fffffff)
		return -EINVAL;
	*pid = p;
	*fd = (int)v;
	return 0;
}

int cli_parse_placement(const char *s, unsigned int *placement)
{
	const char *name;

	if (!s || !placement)
		return -EINVAL;
	for (unsigned int p = 0; !p2pbuf_placement_name(p, &name); p++) {
		if (!strcmp(s, name)) {
			*placement = p;
			return 0;
		}
	}
	return -EINVAL;
}

void cli_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void cli_escape(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char one[5];

		if (c == '\\')
			snprintf(one, sizeof(one), "\\\\");
		else if (c == '\n')
			snprintf(one, sizeof(one), "\\n");
		else if (c == '\t')
			snprintf(one, sizeof(one), "\\t");
		else if (c < 0x20 || c >= 0x7f)
			snprintf(one, sizeof(one), "\\x%02x", c);
		else
			snprintf(one, sizeof(one), "%c", c);
		/* Whole escapes only: a cut one could read as something else. */
		if (o + strlen(one) >= len)
			break;
		memcpy(buf + o, one, strlen(one));
		o += strlen(one);
	}
	buf[o] = '\0';
}

int cli_listen(const char *path, int *fd, struct cli_bound *bound)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int sock, err;

	if (!path || !fd || !bound)
		return -EINVAL;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path));
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	/* A path that is there (a file, another's socket) stays: EADDRINUSE. */
	if (bind(sock, (struct sockaddr *)&sun, sizeof(sun))) {
		err = errno;
		close(sock);
		return -err;
	}
	/* From here on the path is ours: what we made, and only that, goes. */
	bound->made = !stat(path, &st);
	bound->dev = st.st_dev;
	bound->ino = st.st_ino;
	if (listen(sock, 1)) {
		err = errno;
		cli_unlisten(path, sock, bound);
		return -err;
	}
	*fd = sock;
	return 0;
}

void cli_unlisten(const char *path, int fd, struct cli_bound *bound)
{
	struct stat st;

	if (fd >= 0)
		close(fd);
	/* Unless another process replaced it meanwhile. */
	if (bound->made && !lstat(path, &st) && S_ISSOCK(st.st_mode) &&
	    st.st_dev == bound->dev && st.st_ino == bound->ino)
		unlink(path);
	bound->made = 0;
}

void cli_human_size(uint64_t size, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (u < 4 && size >= 1024 && !(size % 1024)) {
		size /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)size, units[u]);
}

int cli_parse_importer(const char *s, unsigned int *importer)
{
	static const char *const names[] = {
		[P2PBUF_IMPORTER_P2P] = "p2p",
		[P2PBUF_IMPORTER_DYNAMIC] = "dynamic",
		[P2PBUF_IMPORTER_STATIC] = "static",
	};

	if (!s || !importer)
		return -EINVAL;
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*importer = i;
			return 0;
		}
	}
	return -EINVAL;
}


static int is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int cli_parse_options(int argc, char **argv, const char *accept,
		      struct opts *o, const char **pos, int max_pos, int *npos,
		      void (*help)(FILE *out))
{
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char key[32], list[256];
		int bad = 0;

		if (is_help(a)) {
			help(stdout);
			return -1;
		}
		if (a[0] != '-' || !a[1]) {
			if (*npos == max_pos)
				goto usage;
			pos[(*npos)++] = a;
			continue;
		}
		snprintf(key, sizeof(key), " %s ", a);
		snprintf(list, sizeof(list), " %s ", accept);
		if (!strstr(list, key)) {
			fprintf(stderr, "p2pbuf: unknown option '%s'\n", a);
			goto usage;
		}
		if (!strcmp(a, "--json")) {
			o->json = 1;
			continue;
		}
		if (!strcmp(a, "--hold")) {
			o->hold = 1;
			continue;
		}
		if (!strcmp(a, "--udmabuf")) {
			o->device = NULL;
			continue;
		}
		if (!strcmp(a, "--create")) {
			o->create = 1;
			continue;
		}
		if (!strcmp(a, "--compat") || !strcmp(a, "--no-compat")) {
			unsigned int fl = a[2] == 'c' ? P2PBUF_FILE_COMPAT :
					  P2PBUF_FILE_NO_COMPAT;

			if (o->file_flags && o->file_flags != fl) {
				fprintf(stderr, "p2pbuf: --compat and --no-compat exclude each other\n");
				goto usage;
			}
			o->file_flags = fl;
			continue;
		}
		if (!v)
			goto usage;
		i++;
		if (!strcmp(a, "--device"))
			o->device = v;
		else if (!strcmp(a, "--size"))
			bad = cli_parse_size(v, &o->size) || !o->size;
		else if (!strcmp(a, "--placement"))
			bad = cli_parse_placement(v, &o->placement);
		else if (!strcmp(a, "--name"))
			o->name = v;
		else if (!strcmp(a, "--pattern")) {
			bad = cli_parse_u64(v, &o->pattern);
			o->have_pattern = 1;
		}
		else if (!strcmp(a, "--count")) {
			uint64_t c;

			bad = cli_parse_u64(v, &c) || !c || c > P2PBUF_MAX_BUFFERS;
			o->count = (unsigned int)c;
		} else if (!strcmp(a, "--probe-dir"))
			o->probe_dir = v;
		else if (!strcmp(a, "--sysfs"))
			o->sysfs = v;
		else if (!strcmp(a, "--kernel-config"))
			o->config = v;
		else if (!strcmp(a, "--importer"))
			bad = cli_parse_importer(v, &o->importer);
		else if (!strcmp(a, "--offset"))
			bad = cli_parse_size(v, &o->offset);
		else if (!strcmp(a, "--file-offset"))
			bad = cli_parse_size(v, &o->file_offset);
		else if (!strcmp(a, "--length"))
			bad = cli_parse_size(v, &o->length) || !o->length;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "p2pbuf: bad value '%s' for %s\n", v, a);
			goto usage;
		}
	}
	return EXIT_OK;
usage:
	help(stderr);
	return EXIT_USAGE;
}
