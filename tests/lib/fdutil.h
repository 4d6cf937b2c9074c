/* SPDX-License-Identifier: MIT */
/*
 * Descriptor helpers shared by libp2pbuf's host unit tests (test.h) and the
 * guest test peer (p2pbuf-test-peer.c).
 *
 * Copyright (c) 2026 The p2pbuf authors
 */
#ifndef P2PBUF_FDUTIL_H
#define P2PBUF_FDUTIL_H

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Open descriptors of this process, for leak checks. */
static inline int open_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/*
 * A message built by hand, as a broken or hostile peer would send it: len
 * bytes of data and nfds (at most 64) descriptors. 0 or -errno.
 */
static inline int raw_send(int sock, const void *data, size_t len,
			   const int *fds, unsigned int nfds)
{
	char control[CMSG_SPACE(sizeof(int) * 64)] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (nfds) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -errno;
}

#endif
