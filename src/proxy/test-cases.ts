/**
 * The proxies behind the golden files in test/golden/nginx/: the unit tests compare the
 * renderers' output with them, the end-to-end tests have the real `nginx -t` accept them.
 */
import type { ProxyDef, RouteDef } from '../model/fleet.js';
import { renderSite } from './render-site.js';
import { renderUpstreams } from './render-upstreams.js';
import { upstreamName } from './names.js';

const route = (path: string, service: string, port: number, over: Partial<RouteDef> = {}): RouteDef => ({
  path,
  service,
  port,
  websocket: false,
  sse: false,
  ...over,
});

export const MINIMAL: ProxyDef = {
  domains: ['blog.example.com'],
  tls: 'acme',
  hsts: true,
  securityHeaders: true,
  routes: [route('/', 'web', 8000)],
};

export const FULL: ProxyDef = {
  domains: ['shop.example.com', 'www.shop.example.com'],
  tls: 'acme',
  hsts: true,
  securityHeaders: true,
  headers: { 'Content-Security-Policy': "default-src 'self'; img-src 'self' data:", 'Permissions-Policy': 'camera=()' },
  routes: [
    route('/', 'web', 8000),
    route('/api/', 'api', 9000, {
      bodySize: '10m',
      timeoutSeconds: 30,
      rateLimit: { perSecond: 10, burst: 20 },
      headers: { 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' },
    }),
    route('/ws/', 'api', 9000, { websocket: true }),
    route('/events', 'api', 9001, { sse: true }),
    route('/static/', 'web', 8000, { cache: '7d' }),
  ],
};

export const TLS_NONE: ProxyDef = {
  domains: ['docs.example.com'],
  tls: 'none',
  hsts: true,
  securityHeaders: false,
  routes: [route('/', 'docs', 80)],
};

/** The addresses of the full site's upstreams: two containers, one, and none yet. */
export const FULL_ADDRESSES: Record<string, string[]> = {
  [upstreamName('shop', 'web', 8000)]: ['172.20.0.3:8000', '172.20.0.4'],
  [upstreamName('shop', 'api', 9000)]: ['172.20.0.5:9000'],
};

export interface GoldenCase {
  /** File name under test/golden/nginx/. */
  file: string;
  stack: string;
  /** What is rendered; its routes give the upstreams a site needs for nginx -t. */
  proxy: ProxyDef;
  kind: 'site' | 'upstreams';
  /** Whether nginx -t needs the stack's certificate files. */
  certificate: boolean;
  render: () => string;
}

export const GOLDEN_CASES: GoldenCase[] = [
  {
    file: 'minimal.conf',
    stack: 'blog',
    proxy: MINIMAL,
    kind: 'site',
    certificate: false,
    render: () => renderSite('blog', MINIMAL, { certificate: false }),
  },
  {
    file: 'full.conf',
    stack: 'shop',
    proxy: FULL,
    kind: 'site',
    certificate: false,
    render: () => renderSite('shop', FULL, { certificate: false }),
  },
  {
    file: 'full-tls.conf',
    stack: 'shop',
    proxy: FULL,
    kind: 'site',
    certificate: true,
    render: () => renderSite('shop', FULL, { certificate: true }),
  },
  {
    file: 'tls-none.conf',
    stack: 'docs',
    proxy: TLS_NONE,
    kind: 'site',
    certificate: false,
    render: () => renderSite('docs', TLS_NONE, { certificate: true }),
  },
  {
    file: 'upstreams.conf',
    stack: 'shop',
    proxy: FULL,
    kind: 'upstreams',
    certificate: false,
    render: () => renderUpstreams('shop', FULL.routes, FULL_ADDRESSES),
  },
];
