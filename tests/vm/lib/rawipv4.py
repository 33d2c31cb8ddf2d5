# SPDX-License-Identifier: GPL-2.0
"""Hand-made Ethernet/IPv4 frames on an AF_PACKET socket, for the guest's
traffic scripts (esp_spray.py, ike_send.py, ike_msgs.py). Standard library
only, so that a script starts fast under TCG and may write any source
address.
"""
import socket
import struct

ETH_P_IP = 0x0800
IPPROTO_UDP = 17
IPPROTO_ESP = 50


def csum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp(sport, dport, payload):
    """A UDP header (checksum 0: none, as IPv4 allows) and its payload."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


class Sender:
    """IPv4 packets out of IFACE to the next hop's MAC (aa:bb:..)."""

    def __init__(self, iface, mac):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.sock.bind((iface, 0))
        self.src_mac = self.sock.getsockname()[4]
        self.dst_mac = bytes.fromhex(mac.replace(":", ""))

    def send(self, src, dst, proto, payload, ident):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64,
                         proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        self.sock.send(self.dst_mac + self.src_mac + struct.pack("!H", ETH_P_IP) + ip +
                       payload)
