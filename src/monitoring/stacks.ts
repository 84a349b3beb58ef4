/**
 * The monitoring stack and the exporters as stacks Ferry deploys like any other (plan,
 * apply, rollback): `ferry-monitoring` on the monitoring server, `ferry-exporters-SERVER`
 * on every server. Their files are generated (files.ts), written into a directory of
 * this machine's state and loaded as Compose projects, so that a release ships exactly
 * what `ferry monitoring render` shows. The receivers' secrets and Grafana's password are
 * written there too (mode 600) for the release to read, and removed once it has.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FerryError, InputError } from '../core/errors.js';
import { hasErrors } from '../core/finding.js';
import { Secret } from '../core/secret.js';
import { loadComposeProject } from '../compose/load.js';
import { DEFAULT_DEPLOY, type StackDef } from '../model/fleet.js';
import type { LoadedFleet, LoadedStack } from '../model/loaded.js';
import type { MonitoringDef } from '../model/monitoring.js';
import { allMonitoringFiles } from './files.js';
import {
  exporterSecretFile,
  GRAFANA_PASSWORD_FILE,
  mysqlMyCnf,
  receiverSecretFile,
  redisPasswordFile,
} from './render/compose.js';
import { redisServicePassword } from './connect.js';
import { receiverSecret, readSecret, type SecretSource } from './secrets.js';
import { alertmanagerReceivers } from './render/alertmanager.js';
import type { ComposeProject } from '../model/compose.js';
import { monitoringTargets, type ExporterTarget } from './targets.js';

export const MONITORING_STACK = 'ferry-monitoring';
export const exportersStack = (server: string): string => `ferry-exporters-${server}`;

export const isExportersStack = (name: string): boolean => name.startsWith('ferry-exporters-');
/** Names a fleet file cannot give its own stacks when it has `monitoring`. */
export const isMonitoringStack = (name: string): boolean => name === MONITORING_STACK || isExportersStack(name);

export interface MonitoringStacks {
  stacks: LoadedStack[];
  /** The secrets written for the releases (each password itself, not the file holding it): for the redactor. */
  secrets: Secret[];
  /** Removes the secret files; call once the releases are made (their contents are then in memory). */
  removeSecrets: () => void;
}

/** Empty when the fleet has no `monitoring`. `dir`: a directory of this machine's state, Ferry's own. */
export function monitoringStacks(loaded: LoadedFleet, source: SecretSource, dir: string): MonitoringStacks {
  const def = loaded.fleet.monitoring;
  if (!def) return { stacks: [], secrets: [], removeSecrets: () => {} };
  const targets = monitoringTargets(loaded);
  const files = allMonitoringFiles(def, targets);
  // Every secret by its path under `dir`: the monitoring project's, then the exporters' database passwords.
  const secrets = new Map<string, Secret>();
  const redact: Secret[] = [];
  for (const [rel, value] of secretFiles(def, source)) {
    secrets.set(join(MONITORING_STACK, rel), value);
    redact.push(value);
  }
  for (const e of targets.exporters) {
    const password = exporterPassword(loaded, e, source);
    if (password === undefined) continue;
    redact.push(password);
    const text =
      e.kind === 'redis'
        ? new Secret(redisPasswordFile(e, password.reveal()))
        : e.kind === 'mysql'
          ? new Secret(myCnf(e, password))
          : password;
    secrets.set(join(exportersStack(e.server), exporterSecretFile(e)), text);
  }
  rmSync(dir, { recursive: true, force: true });
  const write = (rel: string, text: string, mode = 0o644) => {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const [rel, text] of files) if (!rel.startsWith('servers/')) write(join(MONITORING_STACK, rel), text);
  for (const server of Object.keys(loaded.fleet.servers))
    write(join(exportersStack(server), 'compose.yml'), files.get(`servers/${server}/compose.yml`)!);
  for (const [rel, value] of secrets) write(rel, value.reveal(), 0o600);
  const stacks = [
    load(dir, MONITORING_STACK, def.server, def),
    ...Object.keys(loaded.fleet.servers).map((server) => load(dir, exportersStack(server), server, def)),
  ];
  return {
    stacks,
    secrets: redact,
    removeSecrets: () => {
      for (const rel of secrets.keys()) rmSync(join(dir, rel), { force: true });
    },
  };
}

/** The password of the service an exporter watches, from its compose file; undefined when it needs none handed over. */
function exporterPassword(loaded: LoadedFleet, e: ExporterTarget, source: SecretSource): Secret | undefined {
  const project = loaded.stacks.find((s) => s.def.name === e.stack)?.project;
  const svc = project?.services.find((s) => s.name === e.service);
  const at = e.connect ?? e.mysql;
  if (at && at.passwordSecret && project) return composeSecret(project, at.passwordSecret, e, source);
  if (at) return new Secret(svc?.environment[at.passwordVar] ?? '');
  if (e.redis?.auth && svc) return new Secret(redisServicePassword(svc) ?? '');
  return undefined;
}

/**
 * The content of a stack's Compose secret, as its service reads it from /run/secrets
 * (trimmed, as the images' `$(< file)` drops the newline it ends with): from its file on
 * this machine, or the variable it names. Missing or empty is monitoring-secret-missing.
 */
function composeSecret(project: ComposeProject, name: string, e: ExporterTarget, source: SecretSource): Secret {
  const def = project.secrets[name]!;
  const env = { ...source.env, ...project.interpolation };
  const ref = def.file ? { file: def.file } : { env: def.environment! };
  return readSecret(
    ref,
    { env, readFile: source.readFile },
    `stacks/${e.stack}/compose: secrets.${name}`,
    `the password of ${e.stack}/${e.service} (Compose secret ${name}), for its exporter`,
  );
}

/** The secret files of the monitoring project, by their path in it. */
function secretFiles(def: MonitoringDef, source: SecretSource): Map<string, Secret> {
  const out = new Map<string, Secret>();
  for (const r of alertmanagerReceivers(def)) {
    const value = receiverSecret(r, source);
    if (value) out.set(receiverSecretFile(r.name), value);
  }
  if (def.grafana !== false) {
    if (!def.grafana.adminPassword)
      throw new FerryError(
        'monitoring-secret-missing',
        "Grafana's admin password is not said: the monitoring stack cannot be deployed with Grafana without one",
        'monitoring/grafana',
        'Add `grafana: { admin_password: { env: NAME } }` (or `{ file: PATH }`) under `monitoring`, or `grafana: false` to leave Grafana out.',
        2,
      );
    out.set(
      GRAFANA_PASSWORD_FILE,
      readSecret(def.grafana.adminPassword, source, 'monitoring/grafana', "Grafana's admin password"),
    );
  }
  return out;
}

function load(dir: string, name: string, server: string, def: MonitoringDef): LoadedStack {
  const compose = join(dir, name, 'compose.yml');
  const r = loadComposeProject({ files: [compose], cwd: dir, env: {} });
  if (!r.project || hasErrors(r.findings)) throw new InputError(r.findings.map((f) => ({ ...f, stack: name })));
  const stack: StackDef = {
    name,
    server,
    compose: [compose],
    connections: [],
    deploy: { ...DEFAULT_DEPLOY, images: def.deploy.images },
  };
  return { def: stack, project: r.project, findings: r.findings };
}

/** mysqld_exporter's my.cnf; a password it cannot be given is said before anything is written. */
function myCnf(e: ExporterTarget, password: Secret): string {
  const text = mysqlMyCnf(e, password.reveal());
  if (text !== undefined) return text;
  throw new FerryError(
    'monitoring-secret-unusable',
    `the password of ${e.stack}/${e.service} cannot be written into mysqld_exporter's my.cnf: it holds a line break, or both a backtick and three double quotes in a row`,
    `stacks/${e.stack}/compose: services.${e.service}`,
    'Change the password so that it has neither, or leave the exporter out by giving the service no password variable Ferry reads.',
    2,
  );
}
