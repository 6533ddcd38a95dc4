#!/usr/bin/env python3
# redis-anomalies.py - writes tests/golden/regress/redis-anomalies.pcap:
# hand-made TCP conversations between 10.0.0.1 (client) and
# 10.0.0.2:6379, each with its handshake, one per note of the Redis
# parser (pb-proto-redis(7), STATUS AND NOTES).  Usage: redis-anomalies.py OUT
import struct, sys

out = []
T0 = 1700000000.0

def pkt(t, src, dst, sport, dport, seq, ack, flags, payload=b''):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      5 << 4, flags, 65535, 0, 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                     64, 6, 0, bytes(src), bytes(dst))
    eth = b'\x02\x00\x00\x00\x00\x02' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00'
    frame = eth + ip + tcp + payload
    sec = int(t); usec = int(round((t - sec) * 1e6))
    out.append(struct.pack('<IIII', sec, usec, len(frame), len(frame)) + frame)

C = [10, 0, 0, 1]; S = [10, 0, 0, 2]
FIN, SYN, PSH, ACK = 1, 2, 8, 16

class Conn:
    def __init__(self, sport, t):
        self.sport = sport; self.t = t
        self.cs = 1000; self.ss = 5000
        self.step(); pkt(self.t, C, S, sport, 6379, self.cs, 0, SYN)
        self.step(); pkt(self.t, S, C, 6379, sport, self.ss, self.cs + 1, SYN | ACK)
        self.cs += 1; self.ss += 1
        self.step(); pkt(self.t, C, S, sport, 6379, self.cs, self.ss, ACK)
    def step(self, d=0.001):
        self.t += d
    def cli(self, data, lose=0, d=0.001):
        self.step(d)
        if not lose:
            pkt(self.t, C, S, self.sport, 6379, self.cs, self.ss, PSH | ACK, data)
        self.cs += len(data)
    def srv(self, data, lose=0, d=0.001):
        self.step(d)
        if not lose:
            pkt(self.t, S, C, 6379, self.sport, self.ss, self.cs, PSH | ACK, data)
        self.ss += len(data)
    def ack_cli(self):
        self.step(); pkt(self.t, C, S, self.sport, 6379, self.cs, self.ss, ACK)
    def ack_srv(self):
        self.step(); pkt(self.t, S, C, 6379, self.sport, self.ss, self.cs, ACK)
    def fin(self, who):
        self.step()
        if who == 'c':
            pkt(self.t, C, S, self.sport, 6379, self.cs, self.ss, FIN | ACK); self.cs += 1
        else:
            pkt(self.t, S, C, 6379, self.sport, self.ss, self.cs, FIN | ACK); self.ss += 1
    def close(self):
        self.fin('c'); self.fin('s'); self.ack_cli()

# 1. a reply's bytes lost: both requests written alone, the reply after
#    the loss alone
c = Conn(40001, T0)
c.cli(b'GET a\r\nGET b\r\n')
c.srv(b'$10\r\nabc')
c.srv(b'defghij\r\n', lose=1)
c.srv(b'$1\r\nB\r\n')
c.ack_cli()
c.close()
# 2. a request's bytes lost: the request cut is written with what was
#    read; the reply after the loss alone; the next pair paired again
c = Conn(40002, T0 + 1)
c.cli(b'*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n')
c.cli(b'$1\r\nb\r\n', lose=1)
c.srv(b'$1\r\nA\r\n$1\r\nB\r\n')
c.cli(b'*2\r\n$3\r\nGET\r\n$1\r\nc\r\n')
c.ack_srv()      # the server had the lost bytes: the hole is a gap
c.srv(b'$1\r\nC\r\n')
c.ack_cli()
c.close()
# 3. a reply that is not RESP
c = Conn(40003, T0 + 2)
c.cli(b'*1\r\n$4\r\nPING\r\n')
c.srv(b'@bogus\r\n')
c.ack_cli()
c.close()
# 4. a reply cut by the server's FIN, a request cut by the client's
c = Conn(40004, T0 + 3)
c.cli(b'*2\r\n$3\r\nGET\r\n$1\r\nk\r\n')
c.srv(b'$10\r\nabc')
c.fin('s')
c.cli(b'SET x')
c.fin('c')
c.ack_srv()
# 5. no reply within transaction_timeout (10 s): written alone; the late
#    reply alone; the next pair paired
c = Conn(40005, T0 + 4)
c.cli(b'*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n')
c.ack_srv()
c.cli(b'PING\r\n', d=15)
c.srv(b'*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n')
c.ack_cli()
c.close()
# 6. a reply with no request, then pipelined requests past a full queue
#    (with -E ...queue_max_messages=2 in TESTLIST)
c = Conn(40006, T0 + 30)
c.srv(b'+OK\r\n')
c.cli(b'GET a\r\nGET b\r\nGET c\r\n')
c.srv(b'$1\r\nA\r\n$1\r\nB\r\n$1\r\nC\r\n')
c.ack_cli()
c.close()

with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for p in out:
        f.write(p)
