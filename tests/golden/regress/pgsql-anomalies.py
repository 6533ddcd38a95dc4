#!/usr/bin/env python3
# pgsql-anomalies.py - writes tests/golden/regress/pgsql-anomalies.pcap:
# hand-made TCP conversations between 10.0.0.1 (client) and
# 10.0.0.2:5432, one per note of the PostgreSQL parser
# (pb-proto-pgsql(7), STATUS AND NOTES) that the samples from a real
# server do not show.  Usage: pgsql-anomalies.py OUT
import struct, sys

out = []
T0 = 1700000000.0
PORT = 5432


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


C = [10, 0, 0, 1]
S = [10, 0, 0, 2]
FIN, SYN, PSH, ACK = 1, 2, 8, 16


class Conn:
    def __init__(self, sport, t, handshake=True):
        self.sport = sport
        self.t = t
        self.cs = 1000
        self.ss = 5000
        if handshake:
            self.step(); pkt(self.t, C, S, sport, PORT, self.cs, 0, SYN)
            self.step(); pkt(self.t, S, C, PORT, sport, self.ss, self.cs + 1, SYN | ACK)
            self.cs += 1
            self.ss += 1
            self.step(); pkt(self.t, C, S, sport, PORT, self.cs, self.ss, ACK)

    def step(self, d=0.001):
        self.t += d

    def cli(self, data, lose=0):
        self.step()
        if not lose:
            pkt(self.t, C, S, self.sport, PORT, self.cs, self.ss, PSH | ACK, data)
        self.cs += len(data)

    def srv(self, data, lose=0):
        self.step()
        if not lose:
            pkt(self.t, S, C, PORT, self.sport, self.ss, self.cs, PSH | ACK, data)
        self.ss += len(data)

    def close(self):
        self.step(); pkt(self.t, C, S, self.sport, PORT, self.cs, self.ss, FIN | ACK)
        self.cs += 1
        self.step(); pkt(self.t, S, C, PORT, self.sport, self.ss, self.cs, FIN | ACK)
        self.ss += 1
        self.step(); pkt(self.t, C, S, self.sport, PORT, self.cs, self.ss, ACK)


def msg(t, body):
    return t + struct.pack('!I', len(body) + 4) + body


def cstr(s):
    return s.encode() + b'\0'


def startup(user):
    body = struct.pack('!I', 196608) + cstr('user') + cstr(user) + cstr('database') + \
        cstr('regress') + b'\0'
    return struct.pack('!I', len(body) + 4) + body


def login_ok():
    return msg(b'R', struct.pack('!I', 0)) + msg(b'K', struct.pack('!II', 99, 1)) + \
        msg(b'Z', b'I')


def query(q):
    return msg(b'Q', cstr(q))


def rowdesc(name):
    return msg(b'T', struct.pack('!H', 1) + cstr(name) + struct.pack('!IHIHIH', 0, 0, 25, 0xffff,
                                                                      0xffffffff, 0))


def row(v):
    return msg(b'D', struct.pack('!HI', 1, len(v)) + v.encode())


def complete(tag):
    return msg(b'C', cstr(tag))


def ready():
    return msg(b'Z', b'I')


# 1. rows lost in the middle of a result: the result still ends, noted
c = Conn(41001, T0)
c.cli(startup('regress'))
c.srv(login_ok())
c.cli(query('SELECT n FROM generate_series(1, 3) n'))
c.srv(rowdesc('n') + row('1'))
c.srv(row('2'), lose=1)
c.srv(row('3') + complete('SELECT 3') + ready())
# 2. a query lost whole: its answer comes without it
c.cli(query('UPDATE t SET a = 1'), lose=1)
c.srv(complete('UPDATE 1') + ready())
c.close()

# 3. an Execute of a statement prepared before the capture: a capture that
#    starts inside the connection (no handshake); the server's tail of an
#    earlier result first
c = Conn(41002, T0 + 1, handshake=False)
c.srv(row('old') + complete('SELECT 1') + ready())
c.cli(msg(b'B', cstr('') + cstr('stmt_before') + struct.pack('!HHH', 0, 0, 0)) +
      msg(b'E', cstr('') + struct.pack('!I', 0)) + msg(b'S', b''))
c.srv(msg(b'2', b'') + complete('DELETE 4') + ready())
c.close()

# 4. a result cut by the end of the capture, and a statement never
#    answered
c = Conn(41003, T0 + 2)
c.cli(startup('regress'))
c.srv(login_ok())
c.cli(query('SELECT 1; SELECT 2'))
c.srv(rowdesc('x') + row('1'))
c.close()

# 5. a client that pipelines 65 queries the server never answers: the
#    oldest goes out when the pending queue (64) is full
c = Conn(41004, T0 + 3)
c.cli(startup('regress'))
c.srv(login_ok())
c.cli(b''.join(query('SELECT %d' % i) for i in range(65)))
c.close()

# 6. TLS from the first byte (PostgreSQL 17's direct SSL negotiation)
c = Conn(41005, T0 + 4)
c.cli(b'\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00')
c.srv(b'\x15\x03\x03\x00\x02\x02\x28')
c.close()

# 7. garbage, then a query: the client's stream is resynchronised
c = Conn(41006, T0 + 5)
c.cli(startup('regress'))
c.srv(login_ok())
c.cli(b'Q\x00\x00\x00\x02junk\xff' + query('SELECT 42'))
c.srv(complete('SELECT 1') + ready())
c.close()

with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(b''.join(out))
