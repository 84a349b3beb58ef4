import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyDef, RouteDef } from '../../model/fleet.js';
import { loadWorkspace } from '../../workspace/load.js';
import { defaultCheckContext } from '../context.js';
import { brief, files, fleet, port, project, service, stack } from '../test-helpers/make.js';
import { proxyRoute } from './proxy-route.js';

const route = (path: string, svc: string, p: number): RouteDef => ({
  path,
  service: svc,
  port: p,
  websocket: false,
  sse: false,
});
const proxy = (...routes: RouteDef[]): ProxyDef => ({
  domains: ['shop.example.com'],
  tls: 'none',
  hsts: true,
  securityHeaders: true,
  routes,
});

describe('proxy-route', () => {
  it('is an error for a route to a service the project does not have, with a did-you-mean', () => {
    const p = project([service('web'), service('api')]);
    const f = proxyRoute(
      fleet([stack('shop', p, { proxy: proxy(route('/', 'web', 80), route('/api/', 'apii', 9000)) })]),
      files(),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'proxy-route',
        severity: 'error',
        message: 'shop: route /api/ goes to service apii, which is not in the compose project',
        path: 'stacks/shop/proxy/routes/1/service',
      },
    ]);
    assert.equal(f[0]!.hint, 'Did you mean api? Services of shop: web, api.');
  });

  it('is an error for a route to a service only an inactive profile enables, naming the profile from the source', () => {
    const text = [
      'services:',
      '  web:',
      '    image: nginx',
      '  admin:',
      '    image: adminer',
      '    profiles: [tools]',
      '',
    ].join('\n');
    const locate = (path: readonly (string | number)[]) =>
      path[1] === 'admin' && path[2] === 'profiles'
        ? { file: 'compose.yml', line: 6, path: path.join('/') }
        : { file: 'compose.yml', path: path.join('/') };
    const p = project([service('web')], { disabledServices: ['admin'], locate });
    const f = proxyRoute(
      fleet([stack('shop', p, { proxy: proxy(route('/admin/', 'admin', 8080)) })]),
      files({ '/srv/app/compose.yml': text }),
    );
    assert.deepEqual(
      brief(f).map((x) => x.message),
      ['shop: route /admin/ goes to service admin, which is disabled: only profile tools enables it'],
    );
  });

  it('warns once when a routed service publishes the routed port on all interfaces, not when bound to loopback', () => {
    const web = service('web', { ports: [port(0, 8080, 8000)] });
    const api = service('api', { ports: [port(0, 9000, 9000, { hostIp: '127.0.0.1' })] });
    const worker = service('worker', { ports: [port(0, undefined, 7000)] });
    const p = project([web, api, worker]);
    const routes = proxy(
      route('/', 'web', 8000),
      route('/static/', 'web', 8000),
      route('/api/', 'api', 9000),
      route('/jobs/', 'worker', 7000),
    );
    const f = proxyRoute(fleet([stack('shop', p, { proxy: routes })]), files());
    assert.deepEqual(brief(f), [
      {
        code: 'proxy-published-port',
        severity: 'warning',
        message:
          'shop/web is behind nginx for / but also publishes port 8000 on all host interfaces as host port 8080: clients can go around nginx',
        path: 'services/web/ports/0',
      },
      {
        code: 'proxy-published-port',
        severity: 'warning',
        message:
          'shop/worker is behind nginx for /jobs/ but also publishes port 7000 on all host interfaces as an ephemeral host port: clients can go around nginx',
        path: 'services/worker/ports/0',
      },
    ]);
    assert.match(f[0]!.hint, /"127\.0\.0\.1:8080:8000"/);
  });

  it('says nothing about stacks without a proxy', () => {
    assert.deepEqual(
      proxyRoute(fleet([stack('shop', project([service('web', { ports: [port(0, 80, 80)] })]))]), files()),
      [],
    );
  });

  it('points at the line of the route in the real fleet file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-proxy-route-'));
    try {
      writeFileSync(join(dir, 'compose.yml'), 'services:\n  web:\n    image: nginx:1.27\n');
      const ferry = [
        'servers:',
        '  app: { host: 10.0.0.1 }',
        'stacks:',
        '  shop:',
        '    server: app',
        '    compose: compose.yml',
        '    proxy:',
        '      domains: [shop.example.com]',
        '      tls: none',
        '      routes:',
        '        - path: /',
        '          service: wbe',
        '          port: 80',
        '',
      ];
      writeFileSync(join(dir, 'ferry.yml'), ferry.join('\n'));
      const ws = loadWorkspace({ fleetFile: 'ferry.yml', cwd: dir, env: {} });
      const f = proxyRoute(ws.loaded!, defaultCheckContext);
      assert.deepEqual(
        f.map((x) => [x.code, x.where.line, x.where.path, x.hint]),
        [['proxy-route', 12, 'stacks/shop/proxy/routes/0/service', 'Did you mean web? Services of shop: web.']],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
