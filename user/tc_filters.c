// SPDX-License-Identifier: GPL-2.0
/* Count the filters on a clsact qdisc with an RTM_GETTFILTER dump (libmnl). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "tc_filters.h"

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWTFILTER)
		(*(int *)data)++;
	return MNL_CB_OK;
}

static int dump_parent(struct mnl_socket *nl, int ifindex, __u32 parent, int *count)
{
	char *buf;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	unsigned int seq = time(NULL), portid = mnl_socket_get_portid(nl);
	int ret, err = 0;

	buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE)) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, count_cb, count);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (ret < 0)
		err = -errno;
out:
	free(buf);
	return err;
}

int tc_clsact_filter_count(int ifindex)
{
	struct mnl_socket *nl;
	int count = 0, err;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	err = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID);
	if (err) {
		err = -errno;
		goto out;
	}
	err = dump_parent(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), &count);
	if (!err)
		err = dump_parent(nl, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), &count);
out:
	mnl_socket_close(nl);
	return err ? err : count;
}
