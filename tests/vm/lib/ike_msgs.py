#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Put hand-made IKEv2 messages on the wire (UDP 500 to 500), each SPEC
in turn, from SRC to DST via the next hop's MAC:

    ip netns exec gw1 /usr/bin/python3 ike_msgs.py v1 MAC SRC DST SPEC...

SPEC is KIND/SPI_I/SPI_R/PAYLOADS/TIMES: KIND init-req, init-resp or
auth-req; the SPIs in hex (0: zero); PAYLOADS comma-separated, each sa,
ke, nonce, sk (12 bytes of that payload type), nTYPE (a notify of TYPE,
e.g. n14 NO_PROPOSAL_CHOSEN) or skfN (IKE fragment N of 2, RFC 7383);
TIMES identical copies (the first is the message, the others its
retransmits). Standard library only.
"""
import os
import struct
import sys

# -I keeps the script's folder off sys.path: the shared module is there.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawipv4 import IPPROTO_UDP, Sender, udp  # noqa: E402

KINDS = {  # exchange, flags, message ID
    "init-req": (34, 0x08, 0),
    "init-resp": (34, 0x20, 0),
    "auth-req": (35, 0x08, 1),
}
PAYLOAD_TYPES = {"sa": 33, "ke": 34, "nonce": 40, "sk": 46}
NOTIFY = 41
SKF = 53


def payload(name):
    """(type, body without the generic header)"""
    if name[:1] == "n" and name[1:].isdigit():
        # Protocol IKE (1), no SPI, the notify type.
        return NOTIFY, struct.pack("!BBH", 1, 0, int(name[1:]))
    if name[:3] == "skf":
        # Fragment Number, Total Fragments, then 8 bytes standing for the rest.
        return SKF, struct.pack("!HH", int(name[3:]), 2) + bytes(8)
    return PAYLOAD_TYPES[name], bytes(8)


def ike_message(spec):
    kind, spi_i, spi_r, pls, times = spec.split("/")
    exch, flags, msgid = KINDS[kind]
    parts = [payload(p) for p in pls.split(",") if p]
    body = b""
    for i, (_, data) in enumerate(parts):
        nxt = parts[i + 1][0] if i + 1 < len(parts) else 0
        body += struct.pack("!BBH", nxt, 0, 4 + len(data)) + data
    first = parts[0][0] if parts else 0
    hdr = struct.pack("!QQBBBBII", int(spi_i, 16), int(spi_r, 16), first, 0x20, exch, flags,
                      msgid, 28 + len(body))
    return hdr + body, int(times)


def main():
    if len(sys.argv) < 6:
        sys.exit("usage: ike_msgs.py IFACE NEXT_HOP_MAC SRC DST SPEC...")
    iface, mac, src, dst = sys.argv[1:5]
    out = Sender(iface, mac)
    n = 0
    for spec in sys.argv[5:]:
        ike, times = ike_message(spec)
        for _ in range(times):
            out.send(src, dst, IPPROTO_UDP, udp(500, 500, ike), n)
            n += 1
    print(f"sent {n} IKEv2 messages from {src}")


if __name__ == "__main__":
    main()
