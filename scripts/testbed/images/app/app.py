"""A small web app for Ferry's test stacks.

GET /        200, text: "ferry-tb-app VERSION on HOSTNAME"
GET /health  200 JSON when Postgres (DATABASE_URL) takes a write and a read, else 503:
             {"hits": rows in ferry_hits, "id": the id of the row it wrote};
             without DATABASE_URL: 200 {"status": "ok", "database": "none"}
GET /hits    200 JSON: rows in ferry_hits and ferry_worker_beats
Env: PORT (8000), DATABASE_URL, APP_VERSION ("1").
"""
import json
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

VERSION = os.environ.get("APP_VERSION", "1")
DATABASE_URL = os.environ.get("DATABASE_URL", "")


def query(fn):
    """Runs fn(cursor) in one transaction on a fresh connection, and closes it."""
    conn = psycopg2.connect(DATABASE_URL, connect_timeout=3)
    try:
        with conn, conn.cursor() as cur:
            return fn(cur)
    finally:
        conn.close()


def write_and_count(cur):
    cur.execute(
        "CREATE TABLE IF NOT EXISTS ferry_hits (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), host text)"
    )
    cur.execute("INSERT INTO ferry_hits (host) VALUES (%s) RETURNING id", (socket.gethostname(),))
    written = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM ferry_hits")
    return cur.fetchone()[0], written


def counts(cur):
    out = {}
    for table in ("ferry_hits", "ferry_worker_beats"):
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
        if cur.fetchone()[0]:
            cur.execute(f"SELECT count(*) FROM {table}")
            out[table] = cur.fetchone()[0]
        else:
            out[table] = 0
    return out


class Handler(BaseHTTPRequestHandler):
    def send(self, code, body, ctype="application/json"):
        data = (json.dumps(body) if ctype == "application/json" else body).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/":
            return self.send(200, f"ferry-tb-app {VERSION} on {socket.gethostname()}", "text/plain")
        if path == "/health":
            if not DATABASE_URL:
                return self.send(200, {"status": "ok", "version": VERSION, "database": "none"})
            try:
                hits, written = query(write_and_count)
                return self.send(200, {"status": "ok", "version": VERSION, "database": "ok", "hits": hits, "id": written})
            except Exception as e:  # any database failure makes the app unhealthy
                return self.send(503, {"status": "error", "version": VERSION, "error": str(e).strip()})
        if path == "/hits" and DATABASE_URL:
            try:
                return self.send(200, query(counts))
            except Exception as e:
                return self.send(503, {"status": "error", "error": str(e).strip()})
        return self.send(404, {"status": "not found"})

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 gets no default handler
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler)
    print(f"ferry-tb-app {VERSION} listening on {server.server_address[1]}")
    server.serve_forever()


if __name__ == "__main__":
    main()
