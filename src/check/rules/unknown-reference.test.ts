import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unknownReference } from './unknown-reference.js';
import { brief, files, mount, project, service, fleet, stack, single } from '../test-helpers/make.js';
import type { Dependency, NamedResource } from '../../model/compose.js';

const dep = (over: Partial<Dependency> = {}): Dependency => ({
  condition: 'service_started',
  required: true,
  restart: false,
  ...over,
});
const res = (name: string): NamedResource => ({ name, external: false, raw: {} });

describe('unknown-reference', () => {
  it('is an error for depends_on a service that does not exist', () => {
    const f = unknownReference(
      single([service('api', { dependsOn: { db: dep(), cache: dep() } }), service('cache')]),
      files(),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'app/api: depends_on names service db, which does not exist',
        path: 'services/api/depends_on/db',
      },
    ]);
  });

  it('warns about depends_on a service an inactive profile disabled, naming the profile from the source', () => {
    const text = [
      'services:',
      '  api:',
      '    depends_on: [debug]',
      '  debug:',
      '    image: busybox',
      '    profiles: ["tools", dev]',
      '',
    ].join('\n');
    const locate = (path: readonly (string | number)[]) =>
      path[1] === 'debug' && path[2] === 'profiles'
        ? { file: 'compose.yml', line: 6, column: 5, path: path.join('/') }
        : { file: 'compose.yml', path: path.join('/') };
    const p = project(
      [
        service('api', { dependsOn: { debug: dep() } }),
        service('web', { dependsOn: { debug: dep({ required: false }) } }),
      ],
      { disabledServices: ['debug'], locate },
    );
    const f = unknownReference(fleet([stack('app', p)]), files({ '/srv/app/compose.yml': text }));
    assert.deepEqual(brief(f), [
      {
        code: 'unknown-reference',
        severity: 'warning',
        message: 'app/api: depends_on service debug, which is disabled: only profile tools or dev enables it',
        path: 'services/api/depends_on/debug',
      },
    ]);
  });

  it('says "a profile that is not active" when the source cannot tell', () => {
    const p = project([service('api', { dependsOn: { debug: dep() } })], { disabledServices: ['debug'] });
    assert.deepEqual(
      brief(unknownReference(fleet([stack('app', p)]), files())).map((x) => x.message),
      ['app/api: depends_on service debug, which is disabled: only a profile that is not active enables it'],
    );
  });

  it('is an error for undeclared volumes, networks, secrets, configs and network_mode services', () => {
    const api = service('api', {
      volumes: [
        mount(0, 'volume', 'data', '/data'),
        mount(1, 'volume', 'logs', '/logs'),
        mount(2, 'bind', '/srv/x', '/x'),
        mount(3, 'volume', undefined, '/tmp/anon'),
      ],
      networks: { default: null, front: null, back: null },
      secrets: [{ source: 'db_password', target: '/run/secrets/db_password' }],
      configs: [{ source: 'nginx', target: '/etc/nginx/nginx.conf' }],
    });
    const sidecar = service('sidecar', { networkMode: 'service:vpn' });
    const p = project([api, sidecar], { volumes: { data: res('data') }, networks: { front: res('front') } });
    assert.deepEqual(brief(unknownReference(fleet([stack('app', p)]), files())), [
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'app/api: volume logs is not declared in the top-level `volumes:`',
        path: 'services/api/volumes/1',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'app/api: network back is not declared in the top-level `networks:`',
        path: 'services/api/networks/back',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'app/api: secret db_password is not declared in the top-level `secrets:`',
        path: 'services/api/secrets/0',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'app/api: config nginx is not declared in the top-level `configs:`',
        path: 'services/api/configs/0',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'app/sidecar: network_mode names service vpn, which does not exist',
        path: 'services/sidecar/network_mode',
      },
    ]);
  });

  it('accepts declared references', () => {
    const api = service('api', {
      dependsOn: { db: dep() },
      volumes: [mount(0, 'volume', 'data', '/data')],
      networks: { front: null },
      secrets: [{ source: 's', target: '/run/secrets/s' }],
      networkMode: undefined,
    });
    const p = project([api, service('db'), service('vpnc', { networkMode: 'service:db' })], {
      volumes: { data: res('data') },
      networks: { front: res('front') },
      secrets: { s: res('s') },
    });
    assert.deepEqual(unknownReference(fleet([stack('app', p)]), files()), []);
  });
});
