/* SPDX-License-Identifier: MIT */
/*
 * p2pbuf command-line tool: commands and exit codes.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_CLI_H
#define P2PBUF_CLI_H

/* Exit codes of the p2pbuf tool. */
enum {
	EXIT_OK = 0,		/* the command did what was asked */
	EXIT_FAILED = 1,	/* the command ran and failed */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_UNAVAILABLE = 3,	/* the kernel side is missing */
};

int cmd_topology(int argc, char **argv);

#endif
