#!/usr/bin/env python3
# cassandra-anomalies.py - writes tests/golden/regress/cassandra-anomalies.pcap:
# hand-made TCP conversations between 10.0.0.1 (client) and
# 10.0.0.2:9042, each with its handshake, for the notes of the Cassandra
# parser (pb-proto-cassandra(7), STATUS AND NOTES); read with
# max_message_size 1024.  Usage: cassandra-anomalies.py OUT
import struct
import sys
import zlib

out = []
T0 = 1700000000.0
C = [10, 0, 0, 1]
S = [10, 0, 0, 2]
FIN, SYN, PSH, ACK = 1, 2, 8, 16


def pkt(t, src, dst, sport, dport, seq, ack, flags, payload=b''):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      5 << 4, flags, 65535, 0, 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                     64, 6, 0, bytes(src), bytes(dst))
    eth = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00'
    frame = eth + ip + tcp + payload
    sec = int(t)
    usec = int(round((t - sec) * 1e6))
    out.append(struct.pack('<IIII', sec, usec, len(frame), len(frame)) + frame)


class Conn:
    def __init__(self, sport, t):
        self.sport, self.t = sport, t
        self.cs, self.ss = 1000, 5000
        self.step()
        pkt(self.t, C, S, sport, 9042, self.cs, 0, SYN)
        self.step()
        pkt(self.t, S, C, 9042, sport, self.ss, self.cs + 1, SYN | ACK)
        self.cs += 1
        self.ss += 1
        self.step()
        pkt(self.t, C, S, sport, 9042, self.cs, self.ss, ACK)

    def step(self, d=0.001):
        self.t += d

    def cli(self, data, lose=False):
        self.step()
        if not lose:
            pkt(self.t, C, S, self.sport, 9042, self.cs, self.ss, PSH | ACK, data)
        self.cs += len(data)

    def srv(self, data, lose=False):
        self.step()
        if not lose:
            pkt(self.t, S, C, 9042, self.sport, self.ss, self.cs, PSH | ACK, data)
        self.ss += len(data)

    def close(self):
        self.step()
        pkt(self.t, C, S, self.sport, 9042, self.cs, self.ss, FIN | ACK)
        self.step()
        pkt(self.t, S, C, 9042, self.sport, self.ss, self.cs + 1, FIN | ACK)
        self.step()
        pkt(self.t, C, S, self.sport, 9042, self.cs + 1, self.ss + 1, ACK)


def frame(v, flags, stream, op, body):
    return struct.pack('>BBhBI', v, flags, stream, op, len(body)) + body


def lstr(s):
    return struct.pack('>i', len(s)) + s


def string(s):
    return struct.pack('>H', len(s)) + s


def query(stream, q, v=4):
    flags = struct.pack('>i', 0) if v >= 5 else b'\0'
    return frame(v, 0, stream, 7, lstr(q) + b'\0\1' + flags)


def void(stream, v=0x84):
    return frame(v, 0, stream, 8, struct.pack('>i', 1))


def startup(comp, v=4):
    m = [(b'CQL_VERSION', b'3.0.0')] + ([(b'COMPRESSION', comp)] if comp else [])
    body = struct.pack('>H', len(m)) + b''.join(string(k) + string(x) for k, x in m)
    return frame(v, 0, 0, 1, body)


def crc24(b):
    crc = 0x875060
    for x in b:
        crc ^= x << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1974F0B
    return crc & 0xFFFFFF


def segment(payload, selfc=1, bad24=False, bad32=False):
    hb = (len(payload) | (selfc << 17)).to_bytes(3, 'little')
    c24 = crc24(hb) ^ (0x10101 if bad24 else 0)
    c32 = zlib.crc32(b'\xfa\x2d\x55\xca' + payload) ^ (1 if bad32 else 0)
    return hb + c24.to_bytes(3, 'little') + payload + c32.to_bytes(4, 'little')


t = T0
# 1. a stream id used again before its answer; a response to nothing; a
#    request never answered
c = Conn(40001, t)
c.cli(query(1, b'SELECT first'))
c.cli(query(1, b'SELECT second'))
c.srv(void(1))
c.srv(void(9))
c.cli(query(2, b'SELECT never answered'))
c.close()
# 2. a response lost (its segment never captured): the next one is noted
c = Conn(40002, c.t + 0.01)
c.cli(query(1, b'SELECT lost') + query(2, b'SELECT kept'))
c.srv(void(1), lose=True)
c.srv(void(2))
c.close()
# 3. bytes that are not frames before a request; a malformed body
c = Conn(40003, c.t + 0.01)
c.cli(b'\xde\xad\xbe\xef garbage ' + query(1, b'SELECT after garbage'))
c.srv(frame(0x84, 0, 1, 8, struct.pack('>i', 3) + b'\x7f\xffks'))
c.close()
# 4. a frame larger than max_message_size (1024), then one cut by the end
c = Conn(40004, c.t + 0.01)
c.cli(query(1, b'SELECT big'))
big = frame(0x84, 0, 1, 8, struct.pack('>i', 1) + b'\0' * 3000)
for i in range(0, len(big), 1000):
    c.srv(big[i:i + 1000])
c.cli(query(2, b'SELECT big again'))
c.srv(frame(0x84, 0, 2, 8, struct.pack('>i', 1) + b'\0' * 3000)[:1500])
c.close()
# 5. a compression pbtools does not know, and an LZ4 body that is not one
c = Conn(40005, c.t + 0.01)
c.cli(startup(b'zstd'))
c.srv(frame(0x84, 0, 0, 2, b''))
c.cli(frame(4, 1, 1, 7, b'\x28\xb5\x2f\xfd compressed'))
c.srv(frame(0x84, 1, 1, 8, b'\x28\xb5\x2f\xfd'))
c.close()
c = Conn(40006, c.t + 0.01)
c.cli(startup(b'lz4'))
c.srv(frame(0x84, 0, 0, 2, b''))
c.cli(frame(4, 1, 1, 7, b'\x00\x00\x00\x40\xff\xff\xff\xff'))
c.srv(void(1))
c.close()
# 6. v5: a payload CRC32 mismatch, a header CRC24 mismatch, a
#    self-contained segment while an envelope was incomplete
c = Conn(40007, c.t + 0.01)
c.cli(startup(None, v=5))
c.srv(frame(0x85, 0, 0, 2, b''))
c.cli(segment(query(1, b'SELECT crc32', v=5), bad32=True))
c.srv(segment(void(1, 0x85)))
c.cli(segment(query(2, b'SELECT crc24', v=5)))
c.srv(segment(void(2, 0x85), bad24=True) + segment(void(2, 0x85)))
q3 = query(3, b'SELECT split', v=5)
c.cli(segment(q3[:10], selfc=0) + segment(query(4, b'SELECT whole', v=5)))
c.srv(segment(void(4, 0x85)))
c.close()

with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(b''.join(out))
