#!/usr/bin/env python3
"""Compare pb-flows' TCP and UDP flows with tshark's conversations.

pb-flows runs with final reports only and a timeout of a day (so that a
conversation is one event); tshark runs in two passes with IP reassembly
(as pb-flows reassembles by default) and lists every frame with its
innermost TCP or UDP header and its tcp.stream / udp.stream.  Then:

  - each tshark frame is keyed like a pb-flows flow: transport, the
    unordered pair of ends {ip:port, ip:port}, and the first two VLAN ids
    before the innermost IP header;
  - a fragment frame (in no stream in tshark) counts with the frame its
    datagram was rebuilt in (ip.reassembled_in, ipv6.reassembled.in),
    as pb-flows counts every frame that carried a datagram;
  - the frames of a key go to the pb-flows events of that key by frame
    number (pb.packet.first and .last; nearly always there is one);
  - per event and direction (the sender's ip:port): packets and the sum
    of frame.len must be equal, exactly; every key must have frames on
    both sides (a tshark stream with no flow, a flow with no stream).

Where the two keep conversations apart differently, the frames still go
where pb-flows counted them, so these are compared, not excused, and only
counted in the summary:
  - tshark starts a new tcp.stream when a closed connection's ports are
    used again, and gives the two directions of a UDP exchange different
    udp.stream numbers when another dissector (SIP, Skinny, HART-IP, ...)
    set up a conversation for one of them; pb-flows keys by the tuple and
    idle time only ("flows holding several tshark streams");
  - pb-flows ends a flow idle for the timeout in capture time; tshark
    streams never time out, so captures spliced together from different
    days split a tshark stream ("tshark streams over several flows").

Left out of the comparison (frame by frame): what an ICMP error quotes
(not the packet's own transport), what is inside tunnels pb-flows does not
decode (TUNNELS: the carrying UDP or IP is the flow), and the outer UDP of
a tunnel pb-flows follows to a packet that is not TCP or UDP (VXLAN
carrying ARP, say).  SCTP, ICMP and the rest are not compared.

Exceptions are named, with their reasons, in KNOWN (tshark and pb-flows
differ on purpose) and BUGS (pb-flows is wrong; expected failures, listed
so the test stays useful until they are fixed; PB_TSHARK_FLOWS_STRICT=1
makes them fail).  An entry that no longer matches anything is reported,
and for BUGS it fails: remove it.

Prints one line per difference (at most 5 per capture), a line of counts
for the batch ("flows-tshark-compare: ...") and a closing
"N passed, M failed" (captures).

usage: flows_tshark_compare.py [-v] PB_FLOWS TSHARK CAPTURE...
"""
import ipaddress
import json
import os
import subprocess
import sys
from collections import defaultdict

FIELDS = [
    "frame.number", "frame.len", "frame.protocols",
    "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    "tcp.stream", "udp.stream",
    "ip.reassembled_in", "ipv6.reassembled.in",
    "ieee8021ad.id", "vlan.id",
]
F = {name: i for i, name in enumerate(FIELDS)}

# Two passes, so that every fragment names the frame its datagram was
# rebuilt in; IP reassembly on, as in pb-flows by default.
TSHARK_OPTS = ["-2", "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE"]

# One final event per conversation.
PB_OPTS = ["--period", "-1", "--timeout", "86400", "-q"]

TRANSPORTS = ("tcp", "udp")

# Encapsulations pb-flows does not decode through (as in tshark_compare.py):
# for pb-flows the packet ends at the last IP header before them, so the
# flow is the transport carrying the tunnel.
TUNNELS = {"gtp", "l2tp", "sflow", "etherip", "nsh", "cflow", "lisp",
           "cisco-wids", "aruba_erm", "tzsp", "ipx", "macsec", "ieee8021ah",
           "avsp", "vxlan-gpe", "gtpv2", "gtpprime", "capwap", "pflog", "pptp",
           "wlan", "nhrp", "ayiya", "cmd", "lisp-data", "ipcomp", "pim",
           "openflow", "openflow_v4", "cfp"}

# Tunnels over UDP that pb-flows does follow (decode/tunnel.c: VXLAN,
# Geneve, Teredo, GRE and MPLS in UDP), and the layers they carry.  When
# one of them follows the innermost UDP, what it carries is not IP and the
# flow is that payload's (ARP, another Ethernet type), not the UDP's.
INNER = {"vxlan", "geneve", "gre", "erspan", "teredo", "mpls", "eth", "ppp"}

# tshark and pb-flows differ on purpose.  Each entry: capture name ending,
# the key as printed (None: every difference in the capture), why.
KNOWN = [
    ("tcpdump/bigtcp-ipv4-geneve-ipv4.pcap", None,
     "BIG TCP (an 80 kB GSO frame, IPv4 total length and UDP length 0): "
     "tshark stops at the UDP header, pb-flows takes the frame's length and "
     "follows the tunnel to the TCP inside"),
    ("tcpdump/bigtcp-ipv4-geneve-ipv6.pcap", None, "BIG TCP, as above"),
    ("tcpdump/bigtcp-ipv4-vxlan-ipv4.pcap", None, "BIG TCP, as above"),
    ("tcpdump/bigtcp-ipv4-vxlan-ipv6.pcap", None, "BIG TCP, as above"),
    ("zeek/tunnels/teredo_bubble_with_payload.pcap",
     "udp 65.55.158.80:3544 <-> 192.168.2.16:3797",
     "frame 5 has bytes after a Teredo bubble that its IPv6 header does not "
     "account for: pb-flows takes UDP/3544 for Teredo only on an exact length "
     "match (a UDP flow), tshark decodes the bubble (no transport)"),
    ("zeek/ipv6-reassembly-state-leak.pcap", "udp [2001:db8::1]:0 <-> [2001:db8::2]:0",
     "46 fragments whose datagram would have a 65536-byte IPv6 payload (an "
     "8-byte hop-by-hop header and 65528 bytes): pb-flows discards it as too "
     "big (RFC 8200: the payload length is 16 bits), tshark rebuilds it"),
    ("zeek/ipv6-reassembly-state-leak.pcap", "udp [2001:db8::1]:257 <-> [2001:db8::2]:257",
     "as above, the second such datagram"),
    ("bug-6942-6887-defrag-eth-ip-gre-ppp-ip-udp-data/eth-ip-gre-ppp-max-ip-packet.pcap",
     "udp 1.1.1.1:11111 <-> 2.2.2.2:9999",
     "one datagram in 1024 fragments of 8 bytes: pb-flows' reassembly holds "
     "at most 64 fragments per datagram (pb(7) limits), tshark has no limit"),
    # A fragment reassembly refuses at once (FRAG_MALFORMED, FRAG_TOO_MANY,
    # FRAG_TOO_BIG) is counted where it is met, as with --no-reassembly
    # (pb-flows(1) Fragments): the first in the flow of its ports, a later
    # one in a flow of the addresses and protocol.
    ("zeek/ipv4/fragmented-2.pcap", "udp 164.1.123.61:137 <-> 164.1.123.163:123",
     "frames 1 and 3 (offset 0, MF, 18 bytes: FRAG_MALFORMED) counted on "
     "their own"),
    ("zeek/ipv6-reassembly-state-leak.pcap", "udp 2001:db8::1 <-> 2001:db8::2",
     "frames 46 and 92 (FRAG_TOO_BIG) counted in a UDP flow without ports"),
    ("bug-6942-6887-defrag-eth-ip-gre-ppp-ip-udp-data/eth-ip-gre-ppp-max-ip-packet.pcap",
     "udp 1.1.1.1 <-> 2.2.2.2",
     "frames 65, 130, ..., 975 (FRAG_TOO_MANY) counted in a UDP flow "
     "without ports"),
]

# pb-flows bugs: expected failures until fixed.  Same form as KNOWN.
BUGS = [
]

STRICT = os.environ.get("PB_TSHARK_FLOWS_STRICT", "") not in ("", "0")


def nth(v, k):
    """The k-th value of a field that occurs several times."""
    vals = v.split(",") if v else []
    return vals[k] if k < len(vals) else ""


def tshark_rows(tshark, cap):
    cmd = [tshark, "-n", "-r", cap] + TSHARK_OPTS + [
        "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
        "-E", "separator=\t"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    rows = []
    for line in out.stdout.splitlines():
        vals = line.split("\t")
        if len(vals) == len(FIELDS) and vals[0].isdigit():
            rows.append(vals)
    return rows


def pb_events(pb, cap):
    out = subprocess.run([pb] + PB_OPTS + ["-r", cap], capture_output=True,
                         text=True, errors="replace")
    evs = []
    for line in out.stdout.splitlines():
        try:
            evs.append(json.loads(line))
        except ValueError:
            pass
    return evs, out.returncode


def frame_view(r, why):
    """What pb-flows should make of one tshark row:
    ("frag", frame): a fragment, counted where its datagram was rebuilt;
    ("flow", transport, (ip, port) of the sender, of the receiver, stream,
     vlan ids): a packet of a TCP or UDP flow;
    None: not in a TCP or UDP flow (why[reason] counts the frames that
    have a tshark stream all the same)."""
    n = int(r[F["frame.number"]])
    for f in ("ip.reassembled_in", "ipv6.reassembled.in"):
        for v in r[F[f]].split(","):
            if v and int(v) != n:
                return ("frag", int(v))
    has_stream = bool(r[F["tcp.stream"]] or r[F["udp.stream"]])
    protos = r[F["frame.protocols"]].split(":")
    # what an ICMP error quotes is not the packet's own transport; what a
    # tunnel pb-flows does not decode carries is not looked at, nor IP
    # straight after UDP, which tshark decodes on some ports and pb-flows
    # never (its UDP tunnels have a header tshark names)
    cut = next((i for i, p in enumerate(protos)
                if p in ("icmp", "icmpv6") or p in TUNNELS or
                (p in ("ip", "ipv6") and i > 0 and protos[i - 1] == "udp")),
               len(protos))
    ips = [i for i, p in enumerate(protos[:cut]) if p in ("ip", "ipv6")]
    tr_at = None
    if ips:
        for i in range(ips[-1] + 1, cut):
            p = protos[i]
            if p in TRANSPORTS:
                tr_at = i
                break
            if p.startswith("ipv6.") or p == "ah":
                continue
            break
    if tr_at is None or INNER.intersection(protos[tr_at + 1:cut]):
        if has_stream:
            if any(p in TRANSPORTS for p in protos[:cut]):
                why["outer UDP of a tunnel to neither TCP nor UDP"] += 1
            elif protos[cut] in ("icmp", "icmpv6"):
                why["quoted in an ICMP error"] += 1
            else:
                why["inside a tunnel pb-flows does not decode"] += 1
        return None
    ip_at = ips[-1]
    tr = protos[tr_at]
    v6 = protos[ip_at] == "ipv6"
    k = protos[:ip_at].count(protos[ip_at])
    kt = protos[:tr_at].count(tr)
    src = nth(r[F["ipv6.src" if v6 else "ip.src"]], k)
    dst = nth(r[F["ipv6.dst" if v6 else "ip.dst"]], k)
    sp = nth(r[F[tr + ".srcport"]], kt)
    dp = nth(r[F[tr + ".dstport"]], kt)
    stream = nth(r[F[tr + ".stream"]], kt)
    if not (src and dst and sp and dp):
        if has_stream:
            why["no address or port"] += 1
        return None
    # the first two VLAN ids before that IP header, as pb-flows keys them
    ntags = sum(1 for p in protos[:ip_at] if p in ("vlan", "ieee8021ad"))
    vl = [int(v) for v in (r[F["ieee8021ad.id"]] + "," + r[F["vlan.id"]]).split(",") if v]
    return ("flow", tr, (src, int(sp)), (dst, int(dp)), (tr, stream),
            tuple(vl[:min(ntags, 2)]))


def end_key(ip, port):
    """An end, comparable: packed address, port (-1: none)."""
    return (ipaddress.ip_address(ip).packed, -1 if port is None else port)


def pair_key(transport, a, b, vlan):
    return (transport,) + tuple(sorted([end_key(*a), end_key(*b)])) + (tuple(vlan),)


def fmt_key(key):
    tr, a, b, vl = key

    def e(x):
        ip = ipaddress.ip_address(x[0])
        s = f"[{ip}]" if ip.version == 6 and x[1] >= 0 else str(ip)
        return s + (f":{x[1]}" if x[1] >= 0 else "")
    s = f"{tr} {e(a)} <-> {e(b)}"
    return s + (f" vlan {','.join(map(str, vl))}" if vl else "")


class Result:
    def __init__(self):
        self.flows = 0          # pb-flows tcp/udp flows compared
        self.agreed = 0
        self.streams = 0        # tshark streams met
        self.merged = 0         # flows holding several tshark streams
        self.split = 0          # tshark streams over several flows
        self.why = defaultdict(int)  # frames with a stream left out, by why
        self.notes = []         # for -v


def events_by_key(evs):
    events = defaultdict(list)
    for e in evs:
        tr = e.get("network", {}).get("transport")
        if tr not in TRANSPORTS or not e.get("flow", {}).get("final"):
            continue
        s, d = e.get("source", {}), e.get("destination", {})
        vl = e.get("flow", {}).get("vlan", [])
        # a flow without ports (fragments counted apart from their
        # datagram) is compared too: tshark has no stream for it
        key = pair_key(tr, (s["ip"], s.get("port")), (d["ip"], d.get("port")),
                       vl if isinstance(vl, list) else [vl])
        events[key].append(e)
    return events


def frames_by_key(rows, res):
    view = {}
    for r in rows:
        view[int(r[F["frame.number"]])] = (int(r[F["frame.len"]]), frame_view(r, res.why))
    frames = defaultdict(list)  # key -> [(anchor frame, frame, len, sender, stream)]
    for n, (ln, v) in view.items():
        anchor, seen = n, {n}
        while v is not None and v[0] == "frag":
            # the frame its datagram was rebuilt in (itself perhaps a
            # fragment of an outer datagram)
            anchor = v[1]
            if anchor in seen or anchor not in view:
                v = None
                break
            seen.add(anchor)
            v = view[anchor][1]
        if v is None:
            continue
        _, tr, snd, rcv, stream, vl = v
        frames[pair_key(tr, snd, rcv, vl)].append((anchor, n, ln, end_key(*snd), stream))
    return frames


def compare(pb, tshark, cap, res):
    """Compare one capture; returns its differences as (key text, text)."""
    rows = tshark_rows(tshark, cap)
    evs, rc = pb_events(pb, cap)
    diffs = []
    if rc != 0:
        diffs.append(("", f"pb-flows exit {rc}"))
    frames = frames_by_key(rows, res)
    events = events_by_key(evs)
    for key in sorted(set(frames) | set(events), key=fmt_key):
        kt = fmt_key(key)
        evl = sorted(events.get(key, []), key=lambda e: e["pb"]["packet"]["first"])
        fl = frames.get(key, [])
        res.streams += len({x[4] for x in fl})
        if not evl:
            diffs.append((kt, f"{kt}: tshark has {len(fl)} frames (first "
                              f"{min(x[1] for x in fl)}), pb-flows no flow"))
            continue
        res.flows += len(evl)
        # each frame to the flow whose frame range holds the frame that
        # carried its transport header; when none does or several do, to
        # the latest to start by then
        rng = [(min(e["pb"]["packet"]["first"], e["pb"]["packet"]["last"]),
                max(e["pb"]["packet"]["first"], e["pb"]["packet"]["last"])) for e in evl]
        got = [defaultdict(int) for _ in evl]
        streams = [set() for _ in evl]
        for anchor, n, ln, snd, stream in fl:
            inside = [i for i, (lo, hi) in enumerate(rng) if lo <= anchor <= hi]
            if len(inside) == 1:
                j = inside[0]
            else:
                j = 0
                for i in inside or range(len(evl)):
                    if evl[i]["pb"]["packet"]["first"] <= anchor:
                        j = i
            got[j][(snd, "packets")] += 1
            got[j][(snd, "bytes")] += ln
            streams[j].add(stream)
        owner = defaultdict(set)
        for i, ss in enumerate(streams):
            for s in ss:
                owner[s].add(i)
        for s, o in owner.items():
            if len(o) > 1:
                res.split += 1
                res.notes.append(f"{cap}: {kt}: tshark {s[0]}.stream {s[1]} is "
                                 f"{len(o)} pb-flows flows (idle timeout)")
        for i, e in enumerate(evl):
            pk = e["pb"]["packet"]
            where = f"{kt} (pb.packet {pk['first']}-{pk['last']})"
            if not streams[i]:
                diffs.append((kt, f"{where}: tshark has no stream, pb-flows "
                                  f"{e['network'].get('packets')} packets"))
                continue
            if len(streams[i]) > 1:
                res.merged += 1
                res.notes.append(f"{cap}: {where}: tshark streams " + ", ".join(
                    f"{s[0]}.stream {s[1]}" for s in sorted(streams[i])))
            s, d = e["source"], e["destination"]
            ends = [("source", end_key(s["ip"], s.get("port")), s),
                    ("destination", end_key(d["ip"], d.get("port")), d)]
            if ends[0][1] == ends[1][1]:
                # both ends alike (same address and port): one direction
                ends = [("both", ends[0][1], {k: s.get(k, 0) + d.get(k, 0)
                                              for k in ("packets", "bytes")})]
            bad = []
            for name, ek, side in ends:
                for what in ("packets", "bytes"):
                    want, have = got[i][(ek, what)], side.get(what, 0)
                    if want != have:
                        bad.append(f"{name}.{what} tshark={want} pb={have}")
            if bad:
                diffs.append((kt, f"{where}: " + ", ".join(bad)))
            else:
                res.agreed += 1
    return diffs


def entries(table, cap):
    return [x for x in table if cap.endswith("/" + x[0])]


def matches(entry, kt):
    return entry[1] is None or kt.startswith(entry[1])


def main():
    args = sys.argv[1:]
    verbose = bool(args) and args[0] == "-v"
    if verbose:
        args = args[1:]
    pb, tshark, caps = args[0], args[1], args[2:]
    passed = failed = known = xfail = 0
    res = Result()
    for cap in caps:
        diffs = compare(pb, tshark, cap, res)
        kn, bugs = entries(KNOWN, cap), entries(BUGS, cap)
        used = set()
        left = []
        for kt, text in diffs:
            k = next((x for x in kn if matches(x, kt)), None)
            b = next((x for x in bugs if matches(x, kt)), None) if not k else None
            if k:
                known += 1
                used.add(id(k))
                if verbose:
                    print(f"{cap}: known difference: {text} ({k[2]})")
            elif b and not STRICT:
                xfail += 1
                used.add(id(b))
                print(f"{cap}: pb-flows bug (expected failure): {text}")
            else:
                left.append(text)
        for x in kn + bugs:
            if id(x) not in used and not (x in bugs and STRICT):
                what = "pb-flows bug" if x in bugs else "known difference"
                print(f"{cap}: {what} no longer seen ({x[1] or 'any flow'}): {x[2]}")
                if x in bugs:
                    left.append("fixed bug still listed")
        for text in left[:5]:
            print(f"{cap}: {text}")
        if len(left) > 5:
            print(f"{cap}: ... {len(left) - 5} more differences")
        if left:
            failed += 1
        else:
            passed += 1
    if verbose:
        for n in res.notes:
            print(n)
    why = "; ".join(f"{n} {w}" for w, n in sorted(res.why.items()))
    print(f"flows-tshark-compare: {len(caps)} captures, {res.flows} flows, "
          f"{res.agreed} agreed, {known} known differences, {xfail} expected "
          f"failures; {res.streams} tshark streams, {res.merged} flows holding "
          f"several, {res.split} over several flows; frames in a tshark stream "
          f"not compared: {why or 'none'}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
