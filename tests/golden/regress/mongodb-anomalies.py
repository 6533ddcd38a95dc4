#!/usr/bin/env python3
# tests/golden/regress/mongodb-anomalies.py - writes
# tests/golden/regress/mongodb-anomalies.pcap: one hand-made TCP
# conversation (10.0.0.1:40000 -> 10.0.0.2:27017, handshake included,
# fixed timestamps) whose MongoDB messages carry each anomaly pb-txn notes
# (pb-proto-mongodb(7), STATUS AND NOTES):
#   1 ping with checksumPresent and a wrong CRC-32C      -> checksum mismatch
#   2 OP_COMPRESSED with compressorId 7                  -> decompression failed
#   3 find whose filter's string length runs past it     -> malformed message
#   4 a message with opcode 2269                         -> skipped, counted
#   5 a reply naming requestID 999, never sent           -> unmatched response
#   6 a find never answered                              -> unmatched request
#   7 an insert of 1500 bytes (golden: max_message_size 1024) -> too large
#   8 a count cut by the end of the client's stream      -> request incomplete
# Usage: mongodb-anomalies.py OUTFILE (pure stdlib; the same bytes each run)
import struct
import sys

# the wire-format helpers of the sample generator
sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../../../tools/make-samples.d")
wire = __import__("mongodb-wire")

CLI, SRV = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
CPORT, SPORT = 40000, 27017
T0 = 1700000000


class Conv:
    def __init__(self):
        self.frames = []
        self.seq = {0: 1000, 1: 5000}
        self.t = 0

    def frame(self, d, flags, payload=b""):
        src, dst = (CLI, SRV) if d == 0 else (SRV, CLI)
        sp, dp = (CPORT, SPORT) if d == 0 else (SPORT, CPORT)
        ack = self.seq[1 - d]
        tcp = struct.pack(">HHIIBBHHH", sp, dp, self.seq[d], ack, 5 << 4, flags, 65535, 0, 0)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                         64, 6, 0, src, dst)
        ipsum = checksum(ip)
        ip = ip[:10] + struct.pack(">H", ipsum) + ip[12:]
        eth = bytes.fromhex("020000000002" "020000000001" if d == 0 else
                            "020000000001" "020000000002") + b"\x08\x00"
        self.t += 1000
        self.frames.append((self.t, eth + ip + tcp + payload))
        self.seq[d] += len(payload) + (1 if flags & 0x03 else 0)

    def send(self, d, payload):
        self.frame(d, 0x18, payload)


def checksum(b):
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main(out):
    c = Conv()
    c.frame(0, 0x02)                                  # SYN
    c.frame(1, 0x12)                                  # SYN-ACK
    c.frame(0, 0x10)                                  # ACK
    doc, cmd = wire.doc, wire.cmd
    # 1 a wrong checksum
    m = bytearray(wire.op_msg(1, 0, cmd([("ping", 1)], "admin"), wire.CHECKSUM))
    m[-1] ^= 0xFF
    c.send(0, bytes(m))
    c.send(1, wire.op_msg(101, 1, doc([("ok", 1.0)])))
    # 2 an unknown compressor
    inner = wire.op_msg(2, 0, cmd([("find", "things")], "shop"))
    c.send(0, wire.message(2, 0, wire.OP_COMPRESSED,
                           struct.pack("<iiB", wire.OP_MSG, len(inner) - 16, 7) + inner[16:]))
    c.send(1, wire.op_msg(102, 2, doc([("ok", 1.0)])))
    # 3 a string that runs past its document
    body = bytearray(cmd([("find", "things"), ("filter", [("name", "a")])], "shop"))
    at = body.index(b"name\0") + 5
    body[at:at + 4] = struct.pack("<i", 4000)
    c.send(0, wire.op_msg(3, 0, bytes(body)))
    c.send(1, wire.op_msg(103, 3, doc([("ok", 1.0)])))
    # 4 an unknown opcode
    c.send(0, wire.message(4, 0, 2269, struct.pack("<I", 0) + b"\0" + doc([("x", 1)])))
    # 5 a reply to nothing
    c.send(1, wire.op_msg(105, 999, doc([("ok", 1.0)])))
    # 6 a request never answered
    c.send(0, wire.op_msg(6, 0, cmd([("find", "lonely")], "shop")))
    # 7 a message past max_message_size (1024 in the golden case)
    big = wire.op_msg(7, 0, cmd([("insert", "things"),
                                 ("documents", wire.A([("blob", "x" * 1400)]))], "shop"))
    c.send(0, big)
    c.send(1, wire.op_msg(107, 7, doc([("n", 1), ("ok", 1.0)])))
    # 8 a request cut by the end of the stream
    cut = wire.op_msg(8, 0, cmd([("count", "things")], "shop"))
    c.send(0, cut[:30])
    c.frame(0, 0x11)                                  # FIN
    c.frame(1, 0x11)
    c.frame(0, 0x10)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in c.frames:
            f.write(struct.pack("<IIII", T0 + t // 1000000, t % 1000000, len(fr), len(fr)))
            f.write(fr)


if __name__ == "__main__":
    main(sys.argv[1])
