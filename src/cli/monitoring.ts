/**
 * `ferry monitoring render --out DIR`: writes the generated monitoring configuration
 * (docs/monitoring.md) into a directory, and says which secret files Alertmanager reads
 * and where they come from, without reading or writing any secret.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FerryError, InputError, UsageError } from '../core/errors.js';
import { sortFindings } from '../core/finding.js';
import { allMonitoringFiles, secretPlaces } from '../monitoring/files.js';
import { exporterSecretFile } from '../monitoring/render/compose.js';
import { HEARTBEAT } from '../monitoring/render/alertmanager.js';
import { monitoringTargets } from '../monitoring/targets.js';
import { loadWorkspace } from '../workspace/load.js';
import type { CliIo } from './io.js';

export interface MonitoringFlags {
  file?: string;
  out: string;
  json?: boolean;
}

/** Exit codes: 0 written, 2 when the input cannot be read or the directory not written. */
export function monitoringRenderCommand(flags: MonitoringFlags, io: CliIo): number {
  const ws = loadWorkspace({ cwd: io.cwd, env: io.env, ...(flags.file ? { fleetFile: flags.file } : {}) });
  io.redactor.addAll(ws.secrets);
  if (!ws.loaded) throw new InputError(sortFindings(ws.findings));
  const unloaded = ws.loaded.stacks.flatMap((s) => (s.project ? [] : s.findings));
  if (ws.unreadable) throw new InputError(sortFindings([...ws.loaded.findings, ...unloaded]));
  const def = ws.loaded.fleet.monitoring;
  if (!def)
    throw new UsageError(
      'the fleet file has no `monitoring` key: there is nothing to render',
      'Add `monitoring: { server: NAME }` to ferry.yml (docs/monitoring.md).',
      ws.loaded.fleet.display ?? 'ferry.yml',
    );
  const targets = monitoringTargets(ws.loaded);
  const files = allMonitoringFiles(def, targets);
  const out = resolve(io.cwd, flags.out);
  for (const [rel, text] of files) write(join(out, rel), text, flags.out);
  const secrets = secretPlaces(def);
  if (flags.json) {
    const { unprobed, unwatched } = targets;
    io.out(`${JSON.stringify({ out, files: [...files.keys()], secrets, unprobed, unwatched }, null, 2)}\n`);
    return 0;
  }
  io.out(`wrote ${files.size} files under ${flags.out}:\n`);
  for (const rel of files.keys()) io.out(`  ${rel}\n`);
  io.out('secret files (not written here):\n');
  for (const s of secrets)
    io.out(
      `  ${s.path}  from ${'env' in s.from ? `$${s.from.env}` : s.from.file} (${s.receiver === HEARTBEAT ? 'the heartbeat URL' : `receiver ${s.receiver}`})\n`,
    );
  io.out(`  grafana/admin-password  Grafana's admin password: write one yourself (mode 600) beside compose.yml\n`);
  for (const e of targets.exporters.filter((x) => x.connect))
    io.out(
      `  servers/${e.server}/${exporterSecretFile(e)}  the password of ${e.stack}/${e.service} (its ${e.connect!.passwordVar}${e.connect!.passwordSecret ? `, Compose secret ${e.connect!.passwordSecret}` : ''})\n`,
    );
  for (const e of targets.exporters.filter((x) => x.redis?.auth))
    io.out(
      `  servers/${e.server}/${exporterSecretFile(e)}  redis_exporter's password file for ${e.stack}/${e.service}: {"redis://${e.service}:${e.redis!.port}": "PASSWORD"}\n`,
    );
  for (const e of targets.exporters.filter((x) => x.mysql))
    io.out(
      `  servers/${e.server}/${exporterSecretFile(e)}  mysqld_exporter's my.cnf for ${e.stack}/${e.service}: [client] user=${e.mysql!.user} password=\`PASSWORD\` (its ${e.mysql!.passwordVar}) host=${e.service} port=${e.mysql!.port}\n`,
    );
  for (const u of targets.unprobed)
    io.err(
      `warning: http check ${u.stack}/${u.service}:${u.port}${u.path} is not probed: no route of the proxy covers it and the port is not published\n`,
    );
  for (const u of targets.unwatched)
    io.err(
      `warning: ${u.stack ? `${u.stack}/${u.service}` : `the ${u.kind} of ${u.server}`} is not watched: ${u.why}\n`,
    );
  return 0;
}

function write(path: string, text: string, display: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    throw new FerryError(
      'file-unwritable',
      `cannot write ${path}: ${(e as Error).message}`,
      `--out ${display}`,
      'Name a directory you can write to.',
      2,
    );
  }
}
