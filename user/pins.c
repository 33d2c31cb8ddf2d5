// SPDX-License-Identifier: GPL-2.0
/* Pin directory layout and the bpf filesystem under it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "ipsecmon.h"
#include "log.h"
#include "maps.h"
#include "netns.h"
#include "pins.h"

#define BPFFS_MOUNTPOINT "/sys/fs/bpf"

int pins_init(struct ipsm_paths *p, const char *base)
{
	__u64 id;
	int err;

	if (strlen(base) >= sizeof(p->base))
		return ipsm_error(IPSM_EXIT_USAGE, -ENAMETOOLONG, "pin directory too long: %s",
				  base);
	snprintf(p->base, sizeof(p->base), "%s", base);
	/* A trailing slash would make every path we print look odd. */
	while (strlen(p->base) > 1 && p->base[strlen(p->base) - 1] == '/')
		p->base[strlen(p->base) - 1] = '\0';
	err = netns_id(&id);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot identify the network namespace: %s",
				  strerror(-err));
	snprintf(p->ns, sizeof(p->ns), "%s/netns-%llu", p->base, (unsigned long long)id);
	return 0;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

/* mkdir -p, for directories inside bpffs. */
static int mkdirs(const char *path)
{
	char buf[PATH_MAX];
	char *s;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The deepest existing ancestor of path (or path itself), into buf. */
static void existing_ancestor(const char *path, char *buf, size_t len)
{
	struct stat st;
	char *s;

	snprintf(buf, len, "%s", path);
	while (stat(buf, &st)) {
		s = strrchr(buf, '/');
		if (!s || s == buf) {
			snprintf(buf, len, "/");
			return;
		}
		*s = '\0';
	}
}

int pins_prepare(const struct ipsm_paths *p)
{
	char anc[PATH_MAX];
	int ret, err;

	existing_ancestor(p->base, anc, sizeof(anc));
	ret = is_bpffs(anc);
	if (ret < 0)
		return ipsm_error(IPSM_EXIT_BPFFS, ret, "cannot inspect %s: %s", anc,
				  strerror(-ret));
	if (!ret) {
		/* Only /sys/fs/bpf is ours to mount; a custom --pin-dir must already be bpffs. */
		if (strncmp(p->base, BPFFS_MOUNTPOINT "/", strlen(BPFFS_MOUNTPOINT) + 1) ||
		    strcmp(anc, BPFFS_MOUNTPOINT))
			return ipsm_error(IPSM_EXIT_BPFFS, -ENOTSUP,
					  "%s is not on a bpf filesystem (mount -t bpf bpf DIR)",
					  p->base);
		pr_info("mounting bpffs on %s", BPFFS_MOUNTPOINT);
		if (mount("bpf", BPFFS_MOUNTPOINT, "bpf", 0, "mode=0700")) {
			err = -errno;
			return ipsm_error(IPSM_EXIT_BPFFS, err, "cannot mount bpffs on %s: %s",
					  BPFFS_MOUNTPOINT, strerror(-err));
		}
	}
	err = mkdirs(p->ns);
	if (err)
		return ipsm_error(IPSM_EXIT_BPFFS, err, "cannot create %s: %s", p->ns,
				  strerror(-err));
	return 0;
}

int pins_present(const struct ipsm_paths *p)
{
	return is_bpffs(p->ns) == 1;
}

void pins_iface_dir(const struct ipsm_paths *p, __u32 ifindex, char *buf, size_t len)
{
	snprintf(buf, len, "%s/if-%u", p->ns, ifindex);
}

void pins_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

int pins_list_ifaces(const struct ipsm_paths *p, __u32 **ids, size_t *n)
{
	struct dirent *de;
	__u32 *v = NULL, *nv;
	size_t cnt = 0;
	unsigned int idx;
	char tail;
	DIR *d;

	*ids = NULL;
	*n = 0;
	d = opendir(p->ns);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "if-%u%c", &idx, &tail) != 1)
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[cnt++] = idx;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u32);
	*ids = v;
	*n = cnt;
	return 0;
}

int pins_remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type == DT_DIR)
			continue;
		pins_path(path, sizeof(path), dir, de->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !err)
		err = -errno;
	return err;
}

int pins_cleanup_ns(const struct ipsm_paths *p)
{
	__u32 *ids;
	size_t n;
	int err;

	err = pins_list_ifaces(p, &ids, &n);
	free(ids);
	if (err || n)
		return err;
	err = pins_remove_dir(p->ns);
	if (err)
		return err;
	/* BASE goes too when no other namespace uses it; ENOTEMPTY is fine. */
	rmdir(p->base);
	return 0;
}

/* Pins of a namespace that is gone: its recorded nsfs inode is held by nothing. */
static bool ns_dir_stale(const char *nsdir)
{
	struct ipsm_config cfg = {};
	char path[2 * PATH_MAX];
	__u32 k = 0;
	int fd;

	pins_path(path, sizeof(path), nsdir, ipsm_maps[IPSM_MAP_CORRELATION].name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (bpf_map_lookup_elem(fd, &k, &cfg))
		cfg.netns_ino = 0;
	close(fd);
	/* Pins made before the inode was recorded: not ours to judge. */
	return cfg.netns_ino && !netns_alive(cfg.netns_ino);
}

int pins_stale_namespaces(const struct ipsm_paths *p, char ***dirs, size_t *n)
{
	char path[sizeof(p->base) + sizeof(((struct dirent *)0)->d_name) + 2], **v = NULL, **nv;
	struct dirent *de;
	size_t cnt = 0;
	DIR *d;

	*dirs = NULL;
	*n = 0;
	d = opendir(p->base);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "netns-", 6))
			continue;
		pins_path(path, sizeof(path), p->base, de->d_name);
		if (!strcmp(path, p->ns) || !ns_dir_stale(path))
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv || !(nv[cnt] = strdup(path))) {
			free(nv ? nv : v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		cnt++;
	}
	closedir(d);
	*dirs = v;
	*n = cnt;
	return 0;
}

int pins_remove_ns_dir(const char *nsdir)
{
	char path[PATH_MAX + sizeof(((struct dirent *)0)->d_name) + 2];
	struct dirent *de;
	int err = 0;
	DIR *d;

	/* The interfaces' directories first: pins_remove_dir() takes files only. */
	d = opendir(nsdir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || strncmp(de->d_name, "if-", 3))
			continue;
		pins_path(path, sizeof(path), nsdir, de->d_name);
		if (pins_remove_dir(path) && !err)
			err = -errno;
	}
	closedir(d);
	return pins_remove_dir(nsdir) ? -errno : err;
}
