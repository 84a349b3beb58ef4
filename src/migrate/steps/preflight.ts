/**
 * Before anything changes anywhere: can the target take the stack? Docker and Compose
 * there, the same CPU architecture, memory for the stack's limits, disk for the data to
 * move plus a margin, and the stack's published ports free. Every problem is reported
 * at once; the step fails at `check`, so a plan with a failed preflight never applies.
 */
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { parseMeminfo } from '../../inventory/live/probes/system.js';
import { parseSs } from '../../inventory/live/probes/network.js';
import { formatSize } from '../../core/size.js';
import { cmd, quiet, raw, render, script, type Command } from '../../shell/command.js';
import type { Service } from '../../model/compose.js';
import { detectEngine } from '../../deploy/steps/engine.js';
import type { Transport } from '../../transport/transport.js';
import type { Migration } from '../context.js';

export const archCommand: Command = cmd('uname', '-m');
export const meminfoCommand: Command = cmd('cat', '/proc/meminfo');
export const listeningCommand: Command = cmd('ss', '-H', '-ltnu');
export const availCommand: Command = raw`df -B1 --output=avail /var/lib/docker /srv 2>/dev/null | tail -n +2`;
/** Bytes used by each named volume of a project, from Docker's own mountpoints. */
export const volumeSizesCommand = (names: string[]): Command =>
  names.length === 0
    ? raw`true`
    : script(
        `for v in "$@"; do p=$(docker volume inspect -f '{{.Mountpoint}}' "$v" 2>/dev/null) && du -sb "$p" | cut -f1 || echo 0; done`,
        ...names,
      );

/** The ports the project's containers publish there (`0.0.0.0:5432->5432/tcp, ...`). */
export const ownPortsCommand = (project: string): Command =>
  cmd('docker', 'ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Ports}}');

/** Extra room beyond the data: 10 % and 1 GiB. */
export const needWithMargin = (bytes: number): number => Math.ceil(bytes * 1.1) + 1024 ** 3;

export interface PreflightInput {
  m: Pick<Migration, 'stack' | 'source' | 'target' | 'release'>;
  services: Service[];
  /** Full Docker volume names on the source (`project_volume`). */
  dockerVolumes: string[];
}

/** What the preflight measured (it changes nothing; a problem fails its check). */
export interface PreflightObserved {
  /** The target's `uname -m`. */
  arch: string;
  /** Bytes of the volumes on the source. */
  dataBytes: number;
  /** Free bytes on the target (the least of /var/lib/docker and /srv). */
  freeBytes: number;
}

/** stdout when the command succeeded, else nothing: a probe that cannot run reports no problem of its own. */
async function out(t: Transport, c: Command, sudo: boolean): Promise<string> {
  const r = await t.exec(c, { sudo });
  return r.code === 0 ? r.stdout : '';
}

/** Measures the target (its own host) and the source (which it reaches); returns what it saw and every problem. */
async function inspectTarget(ctx: StepContext, o: PreflightInput) {
  const { m } = o;
  const src = ctx.on(m.source.name);
  const tgt = ctx.transport;
  const problems: string[] = [];
  const engine = await detectEngine(tgt, m.target.sudo);
  if (!engine.docker) problems.push('Docker is not installed or not running there');
  if (!engine.compose) problems.push('Compose (docker compose or docker-compose) is not installed there');
  const archS = (await out(src, archCommand, m.source.sudo)).trim();
  const archT = (await out(tgt, archCommand, m.target.sudo)).trim();
  if (archS && archT && archS !== archT)
    problems.push(`architecture ${archT} differs from the source's ${archS}: its images would not run`);
  const mem = parseMeminfo(await out(tgt, meminfoCommand, m.target.sudo));
  const limits = o.services.reduce((sum, s) => sum + (s.resources.memoryLimit ?? 0) * Math.max(1, s.replicas), 0);
  if (mem && limits > mem.available)
    problems.push(
      `${formatSize(mem.available)} of memory available, the stack's limits add up to ${formatSize(limits)}`,
    );
  const sizes = (await out(src, volumeSizesCommand(o.dockerVolumes), m.source.sudo))
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const data = sizes.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const avail = (await out(tgt, availCommand, m.target.sudo))
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isFinite(n) && n > 0);
  const free = avail.length > 0 ? Math.min(...avail) : 0;
  if (needWithMargin(data) > free)
    problems.push(
      `${formatSize(free)} of disk free (the least of /var/lib/docker and /srv), the data to move is ${formatSize(data)} and needs ${formatSize(needWithMargin(data))} with the margin`,
    );
  problems.push(...(await portProblems(tgt, o)));
  return { observed: { arch: archT, dataBytes: data, freeBytes: free }, problems };
}

async function portProblems(tgt: Transport, o: PreflightInput): Promise<string[]> {
  const { m } = o;
  const listening = parseSs(await out(tgt, quiet(listeningCommand), m.target.sudo));
  // A resumed run finds the ports its own containers published there already.
  const ours = await out(tgt, quiet(ownPortsCommand(m.release.project)), m.target.sudo);
  const problems: string[] = [];
  for (const s of o.services) {
    for (const p of s.ports) {
      if (p.published === undefined || ours.includes(`:${p.published}->`)) continue;
      const held = listening.find((l) => l.port === p.published && l.protocol === p.protocol);
      if (held)
        problems.push(
          `port ${p.published}/${p.protocol} (service ${s.name}) is already in use there${held.process ? ` by ${held.process}` : ''}`,
        );
    }
  }
  return problems;
}

export function preflightStep(o: PreflightInput & { id: string; dependsOn?: string[] }): Step<PreflightObserved> {
  const { m } = o;
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'prepare',
    title: `preflight: can ${m.target.name} take ${m.stack}?`,
    dependsOn: o.dependsOn ?? [],
    doc: () => ({
      purpose: `Check, before anything changes anywhere, that ${m.target.name} can take stack ${m.stack}: Docker and Compose, the same architecture as ${m.source.name}, free memory for the services' limits, free disk for the data plus 10 % and 1 GiB, and the published ports free.`,
      commands: [archCommand, meminfoCommand, availCommand, listeningCommand, volumeSizesCommand(o.dockerVolumes)].map(
        render,
      ),
      verify: 'Nothing to verify: the check changes nothing.',
      undo: 'Nothing to undo.',
    }),
    async check(ctx) {
      const { observed, problems } = await inspectTarget(ctx, o);
      if (problems.length > 0) {
        throw new StepError(
          'preflight-failed',
          `${m.target.name} cannot take stack ${m.stack}: ${problems.join('; ')}`,
          `Nothing was changed on ${m.source.name} or ${m.target.name}. Fix what is named (or choose another server), then run migrate again.`,
        );
      }
      return { needed: false, observed };
    },
    async apply() {},
    async verify() {
      return { ok: true };
    },
    async rollback() {},
  };
}
