#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send UDP datagrams that the kernel protects with ESP, capture the ESP
packets as they leave, then put chosen ones back on the wire unchanged.

Run inside the sending gateway's namespace, e.g.
    ip netns exec gw1 /usr/bin/python3 esp_replay.py v1 10.0.0.2 9000 40 36-40,1-3

The capture socket is open before the first datagram is sent, so exactly
COUNT ESP packets are captured; the replayed frames are byte-for-byte copies
(same SPI, same sequence number, valid ICV), i.e. what an attacker on the
path could replay. Uses only the standard library (an AF_PACKET socket), so
it starts fast under TCG.
"""
import socket
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
IPPROTO_ESP = 50


def parse_positions(spec):
    """'36-40,1-3' -> [36, 37, 38, 39, 40, 1, 2, 3] (1-based, in order)."""
    out = []
    for part in spec.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return out


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: esp_replay.py IFACE DST PORT COUNT POSITIONS")
    iface, dst, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    positions = parse_positions(sys.argv[5])

    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    cap.bind((iface, 0))
    cap.settimeout(10)

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(count):
        udp.sendto(b"x", (dst, port))

    frames = []
    while len(frames) < count:
        data, addr = cap.recvfrom(65535)
        if addr[2] != PACKET_OUTGOING or data[12:14] != b"\x08\x00":
            continue
        if data[14 + 9] != IPPROTO_ESP:
            continue
        frames.append(data)

    seqs = []
    for f in frames:
        ihl = (f[14] & 0x0F) * 4
        seqs.append(int.from_bytes(f[14 + ihl + 4:14 + ihl + 8], "big"))
    if seqs != list(range(1, count + 1)):
        sys.exit(f"unexpected ESP sequence numbers {seqs}")

    for pos in positions:
        cap.send(frames[pos - 1])
    print(f"captured {len(frames)} ESP packets (seq 1..{count}), replayed {len(positions)}")


if __name__ == "__main__":
    main()
