#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Put hand-made ESP frames on the wire: PER frames for each of COUNT SPIs
from FIRST_SPI on, SPI by SPI, from SRC to DST (IPv4) via the next hop's MAC.

    ip netns exec gw1 /usr/bin/python3 esp_spray.py v1 MAC SRC DST FIRST COUNT PER

The ESP payload is junk: whoever holds the SA would drop it, which is the
point where the frames go to an address that holds none. Standard library
only (an AF_PACKET socket), so it starts fast under TCG.
"""
import os
import struct
import sys

# -I keeps the script's folder off sys.path: the shared module is there.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawipv4 import IPPROTO_ESP, Sender  # noqa: E402


def main():
    if len(sys.argv) != 8:
        sys.exit("usage: esp_spray.py IFACE NEXT_HOP_MAC SRC DST FIRST_SPI COUNT PER")
    iface, mac, src, dst = sys.argv[1:5]
    first, count, per = int(sys.argv[5], 0), int(sys.argv[6]), int(sys.argv[7])
    out = Sender(iface, mac)
    for spi in range(first, first + count):
        for seq in range(1, per + 1):
            out.send(src, dst, IPPROTO_ESP, struct.pack("!II", spi, seq) + bytes(32), seq)
    print(f"sent {count * per} ESP frames, SPIs {first:#x}..{first + count - 1:#x}")


if __name__ == "__main__":
    main()
