/**
 * What really runs on a server, gathered over SSH by `ferry inventory --live`. Every
 * field is read by a probe (`probes/*.ts`); a probe that fails leaves its fields empty
 * and says why in `problems`.
 */
import type { BackupMetrics, DrillMetrics } from '../../backup/metrics.js';
import type { ScheduleState } from '../../backup/schedule-status.js';

export interface Disk {
  mount: string;
  filesystem: string;
  size: number;
  used: number;
  available: number;
  usePercent: number;
}

export interface SystemFacts {
  os?: { id: string; version: string; name: string };
  kernel?: string;
  arch?: string;
  cpus?: number;
  memory?: { total: number; available: number };
  disks: Disk[];
  load?: [number, number, number];
  uptimeSeconds?: number;
}

export interface DockerFacts {
  installed: boolean;
  version?: string;
  compose?: { flavor: 'plugin' | 'standalone'; version: string };
  swarm?: string;
}

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: string;
}

export interface ContainerFacts {
  name: string;
  id: string;
  image: string;
  imageId: string;
  /** Repo digest when the image came from a registry. */
  digest?: string;
  state: string;
  health?: string;
  project?: string;
  service?: string;
  ports: PublishedPort[];
  mounts: { type: string; source: string; destination: string; name?: string }[];
  /** Bytes; 0 = none. */
  memoryLimit: number;
  restartPolicy?: string;
  cpuPercent?: number;
  memoryUsage?: number;
}

export interface VolumeFacts {
  name: string;
  driver: string;
  project?: string;
  sizeBytes?: number;
}

export interface Listener {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  process?: string;
}

export interface NginxSite {
  file: string;
  serverNames: string[];
  listen: string[];
  certificates: string[];
}

export interface Certificate {
  path: string;
  subject: string;
  names: string[];
  notAfter: string;
  daysLeft: number;
}

export interface UfwRule {
  to: string;
  action: string;
  from: string;
}

/** What hardening is about, read live (`probes/security.ts`); fields are undefined when they could not be read. */
export interface SecurityFacts {
  sshd?: { ports: number[]; permitRootLogin: string; passwordLogin: boolean };
  /** Bytes of active swap. */
  swapBytes?: number;
  /** unattended-upgrades installed and APT::Periodic::Unattended-Upgrade on. */
  autoUpgrades?: boolean;
  /** Upgrades from a security suite that apt would install now (from the server's package lists). */
  pendingSecurity?: number;
  /** The ports each fail2ban jail bans on, as its actions say (`ssh` is 22). */
  fail2banPorts: Record<string, string[]>;
  /** `iptables -S` of DOCKER-USER and of Ferry's chain. */
  dockerUser: string[];
}

/** What Ferry's backups left on the server: each run's metrics file, and each stack's backup timer. */
export interface BackupFacts {
  runs: BackupMetrics[];
  drills: DrillMetrics[];
  /** The backup timers, by stack. */
  schedules: Record<string, ScheduleState>;
  /** The drill timers, by stack. */
  drillSchedules: Record<string, ScheduleState>;
  /** The repository check timers, by stack. */
  checkSchedules: Record<string, ScheduleState>;
}

export interface HostFacts {
  server: string;
  host: string;
  collectedAt: string;
  system: SystemFacts;
  docker: DockerFacts;
  containers: ContainerFacts[];
  volumes: VolumeFacts[];
  listening: Listener[];
  nginx: { installed: boolean; sites: NginxSite[] };
  certificates: Certificate[];
  ufw: { installed: boolean; active: boolean; defaultIncoming?: string; rules: UfwRule[] };
  fail2ban: { installed: boolean; running: boolean; jails: string[] };
  cron: { source: string; line: string }[];
  composeUnits: { unit: string; enabled: string; active: string }[];
  security: SecurityFacts;
  backups: BackupFacts;
  /** Probes that could not read their facts. */
  problems: { probe: string; message: string }[];
}

export function emptyFacts(server: string, host: string, collectedAt: string): HostFacts {
  return {
    server,
    host,
    collectedAt,
    system: { disks: [] },
    docker: { installed: false },
    containers: [],
    volumes: [],
    listening: [],
    nginx: { installed: false, sites: [] },
    certificates: [],
    ufw: { installed: false, active: false, rules: [] },
    fail2ban: { installed: false, running: false, jails: [] },
    cron: [],
    composeUnits: [],
    security: { fail2banPorts: {}, dockerUser: [] },
    backups: { runs: [], drills: [], schedules: {}, drillSchedules: {}, checkSchedules: {} },
    problems: [],
  };
}
