/** Alert rules of every server (node_exporter, the SSH probe) and its containers (cAdvisor, health). */
import type { Thresholds } from '../model/monitoring.js';
import type { RuleGroup } from './rule.js';

const NODE = { job: 'node', instance: '10.0.0.5:9100', server: 'app' };
const sel = (metric: string, labels: Record<string, string>): string =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
/** Filesystems that are not disks a service fills: memory, container layers, read-only images. */
const DISKS = 'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|fuse.lxcfs",mountpoint!~"/(run|var/lib/docker)/.+"';
const SSH = { job: 'ssh', instance: '10.0.0.5:22', server: 'app' };
const FS = { ...NODE, device: '/dev/vda1', fstype: 'ext4', mountpoint: '/' };

export function hostRules(t: Thresholds): RuleGroup {
  return {
    name: 'ferry-hosts',
    rules: [
      {
        alert: 'HostDown',
        expr: 'up{job="node"} == 0',
        for: '2m',
        severity: 'critical',
        summary: 'Server {{ $labels.server }} is down',
        description: 'Prometheus cannot scrape node_exporter on {{ $labels.server }} ({{ $labels.instance }}).',
        proof: { series: [{ series: sel('up', NODE), bad: '0x10', good: '1x10' }], evalAt: '5m', labels: NODE },
      },
      {
        alert: 'HostUnreachable',
        expr: 'probe_success{job="ssh"} == 0',
        for: '2m',
        severity: 'critical',
        summary: 'Server {{ $labels.server }} is unreachable',
        description: 'The SSH port of {{ $labels.server }} ({{ $labels.instance }}) does not answer a TCP connection.',
        proof: {
          series: [{ series: sel('probe_success', SSH), bad: '0x10', good: '1x10' }],
          evalAt: '5m',
          labels: SSH,
        },
      },
      {
        alert: 'HostHighCpu',
        expr: `100 * (1 - avg by (server, instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) > ${t.cpuPercent}`,
        for: t.cpuFor,
        severity: 'warning',
        summary: 'CPU of {{ $labels.server }} is busy',
        description: `CPU of {{ $labels.server }} has been over ${t.cpuPercent}% busy for ${t.cpuFor}.`,
        proof: {
          // Idle seconds grow 3 per minute (5 % idle) on the bad series, 30 per minute (50 %) on the good one.
          series: [
            {
              series: sel('node_cpu_seconds_total', { ...NODE, cpu: '0', mode: 'idle' }),
              bad: '0+3x40',
              good: '0+30x40',
            },
          ],
          evalAt: '30m',
          labels: { server: NODE.server, instance: NODE.instance },
        },
      },
      {
        alert: 'HostHighMemory',
        expr: `100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > ${t.memoryPercent}`,
        for: '5m',
        severity: 'warning',
        summary: 'Memory of {{ $labels.server }} is nearly full',
        description: `Over ${t.memoryPercent}% of the memory of {{ $labels.server }} has been in use for 5m.`,
        proof: {
          series: [
            { series: sel('node_memory_MemAvailable_bytes', NODE), bad: '2e8x20', good: '5e9x20' },
            { series: sel('node_memory_MemTotal_bytes', NODE), bad: '1e10x20', good: '1e10x20' },
          ],
          evalAt: '10m',
          labels: NODE,
        },
      },
      {
        alert: 'HostDiskFull',
        expr: `100 * (1 - node_filesystem_avail_bytes{${DISKS}} / node_filesystem_size_bytes{${DISKS}}) > ${t.diskPercent}`,
        for: '5m',
        severity: 'warning',
        summary: 'Disk {{ $labels.mountpoint }} of {{ $labels.server }} is nearly full',
        description: `Over ${t.diskPercent}% of {{ $labels.mountpoint }} on {{ $labels.server }} is used.`,
        proof: {
          series: [
            { series: sel('node_filesystem_avail_bytes', FS), bad: '4e9x20', good: '50e9x20' },
            { series: sel('node_filesystem_size_bytes', FS), bad: '100e9x20', good: '100e9x20' },
          ],
          evalAt: '10m',
          labels: FS,
        },
      },
      {
        alert: 'HostDiskFilling',
        expr: `predict_linear(node_filesystem_avail_bytes{${DISKS}}[6h], ${t.diskFillHours} * 3600) < 0`,
        for: '30m',
        severity: 'warning',
        summary: 'Disk {{ $labels.mountpoint }} of {{ $labels.server }} is filling up',
        description: `At the rate of the last 6 hours, {{ $labels.mountpoint }} on {{ $labels.server }} is full within ${t.diskFillHours} hours.`,
        proof: {
          // One sample every 10 minutes: 1 GB less each time (6 GB an hour), or steady.
          series: [{ series: sel('node_filesystem_avail_bytes', FS), bad: '100e9-1e9x60', good: '100e9x60' }],
          evalAt: '7h',
          interval: '10m',
          labels: FS,
        },
      },
    ],
  };
}

const CADVISOR = { job: 'cadvisor', instance: '10.0.0.5:9338', server: 'app', name: 'shop-web-1' };
const HEALTH = { job: 'node', instance: '10.0.0.5:9100', server: 'app', name: 'shop-web-1' };

export function containerRules(t: Thresholds): RuleGroup {
  return {
    name: 'ferry-containers',
    rules: [
      {
        alert: 'ContainerRestarting',
        expr: `changes(container_start_time_seconds{name!=""}[15m]) >= ${t.containerRestarts}`,
        for: '0m',
        severity: 'warning',
        summary: 'Container {{ $labels.name }} on {{ $labels.server }} keeps restarting',
        description: `{{ $labels.name }} on {{ $labels.server }} restarted ${t.containerRestarts} times or more within 15 minutes.`,
        proof: {
          series: [
            {
              series: sel('container_start_time_seconds', CADVISOR),
              bad: '100 160 220 280 340 400x10',
              good: '100x15',
            },
          ],
          evalAt: '6m',
          labels: CADVISOR,
        },
      },
      {
        alert: 'ContainerOomKilled',
        expr: 'increase(container_oom_events_total{name!=""}[15m]) > 0',
        for: '0m',
        severity: 'warning',
        summary: 'Container {{ $labels.name }} on {{ $labels.server }} ran out of memory',
        description:
          'The kernel killed a process of {{ $labels.name }} on {{ $labels.server }} for lack of memory within 15 minutes.',
        proof: {
          series: [{ series: sel('container_oom_events_total', CADVISOR), bad: '0 0 1 1 1 1 1 1', good: '0x8' }],
          evalAt: '6m',
          labels: CADVISOR,
        },
      },
      {
        alert: 'ContainerUnhealthy',
        expr: 'ferry_container_unhealthy == 1',
        for: '2m',
        severity: 'warning',
        summary: 'Container {{ $labels.name }} on {{ $labels.server }} is unhealthy',
        description:
          'Docker has reported {{ $labels.name }} on {{ $labels.server }} unhealthy (its health check fails) for 2 minutes.',
        proof: {
          series: [{ series: sel('ferry_container_unhealthy', HEALTH), bad: '1x10', good: '0x10' }],
          evalAt: '5m',
          labels: HEALTH,
        },
      },
      {
        alert: 'ExporterDown',
        expr: 'up{job=~"cadvisor|postgres|redis|mysql|nginx|blackbox"} == 0',
        for: '5m',
        severity: 'warning',
        summary: 'The {{ $labels.job }} exporter on {{ $labels.server }} is down',
        description: 'Prometheus cannot scrape {{ $labels.instance }} ({{ $labels.job }}): its alerts cannot fire.',
        proof: {
          series: [
            {
              series: sel('up', { job: 'cadvisor', instance: CADVISOR.instance, server: 'app' }),
              bad: '0x10',
              good: '1x10',
            },
          ],
          evalAt: '8m',
          labels: { job: 'cadvisor', instance: CADVISOR.instance, server: 'app' },
        },
      },
    ],
  };
}

export { sel };
