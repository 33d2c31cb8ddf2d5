/* SPDX-License-Identifier: GPL-2.0 */
/* Names and formats every output uses, so that text, JSON and metrics agree. */
#ifndef IPSM_NAMES_H
#define IPSM_NAMES_H

#include <stddef.h>
#include <linux/types.h>

#include "ipsecmon.h"

const char *ipsm_class_name(int cls);
const char *ipsm_af_name(int af);
/* IPSM_AF_IPV4 or IPSM_AF_IPV6 for a socket family (AF_INET, AF_INET6). */
__u8 ipsm_af_of(__u16 family);
const char *ipsm_dir_name(int dir);
const char *ipsm_hook_name(int hook);
const char *ipsm_proto_name(__u8 proto);
const char *ipsm_correlation_name(int correlation); /* enum ipsm_correlation */
const char *ipsm_mode_name(__u8 mode);
const char *ipsm_kind_name(int kind);
/* Exchange name for a version/slot, e.g. "ike_sa_init" or "main_mode". */
const char *ipsm_ike_exch_name(int ver, int exch);
/* "none", "crypto", "packet" for enum ipsm_offload. */
const char *ipsm_offload_name(int offload);
/* "no_proposal_chosen", ... for enum ipsm_ike_notify: JSON, Prometheus and watch. */
const char *ipsm_ike_notify_name(int n);
/* "0x0000abcd" from a network-order SPI; buf holds at least 11 bytes. */
void ipsm_spi_str(__u32 spi_be, char *buf, size_t len);
/* Address text for an SA key family; buf holds at least 46 bytes. */
void ipsm_addr_str(int family, const __u8 *addr, char *buf, size_t len);
/* RFC 3339 UTC with second precision (ns = 0 gives the epoch). */
void ipsm_time_str(__u64 realtime_ns, char *buf, size_t len);

#endif
