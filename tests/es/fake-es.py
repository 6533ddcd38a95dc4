#!/usr/bin/env python3
"""fake-es.py - a small stand-in for Elasticsearch, for pb-export's tests.

It implements the parts of the REST API pb-export uses, as Elasticsearch
documents them:
  GET  /                        cluster name and version
  POST /_bulk                   create / index actions, per-item results
  PUT  /_index_template/NAME    stores the template (index_patterns and
                                template.mappings required)
and, for the tests only:
  GET  /_fake/state             what was stored: {"docs": {id: index},
                                "counts": {...}, "templates": [...],
                                "pipelines": [...]}

Faults, chosen on the command line, so a test can check that every
document arrives exactly once or lands in the dead-letter file:
  --user U --password P         basic auth required (else 401)
  --api-key KEY                 "Authorization: ApiKey KEY" accepted too
  --require-gzip                a bulk body not gzip'ed gets 400
  --fail-first-bulk N           the first N bulk requests get 503
  --drop-bulk K                 the K-th bulk request (1-based) is carried
                                out, then the connection is closed with no
                                answer
  --drop-before K               the K-th bulk request is read in part, then
                                the connection is closed (nothing stored)
  documents carrying "fake_es": "reject"  get 400 mapper_parsing_exception
  documents carrying "fake_es": "429"     get 429 the first two times
  documents carrying "fake_es": "always429" always get 429

TLS: --tls-cert FILE --tls-key FILE serve HTTPS; --client-ca FILE also
requires a client certificate signed by that CA.

Listens on 127.0.0.1 only; --port 0 (the default) takes a free port, which
is written to --port-file.
"""
import argparse
import base64
import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
docs = {}          # _id -> index
counts = {"bulk_requests": 0, "items": 0, "created": 0, "updated": 0,
          "conflicts": 0, "rejected": 0, "throttled": 0, "gzip": 0,
          "plain": 0, "dropped": 0}
templates = []
pipelines = set()
last_bulk = {}     # the path and headers of the latest bulk request
seen_429 = {}
args = None


def authorized(h):
    if not args.user and not args.api_key:
        return True
    a = h.headers.get("Authorization", "")
    if args.user and a.startswith("Basic "):
        want = base64.b64encode(("%s:%s" % (args.user, args.password)).encode()).decode()
        return a[6:] == want
    if args.api_key and a.startswith("ApiKey "):
        return a[7:] == args.api_key
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if args.verbose:
            sys.stderr.write("fake-es: " + fmt % a + "\n")

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n) if n else b""
        if self.headers.get("Content-Encoding", "") == "gzip":
            return gzip.decompress(data), True
        return data, False

    def do_GET(self):
        if self.path == "/_fake/state":
            with lock:
                return self.reply(200, {"docs": docs, "counts": counts,
                                        "templates": templates,
                                        "pipelines": sorted(pipelines),
                                        "last_bulk": last_bulk})
        if not authorized(self):
            return self.reply(401, {"error": {"type": "security_exception",
                                              "reason": "unable to authenticate user"},
                                    "status": 401})
        if self.path == "/":
            return self.reply(200, {"name": "fake-node", "cluster_name": "pbtools-fake",
                                    "version": {"number": "8.11.0"},
                                    "tagline": "You Know, for Search"})
        self.reply(404, {"error": {"type": "not_found", "reason": self.path}, "status": 404})

    def do_PUT(self):
        data, _ = self.body()
        if not authorized(self):
            return self.reply(401, {"error": {"type": "security_exception",
                                              "reason": "unable to authenticate user"}})
        if self.path.startswith("/_index_template/"):
            try:
                t = json.loads(data)
                assert isinstance(t["index_patterns"], list)
                assert isinstance(t["template"]["mappings"]["properties"], dict)
            except Exception as e:
                return self.reply(400, {"error": {"type": "parse_exception",
                                                  "reason": "bad template: %r" % e}})
            with lock:
                templates.append({"name": self.path.split("/")[-1], "body": t})
            return self.reply(200, {"acknowledged": True})
        self.reply(404, {"error": {"type": "not_found", "reason": self.path}})

    def do_POST(self):
        if not self.path.split("?")[0].endswith("/_bulk"):
            return self.reply(404, {"error": {"type": "not_found", "reason": self.path}})
        with lock:
            counts["bulk_requests"] += 1
            k = counts["bulk_requests"]
            last_bulk["path"] = self.path
            last_bulk["headers"] = {h: v for h, v in self.headers.items()}
        if k == args.drop_before:
            # read a part of the body, then hang up
            self.rfile.read(min(100, int(self.headers.get("Content-Length", "0"))))
            with lock:
                counts["dropped"] += 1
            self.close_connection = True
            self.connection.shutdown(2)
            return
        data, gz = self.body()
        if not authorized(self):
            return self.reply(401, {"error": {"type": "security_exception",
                                              "reason": "unable to authenticate user"}})
        with lock:
            counts["gzip" if gz else "plain"] += 1
        if args.require_gzip and not gz:
            return self.reply(400, {"error": {"type": "illegal_argument_exception",
                                              "reason": "expected a gzip body"}})
        if k <= args.fail_first_bulk:
            return self.reply(503, {"error": {"type": "unavailable_shards_exception",
                                              "reason": "try again"}, "status": 503})
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if len(lines) % 2:
            return self.reply(400, {"error": {"type": "illegal_argument_exception",
                                              "reason": "odd number of lines"}})
        items, errors = [], False
        for i in range(0, len(lines), 2):
            action = json.loads(lines[i])
            op = next(iter(action))
            meta = action[op]
            doc = json.loads(lines[i + 1])
            _id, index = meta.get("_id"), meta.get("_index")
            if "pipeline" in meta:
                with lock:
                    pipelines.add(meta["pipeline"])
            res = {"_index": index, "_id": _id}
            mark = doc.get("fake_es")
            with lock:
                counts["items"] += 1
                if mark == "reject":
                    counts["rejected"] += 1
                    res.update(status=400, error={"type": "mapper_parsing_exception",
                                                  "reason": "failed to parse field [fake_es]"})
                elif mark in ("429", "always429") and (mark == "always429" or
                                                       seen_429.get(_id, 0) < 2):
                    seen_429[_id] = seen_429.get(_id, 0) + 1
                    counts["throttled"] += 1
                    res.update(status=429, error={"type": "es_rejected_execution_exception",
                                                  "reason": "rejected execution"})
                elif op == "create" and _id in docs:
                    counts["conflicts"] += 1
                    res.update(status=409, error={"type": "version_conflict_engine_exception",
                                                  "reason": "[%s]: version conflict, document already exists" % _id})
                elif op in ("create", "index"):
                    counts["updated" if _id in docs else "created"] += 1
                    docs[_id] = index
                    res.update(status=201, result="created")
                else:
                    res.update(status=400, error={"type": "illegal_argument_exception",
                                                  "reason": "unknown action " + op})
            if res["status"] >= 300:
                errors = True
            items.append({op: res})
        if k == args.drop_bulk:
            with lock:
                counts["dropped"] += 1
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.reply(200, {"took": 1, "errors": errors, "items": items})


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--user")
    p.add_argument("--password", default="")
    p.add_argument("--api-key")
    p.add_argument("--require-gzip", action="store_true")
    p.add_argument("--fail-first-bulk", type=int, default=0)
    p.add_argument("--drop-bulk", type=int, default=0)
    p.add_argument("--drop-before", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
