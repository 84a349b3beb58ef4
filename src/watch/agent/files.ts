/**
 * The files of a watch installed on a server: its configuration (what to watch, until
 * when, the thresholds), its receivers (their URLs are secrets: mode 600), a oneshot
 * service running the runner and a timer starting it every `--every`. As data; nothing
 * here runs anything. Pure.
 */
import type { Secret } from '../../core/secret.js';
import type { ReceiverDef } from '../../model/monitoring.js';
import type { WatchedServer } from '../collect.js';
import type { WatchThresholds } from '../evaluate.js';
import { watchCanSend } from '../notify.js';
import { WATCH_ETC, WATCH_RUNNER_PATH, WATCH_STATE, renderWatchRunner } from './runner.js';

/**
 * The name of a watch, from the names on the command line: `fleet` for none, else them
 * sorted and joined by `_` (a unit name's characters only). Watching the same names again
 * finds the same watch.
 */
export function watchName(names: readonly string[]): string {
  if (names.length === 0) return 'fleet';
  return [...new Set(names)]
    .sort()
    .map((n) => n.replace(/[^A-Za-z0-9-]/g, '-'))
    .join('_')
    .slice(0, 80);
}

export const watchUnit = (name: string, kind: 'service' | 'timer'): string => `ferry-watch-${name}.${kind}`;
export const watchUnitPath = (name: string, kind: 'service' | 'timer'): string =>
  `/etc/systemd/system/${watchUnit(name, kind)}`;
export const watchConfigPath = (name: string): string => `${WATCH_ETC}/${name}.json`;
export const watchReceiversPath = (name: string): string => `${WATCH_ETC}/${name}.receivers.json`;
export const watchStateDir = (name: string): string => `${WATCH_STATE}/${name}`;

/** The server a watch's server watches in turn: whether its SSH port answers. */
export interface WatchPeer {
  server: string;
  address: string;
  port: number;
}

export interface WatchInstall {
  name: string;
  target: WatchedServer;
  thresholds: WatchThresholds;
  everyS: number;
  forS: number;
  /** Absent when the watch has one server. */
  peer?: WatchPeer;
}

/**
 * Each server of a watch watches the next one (by name, in a ring): a server that goes
 * down cannot say so itself, so the one before it does, once. None for a lone server.
 */
export function watchPeers<T extends { server: string }>(
  targets: readonly T[],
  peerOf: (server: string) => WatchPeer,
): Map<string, WatchPeer> {
  const names = [...new Set(targets.map((t) => t.server))].sort();
  if (names.length < 2) return new Map();
  return new Map(names.map((n, i) => [n, peerOf(names[(i + 1) % names.length]!)]));
}

/** What the runner reads; `started` is the one field that changes when nothing else does. */
export function renderWatchConfig(w: WatchInstall, started: Date): string {
  const until = new Date(started.getTime() + w.forS * 1000);
  const config = {
    name: w.name,
    server: w.target.server,
    started: started.toISOString(),
    until: until.toISOString(),
    until_epoch: Math.floor(until.getTime() / 1000),
    every_s: w.everyS,
    for_s: w.forS,
    thresholds: {
      cpuPercent: w.thresholds.cpuPercent,
      memoryPercent: w.thresholds.memoryPercent,
      diskPercent: w.thresholds.diskPercent,
    },
    ...(w.peer ? { peer: { server: w.peer.server, address: w.peer.address, port: w.peer.port } } : {}),
    stacks: w.target.stacks.map((s) => ({
      stack: s.stack,
      project: s.project,
      services: s.services,
      http_checks: s.httpChecks
        .filter((h) => s.services.includes(h.service))
        .map((h) => ({ service: h.service, port: h.port, path: h.path })),
    })),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The configuration with what a new start changes left out: equal means the same watch. */
export const sameWatch = (config: string): string =>
  JSON.stringify({ ...(JSON.parse(config) as object), started: '', until: '', until_epoch: 0 });

/** The receivers the watch sends to, each with the URL it is posted to (a secret). */
export function renderWatchReceivers(receivers: readonly ReceiverDef[], secrets: ReadonlyMap<string, Secret>): string {
  const out = receivers
    .filter((r) => watchCanSend(r) && secrets.has(r.name))
    .map((r) => {
      const secret = secrets.get(r.name)!.reveal();
      return {
        name: r.name,
        type: r.type,
        url: r.type === 'telegram' ? `https://api.telegram.org/bot${secret}/sendMessage` : secret,
        severity: r.severity,
        send_resolved: r.sendResolved,
        ...(r.type === 'slack' && r.channel ? { channel: r.channel } : {}),
        ...(r.type === 'telegram' ? { chat_id: r.chatId } : {}),
      };
    });
  return `${JSON.stringify(out, null, 2)}\n`;
}

export function renderWatchService(name: string): string {
  return [
    `# Written by Ferry (\`ferry watch --install\`): one sample of the watch ${name}.`,
    '[Unit]',
    `Description=Ferry watch ${name}: one sample`,
    'After=network-online.target docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${WATCH_RUNNER_PATH} ${name}`,
    'Nice=5',
    'TimeoutStartSec=5min',
    '',
  ].join('\n');
}

export function renderWatchTimer(name: string, everyS: number): string {
  return [
    `# Written by Ferry (\`ferry watch --install\`): when the watch ${name} samples; it disables itself at its end.`,
    '[Unit]',
    `Description=Ferry watch ${name}`,
    '',
    '[Timer]',
    'OnActiveSec=1s',
    `OnUnitActiveSec=${everyS}s`,
    'AccuracySec=1s',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

export interface WatchFile {
  path: string;
  content: string | Secret;
  mode: number;
}

/** The runner, the configuration, the units; the receivers file is the step's (a secret). */
export function watchFiles(w: WatchInstall, started: Date): WatchFile[] {
  return [
    { path: WATCH_RUNNER_PATH, content: renderWatchRunner(), mode: 0o755 },
    { path: watchConfigPath(w.name), content: renderWatchConfig(w, started), mode: 0o644 },
    { path: watchUnitPath(w.name, 'service'), content: renderWatchService(w.name), mode: 0o644 },
    { path: watchUnitPath(w.name, 'timer'), content: renderWatchTimer(w.name, w.everyS), mode: 0o644 },
  ];
}
