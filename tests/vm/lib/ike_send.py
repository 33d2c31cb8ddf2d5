#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Put hand-made IKEv2 IKE_SA_INIT requests on the wire (UDP 500 to 500):
PER messages from each of COUNT source addresses from SRC on (the last
octet counting up), to DST, via the next hop's MAC.

    ip netns exec gw1 /usr/bin/python3 ike_send.py v1 MAC SRC DST COUNT PER

Only the 28-byte IKE header: enough for the classifier, and no daemon
answers. Standard library only (an AF_PACKET socket), so it starts fast
under TCG and any source address can be written.
"""
import ipaddress
import os
import struct
import sys

# -I keeps the script's folder off sys.path: the shared module is there.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawipv4 import IPPROTO_UDP, Sender, udp  # noqa: E402


def ike_sa_init(n):
    # SPIi, SPIr 0, next payload SA (33), version 2.0, IKE_SA_INIT (34), initiator, ID 0.
    return struct.pack("!QQBBBBII", 0x1000 + n, 0, 33, 0x20, 34, 0x08, 0, 28)


def main():
    if len(sys.argv) != 7:
        sys.exit("usage: ike_send.py IFACE NEXT_HOP_MAC SRC DST COUNT PER")
    iface, mac, src, dst = sys.argv[1:5]
    count, per = int(sys.argv[5]), int(sys.argv[6])
    out = Sender(iface, mac)
    first = ipaddress.IPv4Address(src)
    n = 0
    for i in range(count):
        for _ in range(per):
            out.send(str(first + i), dst, IPPROTO_UDP, udp(500, 500, ike_sa_init(n)), n)
            n += 1
    print(f"sent {n} IKE messages from {count} addresses, {src} on")


if __name__ == "__main__":
    main()
