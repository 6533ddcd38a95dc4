#!/usr/bin/env python3
"""Compare pb-decode's packet records with tshark's decode of the same capture.

For every packet: original and captured length, VLAN ids, IP addresses,
transport, ports, IP length, transport payload length, TCP flags, ICMP type
and Community ID.  Prints one line per difference and a closing count.

usage: tshark_compare.py PB_DECODE TSHARK CAPTURE...
"""
import json
import subprocess
import sys

FIELDS = [
    "frame.number", "frame.len", "frame.cap_len", "frame.protocols",
    "ieee8021ad.id", "vlan.id", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.len",
    "ipv6.plen", "ip.flags.mf", "ip.frag_offset", "ipv6.fraghdr.offset",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    "tcp.len", "udp.length", "tcp.flags", "icmp.type", "icmpv6.type",
    "communityid", "_ws.malformed", "ip.hdr_len",
]
TRANSPORTS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "ipv6-icmp"}
# tshark options: no reassembly, so each frame is judged alone.
TSHARK_OPTS = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
               "-o", "tcp.desegment_tcp_streams:FALSE",
               "--enable-protocol", "communityid"]


def first(v):
    return v.split(",")[0] if v else ""


def nth(v, k):
    """The k-th value of a field that occurs several times."""
    vals = v.split(",") if v else []
    return vals[k] if k < len(vals) else ""


def num(v, base=10):
    """The first value of a field as a number, or None when it is empty."""
    v = first(v)
    return int(v, base) if v else None


# With reassembly, to check the datagrams pb-decode rebuilt.
TSHARK_DEFRAG_OPTS = ["-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE",
                      "-o", "tcp.desegment_tcp_streams:FALSE",
                      "--enable-protocol", "communityid"]


def tshark_rows(tshark, cap, opts=TSHARK_OPTS):
    cmd = [tshark, "-n", "-r", cap] + opts + ["-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=\t"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    rows = {}
    for line in out.stdout.splitlines():
        vals = line.split("\t")
        if len(vals) != len(FIELDS):
            continue
        rows[int(vals[0])] = dict(zip(FIELDS, vals))
    return rows


# Encapsulations pb-decode does not decode through.  Frames holding them
# are counted as out of scope, not compared.
TUNNELS = {"gtp", "l2tp", "sflow", "etherip", "nsh", "cflow", "lisp",
           "cisco-wids", "aruba_erm", "tzsp", "ipx", "macsec", "ieee8021ah",
           "avsp", "vxlan-gpe", "gtpv2", "gtpprime", "capwap", "pflog", "pptp",
           "wlan", "nhrp", "ayiya", "cmd", "lisp-data", "ipcomp", "pim",
           "openflow", "openflow_v4"}

# Where pb-decode and tshark differ on purpose.  Each entry: capture name
# ending, packet numbers (None: all), fields, and why.
KNOWN = [
    ("ipv4-options.pcap", {6, 7}, {"dst", "cid"},
     "tshark shows the last hop of a source-route option as ip.dst; "
     "pb-decode shows the header's destination"),
    ("ipv6_mobility_1.pcap", None, {"cid"},
     "mobility header: pb-decode hashes protocol 135 without ports; "
     "tshark's value matches no Community ID v1 input for this packet"),
    ("icmp-header-trunc.pcap", None, {"cid"},
     "ICMP header cut by the snaplen: tshark leaves type and code out of "
     "the hash, pb-decode keeps the type and code it has"),
    ("erspan-type-ii-3.pcap", None, {"vlan"},
     "a mirrored 802.1Q frame: tshark lists the tag but gives no vlan.id"),
    ("erspan-type-i-3.pcap", None, {"vlan"},
     "a mirrored 802.1Q frame: tshark lists the tag but gives no vlan.id"),
    ("teredo_bubble_with_payload.pcap", {5}, {"src", "dst", "cid", "iplen"},
     "bytes after a Teredo bubble that its IPv6 header does not account "
     "for: pb-decode takes UDP/3544 for Teredo only on an exact length match"),
    ("bigtcp-ipv4-geneve-ipv4.pcap", None, {"cid"}, "tunnel inside a BIG TCP frame"),
    ("bigtcp-ipv4-geneve-ipv6.pcap", None, {"cid"}, "tunnel inside a BIG TCP frame"),
    ("bigtcp-ipv4-vxlan-ipv4.pcap", None, {"cid"}, "tunnel inside a BIG TCP frame"),
    ("bigtcp-ipv4-vxlan-ipv6.pcap", None, {"cid"}, "tunnel inside a BIG TCP frame"),
    ("zeek/erspan.pcap", None,
     {"src", "dst", "iplen", "transport", "sport", "dport", "payload", "flags", "cid"},
     "outer IPv4 fragments of GRE: pb-decode enters no tunnel from a "
     "fragment and shows the inner packet with the fragment that completes "
     "the datagram; tshark shows it with the first fragment"),
]


def known(cap, n, field):
    for name, pkts, fields, _ in KNOWN:
        if cap.endswith("/" + name) and (pkts is None or n in pkts) and field in fields:
            return True
    return False


def expected(t, whole=False):
    """What pb-decode should say, from one tshark row (None: out of scope).
    whole: the row is tshark's view of a reassembled datagram."""
    e = {"length": int(t["frame.len"]), "caplen": int(t["frame.cap_len"])}
    protos = t["frame.protocols"].split(":")
    if TUNNELS.intersection(protos):
        return None
    first_ip = next((i for i, p in enumerate(protos) if p in ("ip", "ipv6")), None)
    if first_ip is not None and "eth" in protos[first_ip:] and not \
            {"gre", "vxlan", "geneve", "erspan", "mpls"}.intersection(protos):
        return None  # Ethernet straight over IP (e.g. an SRv6 next header 143)
    if t["_ws.malformed"]:
        return e  # only the lengths of a packet tshark calls malformed
    # the innermost IP header of the packet itself: tunnels are followed,
    # what an ICMP error quotes is not
    cut = next((i for i, p in enumerate(protos) if p in ("icmp", "icmpv6")), len(protos))
    ips = [i for i, p in enumerate(protos[:cut]) if p in ("ip", "ipv6")]
    ip_at = ips[-1] if ips else None
    # tags before the network layer: an 802.1ad service tag comes before
    # the 802.1Q tags it carries
    head = protos if ip_at is None else protos[:ip_at]
    ntags = sum(1 for p in head if p in ("vlan", "ieee8021ad"))
    vl = [v for v in (t["ieee8021ad.id"] + "," + t["vlan.id"]).split(",") if v]
    e["vlan"] = ",".join(vl[:min(ntags, 2)])
    if ip_at is None:
        return e
    if {"gre", "vxlan", "geneve", "erspan", "mpls", "pppoes"}.intersection(protos[ip_at + 1:cut]):
        # a tunnel whose payload is not IP: pb-decode files the outer
        # addresses under tunnel[], tshark shows them as the packet's
        return e
    v6 = protos[ip_at] == "ipv6"
    k = protos[:ip_at].count(protos[ip_at])  # which occurrence is ours
    e["src"] = nth(t["ipv6.src" if v6 else "ip.src"], k)
    e["dst"] = nth(t["ipv6.dst" if v6 else "ip.dst"], k)
    if v6:
        plen = nth(t["ipv6.plen"], k)
        # 0 is a jumbogram or offload: pb-decode measures the frame
        e["iplen"] = 40 + int(plen) if plen and plen != "0" else None
    else:
        il = nth(t["ip.len"], k)
        e["iplen"] = int(il) if il else None
    # the transport directly above that IP header (ignoring extension
    # headers tshark lists, and stopping at anything else)
    tr_at = None
    for i in range(ip_at + 1, len(protos)):
        p = protos[i]
        if p in TRANSPORTS:
            tr_at = i
            break
        if p.startswith("ipv6.") or p in ("ah", "data"):
            continue
        break
    # a later fragment carries no transport header
    if v6:
        fhs = [i for i in range(ip_at + 1, cut) if protos[i] == "ipv6.fraghdr"]
        later = bool(fhs) and nth(t["ipv6.fraghdr.offset"],
                                  protos[:fhs[0]].count("ipv6.fraghdr")) not in ("", "0")
    else:
        later = nth(t["ip.frag_offset"], k) not in ("", "0")
    e["transport"] = TRANSPORTS[protos[tr_at]] if tr_at is not None else None
    if later and not whole:
        e["transport"] = "fragment"
    tr = e["transport"]
    kt = protos[:tr_at].count(protos[tr_at]) if tr_at is not None else 0
    if tr == "tcp":
        e["sport"], e["dport"] = num(nth(t["tcp.srcport"], kt)), num(nth(t["tcp.dstport"], kt))
        e["payload"] = num(nth(t["tcp.len"], kt))
        flags = num(nth(t["tcp.flags"], kt), 16)
        e["flags"] = flags & 0x1ff if flags is not None else None
    elif tr == "udp":
        e["sport"], e["dport"] = num(nth(t["udp.srcport"], kt)), num(nth(t["udp.dstport"], kt))
        ul = nth(t["udp.length"], kt)
        e["payload"] = int(ul) - 8 if ul and int(ul) >= 8 else None
        # tshark believes a UDP length past the IP payload; pb-decode
        # does not (UDP_BAD_LENGTH), so compare only believable ones
        il, hl = nth(t["ip.len"], k), nth(t["ip.hdr_len"], k)
        if e["payload"] is not None and il and hl and not later and not v6 and \
                nth(t["ip.flags.mf"], k) in ("0", "False", "") and \
                e["payload"] + 8 > int(il) - int(hl):
            e["payload"] = None
    elif tr == "icmp":
        e["icmp"] = num(nth(t["icmp.type"], kt))
    elif tr == "ipv6-icmp":
        e["icmp"] = num(nth(t["icmpv6.type"], kt))
    if t["communityid"]:
        e["cid"] = first(t["communityid"])
    if tr not in ("tcp", "udp", "icmp", "ipv6-icmp") and \
            {"gre", "vxlan", "geneve", "erspan", "teredo", "mpls"}.intersection(protos):
        # tunnelled, and the inner protocol has no ports: tshark hashes an
        # outer layer, pb-decode the innermost packet
        e["cid"] = None
    if "ah" in protos and "esp" in protos:
        # AH then ESP: tshark hashes protocol 51, pb-decode the protocol
        # after AH (50), as it does after every AH
        e["cid"] = None
    return e


FLAG_BITS = {"FIN": 1, "SYN": 2, "RST": 4, "PSH": 8, "ACK": 16, "URG": 32,
             "ECE": 64, "CWR": 128, "NS": 256}


def actual(r, e):
    """The same facts from a pb-decode record, for the keys e has."""
    a = {"length": r["packet"]["length"], "caplen": r["packet"]["caplen"]}
    net = r.get("network", {})
    vl = [net.get("vlan", {}).get("id"), net.get("inner", {}).get("vlan", {}).get("id")]
    a["vlan"] = ",".join(str(v) for v in vl if v is not None)
    if "src" in e:
        a["src"] = r.get("source", {}).get("ip")
        a["dst"] = r.get("destination", {}).get("ip")
        a["iplen"] = r.get("ip", {}).get("length")
        frag = r.get("ip", {}).get("fragment", {})
        a["transport"] = "fragment" if frag.get("offset") else net.get("transport")
        if frag:
            # tshark without reassembly hashes a fragment with or without
            # its ports as the version and position happen to allow;
            # pb-decode hashes what the fragment holds
            e.pop("cid", None)
        if "reassembled" in frag:
            # the fragment that completed a datagram carries the whole
            # datagram's transport; tshark, run without reassembly, sees
            # a fragment alone: compare it as one
            for k in ("sport", "dport", "payload", "flags", "icmp", "cid"):
                e.pop(k, None)
        if e.get("transport") is None and a["transport"] not in TRANSPORTS.values():
            a["transport"] = None
    if e.get("transport") in ("tcp", "udp"):
        a["sport"] = r.get("source", {}).get("port")
        a["dport"] = r.get("destination", {}).get("port")
        a["payload"] = r.get("payload", {}).get("bytes")
    if e.get("transport") == "tcp":
        a["flags"] = sum(FLAG_BITS[f] for f in r.get("tcp", {}).get("flags", []))
    if e.get("transport") in ("icmp", "ipv6-icmp"):
        a["icmp"] = r.get("icmp", {}).get("type")
    if "cid" in e:
        a["cid"] = net.get("community_id")
    return a


def report(cap, n, label, e, a, bad):
    """Print how e (tshark) and a (pb-decode) differ; 1 when they do."""
    diff = {k: (e[k], a.get(k)) for k in e
            if e[k] is not None and e[k] != a.get(k) and not known(cap, n, k)}
    if not diff:
        return 0
    if bad < 5:
        print(f"{cap}: packet {n}{label}: " + ", ".join(
            f"{k} tshark={v[0]!r} pb={v[1]!r}" for k, v in diff.items()))
    return 1


def main():
    pb, tshark, caps = sys.argv[1], sys.argv[2], sys.argv[3:]
    passed = failed = skipped = 0
    for cap in caps:
        rows = tshark_rows(tshark, cap)
        out = subprocess.run([pb, "--no-data", "-q", "-r", cap],
                             capture_output=True, text=True)
        recs = [json.loads(l) for l in out.stdout.splitlines()]
        if len(recs) != len(rows):
            print(f"{cap}: pb-decode wrote {len(recs)} records, tshark {len(rows)}")
            failed += 1
            continue
        bad = 0
        for r in recs:
            n = r["packet"]["index"]
            e = expected(rows[n])
            if e is None:
                skipped += 1
                continue
            if "error" in r:
                # pb-decode stopped early (truncated or invalid): only
                # the frame lengths are comparable
                e = {"length": e["length"], "caplen": e["caplen"]}
            bad += report(cap, n, "", e, actual(r, e), bad)
        # The fragments that completed a datagram, against tshark's own
        # reassembly: the whole datagram's transport, ports and lengths.
        whole = [r for r in recs if "reassembled" in r.get("ip", {}).get("fragment", {})]
        if whole:
            drows = tshark_rows(tshark, cap, TSHARK_DEFRAG_OPTS)
            for r in whole:
                n = r["packet"]["index"]
                e = expected(drows[n], whole=True) if n in drows else None
                if e is None:
                    continue
                e.pop("iplen", None)  # the fragment's own header, in both
                a = actual(r, {k: v for k, v in e.items()})
                a["transport"] = r.get("network", {}).get("transport")
                a["cid"] = r.get("network", {}).get("community_id")
                a["icmp"] = r.get("icmp", {}).get("type")
                if e.get("transport") in ("tcp", "udp"):
                    a["sport"] = r.get("source", {}).get("port")
                    a["dport"] = r.get("destination", {}).get("port")
                    a["payload"] = r.get("payload", {}).get("bytes")
                bad += report(cap, n, " (reassembled)", e, a, bad)
        if bad:
            failed += 1
        else:
            passed += 1
    if skipped:
        print(f"tshark-compare: {skipped} tunnelled or label-switched packets "
              "not compared")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
