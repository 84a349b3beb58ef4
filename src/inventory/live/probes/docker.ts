/** Docker engine, Compose flavor, Swarm state, containers (from `docker inspect`), images and volumes. */
import { cmd, pipe, raw } from '../../../shell/command.js';
import type { ContainerFacts, HostFacts, PublishedPort, VolumeFacts } from '../facts.js';
import { jsonLines, sections, type Probe } from '../probe.js';
import { sectioned } from './sectioned.js';

export const dockerProbe: Probe = {
  name: 'docker',
  root: true,
  command: sectioned({
    version: cmd('docker', 'version', '--format', '{{.Server.Version}}'),
    compose_plugin: cmd('docker', 'compose', 'version', '--short'),
    compose_standalone: cmd('docker-compose', 'version', '--short'),
    swarm: cmd('docker', 'info', '--format', '{{.Swarm.LocalNodeState}}'),
    inspect: pipe(cmd('docker', 'ps', '-aq', '--no-trunc'), cmd('xargs', '-r', 'docker', 'inspect')),
    images: cmd('docker', 'images', '--digests', '--no-trunc', '--format', '{{json .}}'),
    volumes: cmd('docker', 'volume', 'ls', '--format', '{{json .}}'),
    volume_sizes: raw`du -sb /var/lib/docker/volumes/*/_data`,
  }),
  apply(facts: HostFacts, result) {
    const s = sections(result.stdout);
    const version = (s.get('version') ?? '').trim();
    if (!version) return;
    facts.docker = { installed: true, version };
    const plugin = (s.get('compose_plugin') ?? '').trim();
    const standalone = (s.get('compose_standalone') ?? '').trim();
    if (plugin) facts.docker.compose = { flavor: 'plugin', version: plugin.replace(/^v/, '') };
    else if (standalone) facts.docker.compose = { flavor: 'standalone', version: standalone.replace(/^v/, '') };
    const swarm = (s.get('swarm') ?? '').trim();
    if (swarm) facts.docker.swarm = swarm;
    const digests = imageDigests(s.get('images') ?? '');
    facts.containers = parseInspect(s.get('inspect') ?? '').map((c) =>
      digests.get(c.imageId) ? { ...c, digest: digests.get(c.imageId)! } : c,
    );
    facts.volumes = parseVolumes(s.get('volumes') ?? '', s.get('volume_sizes') ?? '');
  },
};

interface Inspect {
  Id: string;
  Name: string;
  Image: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; Health?: { Status?: string } };
  NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
  Mounts?: { Type: string; Name?: string; Source: string; Destination: string }[];
  HostConfig?: { Memory?: number; RestartPolicy?: { Name?: string } };
}

export function parseInspect(text: string): ContainerFacts[] {
  if (!text.trim()) return [];
  const list = JSON.parse(text) as Inspect[];
  return list.map((c) => {
    const labels = c.Config?.Labels ?? {};
    const out: ContainerFacts = {
      name: c.Name.replace(/^\//, ''),
      id: c.Id.slice(0, 12),
      image: c.Config?.Image ?? c.Image,
      imageId: c.Image,
      state: c.State?.Status ?? 'unknown',
      ports: ports(c.NetworkSettings?.Ports ?? {}),
      mounts: (c.Mounts ?? []).map((m) => ({
        type: m.Type,
        source: m.Source,
        destination: m.Destination,
        ...(m.Name ? { name: m.Name } : {}),
      })),
      memoryLimit: c.HostConfig?.Memory ?? 0,
    };
    if (c.State?.Health?.Status) out.health = c.State.Health.Status;
    if (labels['com.docker.compose.project']) out.project = labels['com.docker.compose.project'];
    if (labels['com.docker.compose.service']) out.service = labels['com.docker.compose.service'];
    if (c.HostConfig?.RestartPolicy?.Name) out.restartPolicy = c.HostConfig.RestartPolicy.Name;
    return out;
  });
}

function ports(map: Record<string, { HostIp: string; HostPort: string }[] | null>): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const [key, bindings] of Object.entries(map)) {
    const [port, protocol = 'tcp'] = key.split('/');
    for (const b of bindings ?? [])
      out.push({ hostIp: b.HostIp, hostPort: Number(b.HostPort), containerPort: Number(port), protocol });
  }
  return out.sort((a, b) => a.hostPort - b.hostPort || a.hostIp.localeCompare(b.hostIp));
}

function imageDigests(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const img of jsonLines<{ ID: string; Digest: string; Repository: string }>(text)) {
    if (img.Digest && img.Digest !== '<none>') out.set(img.ID, `${img.Repository}@${img.Digest}`);
  }
  return out;
}

export function parseVolumes(list: string, sizes: string): VolumeFacts[] {
  const bytes = new Map<string, number>();
  for (const line of sizes.split('\n')) {
    const m = /^(\d+)\s+\/var\/lib\/docker\/volumes\/([^/]+)\/_data$/.exec(line.trim());
    if (m) bytes.set(m[2]!, Number(m[1]));
  }
  return jsonLines<{ Name: string; Driver: string; Labels?: string }>(list).map((v) => {
    const project = /(?:^|,)com\.docker\.compose\.project=([^,]+)/.exec(v.Labels ?? '')?.[1];
    return {
      name: v.Name,
      driver: v.Driver,
      ...(project ? { project } : {}),
      ...(bytes.has(v.Name) ? { sizeBytes: bytes.get(v.Name)! } : {}),
    };
  });
}

/** Live CPU and memory use; separate because `docker stats` takes about two seconds. */
export const dockerStatsProbe: Probe = {
  name: 'docker-stats',
  root: true,
  command: cmd('docker', 'stats', '--no-stream', '--format', '{{json .}}'),
  apply(facts, result) {
    for (const st of jsonLines<{ Name: string; CPUPerc: string; MemUsage: string }>(result.stdout)) {
      const c = facts.containers.find((x) => x.name === st.Name);
      if (!c) continue;
      c.cpuPercent = Number(st.CPUPerc.replace('%', ''));
      c.memoryUsage = dockerSize(st.MemUsage.split('/')[0]!.trim());
    }
  },
};

/** `12.5MiB`, `1.2GiB`, `512kB`, `100B` as docker prints them. */
export function dockerSize(s: string): number {
  const m = /^([\d.]+)\s*([KMGT]i?B|kB|B)$/i.exec(s);
  if (!m) return 0;
  const unit = m[2]!.toLowerCase();
  const pow = { b: 0, kb: 1, kib: 1, mb: 2, mib: 2, gb: 3, gib: 3, tb: 4, tib: 4 }[unit] ?? 0;
  const base = unit.includes('i') || unit === 'b' ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** pow);
}
