"""A worker for Ferry's test stacks: writes a row into ferry_worker_beats every few seconds.

Env: DATABASE_URL (required), WORKER_INTERVAL seconds (3), WORKER_NAME (the host name).
Keeps trying when Postgres is away, and says so.
"""
import os
import signal
import socket
import sys
import time

import psycopg2

URL = os.environ.get("DATABASE_URL", "")
INTERVAL = float(os.environ.get("WORKER_INTERVAL", "3"))
NAME = os.environ.get("WORKER_NAME", socket.gethostname())


def beat():
    conn = psycopg2.connect(URL, connect_timeout=3)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS ferry_worker_beats (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), worker text)"
            )
            cur.execute("INSERT INTO ferry_worker_beats (worker) VALUES (%s) RETURNING id", (NAME,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 gets no default handler
    if not URL:
        sys.exit("ferry-tb-worker: DATABASE_URL is not set")
    print(f"ferry-tb-worker {NAME}: a row every {INTERVAL:g} s")
    while True:
        try:
            print(f"beat {beat()}")
        except Exception as e:
            print(f"database not reachable: {str(e).strip()}")
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()
