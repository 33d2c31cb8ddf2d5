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
import socket
import struct
import sys

ETH_P_IP = 0x0800
IPPROTO_UDP = 17


def csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src_mac, dst_mac, src, dst, n):
    # SPIi, SPIr 0, next payload SA (33), version 2.0, IKE_SA_INIT (34), initiator, ID 0.
    ike = struct.pack("!QQBBBBII", 0x1000 + n, 0, 33, 0x20, 34, 0x08, 0, 28)
    udp = struct.pack("!HHHH", 500, 500, 8 + len(ike), 0) + ike
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64,
                     IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + udp


def main():
    if len(sys.argv) != 7:
        sys.exit("usage: ike_send.py IFACE NEXT_HOP_MAC SRC DST COUNT PER")
    iface, mac, src, dst = sys.argv[1:5]
    count, per = int(sys.argv[5]), int(sys.argv[6])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((iface, 0))
    src_mac = s.getsockname()[4]
    dst_mac = bytes.fromhex(mac.replace(":", ""))
    first = ipaddress.IPv4Address(src)
    n = 0
    for i in range(count):
        for _ in range(per):
            s.send(frame(src_mac, dst_mac, str(first + i), dst, n))
            n += 1
    print(f"sent {n} IKE messages from {count} addresses, {src} on")


if __name__ == "__main__":
    main()
