#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send an exact mix of IPsec-looking frames and say what a receiver counts.

Run inside the sending namespace (ip netns exec A /usr/bin/python3 ...): it
builds every frame with scapy, sends them in order with one sendp() on
--iface, and prints (or writes with --expect FILE) the counters that
ipsecmon-bpf on the receiving interface must show afterwards, as a JSON
object shaped like the relevant parts of `ipsecmon-bpf stats --json`:

  traffic.rx.<class>.{packets,bytes,ipv4,ipv6,non_ip}
  ike.ikev2.{<exchange>,requests,responses,rx.<exchange>.{requests,responses}}
  ike.ikev1.*, ike.unparsed
  sas[]: {spi, proto, dir, family, src, dst, encap, packets, bytes,
          seq_max, seq_gaps, seq_replays, seq_late}

The numbers come from the frames actually built (IP bytes: the IP layer's
length, outer header included, Ethernet excluded), not from a formula.
Nothing here needs IPsec in the kernel: ESP and AH are just headers with an
SPI and a sequence number, followed by filler bytes.

The mix (per run):
  ESP over IPv4 and over IPv6, AH over IPv4 and inside IPv6, ESP-in-UDP on
  4500: --count packets per SA, sequence numbers --seq-start onwards (the
  IPv4 ESP SA may skip one number, --skip, and repeat one, --replay);
  IKEv2 on UDP 500: IKE_SA_INIT request + response, IKE_AUTH request;
  IKEv2 on UDP 4500 behind the non-ESP marker: IKE_AUTH response (IPv4),
  INFORMATIONAL request (IPv6), all --ike-rounds times;
  --keepalives NAT keepalives (one 0xFF byte on UDP 4500);
  --plain times: UDP to port 7777 over IPv4 and IPv6, and a TCP SYN.
"""

import argparse
import json
import struct
import sys

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.config import conf

CLASSES = ("esp", "ah", "esp_in_udp", "ike", "nat_keepalive", "other",
           "fragment", "malformed")
FAMILIES = ("ipv4", "ipv6", "non_ip")
IKEV2_EXCH = {34: "ike_sa_init", 35: "ike_auth", 36: "create_child_sa",
              37: "informational"}
IKEV2_NAMES = ("ike_sa_init", "ike_auth", "create_child_sa", "informational",
               "other")
IKEV1_NAMES = ("main_mode", "aggressive_mode", "quick_mode", "informational",
               "other")
IKE_F_INITIATOR = 0x08
IKE_F_RESPONSE = 0x20
IKE_PORT = 500
NATT_PORT = 4500
PLAIN_PORT = 7777
SEQ_WINDOW = 64  # IPSM_SEQ_WINDOW


def spi_arg(text):
    value = int(text, 0)
    if not 0 < value < 1 << 32:
        raise argparse.ArgumentTypeError("SPI must be 1..0xffffffff")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iface", default="va")
    p.add_argument("--src-mac", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--src4", default="10.77.0.1")
    p.add_argument("--dst4", default="10.77.0.2")
    p.add_argument("--src6", default="fd77::1")
    p.add_argument("--dst6", default="fd77::2")
    p.add_argument("--count", type=int, default=5,
                   help="packets per ESP/AH SA (default 5)")
    p.add_argument("--seq-start", type=int, default=1,
                   help="first sequence number (default 1)")
    p.add_argument("--esp4-spi", type=spi_arg, default=0xabcd)
    p.add_argument("--esp6-spi", type=spi_arg, default=0xabce)
    p.add_argument("--ah4-spi", type=spi_arg, default=0xa4a4)
    p.add_argument("--ah6-spi", type=spi_arg, default=0xa6a6)
    p.add_argument("--natt-spi", type=spi_arg, default=0xbeef)
    p.add_argument("--skip", type=int, default=0,
                   help="sequence number the IPv4 ESP SA leaves out")
    p.add_argument("--replay", type=int, default=0,
                   help="sequence number the IPv4 ESP SA sends again at the end")
    p.add_argument("--esp-len", type=int, default=64,
                   help="bytes after the ESP/AH header (default 64)")
    p.add_argument("--ike-rounds", type=int, default=1)
    p.add_argument("--keepalives", type=int, default=3)
    p.add_argument("--plain", type=int, default=2)
    p.add_argument("--expect", metavar="FILE",
                   help="write the expected counters here instead of stdout")
    p.add_argument("--no-send", action="store_true",
                   help="only compute the expected counters")
    p.add_argument("--pretty", action="store_true")
    return p.parse_args(argv)


def filler(n, seed):
    return bytes((seed + i) & 0xFF for i in range(n))


def esp(spi, seq, n):
    return struct.pack("!II", spi, seq) + filler(n, seq)


def ah(spi, seq, n):
    # Next header 59 (none), length 4 (24-byte header: 12 of it a 96-bit ICV).
    icv = filler(12, spi & 0xFF)
    return struct.pack("!BBHII", 59, 4, 0, spi, seq) + icv + filler(n, seq)


def ike(ispi, rspi, exch, flags, msgid, body_len=40):
    # Generic payload header (next payload none) + opaque body.
    body = struct.pack("!BBH", 0, 0, 4 + body_len) + filler(body_len, exch)
    return (struct.pack("!QQBBBBII", ispi, rspi, 33, 0x20, exch, flags, msgid,
                        28 + len(body)) + body)


class Mix:
    """The frames to send and the counters they must produce."""

    def __init__(self, a):
        self.a = a
        self.frames = []
        self.traffic = {c: {f: [0, 0] for f in FAMILIES} for c in CLASSES}
        self.ike = {n: [0, 0] for n in IKEV2_NAMES}
        self.sas = {}

    def l3(self, family):
        a = self.a
        if family == "ipv4":
            return Ether(src=a.src_mac, dst=a.dst_mac) / IP(src=a.src4, dst=a.dst4)
        return Ether(src=a.src_mac, dst=a.dst_mac) / IPv6(src=a.src6, dst=a.dst6)

    def add(self, frame, cls, family):
        # Build once: what is counted is what is sent.
        raw = bytes(frame)
        ip_len = len(raw) - 14
        self.frames.append(raw)
        ctr = self.traffic[cls][family]
        ctr[0] += 1
        ctr[1] += ip_len
        return ip_len

    def ipsec(self, family, proto, spi, seq, udp=False):
        n = self.a.esp_len
        if proto == "ah":
            payload, nh, cls = ah(spi, seq, n), 51, "ah"
        elif udp:
            payload, nh, cls = esp(spi, seq, n), None, "esp_in_udp"
        else:
            payload, nh, cls = esp(spi, seq, n), 50, "esp"
        base = self.l3(family)
        if udp:
            frame = base / UDP(sport=NATT_PORT, dport=NATT_PORT) / Raw(payload)
        elif family == "ipv4":
            base[IP].proto = nh
            frame = base / Raw(payload)
        else:
            base[IPv6].nh = nh
            frame = base / Raw(payload)
        ip_len = self.add(frame, cls, family)
        self.sa(family, proto, spi, udp, seq, ip_len)

    def sa(self, family, proto, spi, udp, seq, ip_len):
        a = self.a
        key = (proto, family, spi)
        row = self.sas.get(key)
        if row is None:
            row = self.sas[key] = {
                "spi": "0x%08x" % spi, "proto": proto, "dir": "rx",
                "family": family,
                "src": a.src4 if family == "ipv4" else a.src6,
                "dst": a.dst4 if family == "ipv4" else a.dst6,
                "encap": "udp" if udp else "none",
                "packets": 0, "bytes": 0, "seq_max": 0, "seq_gaps": 0,
                "seq_replays": 0, "seq_late": 0, "_window": None}
        row["packets"] += 1
        row["bytes"] += ip_len
        seq_track(row, seq)

    def ike_pkt(self, family, port, exch, flags, msgid, rspi):
        payload = ike(0x1122334455667788, rspi, exch, flags, msgid)
        if port == NATT_PORT:
            payload = b"\x00\x00\x00\x00" + payload  # non-ESP marker
        frame = self.l3(family) / UDP(sport=port, dport=port) / Raw(payload)
        self.add(frame, "ike", family)
        self.ike[IKEV2_EXCH.get(exch, "other")][1 if flags & IKE_F_RESPONSE else 0] += 1

    def build(self):
        a = self.a
        seqs = [s for s in range(a.seq_start, a.seq_start + a.count) if s != a.skip]
        for seq in seqs:
            self.ipsec("ipv4", "esp", a.esp4_spi, seq)
        if a.replay:
            self.ipsec("ipv4", "esp", a.esp4_spi, a.replay)
        for seq in range(a.seq_start, a.seq_start + a.count):
            self.ipsec("ipv6", "esp", a.esp6_spi, seq)
            self.ipsec("ipv4", "ah", a.ah4_spi, seq)
            self.ipsec("ipv6", "ah", a.ah6_spi, seq)
            self.ipsec("ipv4", "esp", a.natt_spi, seq, udp=True)
        rspi = 0x99AABBCCDDEEFF00
        for r in range(a.ike_rounds):
            self.ike_pkt("ipv4", IKE_PORT, 34, IKE_F_INITIATOR, 0, 0)
            self.ike_pkt("ipv4", IKE_PORT, 34, IKE_F_RESPONSE, 0, rspi)
            self.ike_pkt("ipv4", IKE_PORT, 35, IKE_F_INITIATOR, 1, rspi)
            self.ike_pkt("ipv4", NATT_PORT, 35, IKE_F_RESPONSE, 1, rspi)
            self.ike_pkt("ipv6", NATT_PORT, 37, IKE_F_INITIATOR, 2 + r, rspi)
        for _ in range(a.keepalives):
            frame = (self.l3("ipv4") / UDP(sport=NATT_PORT, dport=NATT_PORT) /
                     Raw(b"\xff"))
            self.add(frame, "nat_keepalive", "ipv4")
        for i in range(a.plain):
            self.add(self.l3("ipv4") / UDP(sport=40000 + i, dport=PLAIN_PORT) /
                     Raw(filler(32, i)), "other", "ipv4")
            self.add(self.l3("ipv6") / UDP(sport=40000 + i, dport=PLAIN_PORT) /
                     Raw(filler(32, i)), "other", "ipv6")
            self.add(self.l3("ipv4") / TCP(sport=41000 + i, dport=80, flags="S",
                                           seq=1000 + i), "other", "ipv4")

    def expected(self):
        rx = {}
        for cls, fams in self.traffic.items():
            c = {"packets": sum(v[0] for v in fams.values()),
                 "bytes": sum(v[1] for v in fams.values())}
            for fam, (pk, by) in fams.items():
                c[fam] = {"packets": pk, "bytes": by}
            rx[cls] = c
        v2 = {n: sum(v) for n, v in self.ike.items()}
        v2["requests"] = sum(v[0] for v in self.ike.values())
        v2["responses"] = sum(v[1] for v in self.ike.values())
        v2["rx"] = {n: {"requests": v[0], "responses": v[1]}
                    for n, v in self.ike.items()}
        v1 = {n: 0 for n in IKEV1_NAMES}
        sas = []
        for row in self.sas.values():
            row = dict(row)
            del row["_window"]
            sas.append(row)
        return {"frames": len(self.frames),
                "traffic": {"rx": rx},
                "ike": {"ikev2": v2, "ikev1": v1, "unparsed": 0},
                "sas": sas}


def seq_track(row, seq):
    """The datapath's per-SA sequence analysis (bpf/ipsecmon.bpf.c), one CPU."""
    if row["_window"] is None:
        row["seq_max"], row["_window"] = seq, 1
        return
    diff = (seq - row["seq_max"]) & 0xFFFFFFFF
    if diff & 0x80000000:
        diff -= 1 << 32
    if diff > 0:
        row["_window"] = ((row["_window"] << diff) | 1) & (2**64 - 1) \
            if diff < SEQ_WINDOW else 1
        row["seq_gaps"] += diff - 1
        row["seq_max"] = seq
        return
    back = -diff
    if back >= SEQ_WINDOW:
        row["seq_late"] += 1
        return
    bit = 1 << back
    if row["_window"] & bit:
        row["seq_replays"] += 1
    else:
        row["_window"] |= bit
        if row["seq_gaps"]:
            row["seq_gaps"] -= 1


def main(argv):
    a = parse_args(argv)
    mix = Mix(a)
    mix.build()
    if not a.no_send:
        # The frames are already bytes: one raw socket, in order, no re-dissection.
        sock = conf.L2socket(iface=a.iface)
        try:
            for raw in mix.frames:
                sock.send(raw)
        finally:
            sock.close()
    doc = json.dumps(mix.expected(), indent=2 if a.pretty else None)
    if a.expect:
        with open(a.expect, "w", encoding="utf-8") as f:
            f.write(doc + "\n")
    else:
        print(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
