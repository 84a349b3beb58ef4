/** The plain configuration files of a hardened server, pure: kernel settings, the journal's cap, upgrades. */
import type { HardenDef } from '../../model/harden.js';

export const SYSCTL_PATH = '/etc/sysctl.d/90-ferry-harden.conf';
export const JOURNALD_PATH = '/etc/systemd/journald.conf.d/90-ferry-harden.conf';
/** After Debian's 20auto-upgrades (a later file's value wins). */
export const UPGRADES_PATH = '/etc/apt/apt.conf.d/21ferry-harden-upgrades';

const HEADER = '# Written by Ferry (harden). Do not edit: `ferry apply` rewrites it; see docs/harden.md.';

export function renderSysctl(sysctl: HardenDef['sysctl']): string {
  const keys = Object.keys(sysctl).sort();
  return [HEADER, ...keys.map((k) => `${k} = ${sysctl[k]}`), ''].join('\n');
}

/** Bytes as journald reads a size: whole mebibytes when they are, else bytes. */
const journalSize = (bytes: number): string => (bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20}M` : String(bytes));

export function renderJournald(maxUseBytes: number): string {
  return [HEADER, '[Journal]', `SystemMaxUse=${journalSize(maxUseBytes)}`, ''].join('\n');
}

export function renderUpgrades(u: NonNullable<HardenDef['upgrades']>): string {
  return [
    HEADER,
    'APT::Periodic::Update-Package-Lists "1";',
    'APT::Periodic::Unattended-Upgrade "1";',
    'APT::Periodic::AutocleanInterval "7";',
    `Unattended-Upgrade::Automatic-Reboot "${u.reboot}";`,
    `Unattended-Upgrade::Automatic-Reboot-Time "${u.rebootTime}";`,
    'Unattended-Upgrade::Remove-Unused-Kernel-Packages "true";',
    '',
  ].join('\n');
}

/**
 * daemon.json with Ferry's keys set and every other key kept: json-file logs rotated (unless
 * another log driver was chosen), live-restore. Throws on a file that is not a JSON object.
 */
export function mergeDaemonJson(current: string | null, d: NonNullable<HardenDef['docker']>): string {
  const parsed: unknown = current === null || current.trim() === '' ? {} : JSON.parse(current);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new SyntaxError('daemon.json is not a JSON object');
  const out = { ...(parsed as Record<string, unknown>) };
  const driver = out['log-driver'];
  if (driver === undefined || driver === 'json-file' || driver === 'local') {
    out['log-driver'] = driver ?? 'json-file';
    const opts = typeof out['log-opts'] === 'object' && out['log-opts'] !== null ? out['log-opts'] : {};
    out['log-opts'] = { ...opts, 'max-size': d.logMaxSize, 'max-file': String(d.logMaxFiles) };
  }
  out['live-restore'] = d.liveRestore;
  return `${JSON.stringify(out, null, 2)}\n`;
}
