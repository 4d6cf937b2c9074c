// SPDX-License-Identifier: MIT
/*
 * p2pbuf: main(); the tool is cli_main() in p2pbuf.c, which the tests call.
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
