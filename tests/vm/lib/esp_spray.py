#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Put hand-made ESP frames on the wire: PER frames for each of COUNT SPIs
from FIRST_SPI on, SPI by SPI, from SRC to DST (IPv4) via the next hop's MAC.

    ip netns exec gw1 /usr/bin/python3 esp_spray.py v1 MAC SRC DST FIRST COUNT PER

The ESP payload is junk: whoever holds the SA would drop it, which is the
point where the frames go to an address that holds none. Standard library
only (an AF_PACKET socket), so it starts fast under TCG.
"""
import socket
import struct
import sys

ETH_P_IP = 0x0800
IPPROTO_ESP = 50


def csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src_mac, dst_mac, src, dst, spi, seq):
    esp = struct.pack("!II", spi, seq) + bytes(32)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(esp), seq & 0xFFFF, 0, 64,
                     IPPROTO_ESP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + esp


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: esp_spray.py IFACE NEXT_HOP_MAC SRC DST FIRST_SPI COUNT PER")
    iface, mac, src, dst = sys.argv[1:5]
    first, count, per = int(sys.argv[5], 0), int(sys.argv[6]), int(sys.argv[7])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((iface, 0))
    src_mac = s.getsockname()[4]
    dst_mac = bytes.fromhex(mac.replace(":", ""))
    for spi in range(first, first + count):
        for seq in range(1, per + 1):
            s.send(frame(src_mac, dst_mac, src, dst, spi, seq))
    print(f"sent {count * per} ESP frames, SPIs {first:#x}..{first + count - 1:#x}")


if __name__ == "__main__":
    main()
