/* SPDX-License-Identifier: MIT */
/*
 * p2pbuf command-line tool: commands, exit codes and argument helpers.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_CLI_H
#define P2PBUF_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

/* The Makefile's VERSION. */
#ifndef P2PBUF_TOOL_VERSION
#define P2PBUF_TOOL_VERSION "unknown"
#endif

/* Exit codes of the p2pbuf tool. */
enum {
	EXIT_OK = 0,		/* the command did what was asked */
	EXIT_FAILED = 1,	/* the command ran and failed */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_UNAVAILABLE = 3,	/* something named or needed is not there */
};

/* p2pbuf.c: the tool without main(), for the tests. */
int cli_main(int argc, char **argv);

int cmd_topology(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_alloc(int argc, char **argv);
int cmd_fill(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_share(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
/* cmd_rdma.c: through p2pbuf_rdma.ko and libp2pbuf-rdma. */
int cmd_serve(int argc, char **argv);
int cmd_rdma_read(int argc, char **argv);
int cmd_rdma_write(int argc, char **argv);
struct opts;
/* cmd_file.c: explain FILE PID:FD, which cmd_explain() hands over. */
int cmd_explain_file(const struct opts *o, const char *file, const char *ref);
/* cmd_file.c: a buffer PID:FD of another process, taken; why not, said. */
int cli_take_buffer(const char *ref, int *fd);
/* cmd_explain_rdma.c: explain rdma:DEV PID:FD, handed over by cmd_explain(). */
int cmd_explain_rdma(const struct opts *o, const char *dev, const char *ref);

/*
 * cmd_explain_rdma.c's parts, unit-tested in tests/lib/test-cli.c against
 * a made-up sysfs.
 */
struct p2pbuf_explanation;
#define CLI_RDMA_NAME_LEN 64	/* IB_DEVICE_NAME_MAX */
/* "rdma:DEV": 0 and @name (in @arg), -ENOENT without the prefix, -EINVAL bad. */
int cli_rdma_name(const char *arg, const char **name);

/* An RDMA device as sysfs shows it. */
struct cli_rdma_device {
	char name[CLI_RDMA_NAME_LEN];
	char driver[64];	/* an HCA's driver ("mlx5_core"), "rxe", "siw" or "" */
	char node_type[32];	/* "1: CA", "4: RNIC" */
	char netdev[16];	/* port 1's netdev, "" if none known */
	/*
	 * The PCI function p2pbuf_rdma.ko attaches a buffer for: an HCA's
	 * own, or the one behind a software device's netdev; "" if none.
	 */
	char pci[16];
	int software;		/* no parent device, so no DMA device: rxe, siw */
	int dma_device;		/* it has one (an HCA) */
	int dmabuf_mr;		/* ibv_reg_dmabuf_mr() works: 1, 0, -1 unknown */
	int module_loaded;	/* p2pbuf_rdma.ko */
};

/*
 * Device @name under sysfs @root (NULL: /sys): 0, -ENODEV if there is no
 * such RDMA device, -EINVAL for a name that cannot be one.
 */
int cli_rdma_device(const char *root, const char *name,
		    struct cli_rdma_device *d);

/* The paths of explain rdma:DEV PID:FD. */
enum cli_rdma_path {
	CLI_RDMA_PATH_P2P,	/* the NIC DMAs into device memory */
	CLI_RDMA_PATH_SYSTEM,	/* the NIC DMAs into system pages */
	CLI_RDMA_PATH_CPU_COPY,	/* a software device: the CPU copies */
	CLI_RDMA_PATH_NONE,	/* p2pbuf_rdma.ko cannot serve the buffer */
	CLI_RDMA_PATH_UNKNOWN,	/* P2P undecided (no kernel verdict) */
};

struct cli_rdma_answer {
	enum cli_rdma_path path;
	const char *reason;	/* a word: "software-device", "acs-redirect" */
	const char *memory;	/* "device", "system" or "unknown" */
	char text[1024];
};

const char *cli_rdma_path_name(enum cli_rdma_path path);
/*
 * The path for device @d and a buffer of @exporter ("udmabuf" or a PCI
 * address), given @e, the exporter's answer for @d->pci (NULL without a
 * PCI function).
 */
void cli_rdma_decide(const struct cli_rdma_device *d,
		     const struct p2pbuf_explanation *e, const char *exporter,
		     struct cli_rdma_answer *a);

/* args.c: pure helpers, unit-tested in tests/lib/test-args.c. */

/* A number: decimal, or hexadecimal with 0x. */
int cli_parse_u64(const char *s, uint64_t *out);
/* A size: a number with an optional K, M, G or T suffix (powers of 1024). */
int cli_parse_size(const char *s, uint64_t *out);
/* A process id, > 0. */
int cli_parse_pid(const char *s, pid_t *pid);
/* A buffer held by a process: "PID:FD". */
int cli_parse_buffer_ref(const char *s, pid_t *pid, int *fd);
/* A placement: "any", "vram" or "system". */
int cli_parse_placement(const char *s, unsigned int *placement);
/* Print @s as a JSON string, quotes included. */
void cli_json_string(FILE *out, const char *s);
/*
 * @s for a terminal, into @buf (truncated at a whole escape): printable
 * ASCII as it is, backslash, newline and tab as \\, \n and \t, other
 * bytes as \xHH. For names other processes choose (dma-buf names).
 */
void cli_escape(const char *s, char *buf, size_t len);
/* What cli_listen() bound, to remove it and nothing else. */
struct cli_bound {
	int made;
	dev_t dev;
	ino_t ino;
};
/*
 * Listen on a new SOCK_SEQPACKET UNIX socket at @path. A path that exists
 * is left alone (-EADDRINUSE); on success @bound says what to remove.
 */
int cli_listen(const char *path, int *fd, struct cli_bound *bound);
/* Close @fd (if >= 0) and remove @path if it is still the socket bound. */
void cli_unlisten(const char *path, int fd, struct cli_bound *bound);
/* "4 MiB", "12 KiB", "100 B" into @buf. */
void cli_human_size(uint64_t size, char *buf, size_t len);
/* An importer kind: "p2p", "dynamic" or "static" (enum p2pbuf_importer). */
int cli_parse_importer(const char *s, unsigned int *importer);

/*
 * Errors. cli_command is the command running ("fill"), for messages;
 * cli_json is set when --json is on the command line.
 */
extern const char *cli_command;
extern int cli_json;
/*
 * Say what went wrong: "p2pbuf COMMAND: MESSAGE" on stderr (and, for
 * EXIT_USAGE, where help is), and with --json a JSON error object on
 * stdout: {"command","ok":false,"exit","error"[,"errno"]}. @err: the
 * errno behind it (either sign), or 0. Returns @code.
 */
int cli_error(int code, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* What an operation failed at, for cli_error_words(). */
enum cli_op {
	CLI_OP_TAKE,		/* pidfd_getfd() of PID:FD */
	CLI_OP_ALLOC,		/* a buffer from a device or udmabuf */
	CLI_OP_ACCESS,		/* mmap and CPU access brackets */
	CLI_OP_LISTEN,		/* share's socket */
	CLI_OP_CONNECT,		/* attach's connection */
	CLI_OP_PASS,		/* sending or receiving buffers */
};
/* @err (either sign) after @op, in words a user understands. */
const char *cli_error_words(enum cli_op op, int err);
/* "p2pbuf VERSION (libp2pbuf MAJOR.MINOR)". */
void cli_version(FILE *out);

/*
 * alloc --hold: cli_hold_start() takes SIGINT, SIGTERM and SIGHUP (blocked
 * until the wait); cli_hold_wait() waits for one of them or, only when @fd
 * is a pipe, FIFO or socket, for its writer to close it. Returns the
 * signal, or 0 at the end of @fd; restores the signals' handlers and mask.
 */
struct cli_hold {
	sigset_t mask;
	struct sigaction old[3];
};
void cli_hold_start(struct cli_hold *h);
int cli_hold_wait(struct cli_hold *h, int fd);

/* The options of a command, as cli_parse_options() found them. */
struct opts {
	int json;
	const char *device;	/* --device; NULL: udmabuf */
	uint64_t size;
	unsigned int placement;
	unsigned int count;
	const char *name;
	uint64_t pattern;
	int have_pattern;
	int hold;
	const char *probe_dir;
	const char *sysfs;
	const char *sysfs_root;	/* --sysfs-root: where sysfs is (/sys) */
	const char *config;
	unsigned int importer;	/* --importer: enum p2pbuf_importer */
	uint64_t offset;	/* --offset: in the buffer */
	uint64_t file_offset;	/* --file-offset */
	uint64_t length;	/* --length; 0: as much as fits */
	unsigned int file_flags; /* --compat, --no-compat: P2PBUF_FILE_* */
	int create;		/* --create */
	uint16_t port;		/* --port */
	int passive;		/* --passive */
};

/*
 * Parse the options a command accepts (listed in @accept as option names
 * separated by spaces; --help and --version always) with getopt_long:
 * "--opt VALUE" or "--opt=VALUE", whole names only, options anywhere, and
 * only arguments after "--". Arguments go to @pos, at most @max_pos.
 * argv[0] is the command's name. Returns EXIT_OK, EXIT_USAGE after
 * cli_error() named the wrong or missing thing, or -1 after printing
 * @help (--help, -h) or the version (--version) to stdout.
 */
int cli_parse_options(int argc, char **argv, const char *accept,
		      struct opts *o, const char **pos, int max_pos, int *npos,
		      void (*help)(FILE *out));

/*
 * The test pattern: byte @i of a buffer filled with @seed. Position
 * dependent, so a shifted or partial copy does not pass for a good one.
 */
static inline uint8_t cli_pattern_byte(uint64_t seed, uint64_t i)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (i / 8);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i % 8)));
}

#endif
