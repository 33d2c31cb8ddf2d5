// SPDX-License-Identifier: GPL-2.0
/* The table of IPSECMON counters; see counters.h and README "IPSECMON counters". */
#include <string.h>

#include "counters.h"

#define AT(field) offsetof(struct ipsm_counters, field)

#define PROTECTED_HELP \
	"Wire bytes of SAs by protection (confidential, authenticated) and mode (transport, tunnel)."

/* The eight byte counters: one family, labelled by kind and direction. */
#define BYTES(kind, KIND, dir, DIR, prom_dir, row, lbl)                                          \
	{                                                                                        \
		.json = #kind "_bytes_" dir, .label = lbl,                                       \
		.prom = "ipsecmon_protected_bytes_total",                                        \
		.prom_labels = { "kind", #kind, "direction", prom_dir }, .help = PROTECTED_HELP, \
		.type = IPSM_CTR_COUNTER, .unit = IPSM_UNIT_BYTES, .avail = IPSM_AVAIL_XFRM,     \
		.off = AT(acct.bytes[DIR][IPSM_KIND_##KIND]), .term_row = row, .term_col = 1     \
	}

const struct ipsm_counter_def ipsm_counter_defs[IPSM_N_COUNTERS] = {
	{ .json = "active_sas",
	  .label = "Active Security Associations",
	  .prom = "ipsecmon_active_sas",
	  .help = "ESP and AH SAs in the kernel's SAD now (larval SAs excluded).",
	  .type = IPSM_CTR_GAUGE,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(active_sas),
	  .term_row = 0 },
	{ .json = "active_tunnels",
	  .label = "Active Tunnels",
	  .prom = "ipsecmon_active_tunnels",
	  .help = "Distinct gateway address pairs with a tunnel-mode SA.",
	  .type = IPSM_CTR_GAUGE,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(active_tunnels),
	  .term_row = 1 },
	{ .json = "pending_key_operations",
	  .label = "Pending Key Operations",
	  .prom = "ipsecmon_pending_key_operations",
	  .help = "ACQUIREs not yet answered by a new SA (only while a monitor runs).",
	  .type = IPSM_CTR_GAUGE,
	  .avail = IPSM_AVAIL_MONITOR,
	  .off = AT(pending),
	  .term_row = 2 },
	{ .json = "key_additions",
	  .label = "Key Additions",
	  .prom = "ipsecmon_key_additions_total",
	  .help = "SAs added since the first monitor start.",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_EVENTS,
	  .off = AT(key_additions),
	  .term_row = 3 },
	{ .json = "key_deletions",
	  .label = "Key Deletions",
	  .prom = "ipsecmon_key_deletions_total",
	  .help = "SAs deleted or hard-expired since the first monitor start.",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_EVENTS,
	  .off = AT(key_deletions),
	  .term_row = 4 },
	{ .json = "rekeys",
	  .label = "Rekeys",
	  .prom = "ipsecmon_rekeys_total",
	  .help = "New SAs that replaced one of the same CHILD_SA.",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_EVENTS,
	  .off = AT(rekeys),
	  .term_row = 5 },
	{ .json = "bad_spi_packets",
	  .label = "Bad SPI Packets",
	  .prom = "ipsecmon_bad_spi_packets_total",
	  .help = "Inbound ESP/AH to a local address for which the kernel had no SA.",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_BAD_SPI,
	  .off = AT(bad_spi_packets),
	  .term_row = 6,
	  .check_opt = "bad-spi-rate",
	  .check_what = "bad SPI packets",
	  .check_perf = "bad_spi_rate" },
	{ .json = "packets_not_decrypted",
	  .label = "Packets Not Decrypted",
	  .prom = "ipsecmon_packets_not_decrypted_total",
	  .help = "Packets of encrypting SAs that the kernel dropped before or while decrypting.",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(acct.not_decrypted),
	  .term_row = 7,
	  .check_opt = "not-decrypted",
	  .check_what = "packets not decrypted",
	  .check_perf = "not_decrypted_rate" },
	{ .json = "packets_not_authenticated",
	  .label = "Packets Not Authenticated",
	  .prom = "ipsecmon_packets_not_authenticated_total",
	  .help = "Integrity check failures of authenticating SAs.",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(acct.not_authenticated),
	  .term_row = 8,
	  .check_opt = "not-authenticated",
	  .check_what = "packets not authenticated",
	  .check_perf = "not_authenticated_rate" },
	{ .json = "packets_replayed",
	  .label = "Packets Replayed",
	  .prom = "ipsecmon_packets_replayed_total",
	  .help = "Packets the kernel dropped as replays (duplicate or too old).",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(acct.replayed),
	  .term_row = 8,
	  .term_col = 1 },
	BYTES(confidential, CONFIDENTIAL, "sent", IPSM_DIR_TX, "tx", 0, "Confidential Bytes Sent"),
	BYTES(confidential, CONFIDENTIAL, "received", IPSM_DIR_RX, "rx", 1,
	      "Confidential Bytes Received"),
	BYTES(authenticated, AUTHENTICATED, "sent", IPSM_DIR_TX, "tx", 2,
	      "Authenticated Bytes Sent"),
	BYTES(authenticated, AUTHENTICATED, "received", IPSM_DIR_RX, "rx", 3,
	      "Authenticated Bytes Received"),
	BYTES(transport, TRANSPORT, "sent", IPSM_DIR_TX, "tx", 4, "Transport Bytes Sent"),
	BYTES(transport, TRANSPORT, "received", IPSM_DIR_RX, "rx", 5, "Transport Bytes Received"),
	BYTES(tunnel, TUNNEL, "sent", IPSM_DIR_TX, "tx", 6, "Tunnel Bytes Sent"),
	BYTES(tunnel, TUNNEL, "received", IPSM_DIR_RX, "rx", 7, "Tunnel Bytes Received"),
	/* IPSECMON's offload counters: no row left in the window, the tunnels pane has them. */
	{ .json = "offloaded_sas",
	  .label = "Offloaded SAs",
	  .prom = "ipsecmon_offloaded_sas",
	  .help = "SAs whose crypto (or all of ESP) a device does (XFRMA_OFFLOAD_DEV).",
	  .type = IPSM_CTR_GAUGE,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(offloaded_sas),
	  .term_row = IPSM_TERM_NONE },
	{ .json = "offloaded_bytes_sent",
	  .label = "Offloaded Bytes Sent",
	  .prom = "ipsecmon_offloaded_bytes_total",
	  .prom_labels = { "direction", "tx" },
	  .help = "The kernel's byte counts (curlft) of offloaded SAs, deleted ones included.",
	  .type = IPSM_CTR_COUNTER,
	  .unit = IPSM_UNIT_BYTES,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(acct.bytes[IPSM_DIR_TX][IPSM_KIND_OFFLOADED]),
	  .term_row = IPSM_TERM_NONE },
	{ .json = "offloaded_bytes_received",
	  .label = "Offloaded Bytes Received",
	  .prom = "ipsecmon_offloaded_bytes_total",
	  .prom_labels = { "direction", "rx" },
	  .help = "The kernel's byte counts (curlft) of offloaded SAs, deleted ones included.",
	  .type = IPSM_CTR_COUNTER,
	  .unit = IPSM_UNIT_BYTES,
	  .avail = IPSM_AVAIL_XFRM,
	  .off = AT(acct.bytes[IPSM_DIR_RX][IPSM_KIND_OFFLOADED]),
	  .term_row = IPSM_TERM_NONE },
	/* Beyond IPSECMON: after its counters, in no window row. */
	{ .json = "rekey_early_packets",
	  .label = "Rekey Early Packets",
	  .prom = "ipsecmon_rekey_early_packets_total",
	  .help = "Packets on a new inbound SPI before the kernel had its SA (lost in a rekey).",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_EVENTS,
	  .off = AT(rekey_early_packets),
	  .term_row = IPSM_TERM_NONE },
	{ .json = "rekey_late_packets",
	  .label = "Rekey Late Packets",
	  .prom = "ipsecmon_rekey_late_packets_total",
	  .help = "Packets on an old inbound SPI after its replacement was installed.",
	  .type = IPSM_CTR_COUNTER,
	  .avail = IPSM_AVAIL_EVENTS,
	  .off = AT(rekey_late_packets),
	  .term_row = IPSM_TERM_NONE },
	{ .json = "tunnels_down",
	  .label = "Tunnels Down",
	  .prom = "ipsecmon_tunnels_down",
	  .help = "Gateway pairs that a policy's template names and that have no SA.",
	  .type = IPSM_CTR_GAUGE,
	  .avail = IPSM_AVAIL_POLICIES,
	  .off = AT(tunnels_down),
	  .term_row = IPSM_TERM_NONE },
	{ .json = "tunnels_one_way",
	  .label = "Tunnels One Way",
	  .prom = "ipsecmon_tunnels_one_way",
	  .help = "Gateway pairs whose traffic went one way only for --one-way-after intervals.",
	  .type = IPSM_CTR_GAUGE,
	  .avail = IPSM_AVAIL_TRACKED,
	  .off = AT(tunnels_one_way),
	  .term_row = IPSM_TERM_NONE },
};

bool ipsm_counter_known(const struct ipsm_snapshot *s, const struct ipsm_counter_def *d)
{
	switch (d->avail) {
	case IPSM_AVAIL_XFRM:
		return s->ipsecmon.have_xfrm;
	case IPSM_AVAIL_EVENTS:
		return s->ipsecmon.have_events;
	case IPSM_AVAIL_MONITOR:
		/* Whoever decides bad SPIs: pending keys are the monitor's to count. */
		return s->ipsecmon.have_events && s->monitor_live;
	case IPSM_AVAIL_BAD_SPI:
		return s->correlation != IPSM_CORR_INACTIVE;
	case IPSM_AVAIL_TRACKED:
		return s->ipsecmon.have_xfrm && s->tunnels_tracked;
	case IPSM_AVAIL_POLICIES:
		/* Policies unread, or more pairs than kept: a down tunnel may be missing. */
		return s->ipsecmon.have_xfrm && s->have_kxfrm && !s->kxfrm.pairs_dropped;
	}
	return false;
}

__u64 ipsm_counter_value(const struct ipsm_snapshot *s, const struct ipsm_counter_def *d)
{
	return *(const __u64 *)((const char *)&s->ipsecmon + d->off);
}

const char *ipsm_avail_name(enum ipsm_avail a)
{
	switch (a) {
	case IPSM_AVAIL_XFRM:
		return "xfrm";
	case IPSM_AVAIL_EVENTS:
		return "monitor_ran";
	case IPSM_AVAIL_MONITOR:
		return "monitor_running";
	case IPSM_AVAIL_BAD_SPI:
		return "bad_spi_detection";
	case IPSM_AVAIL_TRACKED:
		return "two_readings";
	case IPSM_AVAIL_POLICIES:
		return "xfrm_policies";
	}
	return "?";
}

const struct ipsm_counter_def *ipsm_counter_by_json(const char *json)
{
	const struct ipsm_counter_def *d;

	ipsm_for_each_counter(d) if (!strcmp(d->json, json)) return d;
	return NULL;
}
