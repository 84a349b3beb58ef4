import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepError } from '../../engine/errors.js';
import { drive, testContext } from '../../engine/test-helpers.js';
import { dockerVersionCommand, pluginVersionCommand } from '../../deploy/compose-cli.js';
import type { ReleaseMeta } from '../../deploy/release-meta.js';
import type { Service } from '../../model/compose.js';
import { render } from '../../shell/command.js';
import { RecordingTransport } from '../../transport/recording.js';
import {
  archCommand,
  availCommand,
  listeningCommand,
  meminfoCommand,
  ownPortsCommand,
  preflightStep,
  volumeSizesCommand,
} from './preflight.js';

const side = (name: string) => ({ name, sudo: false, transport: () => new RecordingTransport(name) });
const release = { id: 'r1', project: 'shop', composeFiles: ['compose.yml'], services: [] } satisfies ReleaseMeta;
const m = { stack: 'shop', source: side('old'), target: side('new'), release };
const web = {
  name: 'web',
  replicas: 1,
  resources: { memoryLimit: 512 * 1024 ** 2 },
  ports: [{ published: 8080, protocol: 'tcp' }],
} as unknown as Service;
const SIZES = render(volumeSizesCommand(['shop_db']));
const LISTEN = `${render(listeningCommand)} 2>/dev/null`;
const OURS = `${render(ownPortsCommand('shop'))} 2>/dev/null`;

const target = (o: { arch?: string; free?: number; listening?: string } = {}) =>
  new RecordingTransport('new')
    .when(render(dockerVersionCommand), { stdout: '24.0.7\n' })
    .when(render(pluginVersionCommand), { stdout: '2.24.0\n' })
    .when(/^docker-compose version/, { code: 127 })
    .when(render(archCommand), { stdout: `${o.arch ?? 'x86_64'}\n` })
    .when(render(meminfoCommand), { stdout: 'MemTotal: 4000000 kB\nMemAvailable: 2000000 kB\n' })
    .when(render(availCommand), { stdout: `${o.free ?? 50 * 1024 ** 3}\n${o.free ?? 60 * 1024 ** 3}\n` })
    .when(LISTEN, { stdout: o.listening ?? '' })
    .when(OURS, { stdout: '' });
const source = () =>
  new RecordingTransport('old').when(render(archCommand), { stdout: 'x86_64\n' }).when(SIZES, { stdout: '1000\n' });

test('the preflight reads the target and the source (which it reaches) and reports what it measured', async () => {
  const step = preflightStep({
    id: 'shop/migrate/preflight',
    m,
    services: [web],
    dockerVolumes: ['shop_db'],
    dependsOn: ['shop/migrate/dns-preflight'],
  });
  assert.deepEqual([step.host, step.reaches, step.dependsOn], ['new', ['old'], ['shop/migrate/dns-preflight']]);
  const [t, s] = [target(), source()];
  const { checked } = await drive(step, testContext(t, { step, others: { old: s } }), { rollback: true });
  assert.deepEqual(checked, {
    needed: false,
    observed: { arch: 'x86_64', dataBytes: 1000, freeBytes: 50 * 1024 ** 3 },
  });
  assert.deepEqual(s.lines, [render(archCommand), SIZES]);
  assert.deepEqual(
    t.lines.filter((l) => !/version/.test(l)),
    [render(archCommand), render(meminfoCommand), render(availCommand), LISTEN, OURS],
  );
});

test('every problem at once: another architecture, too little disk, a port in use', async () => {
  const step = preflightStep({ id: 'shop/migrate/preflight', m, services: [web], dockerVolumes: ['shop_db'] });
  const t = target({
    arch: 'aarch64',
    free: 1024,
    listening: 'tcp LISTEN 0 511 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=1,fd=6))\n',
  });
  await assert.rejects(drive(step, testContext(t, { step, others: { old: source() } })), (e: StepError) => {
    assert.equal(e.code, 'preflight-failed');
    assert.match(e.message, /architecture aarch64 differs from the source's x86_64/);
    assert.match(e.message, /of disk free/);
    assert.match(e.message, /port 8080\/tcp \(service web\) is already in use there/);
    return true;
  });
});
