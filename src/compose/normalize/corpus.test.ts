// Runs normalizeService on every service of every compose file in the shared corpus of real
// projects. Interpolation is not this module's job, so `${VAR:-default}` and `${VAR-default}`
// are replaced by their defaults and `$$` is dropped; a key whose value still holds a `$`
// afterwards (`$VAR`, `${VAR}`) may be reported, every other key must normalize cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toPlain } from '../../yaml/plain.js';
import { parseYamlText } from '../../yaml/source.js';
import { normalizeService } from './service.js';

const corpus = fileURLToPath(new URL('../../../../shared/fixtures/compose-corpus/', import.meta.url));

function composeFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return composeFiles(p);
      return /\.ya?ml$/.test(name) ? [p] : [];
    });
}

function withDefaults(v: unknown): unknown {
  if (typeof v === 'string') {
    let s = v;
    for (let prev = ''; prev !== s;) {
      prev = s;
      s = s.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^${}]*)\}/g, '$1');
    }
    return s;
  }
  if (Array.isArray(v)) return v.map(withDefaults);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withDefaults(x)]));
  return v;
}

function hasVariable(v: unknown): boolean {
  return JSON.stringify(v ?? null)
    .replace(/\$\$/g, '')
    .includes('$');
}

function parse(path: string): Record<string, unknown> {
  // Leading comment lines are dropped: they carry nothing for this test, and
  // parseYamlText's emptiness check is slow on long comment headers.
  const text = readFileSync(path, 'utf8').replace(/^(?:[ \t]*(?:#[^\n]*)?\n)+/, '');
  const { file, findings } = parseYamlText(text, path, path);
  assert.deepEqual(findings, [], path);
  const plain = toPlain(file!);
  assert.deepEqual(plain.findings, [], path);
  return plain.data;
}

test('every service of the compose corpus normalizes without schema findings on literal values', () => {
  const files = composeFiles(corpus);
  assert.ok(files.length >= 30, `found ${files.length} compose files`);
  let services = 0;
  let literal = 0;
  for (const path of files) {
    const doc = parse(path);
    for (const [name, svc] of Object.entries((doc.services ?? {}) as Record<string, Record<string, unknown>>)) {
      const raw = withDefaults(svc ?? {}) as Record<string, unknown>;
      const { service, findings } = normalizeService(name, raw, { workingDir: dirname(path), envFileValues: {} });
      services++;
      assert.equal(service.name, name);
      const variableKeys = Object.keys(raw).filter((k) => hasVariable(raw[k]));
      if (variableKeys.length === 0) literal++;
      for (const f of findings) {
        const key = f.where.path?.split('/')[2] ?? '';
        assert.ok(variableKeys.includes(key), `${path}: ${f.where.path}: ${f.message}`);
      }
    }
  }
  assert.ok(services >= 300, `normalized ${services} services`);
  assert.ok(literal >= 100, `${literal} services without variables`);
});

test('corpus spot checks', () => {
  const zabbix = parse(join(corpus, 'zabbix__zabbix-docker/compose_zabbix_components.yaml'));
  const server = withDefaults((zabbix.services as Record<string, Record<string, unknown>>)['server']) as Record<
    string,
    unknown
  >;
  const { service } = normalizeService('server', server, {
    workingDir: join(corpus, 'zabbix__zabbix-docker'),
    envFileValues: {},
  });
  assert.deepEqual(service.resources, {
    memoryLimit: 1024 ** 3,
    memoryReservation: 512 * 1024 ** 2,
    cpuLimit: 0.7,
    cpuReservation: 0.5,
  });

  const sentry = parse(join(corpus, 'getsentry__self-hosted__docker-compose.yml'));
  const nginx = (sentry.services as Record<string, Record<string, unknown>>)['nginx']!;
  const out = normalizeService('nginx', withDefaults({ ...nginx, ports: ['80:80/tcp'] }) as Record<string, unknown>, {
    workingDir: '/srv/sentry',
    envFileValues: {},
  });
  assert.deepEqual(out.service.ports, [
    { target: 80, targetEnd: 80, protocol: 'tcp', published: 80, publishedEnd: 80, index: 0 },
  ]);
  assert.deepEqual(out.service.volumes[0], {
    type: 'bind',
    source: '/srv/sentry/nginx.conf',
    target: '/etc/nginx/nginx.conf',
    readOnly: true,
    index: 0,
    key: 'volumes',
  });
});
