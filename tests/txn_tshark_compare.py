#!/usr/bin/env python3
"""txn_tshark_compare.py - pb-txn's HTTP, DNS, TLS, MySQL, PostgreSQL,
memcache, MongoDB and Cassandra transactions against tshark's decode of the
same capture.

For each capture, the key fields of every message, as multisets (the order
of events differs: pb-txn writes a transaction when it is complete):

  HTTP  requests  (method, request target)      http.request.method, .uri
        responses (status code)                 http.response.code
  DNS   queries   (id, name, type)              dns.id, dns.qry.name, .type
        responses (id, name, rcode, answers)    dns.flags.rcode, dns.count.answers
  TLS   ClientHello (server name, JA3)          tls.handshake.extensions_server_name, .ja3
        ServerHello (JA3S, version)             tls.handshake.ja3s, supported_version
  MySQL COM_QUERY text                          mysql.query of mysql.command 3
        ERR packets (error code)                mysql.error_code
  PgSQL ErrorResponse (SQLSTATE)                pgsql.code
        CommandComplete (tag)                   pgsql.tag
  memcache requests over TCP (text command, or  memcache.command, memcache.opcode
        binary opcode; tshark 4.0 reads no UDP frame header)
  MongoDB requests (opcode)                     mongo.opcode where mongo.response_to is 0
  Cassandra frames (direction, opcode)          cql.version's direction bit, cql.opcode
  Redis error replies (text)                    resp.error

pb-txn's side: for HTTP, http.request.method with url.path and url.query
(a request target in absolute form is compared by its path); for DNS,
dns.id, dns.question.name/type, dns.response_code, dns.answers_count; for
TLS, tls.client.server_name, tls.client.ja3, tls.server.ja3s, tls.version;
for MySQL, query of the events whose mysql.command is COM_QUERY, and
mysql.error_code; for PostgreSQL, pgsql.error_code and pgsql.command_tag;
for memcache, memcache.request.command (text) or .opcode_value (binary);
for MongoDB, mongodb.opcodeName of each request; for Cassandra,
cassandra.request.headers.op and cassandra.response.headers.op; for
Redis, the error replies' text (resp.error, redis.error).  Redis commands
are not compared: tshark 4.0 shows a pipelined batch's bulk strings
without saying where each command starts.
Messages are compared only on the ports pb-txn decodes each protocol on
(its defaults), as tshark finds them.

Normalised on both sides (each explained where it is done): the root
name, DNS types and RCODEs (with EDNS's extended bits) by their IANA
mnemonics, an authority-form CONNECT target, bytes outside printable
ASCII, query pairs Go refuses; not compared: messages pb-txn notes as cut
or holed (tshark shows only messages it reassembled whole), a ServerHello
after the first FIN (pb-txn ends a TLS session there, as Packetbeat), the
JA3 of an SSLv2-compatible ClientHello (tshark has none; its presence is
compared).

KNOWN lists the differences on purpose: (capture name ending, protocol,
why).  Prints one line per difference (at most 5 per capture), a count
line ("txn-tshark-compare: ...") and "N passed, M failed".

usage: txn_tshark_compare.py PB_TXN TSHARK CAPTURE...
"""
import collections
import hashlib
import json
import re
import subprocess
import sys
import time
import urllib.parse

HTTP_PORTS = {80, 8080, 8000, 5000, 8002}
DNS_PORTS = {53}
TLS_PORTS = {443, 993, 995, 5223, 8443, 8883, 9243}
MYSQL_PORTS = {3306, 3307}
PGSQL_PORTS = {5432}
MEMCACHE_PORTS = {11211}
MONGODB_PORTS = {27017}
REDIS_PORTS = {6379}
CASSANDRA_PORTS = {9042}
# tshark 4.0 dissects MongoDB on no port by default
MONGO_DECODE = ("-d", "tcp.port==27017,mongo")
MONGO_OPCODES = {1: "OP_REPLY", 1000: "OP_MSG_OLD", 2001: "OP_UPDATE",
                 2002: "OP_INSERT", 2003: "RESERVED", 2004: "OP_QUERY",
                 2005: "OP_GET_MORE", 2006: "OP_DELETE", 2007: "OP_KILL_CURSORS",
                 2010: "OP_COMMAND", 2011: "OP_COMMANDREPLY",
                 2012: "OP_COMPRESSED", 2013: "OP_MSG"}
MONGO_LEGACY_REQUESTS = {"OP_QUERY", "OP_GET_MORE", "OP_INSERT", "OP_UPDATE",
                         "OP_DELETE", "OP_KILL_CURSORS"}
CQL_OPCODES = {0: "ERROR", 1: "STARTUP", 2: "READY", 3: "AUTHENTICATE",
               5: "OPTIONS", 6: "SUPPORTED", 7: "QUERY", 8: "RESULT",
               9: "PREPARE", 10: "EXECUTE", 11: "REGISTER", 12: "EVENT",
               13: "BATCH", 14: "AUTH_CHALLENGE", 15: "AUTH_RESPONSE",
               16: "AUTH_SUCCESS"}

# the IANA DNS RR TYPE registry as miekg/dns names it (the mnemonics
# Packetbeat, and pb-txn, write); tshark 4.0 shows some of them only as
# numbers.  miekg/dns has no name for WKS (11), NSAP (22), A6 (38) and
# SINK (40): those are written as numbers
DNS_TYPES = {1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB",
             8: "MG", 9: "MR", 10: "NULL", 12: "PTR", 13: "HINFO",
             14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25",
             20: "ISDN", 21: "RT", 23: "NSAP-PTR", 24: "SIG",
             25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT",
             31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR",
             36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT",
             42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG",
             47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
             51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP",
             56: "NINFO", 57: "RKEY", 58: "TALINK", 59: "CDS", 60: "CDNSKEY",
             61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB",
             65: "HTTPS", 99: "SPF", 100: "UINFO", 101: "UID", 102: "GID",
             103: "UNSPEC", 104: "NID", 105: "L32", 106: "L64", 107: "LP",
             108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG",
             251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA",
             255: "ANY", 256: "URI", 257: "CAA", 258: "AVC", 259: "DOA",
             260: "AMTRELAY", 261: "RESINFO", 32768: "TA", 32769: "DLV"}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET",
          8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI",
          # 16 is BADVERS in OPT, BADSIG in TSIG (RFC 6895 2.3): one name,
          # miekg/dns's (Packetbeat's), as pb-txn writes it
          16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE",
          20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE"}
TLS_VERSIONS = {0x0300: "3.0", 0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2",
                0x0304: "1.3"}

KNOWN = [
    ("samples/memcache-text.pcap", "memcache",
     "tshark 4.0 names the first of several text commands in one segment "
     "only (frame 83: set, set, get) and not touch, gat, verbosity or the "
     "meta commands (mg, ms, md, ma, mn)"),
    ("deepflow/flow_generator/memcached/memcached-userdata.pcap", "memcache",
     "pipelined get and gets commands, several in one segment: tshark 4.0 "
     "names the first of each segment only (the client's stream holds "
     "10,041 get and 112 gets, as pb-txn reads)"),
    ("deepflow/flow_generator/mysql/mysql-use.pcap", "mysql",
     "the compressed protocol, caught mid-stream: tshark reads the 7-byte "
     "compressed header as a MySQL packet (command SLEEP), pb-txn finds "
     "the COM_QUERY 'use `test`' inside"),
    ("beats/mongodb_invalid_opcode_2269.pcap", "mongodb",
     "an opcode the wire protocol does not define (2269): pb-txn counts the "
     "message unreadable and writes no event, as Packetbeat"),
    ("ndpi/cassandra.pcap", "cassandra",
     "the second connection speaks native protocol v5, which tshark 4.0 "
     "does not read"),
    ("samples/cassandra-v5.pcap", "cassandra",
     "tshark 4.0 does not read native protocol v5 frames (nor its "
     "checksummed segments)"),
    ("zeek/tunnels/ayiya3.pcap", "http",
     "HTTP inside AYIYA (IPv6 in UDP/5072), a tunnel pbtools does not decode"),
    # Suricata's HTTP evader set: deliberately ambiguous messages (bad
    # chunking, odd status lines, encodings) on which decoders disagree
    # by design; tshark's reading is no reference there
    ("ndpi/http_origin_different_than_host.pcap", "http",
     "HTTP inside GTP-U (UDP/2152), a tunnel pbtools does not decode"),
    ("http-evader-048/input.pcap", "http", "a status line tshark reads as 20"),
    ("http-evader-078/input.pcap", "http",
     "chunk lines ended by CR alone, and a Content-Length (chunkedcr-,do_clen): pb-txn completes the 200, tshark does not"),
    ("http-evader-366/input.pcap", "http",
     "status line 'HTTP/1.10 200 ok': pb-txn refuses a version other than HTTP/d.d (RFC 9112 2.3), tshark reads 200"),
    ("http-evader-372/input.pcap", "http",
     "status line 'HTTP/1.1. 200 ok': pb-txn refuses the version, tshark reads 200"),
    ("http-evader-390/input.pcap", "http",
     "status line after a NUL byte ('\\000HTTP/1.1 200 ok', chunked): pb-txn reads 200, tshark does not"),
    ("http-evader-402/input.pcap", "http",
     "header lines ended by CR alone ('200 ok\\rContent-type...'): tshark reads 200, pb-txn refuses the bare CR (RFC 9112 2.2)"),
    ("http-evader-462/input.pcap", "http",
     "status code 000: tshark reads 0, pb-txn refuses a code outside 100-599 (RFC 9110 15)"),
    ("http-evader-474/input.pcap", "http",
     "status '.200': tshark reads 20, pb-txn refuses it"),
    ("http-evader-480/input.pcap", "http",
     "an empty line before the header (crlf-crlf-header, chunked): pb-txn reads the 200, tshark does not"),
    ("http-evader-486/input.pcap", "http",
     "a 'SIP/2.0 200 ok' line before the header (chunked): pb-txn reads the 200, tshark does not"),
    ("http-evader-492/input.pcap", "http",
     "header lines ended by LF alone (chunked): pb-txn reads the 200, tshark does not"),
    ("suricata-verify/http-multiple-cl/input.pcap", "http",
     "request smuggling: a POST with two different Content-Length "
     "values (RFC 9112 6.3: unrecoverable); pb-txn frames the next request "
     "as /evil.php, tshark as /bad.php"),
    ("zeek/http/261/variant-09-te_obs_fold.pcap", "http",
     "request smuggling: Transfer-Encoding continued by obs-fold; pb-txn "
     "reads the smuggled GET /smuggled-obsfold, tshark does not"),
    ("zeek/http/http-09-content-length-confusion.pcap", "http",
     "an HTTP/0.9 request ('GET /' without a version, frame 12): pb-txn, "
     "as Packetbeat, reads only HTTP/1.x request lines"),
    ("zeek/mixed-vlan-mpls.pcap", "http",
     "an HTTP/0.9 request ('GET /' without a version, frame 37): pb-txn, "
     "as Packetbeat, reads only HTTP/1.x request lines"),
    ("zeek/http/no-uri.pcap", "http",
     "request line 'GET HTTP/1.1' without a target (frame 4): pb-txn drops "
     "it as malformed, tshark takes 'HTTP/1.1' for the target"),
    ("zeek/http/methods.pcap", "http",
     "malformed request lines without a target ('OPTIONS HTTP/1.1', "
     "'OPTIONS', frames 14, 34...): pb-txn drops them, so its responses "
     "pair differently; tshark takes the version for the target"),
    ("zeek/http/percent-end-of-line.pcap", "http",
     "targets '/%' and '/%5' (frames 4, 15): a bad escape; pb-txn drops the "
     "path as Go's url.Parse (Packetbeat) does"),
    ("zeek/http/query-method.pcap", "http",
     "the QUERY method (draft-ietf-httpbis-safe-method-w-body): tshark 4.0 "
     "does not know it as a request"),
    ("zeek/tcp/retransmit-timeout.pcapng", "http",
     "frame 3 repeats frame 1's request 300 s later, past the flow "
     "timeout: pb-txn reads it as a new connection's request, tshark "
     "marks it a retransmission"),
    ("zeek/vlan-collisions.pcap", "http",
     "the same TCP 4-tuple on different VLANs: pb-txn keeps the "
     "connections apart (VLAN in the flow key), tshark merges them into one "
     "stream and loses the requests and responses of the second"),
    ("pcapplusplus/Packet++Test/PacketExamples/SllPacket.pcap", "http",
     "one packet cut by the snap length: tshark shows the 200 status line "
     "of a response without its request, pb-txn writes nothing for a lone "
     "cut packet"),
    ("zeek/communityid/tcp.pcap", "http",
     "packets cut by the snap length ('Packet size limited during "
     "capture'): tshark shows what the cut packets begin with, pb-txn has "
     "no whole message"),
    ("Pcap++Test/PcapExamples/unidirectional_tcp_stream_with_missing_packet.pcap", "http",
     "a one-way stream with a missing packet: pb-txn reads the POST "
     "headers, tshark cannot reassemble across the hole"),
    ("ndpi/EAQ.pcap", "http",
     "the 200 of frames 15-21 is whole (9674 bytes, Content-Length 8836), "
     "then a RST; tshark does not finish reassembling it (with "
     "http.desegment_body off it shows the 200 at frame 15)"),
    ("ndpi/soap.pcap", "http",
     "the POST's first segment (frame 5) comes after a later one (frame "
     "3): tshark reassembles it only with tcp.reassemble_out_of_order, "
     "which makes it lose many other HTTP messages"),
    ("ndpi/http-manipulated.pcap", "http",
     "request line 'GET' + 18 spaces + target (frame 14): pb-txn splits "
     "on whitespace runs (RFC 9112 3 allows it), tshark gives no target"),
    ("ndpi/WebattackRCE.pcap", "http",
     "request targets with spaces (Nikto probes, invalid per RFC 9112 3): "
     "pb-txn takes the target to the last space, as Packetbeat's parser, "
     "tshark to the first"),
    ("arkime/gre-erspan-vxlan.pcap", "http",
     "request line 'GET /Hello Arkime HTTP/1.1', a target with a space: "
     "pb-txn takes it to the last space, as Packetbeat, tshark to the first"),
    ("zeek/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap", None,
     "HTTP inside GTP-U, a tunnel pbtools does not decode"),
    ("zeek/tunnels/gtp/gtp2_different_udp_port.pcap", None,
     "HTTP inside GTP-U, a tunnel pbtools does not decode"),
    ("arkime/gtp-iphone.pcap", None,
     "DNS inside GTP-U (UDP/2152), a tunnel pbtools does not decode"),
    ("arkime/ipv6-gtp6.pcap", None,
     "DNS inside GTP-U over IPv6, a tunnel pbtools does not decode"),
    ("Packet++Test/PacketExamples/gtp.pcap", None,
     "DNS inside GTP-U, a tunnel pbtools does not decode"),
    ("libpcap/filter/AH-IPcomp-IPv4.pcap", "http",
     "HTTP inside IPComp (IP protocol 108) under AH, which pbtools does "
     "not decode"),
    ("libpcap/filter/AH-IPcomp-IPv6.pcap", "http",
     "HTTP inside IPComp (IP protocol 108) under AH, which pbtools does "
     "not decode"),
    ("zeek/tunnels/gre-aruba.pcap", "http",
     "HTTP inside Aruba GRE (protocol 0x8200, 802.11 frames), a tunnel "
     "pbtools does not decode"),
    ("tcpdump/dns_udp_2.pcap", "dns",
     "a response cut by the snap length (98 of 266 bytes): ANCOUNT says 2, "
     "pb-txn counts the 1 answer it has (noted 'data is incomplete')"),
    ("zeek/tunnels/geneve-vxlan-dns-truncated.pcap", "dns",
     "a response cut by the snap length (176 of 202 bytes): ANCOUNT says "
     "2, pb-txn counts the 1 answer it has (noted 'data is incomplete')"),
    ("suricata-verify/http-gap-beyond-body/input.pcap", "http",
     "a hole after a whole response: pb-txn writes the 200, tshark's "
     "reassembly of the stream stops at the hole"),
    ("suricata-verify/http-pipeline-files-with-gap/input.pcap", "http",
     "pipelined responses with a hole: pb-txn writes the whole 200 after "
     "it, tshark's reassembly of the stream stops at the hole"),
    ("zeek/http/concurrent-range-requests.pcap", "http",
     "the hole in the 206 to port 58718 (before frame 32) is filled by a "
     "retransmission (frame 53): pb-txn reassembles it, tshark only with "
     "tcp.reassemble_out_of_order"),
    ("Pcap++Test/PcapExamples/650HttpResponses.pcap", "http",
     "responses only, with holes: pb-txn writes one more whole 200 than "
     "tshark reassembles"),
    ("ndpi/ja3_lots_of_cipher_suites_2_anon.pcap", "tls",
     "TLS inside GTP-U (UDP/2152), a tunnel pbtools does not decode"),
    ("ndpi/capwap_data.pcapng", "tls",
     "TLS inside CAPWAP data (UDP/5247, 802.11 frames), a tunnel pbtools "
     "does not decode"),
    ("ndpi/openvpn_obfuscated.pcapng", "tls",
     "obfuscated OpenVPN on TCP/443: junk before the handshake, 9 bytes a "
     "segment; pb-txn resynchronises on a record header (noted in "
     "error.message) and finds both hellos, tshark only continuation data"),
    ("base64-decode-5885/input.pcap", "tls",
     "the ServerHello of the stream from port 57558 (frame 1094) comes "
     "14.8 s after its ClientHello (frame 238): past pb-txn's 10 s "
     "transaction_timeout, so the session is written without it"),
    ("http-evader-468/input.pcap", "http", "a status line tshark reads as 20"),
]



AGG = "\x1f"
# for the hellos: segments that arrive out of order (a retransmission
# filling a hole) reassembled, as pb-txn does, not left undecoded (for
# HTTP, tshark then loses more messages than it finds)
OOO = ("-o", "tcp.reassemble_out_of_order:TRUE")
SSLV2_HELLO = "(an SSLv2-compatible ClientHello)"


def tshark(ts, cap, filt, fields, extra=()):
    # the occurrences of a field joined by a control character: a request
    # target may hold '|' (and ',', tshark's default)
    cmd = [ts, "-n", "-r", cap, "-Y", filt, "-T", "fields", "-E",
           "occurrence=a", "-E", "aggregator=" + AGG, "-E", "separator=\t"]
    cmd += list(extra)
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    rows = []
    for line in out.stdout.splitlines():
        v = line.split("\t")
        if len(v) == len(fields):
            rows.append([x.split(AGG) if x else [] for x in v])
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
    # the absolute form (RFC 9112 3.2.2) only: "://" may also be in the
    # query of an origin-form target
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", uri):
        rest = uri.split("://", 1)[1]
        uri = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return uri


def norm_target(method, path, query, raw):
    """A request target compared by meaning: the path percent-decoded (a
    raw one: tshark's; pb-txn's url.path is decoded already, as
    Packetbeat's, and decoding it twice would turn "%2527" into "'"), the
    query as the sorted list of its decoded parameters (pb-txn writes
    url.query sorted, as Packetbeat does), a pair with a ';' left out (Go's
    url.ParseQuery refuses it since 1.17, and Packetbeat and pb-txn drop
    it).  The query of a POST or PUT is left out: Packetbeat (and pb-txn)
    merge the form parameters of the body into url.query.  Bytes outside
    printable ASCII as one '?' a run: tshark shows a byte that is not
    UTF-8 as U+FFFD, pb-txn as the code point of the same value."""
    if raw:
        path = urllib.parse.unquote(path, errors="replace")
    path = ascii_name(path, False)
    if method in ("POST", "PUT", "PATCH") or not query:
        return (method, path)
    if raw:
        query = "&".join(x for x in query.split("&") if ";" not in x)
    q = sorted((ascii_name(k, False), ascii_name(v, False)) for k, v in
               urllib.parse.parse_qsl(query, keep_blank_values=True))
    if not q:
        return (method, path)
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


def ja3_md5(full):
    """The JA3 of tshark's JA3 string: of a ClientHello cut short tshark
    writes fewer than JA3's five fields ("769,,"); JA3 (and pb-txn) keep
    all five, empty ("769,,,,")."""
    full += "," * max(0, 4 - full.count(","))
    return hashlib.md5(full.encode()).hexdigest()


def tshark_side(ts, cap):
    m = collections.defaultdict(collections.Counter)
    for r in tshark(ts, cap, "http.request", ["tcp.srcport", "tcp.dstport",
                    "http.request.method", "http.request.uri"]):
        if not on_ports(HTTP_PORTS, r[0], r[1]):
            continue
        for meth, uri in zip(r[2], r[3]):
            path = target_path(uri)
            q = path.split("?", 1)[1] if "?" in path else None
            m["http request"][norm_target(meth, path.split("?", 1)[0], q, True)] += 1
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
                    "dns.qry.type", "dns.flags.rcode", "dns.count.answers",
                    "dns.resp.ext_rcode"]):
        if not on_ports(DNS_PORTS, r[0], r[1], r[2], r[3]):
            continue
        for i, resp in enumerate(r[4]):
            did = num(r[5][i]) if i < len(r[5]) else None
            name = ascii_name(r[6][i] if i < len(r[6]) else "", False)
            if name.lower() == "<root>":  # tshark's name for the root, pb-txn's "."
                name = "."
            qt = num(r[7][i]) if i < len(r[7]) else None
            # no question (QDCOUNT 0, as in an inverse query): no type
            qtype = DNS_TYPES.get(qt, str(qt)) if qt is not None else None
            if resp in ("0", "False"):
                m["dns query"][(did, name.lower(), qtype)] += 1
            else:
                rc = num(r[8][i]) if i < len(r[8]) else None
                # the EDNS extended RCODE (RFC 6891 6.1.3): its 8 bits
                # above the header's 4, as pb-txn writes the code
                ext = num(r[10][i]) if i < len(r[10]) else None
                if rc is not None and ext:
                    rc |= ext << 4
                # an UPDATE has zone/prerequisite/update counts instead
                an = num(r[9][i]) if i < len(r[9]) else None
                m["dns response"][(did, name.lower(), RCODES.get(rc, str(rc)),
                                   an if an is not None else "-")] += 1
    # pb-txn writes one event per TLS connection: the first ClientHello
    # (a second one follows a HelloRetryRequest) and the last ServerHello
    # (the real one after a HelloRetryRequest)
    # an SSLv2-compatible ClientHello (record version 0x0002): tshark
    # works out no JA3 for it (nor does JA3's reference code), pb-txn
    # does; it is compared as there, not by its JA3
    first_ch = {}
    for r in tshark(ts, cap, "tls.handshake.type == 1", ["tcp.stream", "tcp.srcport",
                    "tcp.dstport", "tls.handshake.extensions_server_name",
                    "tls.handshake.ja3_full", "tls.record.version"], OOO):
        if not on_ports(TLS_PORTS, r[1], r[2]):
            continue
        if r[4]:
            v = (r[3][0] if r[3] else "", ja3_md5(r[4][0]))
        elif r[5] and num(r[5][0]) == 2:
            v = ("", SSLV2_HELLO)
        else:
            continue
        stream = r[0][0] if r[0] else ""
        if stream not in first_ch:
            first_ch[stream] = v
    for v in first_ch.values():
        m["tls client hello"][v] += 1
    # pb-txn ends a TLS session at the first FIN of either side, as
    # Packetbeat does: a ServerHello after it (a client that gave up
    # before the server answered) is not in its event
    first_fin = {}
    for r in tshark(ts, cap, "tcp.flags.fin == 1", ["tcp.stream", "frame.number"]):
        if r[0] and r[1] and r[0][0] not in first_fin:
            first_fin[r[0][0]] = int(r[1][0])
    last_sh = {}
    for r in tshark(ts, cap, "tls.handshake.type == 2", ["tcp.stream", "tcp.srcport",
                    "tcp.dstport", "tls.handshake.ja3s",
                    "tls.handshake.extensions.supported_version",
                    "tls.handshake.version", "frame.number"], OOO):
        if not on_ports(TLS_PORTS, r[1], r[2]) or not r[3]:
            continue
        stream = r[0][0] if r[0] else ""
        if stream in first_fin and r[6] and int(r[6][0]) > first_fin[stream]:
            continue
        v = r[4][-1] if r[4] else (r[5][-1] if r[5] else "")
        n = num(v) or 0
        # a version TLS does not define, as pb-txn writes it: major.minor
        last_sh[stream] = (r[3][-1], TLS_VERSIONS.get(n, "%d.%d" % (n >> 8, n & 255)))
    for v in last_sh.values():
        m["tls server hello"][v] += 1
    db_tshark_side(ts, cap, m)
    return m


def unescape(v):
    # tshark -T fields writes a string's control characters and
    # backslashes as C escapes: backslash-n, -r, -t and a doubled backslash
    return re.sub(r"\\([nrt\\])", lambda x: {"n": "\n", "r": "\r", "t": "\t",
                                              "\\": "\\"}[x.group(1)], v)


def db_tshark_side(ts, cap, m):
    # one tshark run for all of them: a run costs more than its filter
    f = ["tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
         "mysql.command", "mysql.query", "mysql.error_code",
         "pgsql.type", "pgsql.code", "pgsql.tag", "resp.error",
         "memcache.magic", "memcache.opcode", "memcache.command",
         "mongo.opcode", "mongo.response_to", "mongo.compression.original_opcode",
         "cql.version", "cql.opcode"]
    i = {name: k for k, name in enumerate(f)}
    filt = "mysql || pgsql || resp.error || memcache || mongo || cql"
    for r in tshark(ts, cap, filt, f, MONGO_DECODE):
        tcp = r[i["tcp.srcport"]], r[i["tcp.dstport"]]
        if on_ports(MYSQL_PORTS, *tcp):
            # the text of each COM_QUERY (command 3)
            queries = iter(r[i["mysql.query"]])
            for cmd in r[i["mysql.command"]]:
                if num(cmd) in (3, 22):   # COM_QUERY, COM_STMT_PREPARE
                    q = next(queries, None)
                    if num(cmd) == 3 and q is not None:
                        m["mysql query"][(unescape(q).strip(),)] += 1
            for code in r[i["mysql.error_code"]]:
                # 0xffff is MariaDB's progress report (an ERR header with
                # no error), which tshark shows as an error
                if num(code) != 0xFFFF:
                    m["mysql error"][(num(code),)] += 1
        if on_ports(PGSQL_PORTS, *tcp):
            # a NoticeResponse has a code too: only an ErrorResponse's counts
            codes = iter(r[i["pgsql.code"]])
            for t in r[i["pgsql.type"]]:
                if t == "Error":
                    m["pgsql error"][(next(codes, None),)] += 1
                elif t == "Notice":
                    next(codes, None)
            for tag in r[i["pgsql.tag"]]:
                m["pgsql tag"][(tag,)] += 1
        if on_ports(REDIS_PORTS, *tcp):
            for err in r[i["resp.error"]]:
                m["redis error"][(err,)] += 1
        # memcache over TCP only: tshark 4.0 does not read the UDP frame
        # header, so it shows no memcache in a datagram
        dst = r[i["tcp.dstport"]]
        if dst and dst[0].isdigit() and int(dst[0]) in MEMCACHE_PORTS:
            # requests only: those sent to the server's port
            for magic, op in zip(r[i["memcache.magic"]], r[i["memcache.opcode"]]):
                if num(magic) == 0x80:
                    m["memcache request"][("binary", num(op))] += 1
            for cmd in r[i["memcache.command"]]:
                m["memcache request"][("text", cmd)] += 1
        if on_ports(MONGODB_PORTS, *tcp):
            # an OP_COMPRESSED is counted by the opcode it wraps, as
            # pb-txn writes it
            inner = iter(r[i["mongo.compression.original_opcode"]])
            ops = [next(inner, op) if num(op) == 2012 else op
                   for op in r[i["mongo.opcode"]]]
            for op, to in zip(ops, r[i["mongo.response_to"]]):
                name = MONGO_OPCODES.get(num(op), op)
                # the legacy requests whatever their responseTo (some
                # clients put -1 there); an OP_MSG is a request when it
                # answers nothing; an OP_REPLY never is
                if name in MONGO_LEGACY_REQUESTS or (name == "OP_MSG" and num(to) == 0):
                    m["mongodb request"][(name,)] += 1
        if on_ports(CASSANDRA_PORTS, *tcp):
            for ver, op in zip(r[i["cql.version"]], r[i["cql.opcode"]]):
                side = "response" if (num(ver) or 0) & 0x80 else "request"
                m["cassandra frame"][(side, CQL_OPCODES.get(num(op), op))] += 1


def get(o, path):
    for k in path.split("."):
        if not isinstance(o, dict) or k not in o:
            return None
        o = o[k]
    return o


def pb_side(pb, cap):
    for attempt in range(10):
        try:
            out = subprocess.run([pb, "-q", "-r", cap, "--protocols",
                                  "http,dns,tls,mysql,pgsql,redis,memcache,mongodb,cassandra"],
                                 capture_output=True, text=True, errors="replace")
            break
        except OSError as err:
            # pb-txn being relinked by a concurrent make: wait for it; in
            # the end a failure of this capture, not of the 19 after it
            if attempt == 9:
                return None, str(err)
            time.sleep(3)
    m = collections.defaultdict(collections.Counter)
    for line in out.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        t = e.get("type")
        if t == "http":
            meth = get(e, "http.request.method")
            # likewise a request whose body the capture cut or holed
            rnotes = json.dumps(get(e, "error.message") or "")
            req_cut = ("Request incomplete at end of stream" in rnotes or
                       "Packet loss while capturing the request" in rnotes)
            if meth is not None and not req_cut:
                path = get(e, "url.path") or ""
                q = get(e, "url.query")
                dom, port = get(e, "url.domain"), get(e, "url.port")
                if meth == "CONNECT" and not path and dom:
                    # the authority form (RFC 9112 3.2.3): pb-txn writes
                    # it as url.domain and url.port, tshark as the uri
                    path = ("[%s]" % dom if ":" in dom else dom) + \
                        (":%d" % port if port is not None else "")
                m["http request"][norm_target(meth, path, q, False)] += 1
            code = get(e, "http.response.status_code")
            # a response cut by the end of the capture, or with a hole
            # (bytes never captured): pb-txn reports it, noted; tshark
            # shows only responses it reassembled whole
            notes = json.dumps(get(e, "error.message") or "")
            incomplete = ("Response incomplete at end of stream" in notes or
                          "Packet loss while capturing the response" in notes)
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
            if ja3 is not None and get(e, "tls.detailed.client_hello.sslv2"):
                ja3 = SSLV2_HELLO
            if ja3 is not None:
                m["tls client hello"][(get(e, "tls.client.server_name") or "", ja3)] += 1
            ja3s = get(e, "tls.server.ja3s")
            if ja3s is not None:
                m["tls server hello"][(ja3s, get(e, "tls.version"))] += 1
        else:
            db_pb_event(e, t, m)
    return m, out.returncode


def db_pb_event(e, t, m):
    if t == "mysql":
        if get(e, "mysql.command") == "COM_QUERY" and get(e, "query") is not None:
            m["mysql query"][(get(e, "query").strip(),)] += 1
        if get(e, "mysql.error_code") is not None:
            m["mysql error"][(get(e, "mysql.error_code"),)] += 1
    elif t == "pgsql":
        if get(e, "pgsql.error_code") is not None:
            m["pgsql error"][(get(e, "pgsql.error_code"),)] += 1
        if get(e, "pgsql.command_tag") is not None:
            m["pgsql tag"][(get(e, "pgsql.command_tag"),)] += 1
    elif t == "memcache":
        rq = get(e, "memcache.request")
        if isinstance(rq, dict) and get(e, "network.transport") == "tcp":
            if get(e, "memcache.protocol_type") == "binary":
                m["memcache request"][("binary", rq.get("opcode_value"))] += 1
            elif rq.get("command") is not None:
                m["memcache request"][("text", rq.get("command"))] += 1
    elif t == "mongodb":
        # a request is in every event that has an opcodeName; not those
        # cut by the end of the capture or a hole, which tshark does not
        # show
        op = get(e, "mongodb.opcodeName")
        notes = json.dumps(get(e, "error.message") or "")
        if op is not None and "incomplete at end of stream" not in notes and \
                "Packet loss while capturing" not in notes:
            m["mongodb request"][(op,)] += 1
    elif t == "redis":
        if get(e, "redis.error") is not None:
            m["redis error"][(get(e, "redis.error"),)] += 1
    elif t == "cassandra":
        for side in ("request", "response"):
            op = get(e, "cassandra.%s.headers.op" % side)
            if op is not None:
                m["cassandra frame"][(side, op)] += 1


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
        if got is None:
            nfail += 1
            print("%s: pb-txn did not run: %s" % (cap, rc))
            continue
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
             "tls client hello", "tls server hello", "mysql query", "mysql error",
             "pgsql error", "pgsql tag", "redis error", "memcache request",
             "mongodb request", "cassandra frame"]
    print("txn-tshark-compare: " + ", ".join(
        "%s %d/%d" % (k, totals["agreed " + k], totals[k]) for k in kinds) +
        ", known differences %d" % totals["known"])
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
