/** `certificate-expiry` and `disk-usage`: what a server shows about itself, stacks aside. */
import { finding, type Finding } from '../../core/finding.js';
import { CERT_WARN_DAYS, DISK_ERROR_PERCENT, DISK_WARN_PERCENT, type LiveRule } from './context.js';

export const certificateExpiry: LiveRule = (_fleet, factsByServer) => {
  const out: Finding[] = [];
  for (const [server, f] of factsByServer) {
    for (const c of f.certificates) {
      if (c.daysLeft > CERT_WARN_DAYS) continue;
      const names = c.names.join(', ') || c.subject;
      const expired = c.daysLeft < 0;
      out.push(
        finding(
          'certificate-expiry',
          expired ? 'error' : 'warning',
          expired
            ? `certificate for ${names} on ${server} expired on ${c.notAfter.slice(0, 10)}`
            : `certificate for ${names} on ${server} expires in ${c.daysLeft} days (${c.notAfter.slice(0, 10)})`,
          { host: server, file: c.path },
          'Renew it (`certbot renew`) and check that renewal is scheduled (`systemctl list-timers certbot.timer` or a cron entry).',
          { server },
        ),
      );
    }
  }
  return out;
};

export const diskUsage: LiveRule = (_fleet, factsByServer) => {
  const out: Finding[] = [];
  for (const [server, f] of factsByServer) {
    for (const d of f.system.disks) {
      if (d.usePercent < DISK_WARN_PERCENT) continue;
      out.push(
        finding(
          'disk-usage',
          d.usePercent >= DISK_ERROR_PERCENT ? 'error' : 'warning',
          `disk ${d.mount} on ${server} is ${d.usePercent}% full`,
          { host: server, path: d.mount },
          'Free space before deploying (`docker system prune`, old images and logs), or grow the disk; a full disk stops Postgres and Docker.',
          { server },
        ),
      );
    }
  }
  return out;
};
