/** Live inventory as text: one section per server; a server that failed shows its error code and hint. */
import type { TransportFindingCode } from '../../core/finding.js';
import { formatSize } from '../../core/size.js';
import { addressPort } from '../../render/address.js';
import { table } from '../../render/table.js';
import type { HostFacts } from './facts.js';
import { securityReport } from './security.js';

export interface ServerResult {
  server: string;
  host: string;
  facts?: HostFacts;
  error?: { code: TransportFindingCode; message: string; hint: string };
}

export function renderLiveInventory(results: ServerResult[]): string {
  return results.map(renderServer).join('\n\n') + '\n';
}

function renderServer(r: ServerResult): string {
  const title = `Server ${r.server} (${r.host})`;
  const head = [title, '='.repeat(title.length)];
  if (r.error) return [...head, `ERROR ${r.error.code}: ${r.error.message}`, `  hint: ${r.error.hint}`].join('\n');
  const f = r.facts!;
  const sys = f.system;
  const lines = [
    ...head,
    `System: ${sys.os?.name ?? 'unknown OS'}, kernel ${sys.kernel ?? '?'} ${sys.arch ?? ''}, ${sys.cpus ?? '?'} CPUs, memory ${sys.memory ? `${formatSize(sys.memory.available)} free of ${formatSize(sys.memory.total)}` : '?'}, load ${sys.load?.join(' ') ?? '?'}, up ${sys.uptimeSeconds !== undefined ? formatUptime(sys.uptimeSeconds) : '?'}`,
    `Disks: ${sys.disks.map((d) => `${d.mount} ${d.usePercent}% of ${formatSize(d.size)}`).join(', ') || 'none read'}`,
    `Docker: ${f.docker.installed ? `${f.docker.version}; Compose ${f.docker.compose ? `${f.docker.compose.version} (${f.docker.compose.flavor === 'plugin' ? 'docker compose' : 'docker-compose'})` : 'not installed'}; Swarm ${f.docker.swarm ?? '?'}` : 'not installed'}`,
  ];
  if (f.containers.length > 0) {
    lines.push('', 'Containers');
    lines.push(
      table(
        ['NAME', 'IMAGE', 'STATE', 'HEALTH', 'PROJECT/SERVICE', 'PORTS', 'MEM LIMIT', 'CPU %', 'MEM USED'],
        f.containers.map((c) => [
          c.name,
          c.image,
          c.state,
          c.health ?? '-',
          c.project ? `${c.project}/${c.service ?? '?'}` : '-',
          c.ports.map((p) => `${addressPort(p.hostIp, p.hostPort)} -> ${p.containerPort}/${p.protocol}`).join(', ') ||
            '-',
          c.memoryLimit > 0 ? formatSize(c.memoryLimit) : 'none',
          c.cpuPercent !== undefined ? c.cpuPercent.toFixed(1) : '-',
          c.memoryUsage !== undefined ? formatSize(c.memoryUsage) : '-',
        ]),
      ),
    );
  }
  if (f.volumes.length > 0)
    lines.push(
      '',
      `Volumes: ${f.volumes.map((v) => `${v.name}${v.sizeBytes !== undefined ? ` (${formatSize(v.sizeBytes)})` : ''}`).join(', ')}`,
    );
  lines.push(
    '',
    `Listening: ${f.listening.map((l) => `${l.protocol} ${addressPort(l.address, l.port)}${l.process ? ` ${l.process}` : ''}`).join(', ') || 'none'}`,
  );
  lines.push(
    `nginx: ${f.nginx.installed ? f.nginx.sites.map((s) => `${s.file} (${s.serverNames.join(' ') || 'no server_name'})`).join(', ') || 'no sites' : 'not installed'}`,
  );
  lines.push(
    `Certificates: ${f.certificates.map((c) => `${c.names.join(' ') || c.subject} expires ${c.notAfter.slice(0, 10)} (${c.daysLeft} days)`).join(', ') || 'none'}`,
  );
  lines.push(
    `Firewall: ${f.ufw.installed ? `ufw ${f.ufw.active ? `active, default incoming ${f.ufw.defaultIncoming ?? '?'}, ${f.ufw.rules.length} rules${f.ufw.rules.length ? `: ${f.ufw.rules.map((x) => `${x.to} ${x.action} ${x.from}`).join('; ')}` : ''}` : 'inactive'}` : 'ufw not installed'}`,
  );
  lines.push(
    `fail2ban: ${f.fail2ban.installed ? (f.fail2ban.running ? `running, jails: ${f.fail2ban.jails.join(', ') || 'none'}` : 'not running') : 'not installed'}`,
  );
  lines.push(hardeningLine(f));
  lines.push(`Cron: ${f.cron.map((c) => `${c.source}: ${c.line}`).join('; ') || 'none'}`);
  lines.push(
    `Compose units: ${f.composeUnits.map((u) => `${u.unit} (${u.enabled}, ${u.active})`).join(', ') || 'none'}`,
  );
  for (const p of f.problems) lines.push(`note: probe ${p.probe}: ${p.message}`);
  return lines.join('\n');
}

/** The hardening score and the controls that fail, by their `check --live` codes. */
export function hardeningLine(f: HostFacts): string {
  const r = securityReport(f);
  if (r.score === undefined) return 'Hardening: not read';
  return `Hardening: ${r.score}/100${r.failed.length ? `, failing: ${r.failed.join(', ')}` : ''}`;
}

function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}
