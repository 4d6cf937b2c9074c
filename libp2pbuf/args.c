// SPDX-License-Identifier: MIT
/*
 * p2pbuf command-line tool: argument parsing and output helpers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "p2pbuf/p2pbuf.h"
#include "cli.h"

int cli_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !out || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
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

	if (!s || !out || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
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
