// SPDX-License-Identifier: GPL-2.0
/* Network namespace handling for --netns. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include "log.h"
#include "netns.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

int netns_enter(const char *name)
{
	char path[4096];
	int fd, err;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return ipsm_error(IPSM_EXIT_NODEV, err, "no network namespace '%s' (%s)",
					  name, path);
		return ipsm_error(err == -EACCES ? IPSM_EXIT_PERM : IPSM_EXIT_FAIL, err,
				  "cannot open network namespace %s: %s", path, strerror(-err));
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		close(fd);
		return ipsm_error(err == -EPERM ? IPSM_EXIT_PERM : IPSM_EXIT_NODEV, err,
				  "cannot enter network namespace %s: %s", path, strerror(-err));
	}
	close(fd);
	return 0;
}

int netns_id(__u64 *id)
{
	socklen_t len = sizeof(*id);
	struct stat st;
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, id, &len) == 0) {
		close(fd);
		return 0;
	}
	close(fd);
	/* Before 5.14: the namespace inode, unique while the namespace lives. */
	if (stat("/proc/self/ns/net", &st))
		err = -errno;
	else
		*id = st.st_ino;
	return err;
}

int netns_ino(__u64 *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

static bool dir_holds(const char *dir, const char *suffix, __u64 ino)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	bool found = false;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s%s", dir, de->d_name, suffix);
		found = !stat(path, &st) && st.st_ino == ino;
	}
	closedir(d);
	return found;
}

bool netns_alive(__u64 ino)
{
	/* A namespace lives while a process is in it or a file holds it. */
	return dir_holds("/proc", "/ns/net", ino) || dir_holds("/run/netns", "", ino) ||
	       dir_holds("/var/run/netns", "", ino);
}
