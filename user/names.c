// SPDX-License-Identifier: GPL-2.0
/* Names shared by all outputs, and small formatters. */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "names.h"
#include "snapshot.h"

const char *ipsm_class_name(int cls)
{
	static const char *const names[IPSM_CLASS_MAX] = {
		[IPSM_CLASS_ESP] = "esp",
		[IPSM_CLASS_AH] = "ah",
		[IPSM_CLASS_ESP_IN_UDP] = "esp_in_udp",
		[IPSM_CLASS_IKE] = "ike",
		[IPSM_CLASS_NAT_KEEPALIVE] = "nat_keepalive",
		[IPSM_CLASS_OTHER] = "other",
		[IPSM_CLASS_FRAGMENT] = "fragment",
		[IPSM_CLASS_MALFORMED] = "malformed",
	};

	return cls >= 0 && cls < IPSM_CLASS_MAX ? names[cls] : "?";
}

const char *ipsm_af_name(int af)
{
	static const char *const names[IPSM_AF_MAX] = { "ipv4", "ipv6", "non_ip" };

	return af >= 0 && af < IPSM_AF_MAX ? names[af] : "?";
}

__u8 ipsm_af_of(__u16 family)
{
	return family == AF_INET6 ? IPSM_AF_IPV6 : IPSM_AF_IPV4;
}

const char *ipsm_dir_name(int dir)
{
	return dir == IPSM_DIR_RX ? "rx" : dir == IPSM_DIR_TX ? "tx" : "?";
}

const char *ipsm_hook_name(int hook)
{
	static const char *const names[IPSM_HOOK_MAX] = { "xdp", "tc-ingress", "tc-egress" };

	return hook >= 0 && hook < IPSM_HOOK_MAX ? names[hook] : "?";
}

const char *ipsm_proto_name(__u8 proto)
{
	return proto == 50 ? "esp" : proto == 51 ? "ah" : "?";
}

const char *ipsm_correlation_name(int c)
{
	return c == IPSM_CORR_MONITOR ? "monitor" : c == IPSM_CORR_KERNEL ? "kernel" : "inactive";
}

const char *ipsm_mode_name(__u8 mode)
{
	static const char *const names[] = { "transport", "tunnel", "ro", "in_trigger", "beet" };

	return mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "?";
}

const char *ipsm_kind_name(int kind)
{
	static const char *const names[IPSM_KIND_MAX] = { "confidential", "authenticated",
							  "transport", "tunnel", "offloaded" };

	return kind >= 0 && kind < IPSM_KIND_MAX ? names[kind] : "?";
}

const char *ipsm_ike_exch_name(int ver, int exch)
{
	static const char *const v2[IPSM_IKE_EXCH_MAX] = {
		"ike_sa_init", "ike_auth", "create_child_sa", "informational", "other",
	};
	static const char *const v1[IPSM_IKE_EXCH_MAX] = {
		"main_mode", "aggressive_mode", "quick_mode", "informational", "other",
	};

	if (exch < 0 || exch >= IPSM_IKE_EXCH_MAX)
		return "?";
	if (ver == IPSM_IKE_V2)
		return v2[exch];
	if (ver == IPSM_IKE_V1)
		return v1[exch];
	return "other";
}

const char *ipsm_offload_name(int offload)
{
	static const char *const names[] = { "none", "crypto", "packet" };

	return offload >= 0 && offload <= IPSM_OFFLOAD_PACKET ? names[offload] : "?";
}

const char *ipsm_ike_notify_name(int n)
{
	static const char *const names[IPSM_NTF_MAX] = {
		"no_proposal_chosen", "invalid_ke_payload", "cookie", "invalid_syntax", "other",
	};

	return n >= 0 && n < IPSM_NTF_MAX ? names[n] : "?";
}

void ipsm_spi_str(__u32 spi_be, char *buf, size_t len)
{
	snprintf(buf, len, "0x%08x", ntohl(spi_be));
}

void ipsm_addr_str(int family, const __u8 *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == IPSM_AF_IPV6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

void ipsm_time_str(__u64 realtime_ns, char *buf, size_t len)
{
	time_t t = realtime_ns / 1000000000ULL;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
