// SPDX-License-Identifier: MIT
/*
 * p2pbuf command-line tool: argument parsing and output helpers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include <ctype.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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


/* ---- errors ---- */

const char *cli_command;
int cli_json;

int cli_error(int code, int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "p2pbuf%s%s: %s\n", cli_command ? " " : "",
		cli_command ? cli_command : "", msg);
	if (code == EXIT_USAGE)
		fprintf(stderr, "Try 'p2pbuf %s%s'.\n",
			cli_command ? cli_command : "help",
			cli_command ? " --help" : "");
	if (cli_json) {
		printf("{\"command\":");
		cli_json_string(stdout, cli_command ? cli_command : "");
		printf(",\"ok\":false,\"exit\":%d,\"error\":", code);
		cli_json_string(stdout, msg);
		if (err)
			printf(",\"errno\":%d", err < 0 ? -err : err);
		printf("}\n");
		fflush(stdout);
	}
	return code;
}

const char *cli_error_words(enum cli_op op, int err)
{
	if (err > 0)
		err = -err;
	switch (op) {
	case CLI_OP_TAKE:
		switch (-err) {
		case EPERM:
		case EACCES:
			return "not permitted: taking another process's descriptor needs ptrace rights over it (its user, or root)";
		case ESRCH:
			return "no such process";
		case EBADF:
			return "the process has no such descriptor";
		case EBADFD:
			return "not a dma-buf";
		case ENOSYS:
			return "this kernel has no pidfd_getfd() (Linux 5.6 or later has)";
		}
		break;
	case CLI_OP_ALLOC:
		switch (-err) {
		case ENOENT:
			return "no /dev/udmabuf: this kernel has no udmabuf (CONFIG_UDMABUF; modprobe udmabuf)";
		case ENODEV:
			return "no such device ('p2pbuf info' lists the devices here)";
		case EOPNOTSUPP:
			return "the device cannot allocate buffers of this kind";
		case EACCES:
		case EPERM:
			return "permission denied on the device node (the 'render' group, or root)";
		case ENOMEM:
			return "not enough memory for SIZE (udmabuf also has a limit: its size_limit_mb parameter)";
		case ENOSPC:
			return "not enough room in the device's memory for SIZE";
		case EINVAL:
		case E2BIG:
			return "the device refused SIZE (too large for it)";
		}
		break;
	case CLI_OP_ACCESS:
		switch (-err) {
		case EACCES:
		case EPERM:
			return "the buffer cannot be mapped read-write (exported read-only, without DRM_RDWR)";
		case ENODEV:
		case EINVAL:
			return "its exporter does not let the CPU map it (mmap)";
		case ENOTTY:
			return "its exporter has no CPU access brackets (DMA_BUF_IOCTL_SYNC)";
		case ENOMEM:
			return "not enough memory or address space to map it";
		}
		break;
	case CLI_OP_LISTEN:
		switch (-err) {
		case EADDRINUSE:
			return "something is there already (a file, or another share's socket): it is left alone; remove it or choose another path";
		case ENOENT:
			return "its directory does not exist";
		case ENOTDIR:
			return "a part of the path is not a directory";
		case EACCES:
		case EPERM:
			return "permission denied: no socket can be made in that directory";
		case EROFS:
			return "the file system is read-only";
		case ENAMETOOLONG:
			return "the path is too long for a UNIX socket (107 bytes at most)";
		}
		break;
	case CLI_OP_CONNECT:
		switch (-err) {
		case ENOENT:
			return "no such socket (is 'p2pbuf share' running?)";
		case ECONNREFUSED:
			return "nobody is listening there (the 'p2pbuf share' that made it has ended?)";
		case EPROTOTYPE:
		case ENOTSOCK:
			return "not a 'p2pbuf share' socket";
		case EACCES:
		case EPERM:
			return "permission denied";
		}
		break;
	case CLI_OP_PASS:
		switch (-err) {
		case EPIPE:
		case ECONNRESET:
			return "the other side went away before the buffers were passed";
		case EBADMSG:
			return "the other side does not speak p2pbuf's format (bad header)";
		case EMSGSIZE:
			return "the message was cut short";
		case ENOSPC:
			return "more buffers came than p2pbuf takes at once";
		case EMFILE:
		case ETOOMANYREFS:
			return "too many open descriptors (ulimit -n)";
		case EBADFD:
			return "a descriptor that came is not a dma-buf";
		}
		break;
	}
	return strerror(-err);
}

/* ---- options ---- */

enum {
	OPT_HELP = 'h',
	OPT_VERSION = 256,
	OPT_JSON, OPT_DEVICE, OPT_UDMABUF, OPT_SIZE, OPT_PLACEMENT, OPT_COUNT,
	OPT_NAME, OPT_PATTERN, OPT_HOLD, OPT_PROBE_DIR, OPT_SYSFS,
	OPT_KERNEL_CONFIG, OPT_IMPORTER, OPT_OFFSET, OPT_FILE_OFFSET,
	OPT_LENGTH, OPT_COMPAT, OPT_NO_COMPAT, OPT_CREATE, OPT_PORT,
	OPT_SYSFS_ROOT, OPT_PASSIVE,
};

static const struct {
	const char *name;
	int val;
	const char *value;	/* NULL: takes no value */
} known[] = {
	{ "json", OPT_JSON, NULL },
	{ "device", OPT_DEVICE, "DEV" },
	{ "udmabuf", OPT_UDMABUF, NULL },
	{ "size", OPT_SIZE, "SIZE" },
	{ "placement", OPT_PLACEMENT, "any|vram|system" },
	{ "count", OPT_COUNT, "N" },
	{ "name", OPT_NAME, "NAME" },
	{ "pattern", OPT_PATTERN, "SEED" },
	{ "hold", OPT_HOLD, NULL },
	{ "probe-dir", OPT_PROBE_DIR, "DIR" },
	{ "sysfs", OPT_SYSFS, "DIR" },
	{ "sysfs-root", OPT_SYSFS_ROOT, "DIR" },
	{ "kernel-config", OPT_KERNEL_CONFIG, "FILE" },
	{ "importer", OPT_IMPORTER, "p2p|dynamic|static" },
	{ "offset", OPT_OFFSET, "N" },
	{ "file-offset", OPT_FILE_OFFSET, "N" },
	{ "length", OPT_LENGTH, "N" },
	{ "compat", OPT_COMPAT, NULL },
	{ "no-compat", OPT_NO_COMPAT, NULL },
	{ "create", OPT_CREATE, NULL },
	{ "port", OPT_PORT, "1-65535" },
	{ "passive", OPT_PASSIVE, NULL },
	{ "help", OPT_HELP, NULL },
	{ "version", OPT_VERSION, NULL },
};

#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static int known_index(int val)
{
	for (unsigned int i = 0; i < N_KNOWN; i++)
		if (known[i].val == val)
			return (int)i;
	return -1;
}

void cli_version(FILE *out)
{
	/* The library's version as it runs (p2pbuf_version_major()). */
	fprintf(out, "p2pbuf %s (libp2pbuf %d.%d)\n", P2PBUF_TOOL_VERSION,
		p2pbuf_version_major(), p2pbuf_version_minor());
}

/* The value of one option into @o; -EINVAL (or -ERANGE) if it is bad. */
static int set_option(struct opts *o, int val, const char *v)
{
	uint64_t c;
	unsigned int fl;

	switch (val) {
	case OPT_JSON:
		o->json = 1;
		return 0;
	case OPT_HOLD:
		o->hold = 1;
		return 0;
	case OPT_UDMABUF:
		o->device = NULL;
		return 0;
	case OPT_CREATE:
		o->create = 1;
		return 0;
	case OPT_PASSIVE:
		o->passive = 1;
		return 0;
	case OPT_COMPAT:
	case OPT_NO_COMPAT:
		fl = val == OPT_COMPAT ? P2PBUF_FILE_COMPAT : P2PBUF_FILE_NO_COMPAT;
		if (o->file_flags && o->file_flags != fl)
			return -EALREADY;
		o->file_flags = fl;
		return 0;
	case OPT_DEVICE:
		o->device = v;
		return *v ? 0 : -EINVAL;
	case OPT_SIZE:
		return cli_parse_size(v, &o->size) ?: o->size ? 0 : -EINVAL;
	case OPT_PLACEMENT:
		return cli_parse_placement(v, &o->placement);
	case OPT_NAME:
		o->name = v;
		return 0;
	case OPT_PATTERN:
		o->have_pattern = 1;
		return cli_parse_u64(v, &o->pattern);
	case OPT_COUNT:
		if (cli_parse_u64(v, &c) || !c || c > P2PBUF_MAX_BUFFERS)
			return -EINVAL;
		o->count = (unsigned int)c;
		return 0;
	case OPT_PROBE_DIR:
		o->probe_dir = v;
		return 0;
	case OPT_SYSFS:
		o->sysfs = v;
		return 0;
	case OPT_SYSFS_ROOT:
		o->sysfs_root = v;
		return *v ? 0 : -EINVAL;
	case OPT_KERNEL_CONFIG:
		o->config = v;
		return 0;
	case OPT_IMPORTER:
		return cli_parse_importer(v, &o->importer);
	case OPT_OFFSET:
		return cli_parse_size(v, &o->offset);
	case OPT_FILE_OFFSET:
		return cli_parse_size(v, &o->file_offset);
	case OPT_LENGTH:
		return cli_parse_size(v, &o->length) ?: o->length ? 0 : -EINVAL;
	case OPT_PORT:
		if (cli_parse_u64(v, &c) || !c || c > 65535)
			return -EINVAL;
		o->port = (uint16_t)c;
		return 0;
	}
	return -EINVAL;
}

/* What a bad value of option @val should have been. */
static const char *value_hint(int val)
{
	switch (val) {
	case OPT_SIZE:
	case OPT_LENGTH:
		return "a size above 0: decimal or 0x hexadecimal, with K, M, G or T";
	case OPT_OFFSET:
	case OPT_FILE_OFFSET:
		return "a size: decimal or 0x hexadecimal, with K, M, G or T";
	case OPT_PATTERN:
		return "a number: decimal or 0x hexadecimal";
	case OPT_COUNT:
		return "a number from 1 to 32";
	case OPT_PLACEMENT:
		return "any, vram or system";
	case OPT_IMPORTER:
		return "p2p, dynamic or static";
	default:
		return "not empty";
	}
}

int cli_parse_options(int argc, char **argv, const char *accept,
		      struct opts *o, const char **pos, int max_pos, int *npos,
		      void (*help)(FILE *out))
{
	struct option longopts[N_KNOWN + 1];
	char list[256];
	int n = 0, c, idx, ret;

	cli_command = argv[0];
	snprintf(list, sizeof(list), " %s --help --version ", accept);
	for (unsigned int i = 0; i < N_KNOWN; i++) {
		char key[40];

		snprintf(key, sizeof(key), " --%s ", known[i].name);
		if (!strstr(list, key))
			continue;
		longopts[n].name = known[i].name;
		longopts[n].has_arg = known[i].value ? required_argument : no_argument;
		longopts[n].flag = NULL;
		longopts[n].val = known[i].val;
		n++;
	}
	memset(&longopts[n], 0, sizeof(longopts[n]));

	*npos = 0;
	/* In order ("-"), whatever POSIXLY_CORRECT says; our own messages (":"). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:h", longopts, &idx)) != -1) {
		/* The element the option came in; its value may be the next. */
		const char *el = argv[optind - 1];
		int k;

		if (optarg && optarg == argv[optind - 1] && optind >= 2 &&
		    c != 1)
			el = argv[optind - 2];
		if (c == 1) {
			if (*npos == max_pos)
				return cli_error(EXIT_USAGE, 0,
						 "unexpected argument '%s'", optarg);
			pos[(*npos)++] = optarg;
			continue;
		}
		if (c == '?') {
			if (optopt && optopt < 256 && el[0] == '-' && el[1] != '-')
				return cli_error(EXIT_USAGE, 0, "unknown option '-%c'", optopt);
			k = known_index(optopt);
			if (k >= 0 && !known[k].value && strchr(el, '='))
				return cli_error(EXIT_USAGE, 0, "--%s takes no value ('%s')",
						 known[k].name, el);
			return cli_error(EXIT_USAGE, 0, "unknown option '%s'", el);
		}
		if (c == ':') {
			k = known_index(optopt);
			return cli_error(EXIT_USAGE, 0, "--%s needs a value (%s)",
					 k >= 0 ? known[k].name : "?",
					 k >= 0 ? known[k].value : "?");
		}
		/* Whole names only: a prefix of an option is not that option. */
		if (c != 'h' && el[0] == '-' && el[1] == '-') {
			const char *full = longopts[idx].name;
			size_t len = strcspn(el + 2, "=");

			if (len != strlen(full) || strncmp(el + 2, full, len))
				return cli_error(EXIT_USAGE, 0,
						 "unknown option '%.*s' (did you mean --%s?)",
						 (int)(len + 2), el, full);
		}
		if (c == 'h') {
			help(stdout);
			return -1;
		}
		if (c == OPT_VERSION) {
			cli_version(stdout);
			return -1;
		}
		if (c == OPT_JSON)
			cli_json = 1;
		ret = set_option(o, c, optarg);
		if (ret == -EALREADY)
			return cli_error(EXIT_USAGE, 0,
					 "--compat and --no-compat exclude each other");
		if (ret) {
			k = known_index(c);
			return cli_error(EXIT_USAGE, 0, "bad value '%s' for --%s: %s",
					 optarg, known[k].name, value_hint(c));
		}
	}
	/* After "--": arguments only. */
	for (; optind < argc; optind++) {
		if (*npos == max_pos)
			return cli_error(EXIT_USAGE, 0, "unexpected argument '%s'",
					 argv[optind]);
		pos[(*npos)++] = argv[optind];
	}
	return EXIT_OK;
}

/* ---- alloc --hold ---- */

static volatile sig_atomic_t hold_signal;

static void on_hold_signal(int sig)
{
	hold_signal = sig;
}

static const int hold_signals[] = { SIGINT, SIGTERM, SIGHUP };

void cli_hold_start(struct cli_hold *h)
{
	struct sigaction sa = { .sa_handler = on_hold_signal };
	sigset_t block;

	hold_signal = 0;
	sigemptyset(&block);
	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < 3; i++) {
		sigaddset(&block, hold_signals[i]);
		sigaction(hold_signals[i], &sa, &h->old[i]);
	}
	/* Blocked until the wait: no signal slips in between check and wait. */
	sigprocmask(SIG_BLOCK, &block, &h->mask);
}

int cli_hold_wait(struct cli_hold *h, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct stat st;
	nfds_t nfds = 0;
	char buf[256];
	int ret = 0;

	/*
	 * Only a pipe, FIFO or socket on @fd is a release channel: its writer
	 * closing it ends the hold. /dev/null, a file or a terminal (what a
	 * background job has) do not.
	 */
	if (fd >= 0 && !fstat(fd, &st) &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		nfds = 1;
	while (!hold_signal) {
		if (ppoll(nfds ? &pfd : NULL, nfds, NULL, &h->mask) < 0)
			continue;
		if (pfd.revents) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
				break;
		}
	}
	ret = hold_signal;
	for (unsigned int i = 0; i < 3; i++)
		sigaction(hold_signals[i], &h->old[i], NULL);
	sigprocmask(SIG_SETMASK, &h->mask, NULL);
	return ret;
}
