/** What the host-Postgres step reads on the server: the cluster, the networks' subnets, ufw, pg_hba.conf. */
import { StepError } from '../../engine/errors.js';
import type { Secret } from '../../core/secret.js';
import type { StepContext } from '../../engine/step.js';
import { addedLine } from '../../harden/render/ufw.js';
import { cmd, quiet, type Command } from '../../shell/command.js';
import type { Tool } from '../../tools/classify.js';
import { runTool } from '../../tools/run.js';
import type { HostPostgresDef } from '../../model/fleet.js';
import {
  blockIn,
  clusterUnit,
  clustersCommand,
  hbaBlock,
  hostPostgresAllows,
  parseClusters,
  psqlAsSuperuser,
  type Cluster,
  type HostPostgresAccess,
  type StackNetwork,
} from '../host-postgres.js';

export interface HostPostgresSeen {
  cluster: Cluster;
  hbaFile: string;
  /** Its owner and group (`USER:GROUP`): a file written again keeps them. */
  hbaOwner: string;
  /** The stack's block as it was ('' none): what rollback puts back. */
  before: string;
  listen: string;
  /** The address Postgres must listen on: Docker's bridge (host-gateway), or this server's private address. */
  listenOn: string;
  /** Networks to create, by name. */
  create: string[];
  /** ufw's allowances to add (ufw installed), as `ufw show added` prints them. */
  ufwAdd: string[];
}

const HINT_MISSING =
  'Install Postgres on the server (apt-get install postgresql) and start it, or correct servers.NAME.postgres (version, cluster, port) in ferry.yml.';

/** The cluster `pg` names, running, on the server; a StepError naming what is there otherwise. */
export async function findCluster(
  ctx: StepContext,
  host: string,
  pg: HostPostgresDef,
  sudo: boolean,
): Promise<Cluster> {
  const r = await ctx.transport.exec(quiet(clustersCommand()), { sudo });
  const all = r.code === 0 ? parseClusters(r.stdout) : [];
  const fits = all.filter((c) => c.name === pg.cluster && (pg.version === undefined || c.version === pg.version));
  const list = all.map((c) => `${c.version}/${c.name} on ${c.port}`).join(', ') || 'none';
  if (fits.length !== 1)
    throw new StepError(
      'host-postgres-missing',
      fits.length === 0
        ? `${host}: no Postgres cluster ${pg.version ?? ''}${pg.version !== undefined ? '/' : ''}${pg.cluster} (pg_lsclusters: ${list})`
        : `${host}: ${fits.length} clusters are called ${pg.cluster} (${list}): which one is meant?`,
      fits.length === 0 ? HINT_MISSING : `Set servers.${host}.postgres.version in ferry.yml.`,
    );
  const c = fits[0]!;
  if (c.port !== pg.port)
    throw new StepError(
      'host-postgres-missing',
      `${host}: Postgres ${c.version}/${c.name} listens on port ${c.port}, not ${pg.port}`,
      `Set servers.${host}.postgres.port to ${c.port} in ferry.yml (or move the cluster to ${pg.port}).`,
    );
  if (!c.online)
    throw new StepError(
      'host-postgres-down',
      `${host}: Postgres ${c.version}/${c.name} is not running`,
      `Start it (systemctl start ${clusterUnit(c)}), then apply again.`,
    );
  return c;
}

export const HBA_ERRORS = "SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL";

/**
 * `text` written as pg_hba.conf (its owner kept), checked by Postgres itself and reloaded;
 * a file Postgres finds an error in is put back to `previous`, and the step fails.
 */
export async function writeHba(
  ctx: StepContext,
  o: {
    host: string;
    sudo: boolean;
    file: string;
    owner: string;
    text: string;
    previous: string;
    sql: (ctx: StepContext, what: string, ...q: string[]) => Promise<string>;
    hint: string;
  },
): Promise<void> {
  await ctx.transport.upload(o.file, o.text, { mode: 0o640, owner: o.owner, sudo: o.sudo });
  const errors = (await o.sql(ctx, `checking ${o.file}`, HBA_ERRORS)).trim();
  if (errors !== '') {
    await ctx.transport.upload(o.file, o.previous, { mode: 0o640, owner: o.owner, sudo: o.sudo });
    throw new StepError(
      'host-postgres-hba-invalid',
      `${o.host}: Postgres refuses ${o.file} with Ferry's block (line ${errors}); the file was put back as it was`,
      o.hint,
    );
  }
  await o.sql(ctx, `reloading Postgres on ${o.host}`, 'SELECT pg_reload_conf()');
}

/** Where a message says it happened: `web1's Postgres 17/main`. */
export const pgWhere = (host: string, pg: HostPostgresDef): string =>
  `${host}'s Postgres${pg.version !== undefined ? ` ${pg.version}` : ''}/${pg.cluster}`;

/**
 * What every step on a host's Postgres runs and reads: a tool whose error fails the step,
 * SQL as the superuser, and pg_hba.conf with its owner (`USER:GROUP`, so that a file written
 * again keeps them; the superuser's when stat cannot say).
 */
export function hostPostgresTools(pg: HostPostgresDef, sudo: boolean) {
  const run = (ctx: StepContext, tool: Tool, c: Command, what: string, stdin?: Secret) =>
    runTool(ctx, tool, c, { what, sudo, ...(stdin ? { stdin } : {}) });
  const sql = (ctx: StepContext, what: string, ...q: string[]) => run(ctx, 'psql', psqlAsSuperuser(pg, q), what);
  const readHba = async (ctx: StepContext, path: string) =>
    (await ctx.transport.download(path, { sudo })).toString('utf8');
  async function hbaOwner(ctx: StepContext, path: string): Promise<string> {
    const stat = await ctx.transport.exec(cmd('stat', '-c', '%U:%G', path), { sudo });
    return stat.code === 0 && stat.stdout.trim() ? stat.stdout.trim() : `${pg.superuser}:${pg.superuser}`;
  }
  return { run, sql, readHba, hbaOwner };
}

/** The reads and commands of the step, for one stack on one server. */
export function hostPostgresReader(o: { host: string; access: HostPostgresAccess; sudo: boolean }) {
  const { access: a, sudo, host } = o;
  const pg = a.postgres;
  const where = pgWhere(host, pg);
  const { run, sql, readHba, hbaOwner } = hostPostgresTools(pg, sudo);
  const exec = (ctx: StepContext, c: Command) => ctx.transport.exec(c, { sudo });

  /** Names of the stack's networks that exist, and each one's subnets. */
  async function subnets(ctx: StepContext, nets: StackNetwork[]): Promise<Map<string, string[]>> {
    if (a.remote) return new Map([[`the server of ${a.stack}`, [`${a.remote.from}/32`]]]);
    const names = new Set(
      (await run(ctx, 'docker', cmd('docker', 'network', 'ls', '--format', '{{.Name}}'), 'listing the networks'))
        .split('\n')
        .map((s) => s.trim()),
    );
    const out = new Map<string, string[]>();
    for (const n of nets.filter((n) => names.has(n.name))) {
      const text = await run(
        ctx,
        'docker',
        cmd('docker', 'network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', n.name),
        `reading the subnets of ${n.name}`,
      );
      out.set(
        n.name,
        text.split(/\s+/).filter((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s)),
      );
    }
    return out;
  }

  const desired = (nets: Map<string, string[]>) => hbaBlock(a.block, a.pairs, [...nets.values()].flat().sort());

  async function ufwMissing(ctx: StepContext): Promise<string[]> {
    // Also while ufw is inactive: ufw keeps the rules, and they hold from the day it is enabled.
    const status = await exec(ctx, quiet(cmd('ufw', 'status')));
    if (status.code !== 0 || !/^Status: (in)?active/m.test(status.stdout)) return [];
    const added = (await exec(ctx, quiet(cmd('ufw', 'show', 'added')))).stdout;
    return hostPostgresAllows(a)
      .map(addedLine)
      .filter((l) => !added.includes(l));
  }

  async function observe(ctx: StepContext): Promise<{ seen: HostPostgresSeen; want: string }> {
    const c = await findCluster(ctx, host, pg, sudo);
    const [hbaFile, listen] = (await sql(ctx, `reading ${where}'s settings`, 'SHOW hba_file', 'SHOW listen_addresses'))
      .trim()
      .split('\n');
    const listenOn = a.remote
      ? a.remote.listen
      : (
          await run(
            ctx,
            'docker',
            cmd('docker', 'network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', 'bridge'),
            "reading the address of Docker's bridge (host-gateway)",
          )
        ).trim();
    const nets = await subnets(ctx, a.networks);
    const missing = a.networks.filter((n) => !nets.has(n.name));
    const external = missing.find((n) => n.external);
    if (external)
      throw new StepError(
        'host-postgres-network',
        `${host}: the external network ${external.name} of ${a.stack} does not exist, so its subnet cannot be let into Postgres`,
        `Create it (docker network create ${external.name}) on ${host}, then apply again.`,
      );
    const text = await readHba(ctx, hbaFile!);
    const seen: HostPostgresSeen = {
      cluster: c,
      hbaFile: hbaFile!,
      hbaOwner: await hbaOwner(ctx, hbaFile!),
      before: blockIn(text, a.block),
      listen: listen ?? '',
      listenOn,
      create: missing.map((n) => n.name),
      ufwAdd: await ufwMissing(ctx),
    };
    return { seen, want: desired(nets) };
  }

  return { where, run, sql, exec, subnets, desired, readHba, observe };
}
