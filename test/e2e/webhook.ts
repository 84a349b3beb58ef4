/** A webhook receiver for the alert tests, started here; its URL holds a canary secret. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Posted {
  status: string;
  alerts: { status: string; labels: Record<string, string>; annotations: { summary: string } }[];
}

export interface Hook {
  server: Server;
  url: string;
  /** What was posted to the right URL, parsed. */
  posts: Posted[];
  /** Every request, `PATH BODY`. */
  raw: string[];
}

/** Listens on `address` (a test bed network's gateway, for hosts to reach it); takes posts to /hook/CANARY only. */
export function receiver(address: string, canary: string): Promise<Hook> {
  const posts: Posted[] = [];
  const raw: string[] = [];
  const path = `/hook/${canary}`;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      raw.push(`${req.url} ${body}`);
      if (req.url === path) posts.push(JSON.parse(body) as Posted);
      res.writeHead(req.url === path ? 200 : 404).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, address, () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ server, url: `http://${address}:${port}${path}`, posts, raw });
    }),
  );
}

/** Whether an alert of that name was posted with that status (and labels). */
export const posted =
  (hook: Hook, alert: string, status = 'firing', labels: Record<string, string> = {}) =>
  (): boolean =>
    hook.posts.some(
      (p) =>
        p.status === status &&
        p.alerts.some(
          (a) => a.labels.alertname === alert && Object.entries(labels).every(([k, v]) => a.labels[k] === v),
        ),
    );

/** Waits for `ok`; `seen` says, when it never came, what was there instead. */
export async function until(what: string, ok: () => boolean, ms = 120_000, seen?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms / 1000} s for ${what}${seen ? `; seen: ${seen()}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
