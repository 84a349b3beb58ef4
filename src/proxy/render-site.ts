/**
 * The nginx site of a stack, pure: `server` blocks for its domains on port 80 and, once
 * its certificate exists, 443. ACME HTTP-01 tokens are always served from the webroot on
 * port 80; with a certificate everything else on 80 is redirected to HTTPS. Each route is
 * a prefix `location` (the longest matching prefix wins) proxied to its upstream.
 */
import { parseDuration } from '../compose/normalize/duration.js';
import type { ProxyDef, RouteDef } from '../model/fleet.js';
import {
  ACME_WEBROOT,
  certificatePaths,
  connectionVariable,
  rateZoneName,
  upstreamName,
  upstreamsPath,
} from './names.js';

export interface SiteOptions {
  /** The stack's certificate exists on the server: serve HTTPS and redirect HTTP. Ignored with `tls: none`. */
  certificate: boolean;
}

export const HSTS = 'max-age=31536000; includeSubDomains';
export const SSE_READ_TIMEOUT_SECONDS = 3600;

const SECURITY_HEADERS: [string, string][] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['Referrer-Policy', 'strict-origin-when-cross-origin'],
];

const indent = (lines: string[], by = '    '): string[] => lines.map((l) => (l === '' ? l : `${by}${l}`));
const block = (head: string, body: string[]): string[] => [`${head} {`, ...indent(body), '}'];

/** A location path as one nginx word: quoted when it holds characters nginx's parser treats specially. */
const word = (path: string): string =>
  /^[A-Za-z0-9._~/%:@!*+,=-]+$/.test(path) ? path : `"${path.replace(/["\\]/g, '\\$&')}"`;

/** A header value as one nginx word. */
const value = (text: string): string => (/^[A-Za-z0-9._/:=-]+$/.test(text) ? text : `"${text}"`);

const addHeader = ([name, v]: [string, string]): string => `add_header ${name} ${value(v)} always;`;

/** `extra` over `base`: a header of the same name (in any case) replaces the one of `base`, in its place. */
export function withHeaders(base: [string, string][], extra: Record<string, string> | undefined): [string, string][] {
  const out = [...base];
  for (const [name, v] of Object.entries(extra ?? {})) {
    const at = out.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (at >= 0) out[at] = [name, v];
    else out.push([name, v]);
  }
  return out;
}

/** Whole seconds of a Ferry duration (`7d`, `1h30m`). */
const seconds = (duration: string): number => Math.max(0, Math.floor((parseDuration(duration) ?? 0) / 1000));

export function renderSite(stack: string, proxy: ProxyDef, opts: SiteOptions): string {
  const https = proxy.tls === 'acme' && opts.certificate;
  const headers = withHeaders(
    [
      ...(https && proxy.hsts ? ([['Strict-Transport-Security', HSTS]] as [string, string][]) : []),
      ...(proxy.securityHeaders ? SECURITY_HEADERS : []),
    ],
    proxy.headers,
  );
  const routes = proxy.routes.flatMap((r, i) => ['', ...routeLocation(stack, r, i, headers)]);
  const names = `server_name ${proxy.domains.join(' ')};`;
  const challenge = block('location ^~ /.well-known/acme-challenge/', [`root ${ACME_WEBROOT};`]);
  const serverHeaders = headers.length > 0 ? ['', ...headers.map(addHeader)] : [];
  const http = https
    ? block('server', [
        'listen 80;',
        'listen [::]:80;',
        names,
        '',
        ...challenge,
        '',
        ...block('location /', ['return 301 https://$host$request_uri;']),
      ])
    : block('server', ['listen 80;', 'listen [::]:80;', names, ...serverHeaders, '', ...challenge, ...routes]);
  const cert = certificatePaths(stack);
  const tls = https
    ? [
        '',
        ...block('server', [
          'listen 443 ssl http2;',
          'listen [::]:443 ssl http2;',
          names,
          '',
          `ssl_certificate ${cert.fullchain};`,
          `ssl_certificate_key ${cert.privkey};`,
          'ssl_protocols TLSv1.2 TLSv1.3;',
          'ssl_session_cache shared:ferry_ssl:10m;',
          'ssl_session_timeout 1d;',
          ...serverHeaders,
          ...routes,
        ]),
      ]
    : [];
  return [
    `# Ferry: nginx site of stack ${stack}. Do not edit: ferry apply rewrites it.`,
    `include ${upstreamsPath(stack)};`,
    ...httpContext(stack, proxy.routes),
    '',
    ...http,
    ...tls,
    '',
  ].join('\n');
}

/** Directives of the http context: rate-limit zones and the websocket Connection map. */
function httpContext(stack: string, routes: RouteDef[]): string[] {
  const zones = routes.flatMap((r, i) =>
    r.rateLimit
      ? [`limit_req_zone $binary_remote_addr zone=${rateZoneName(stack, i)}:10m rate=${r.rateLimit.perSecond}r/s;`]
      : [],
  );
  const map = routes.some((r) => r.websocket)
    ? block(`map $http_upgrade ${connectionVariable(stack)}`, ['default upgrade;', "'' close;"])
    : [];
  return [...(zones.length > 0 ? ['', ...zones] : []), ...(map.length > 0 ? ['', ...map] : [])];
}

/** Connecting to a container takes milliseconds; to another server's nginx, well under this. */
export const CONNECT_TIMEOUT_SECONDS = 3;

function routeLocation(stack: string, r: RouteDef, index: number, headers: [string, string][]): string[] {
  const body = [
    `proxy_pass http://${upstreamName(stack, r.service, r.port)};`,
    'proxy_http_version 1.1;',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Real-IP $remote_addr;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    ...(r.websocket
      ? ['proxy_set_header Upgrade $http_upgrade;', `proxy_set_header Connection ${connectionVariable(stack)};`]
      : ['proxy_set_header Connection "";']),
    'proxy_next_upstream error timeout http_502 http_503;',
    // A connection that is not taken within this is tried again at the next server: a
    // migration's held requests are retried every few seconds (see migrate/steps/hold.ts).
    `proxy_connect_timeout ${CONNECT_TIMEOUT_SECONDS}s;`,
  ];
  if (r.bodySize !== undefined) body.push(`client_max_body_size ${r.bodySize};`);
  const read = r.sse ? Math.max(SSE_READ_TIMEOUT_SECONDS, r.timeoutSeconds ?? 0) : r.timeoutSeconds;
  if (read !== undefined) body.push(`proxy_read_timeout ${read}s;`);
  if (r.timeoutSeconds !== undefined) body.push(`proxy_send_timeout ${r.timeoutSeconds}s;`);
  if (r.sse) body.push('proxy_buffering off;', 'proxy_cache off;');
  if (r.rateLimit)
    body.push(
      `limit_req zone=${rateZoneName(stack, index)} burst=${r.rateLimit.burst} nodelay;`,
      'limit_req_status 429;',
    );
  // expires sets Expires and Cache-Control max-age.
  if (r.cache !== undefined) body.push(`expires ${seconds(r.cache)}s;`, 'add_header Cache-Control public;');
  // An add_header here drops the server's, so they are repeated, with the route's own over them.
  if (r.cache !== undefined || r.headers !== undefined) body.push(...withHeaders(headers, r.headers).map(addHeader));
  return block(`location ${word(r.path)}`, body);
}
