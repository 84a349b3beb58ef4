/** OS, kernel, CPUs, memory, disks, load and uptime, from files every Linux has. */
import { cmd } from '../../../shell/command.js';
import type { Disk, HostFacts } from '../facts.js';
import { sections, type Probe } from '../probe.js';
import { sectioned } from './sectioned.js';

export const systemProbe: Probe = {
  name: 'system',
  root: false,
  command: sectioned({
    os: cmd('cat', '/etc/os-release'),
    uname: cmd('uname', '-r', '-m'),
    nproc: cmd('nproc'),
    meminfo: cmd('cat', '/proc/meminfo'),
    df: cmd('df', '-P', '-B1'),
    loadavg: cmd('cat', '/proc/loadavg'),
    uptime: cmd('cat', '/proc/uptime'),
  }),
  apply(facts: HostFacts, result) {
    const s = sections(result.stdout);
    const sys = facts.system;
    const os = parseOsRelease(s.get('os') ?? '');
    if (os) sys.os = os;
    const [kernel, arch] = (s.get('uname') ?? '').trim().split(/\s+/);
    if (kernel) sys.kernel = kernel;
    if (arch) sys.arch = arch;
    const cpus = Number((s.get('nproc') ?? '').trim());
    if (Number.isInteger(cpus) && cpus > 0) sys.cpus = cpus;
    const mem = parseMeminfo(s.get('meminfo') ?? '');
    if (mem) sys.memory = mem;
    sys.disks = parseDf(s.get('df') ?? '');
    const load = (s.get('loadavg') ?? '').trim().split(/\s+/).slice(0, 3).map(Number);
    if (load.length === 3 && load.every(Number.isFinite)) sys.load = load as [number, number, number];
    const up = Number((s.get('uptime') ?? '').trim().split(/\s+/)[0]);
    if (Number.isFinite(up) && up > 0) sys.uptimeSeconds = Math.round(up);
  },
};

export function parseOsRelease(text: string): { id: string; version: string; name: string } | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'));
  }
  if (!kv.has('ID')) return undefined;
  return {
    id: kv.get('ID')!,
    version: kv.get('VERSION_ID') ?? '',
    name: kv.get('PRETTY_NAME') ?? kv.get('NAME') ?? kv.get('ID')!,
  };
}

export function parseMeminfo(text: string): { total: number; available: number } | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  if (total === undefined) return undefined;
  return { total, available: kb('MemAvailable') ?? kb('MemFree') ?? 0 };
}

/** Filesystems that hold no data of the server's own. */
export const PSEUDO_FILESYSTEMS: readonly string[] = [
  'tmpfs',
  'devtmpfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'shm',
  'udev',
  'none',
  'squashfs',
  'overlay',
];
const PSEUDO = new Set(PSEUDO_FILESYSTEMS);

/** `df -P -B1`, keeping real filesystems (and an overlay root, as in containers). */
export function parseDf(text: string): Disk[] {
  const out: Disk[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [fs, size, used, avail, cap] = f;
    const mount = f.slice(5).join(' ');
    if (PSEUDO.has(fs!) && !(fs === 'overlay' && mount === '/')) continue;
    if (mount.startsWith('/dev') || mount.startsWith('/run') || mount.startsWith('/sys') || mount.startsWith('/proc'))
      continue;
    if (/^\/var\/lib\/docker\/(overlay2|containers)\//.test(mount) || mount.startsWith('/etc/')) continue;
    out.push({
      mount,
      filesystem: fs!,
      size: Number(size),
      used: Number(used),
      available: Number(avail),
      usePercent: Number(cap!.replace('%', '')),
    });
  }
  return out;
}
