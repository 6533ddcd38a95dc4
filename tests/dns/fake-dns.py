#!/usr/bin/env python3
"""fake-dns.py PORTFILE LOGFILE - a tiny DNS server on 127.0.0.1 for the dns
processor's tests.  It binds a free UDP port, writes it to PORTFILE, logs
each question ("TYPE NAME") to LOGFILE, and answers from the table below:
PTR, A and AAAA records; "slow.example" is never answered (timeouts); any
other name is NXDOMAIN.  It runs until killed."""
import ipaddress
import os
import socket
import struct
import sys

PTR, A, AAAA = 12, 1, 28
TABLE = {
    (PTR, ipaddress.ip_address("81.2.69.7").reverse_pointer): ["host-a.example."],
    (PTR, ipaddress.ip_address("10.1.2.3").reverse_pointer): ["a.example.", "b.example."],
    (PTR, ipaddress.ip_address("2001:db8:101::1").reverse_pointer): ["v6host.example."],
    (A, "www.example"): ["192.0.2.1"],
    (AAAA, "www.example"): ["2001:db8::1"],
}


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_name(m, off):
    labels = []
    while m[off]:
        n = m[off]
        labels.append(m[off + 1:off + 1 + n].decode())
        off += n + 1
    return ".".join(labels), off + 1


def main():
    portfile, logfile = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    with open(portfile + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    log = open(logfile, "a", buffering=1)
    while True:
        m, peer = s.recvfrom(4096)
        if len(m) < 12:
            continue
        qid = m[:2]
        name, off = read_name(m, 12)
        qtype = struct.unpack("!H", m[off:off + 2])[0]
        log.write("%d %s\n" % (qtype, name))
        if name == "slow.example":
            continue
        answers = TABLE.get((qtype, name))
        flags = 0x8180 if answers else 0x8183
        hdr = qid + struct.pack("!HHHHH", flags, 1, len(answers or []), 0, 0)
        q = m[12:off + 4]
        rrs = b""
        for a in answers or []:
            if qtype == PTR:
                rdata = name_wire(a)
            elif qtype == A:
                rdata = socket.inet_pton(socket.AF_INET, a)
            else:
                rdata = socket.inet_pton(socket.AF_INET6, a)
            # the owner name as a pointer to the question (offset 12)
            rrs += struct.pack("!HHHIH", 0xC00C, qtype, 1, 300, len(rdata)) + rdata
        s.sendto(hdr + q + rrs, peer)


main()
