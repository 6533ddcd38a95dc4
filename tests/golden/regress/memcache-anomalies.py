#!/usr/bin/env python3
# tests/golden/regress/memcache-anomalies.py - writes
# tests/golden/regress/memcache-anomalies.pcap: hand-made TCP conversations
# (handshakes included, fixed timestamps) whose memcache messages carry
# the anomalies pb-txn notes (pb-proto-memcache(7), STATUS AND NOTES).
# Text, 10.0.0.1:40000 -> 10.0.0.2:11211:
#   1 set whose data block is longer than declared   -> not followed by CRLF
#   2 incr with a delta that is not a number         -> invalid message
#   3 an unknown command, answered ERROR             -> not written
#   4 get answered by a word in no table             -> unknown response
#   5 a response nothing asked for                   -> request missing
#   6 get whose VALUE data loses 30 bytes (a hole in the server's sequence
#     numbers)                                       -> packet loss, counted
#   7 get never answered                             -> unfinished
#   8 set cut by the end of the client's stream      -> request incomplete
# Binary, 10.0.0.1:40001 -> 10.0.0.2:11211:
#   9 GetK x, GetKQ y, GetK z; only z answered      -> missing response for
#                                                      non-quiet request (x)
#  10 a header whose key is longer than its body    -> skipped, resynced
#  11 Version, answered                              -> found again after it
# Usage: memcache-anomalies.py OUTFILE (pure stdlib; the same bytes each run)
import struct
import sys

CLI, SRV = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
SPORT = 11211
T0 = 1700000000


def checksum(b):
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Conv:
    def __init__(self, frames, cport, t):
        self.frames = frames
        self.cport = cport
        self.seq = {0: 1000, 1: 5000}
        self.t = t

    def frame(self, d, flags, payload=b"", skip=0):
        src, dst = (CLI, SRV) if d == 0 else (SRV, CLI)
        sp, dp = (self.cport, SPORT) if d == 0 else (SPORT, self.cport)
        self.seq[d] += skip
        ack = self.seq[1 - d]
        tcp = struct.pack(">HHIIBBHHH", sp, dp, self.seq[d], ack, 5 << 4, flags, 65535, 0, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                         64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:]
        eth = bytes.fromhex("020000000002" "020000000001" if d == 0 else
                            "020000000001" "020000000002") + b"\x08\x00"
        self.t += 1000
        self.frames.append((self.t, eth + ip + tcp + payload))
        self.seq[d] += len(payload) + (1 if flags & 0x03 else 0)

    def open(self):
        self.frame(0, 0x02)
        self.frame(1, 0x12)
        self.frame(0, 0x10)

    def send(self, d, payload, skip=0):
        self.frame(d, 0x18, payload, skip)

    def close(self):
        self.frame(0, 0x11)
        self.frame(1, 0x11)
        self.frame(0, 0x10)


def binary(magic, op, opaque, key=b"", extras=b"", value=b"", status=0):
    return struct.pack(">BBHBBHIIQ", magic, op, len(key), len(extras), 0, status,
                       len(key) + len(extras) + len(value), opaque, 0) + extras + key + value


def main(out):
    frames = []
    c = Conv(frames, 40000, 0)
    c.open()
    c.send(0, b"set k 0 0 3\r\nabcdef\r\n")                    # 1
    c.send(1, b"CLIENT_ERROR bad data chunk\r\n")
    c.send(0, b"incr n abc\r\n")                              # 2
    c.send(1, b"CLIENT_ERROR invalid numeric delta argument\r\n")
    c.send(0, b"bogus command\r\n")                           # 3
    c.send(1, b"ERROR\r\n")
    c.send(0, b"get w\r\n")                                   # 4
    c.send(1, b"WEIRD\r\n")
    c.send(1, b"STORED\r\n")                                  # 5
    c.send(0, b"get big\r\n")                                 # 6
    c.send(1, b"VALUE big 0 100\r\n" + b"a" * 40)
    c.send(1, b"c" * 30 + b"\r\nEND\r\n", skip=30)
    c.send(0, b"get never\r\n")                               # 7
    c.send(0, b"set cut 0 0 50\r\nshort")                     # 8
    c.close()
    b = Conv(frames, 40001, c.t)
    b.open()
    b.send(0, binary(0x80, 0x0C, 1, b"x") + binary(0x80, 0x0D, 2, b"y") +
           binary(0x80, 0x0C, 3, b"z"))                       # 9
    b.send(1, binary(0x81, 0x0C, 3, b"z", struct.pack(">I", 0), b"zz"))
    bad = bytearray(binary(0x80, 0x00, 4, b"k"))              # 10
    bad[2:4] = b"\xff\xff"
    b.send(0, bytes(bad))
    b.send(0, binary(0x80, 0x0B, 5))                          # 11
    b.send(1, binary(0x81, 0x0B, 5, value=b"1.6.18"))
    b.close()
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, data in frames:
            f.write(struct.pack("<IIII", T0 + t // 1000000, t % 1000000, len(data), len(data)))
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
