#!/usr/bin/env python3
"""txn_tshark_compare.py - pb-txn's HTTP, DNS and TLS transactions against
tshark's decode of the same capture.

For each capture, the key fields of every message, as multisets (the order
of events differs: pb-txn writes a transaction when it is complete):

  HTTP  requests  (method, request target)      http.request.method, .uri
        responses (status code)                 http.response.code
  DNS   queries   (id, name, type)              dns.id, dns.qry.name, .type
        responses (id, name, rcode, answers)    dns.flags.rcode, dns.count.answers
  TLS   ClientHello (server name, JA3)          tls.handshake.extensions_server_name, .ja3
        ServerHello (JA3S, version)             tls.handshake.ja3s, supported_version

pb-txn's side: for HTTP, http.request.method with url.path and url.query
(a request target in absolute form is compared by its path); for DNS,
dns.id, dns.question.name/type, dns.response_code, dns.answers_count; for
TLS, tls.client.server_name, tls.client.ja3, tls.server.ja3s, tls.version.
Messages are compared only on the ports pb-txn decodes each protocol on
(its defaults), as tshark finds them.

KNOWN lists the differences on purpose: (capture name ending, protocol,
why).  Prints one line per difference (at most 5 per capture), a count
line ("txn-tshark-compare: ...") and "N passed, M failed".

usage: txn_tshark_compare.py PB_TXN TSHARK CAPTURE...
"""
import collections
import json
import re
import subprocess
import sys
import urllib.parse

HTTP_PORTS = {80, 8080, 8000, 5000, 8002}
DNS_PORTS = {53}
TLS_PORTS = {443, 993, 995, 5223, 8443, 8883, 9243}

DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO", 15: "MX",
             16: "TXT", 28: "AAAA", 33: "SRV", 35: "NAPTR", 41: "OPT",
             43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
             64: "SVCB", 65: "HTTPS", 252: "AXFR", 251: "IXFR", 255: "ANY",
             257: "CAA"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET",
          8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE"}
TLS_VERSIONS = {0x0300: "3.0", 0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2",
                0x0304: "1.3"}

KNOWN = [
    ("zeek/tunnels/ayiya3.pcap", "http",
     "HTTP inside AYIYA (IPv6 in UDP/5072), a tunnel pbtools does not decode"),
    # Suricata's HTTP evader set: deliberately ambiguous messages (bad
    # chunking, odd status lines, encodings) on which decoders disagree
    # by design; tshark's reading is no reference there
    ("ndpi/http_origin_different_than_host.pcap", "http",
     "HTTP inside GTP-U (UDP/2152), a tunnel pbtools does not decode"),
    ("http-evader-048/input.pcap", "http", "a status line tshark reads as 20"),
    ("http-evader-468/input.pcap", "http", "a status line tshark reads as 20"),
]



def tshark(ts, cap, filt, fields, extra=()):
    cmd = [ts, "-n", "-r", cap, "-Y", filt, "-T", "fields", "-E",
           "occurrence=a", "-E", "aggregator=|", "-E", "separator=\t"]
    cmd += list(extra)
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    rows = []
    for line in out.stdout.splitlines():
        v = line.split("\t")
        if len(v) == len(fields):
            rows.append([x.split("|") if x else [] for x in v])
    return rows


def on_ports(ports, *vals):
    for v in vals:
        for p in v:
            if p.isdigit() and int(p) in ports:
                return True
    return False


def num(s):
    try:
        return int(s, 0)
    except ValueError:
        return None


def target_path(uri):
    if "://" in uri:
        rest = uri.split("://", 1)[1]
        uri = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return uri


def norm_target(method, path, query):
    """A request target compared by meaning: the path percent-decoded, the
    query as the sorted list of its decoded parameters (pb-txn writes
    url.query sorted, as Packetbeat does).  The query of a POST or PUT is
    left out: Packetbeat (and pb-txn) merge the form parameters of the
    body into url.query."""
    path = urllib.parse.unquote(path, errors="replace")
    if method in ("POST", "PUT", "PATCH") or not query:
        return (method, path)
    q = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    return (method, path, tuple(q))


def ascii_name(name, escaped):
    """A DNS name with every byte outside printable ASCII as '?': tshark
    shows such bytes as they decode, pb-txn escapes them as dig does
    (\\DDD)."""
    if escaped:
        name = re.sub(r"\\(\d{3})",
                      lambda mt: chr(int(mt.group(1))) if int(mt.group(1)) < 128 else "?",
                      name)
    # a run of them as one: tshark decodes UTF-8, one mark for 2-4 bytes
    return re.sub(r"\?+", "?", "".join(ch if " " <= ch < "\x7f" else "?" for ch in name))


def tshark_side(ts, cap):
    m = collections.defaultdict(collections.Counter)
    for r in tshark(ts, cap, "http.request", ["tcp.srcport", "tcp.dstport",
                    "http.request.method", "http.request.uri"]):
        if not on_ports(HTTP_PORTS, r[0], r[1]):
            continue
        for meth, uri in zip(r[2], r[3]):
            path = target_path(uri)
            q = path.split("?", 1)[1] if "?" in path else None
            m["http request"][norm_target(meth, path.split("?", 1)[0], q)] += 1
    for r in tshark(ts, cap, "http.response", ["tcp.srcport", "tcp.dstport",
                    "http.response.code"]):
        if not on_ports(HTTP_PORTS, r[0], r[1]):
            continue
        for code in r[2]:
            if code != "100":  # interim: not a transaction's response
                m["http response"][(int(code),)] += 1
    # not the DNS an ICMP error quotes
    for r in tshark(ts, cap, "dns && !icmp && !icmpv6", ["udp.srcport", "udp.dstport", "tcp.srcport",
                    "tcp.dstport", "dns.flags.response", "dns.id", "dns.qry.name",
                    "dns.qry.type", "dns.flags.rcode", "dns.count.answers"]):
        if not on_ports(DNS_PORTS, r[0], r[1], r[2], r[3]):
            continue
        for i, resp in enumerate(r[4]):
            did = num(r[5][i]) if i < len(r[5]) else None
            name = ascii_name(r[6][i] if i < len(r[6]) else "", False)
            qt = num(r[7][i]) if i < len(r[7]) else None
            qtype = DNS_TYPES.get(qt, str(qt))
            if resp in ("0", "False"):
                m["dns query"][(did, name.lower(), qtype)] += 1
            else:
                rc = num(r[8][i]) if i < len(r[8]) else None
                # an UPDATE has zone/prerequisite/update counts instead
                an = num(r[9][i]) if i < len(r[9]) else None
                m["dns response"][(did, name.lower(), RCODES.get(rc, str(rc)),
                                   an if an is not None else "-")] += 1
    # pb-txn writes one event per TLS connection: the first ClientHello
    # (a second one follows a HelloRetryRequest) and the last ServerHello
    # (the real one after a HelloRetryRequest)
    first_ch = {}
    for r in tshark(ts, cap, "tls.handshake.type == 1", ["tcp.stream", "tcp.srcport",
                    "tcp.dstport", "tls.handshake.extensions_server_name",
                    "tls.handshake.ja3"]):
        if not on_ports(TLS_PORTS, r[1], r[2]) or not r[4]:
            continue
        stream = r[0][0] if r[0] else ""
        if stream not in first_ch:
            first_ch[stream] = (r[3][0] if r[3] else "", r[4][0])
    for v in first_ch.values():
        m["tls client hello"][v] += 1
    last_sh = {}
    for r in tshark(ts, cap, "tls.handshake.type == 2", ["tcp.stream", "tcp.srcport",
                    "tcp.dstport", "tls.handshake.ja3s",
                    "tls.handshake.extensions.supported_version",
                    "tls.handshake.version"]):
        if not on_ports(TLS_PORTS, r[1], r[2]) or not r[3]:
            continue
        stream = r[0][0] if r[0] else ""
        v = r[4][-1] if r[4] else (r[5][-1] if r[5] else "")
        n = num(v) or 0
        # a version TLS does not define, as pb-txn writes it: major.minor
        last_sh[stream] = (r[3][-1], TLS_VERSIONS.get(n, "%d.%d" % (n >> 8, n & 255)))
    for v in last_sh.values():
        m["tls server hello"][v] += 1
    return m


def get(o, path):
    for k in path.split("."):
        if not isinstance(o, dict) or k not in o:
            return None
        o = o[k]
    return o


def pb_side(pb, cap):
    out = subprocess.run([pb, "-q", "-r", cap, "--protocols", "http,dns,tls"],
                         capture_output=True, text=True, errors="replace")
    m = collections.defaultdict(collections.Counter)
    for line in out.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        t = e.get("type")
        if t == "http":
            meth = get(e, "http.request.method")
            if meth is not None:
                path = get(e, "url.path") or ""
                q = get(e, "url.query")
                m["http request"][norm_target(meth, path, q)] += 1
            code = get(e, "http.response.status_code")
            # a response cut by the end of the capture: pb-txn reports
            # it, noted; tshark shows only responses it reassembled whole
            incomplete = "incomplete at end of stream" in json.dumps(get(e, "error.message") or "")
            if code is not None and not incomplete:
                m["http response"][(int(code),)] += 1
        elif t == "dns":
            did = get(e, "dns.id")
            name = ascii_name(get(e, "dns.question.name") or "", True).lower()
            # a query is in every event but the lone response's
            notes = get(e, "error.message") or ""
            lone_response = "without an associated Query" in json.dumps(notes)
            if not lone_response:
                m["dns query"][(did, name, get(e, "dns.question.type"))] += 1
            rc = get(e, "dns.response_code")
            if rc is not None and (get(e, "dns.type") == "answer" or lone_response):
                an = get(e, "dns.answers_count")
                if get(e, "dns.op_code") == "UPDATE":
                    an = "-"
                m["dns response"][(did, name, rc, an)] += 1
        elif t == "tls":
            ja3 = get(e, "tls.client.ja3")
            if ja3 is not None:
                m["tls client hello"][(get(e, "tls.client.server_name") or "", ja3)] += 1
            ja3s = get(e, "tls.server.ja3s")
            if ja3s is not None:
                m["tls server hello"][(ja3s, get(e, "tls.version"))] += 1
    return m, out.returncode


def known(cap, kind):
    for name, k, _ in KNOWN:
        if cap.endswith(name) and (k is None or kind.startswith(k)):
            return True
    return False


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    pb, ts, caps = sys.argv[1], sys.argv[2], sys.argv[3:]
    npass = nfail = 0
    totals = collections.Counter()
    for cap in caps:
        want = tshark_side(ts, cap)
        got, rc = pb_side(pb, cap)
        bad = []
        if rc not in (0, 1):
            bad.append("pb-txn exit %d" % rc)
        for kind in sorted(set(want) | set(got)):
            w, g = want[kind], got[kind]
            totals[kind] += sum(w.values())
            if w == g:
                totals["agreed " + kind] += sum(w.values())
                continue
            if known(cap, kind):
                totals["known"] += 1
                continue
            missing = w - g
            extra = g - w
            for k, n in list(missing.items())[:3]:
                bad.append("%s: tshark has %s x%d, pb-txn not" % (kind, k, n))
            for k, n in list(extra.items())[:3]:
                bad.append("%s: pb-txn has %s x%d, tshark not" % (kind, k, n))
        if bad:
            nfail += 1
            for b in bad[:5]:
                print("%s: %s" % (cap, b))
        else:
            npass += 1
    kinds = ["http request", "http response", "dns query", "dns response",
             "tls client hello", "tls server hello"]
    print("txn-tshark-compare: " + ", ".join(
        "%s %d/%d" % (k, totals["agreed " + k], totals[k]) for k in kinds) +
        ", known differences %d" % totals["known"])
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
