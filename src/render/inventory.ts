/** The offline inventory as text: one table per stack, grouped by server, with totals. */
import { formatSize } from '../core/size.js';
import type { Inventory, ServerInventory, StackInventory } from '../inventory/offline.js';
import { table } from './table.js';

const HEADERS = [
  'SERVICE',
  'CONTAINER',
  'IMAGE',
  'PORTS',
  'MEM LIMIT',
  'MEM RESERVED',
  'CPUS',
  'REPLICAS',
  'VOLUMES',
  'HEALTH',
  'RESTART',
];

export function renderInventory(inv: Inventory): string {
  return inv.servers.map(renderServer).join('\n\n') + '\n';
}

function renderServer(s: ServerInventory): string {
  const title =
    s.server === null
      ? 'No server (compose files only)'
      : `Server ${s.server} (${s.host ?? '?'}${s.memory !== undefined ? `, ${formatSize(s.memory)} RAM` : ''}${s.cpus !== undefined ? `, ${s.cpus} CPUs` : ''}${s.disk !== undefined ? `, ${formatSize(s.disk)} disk` : ''})`;
  const parts = [title, '='.repeat(title.length)];
  if (s.stacks.length === 0) parts.push('', 'no stacks placed on this server');
  for (const st of s.stacks) parts.push('', renderStack(st));
  parts.push('', renderTotals(s));
  return parts.join('\n');
}

function renderStack(st: StackInventory): string {
  const head = `Stack ${st.stack} (project ${st.project}${st.files.length ? `; ${st.files.join(', ')}` : ''})`;
  if (st.error) return `${head}\n  ${st.error}`;
  const rows = st.services.map((r) => [
    r.service,
    r.containers.length > 2
      ? `${r.containers[0]} .. ${r.containers[r.containers.length - 1]}`
      : r.containers.join(', '),
    r.image,
    r.ports.join(', ') || '-',
    r.memoryLimit !== undefined ? formatSize(r.memoryLimit) : 'none',
    r.memoryReservation !== undefined ? formatSize(r.memoryReservation) : '-',
    r.cpuLimit !== undefined ? String(r.cpuLimit) : 'none',
    String(r.replicas),
    r.volumes.join(', ') || '-',
    r.healthcheck ? 'yes' : 'no',
    r.restart ?? '-',
  ]);
  const disabled =
    st.disabledServices.length > 0 ? `\nnot started (inactive profiles): ${st.disabledServices.join(', ')}` : '';
  return `${head}\n${table(HEADERS, rows)}${disabled}`;
}

function renderTotals(s: ServerInventory): string {
  const t = s.totals;
  const of = (v: number | undefined, fmt: (n: number) => string): string => (v !== undefined ? ` of ${fmt(v)}` : '');
  const lines = [
    `Totals: ${t.containers} containers; memory limits ${formatSize(t.memoryLimit)}${of(s.memory, formatSize)}, reserved ${formatSize(t.memoryReservation)}; CPU limits ${t.cpuLimit}${of(s.cpus, String)}`,
  ];
  if (t.noMemoryLimit.length > 0) lines.push(`No memory limit (not counted): ${t.noMemoryLimit.join(', ')}`);
  if (t.noCpuLimit.length > 0) lines.push(`No CPU limit (not counted): ${t.noCpuLimit.join(', ')}`);
  return lines.join('\n');
}
