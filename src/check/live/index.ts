/** `ferry check --live`: the offline rules plus rules that compare the fleet with what the servers report. */
import { sortFindings, type Finding } from '../../core/finding.js';
import type { HostFacts } from '../../inventory/live/facts.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { backupAge } from './backups.js';
import { liveCapacity } from './capacity.js';
import type { LiveRule } from './context.js';
import { liveExposedPort } from './exposed.js';
import { hardeningAudit } from './hardening.js';
import { certificateExpiry, diskUsage } from './host-health.js';
import { portInUse } from './port-in-use.js';

export const LIVE_RULES: Readonly<Record<string, LiveRule>> = {
  'port-in-use': portInUse,
  capacity: liveCapacity,
  'exposed-port': liveExposedPort,
  'certificate-expiry': certificateExpiry,
  'disk-usage': diskUsage,
  hardening: hardeningAudit,
  'backup-age': backupAge,
};

export function runLiveChecks(fleet: LoadedFleet, facts: ReadonlyMap<string, HostFacts>): Finding[] {
  return sortFindings(Object.values(LIVE_RULES).flatMap((rule) => rule(fleet, facts)));
}
