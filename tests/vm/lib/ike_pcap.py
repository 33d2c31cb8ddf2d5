#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The wire's own IKEv2 health counts, from a tcpdump capture on one
interface (Ethernet, IPv4, UDP 500), to hold ipsecmon's against:

    /usr/bin/python3 ike_pcap.py FILE LOCAL_ADDR

prints {"retransmits": {"rx": N, "tx": N}, "notify": {...}}: a message
is a retransmit when one with the same SPIs, message ID, flags, exchange,
length, fragment number, peer address and direction came before; the notifies are those of IKE_SA_INIT
responses that are not retransmits, by the names ipsecmon uses.
Standard library only.
"""
import json
import socket
import struct
import sys

NAMES = {14: "no_proposal_chosen", 17: "invalid_ke_payload", 16390: "cookie",
         7: "invalid_syntax"}


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def notifies(ike, out):
    np, off = ike[16], 28
    end = min(len(ike), struct.unpack("!I", ike[24:28])[0])
    for _ in range(16):
        if not np or off + 4 > end:
            return
        nxt, plen = ike[off], struct.unpack("!H", ike[off + 2:off + 4])[0]
        if plen < 4:
            return
        if np == 41 and plen >= 8 and off + 8 <= end:
            t = struct.unpack("!H", ike[off + 6:off + 8])[0]
            name = NAMES.get(t, "other" if t < 16384 else None)
            if name:
                out[name] += 1
        np, off = nxt, off + plen


def main():
    path, local = sys.argv[1], socket.inet_aton(sys.argv[2])
    seen = set()
    retx = {"rx": 0, "tx": 0}
    ntf = dict.fromkeys(list(NAMES.values()) + ["other"], 0)
    for fr in packets(path):
        if len(fr) < 14 + 20 + 8 + 28 or fr[12:14] != b"\x08\x00":
            continue
        ip = fr[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        if 500 not in struct.unpack("!HH", udp[:4]):
            continue
        ike = udp[8:]
        if len(ike) < 28 or ike[17] >> 4 != 2:
            continue
        d = "rx" if ip[16:20] == local else "tx"
        # An IKE fragment (SKF, 53): its Fragment Number tells it from its siblings.
        frag = ike[32:34] if ike[16] == 53 else b""
        peer = ip[12:16] if d == "rx" else ip[16:20]
        key = (d, peer, ike[:16], ike[18], ike[19] & 0x28, ike[20:28], frag)
        if key in seen:
            retx[d] += 1
            continue
        seen.add(key)
        if ike[18] == 34 and ike[19] & 0x20:
            notifies(ike, ntf)
    print(json.dumps({"retransmits": retx, "notify": ntf}, sort_keys=True))


if __name__ == "__main__":
    main()
