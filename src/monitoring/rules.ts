/**
 * The alert rules of a fleet: hosts, containers and the heartbeat always, and a group for
 * each kind of service or probe the fleet has, and the backups' when a stack is backed up.
 */
import type { Thresholds } from '../model/monitoring.js';
import type { RuleGroup } from './rule.js';
import { containerRules, hostRules } from './rules-hosts.js';
import { mysqlRules, nginxRules, postgresRules, redisRules, siteRules } from './rules-services.js';
import { backupRules } from './rules-backups.js';
import { heartbeatRules } from './rules-heartbeat.js';
import type { MonitoringTargets } from './targets.js';

/** Every rule Ferry can generate, whatever the fleet has: what the docs list and the proofs cover. */
export function allRuleGroups(t: Thresholds): RuleGroup[] {
  return [
    hostRules(t),
    containerRules(t),
    postgresRules(t),
    redisRules(t),
    mysqlRules(),
    nginxRules(),
    siteRules(t),
    backupRules(t),
    heartbeatRules(),
  ];
}

/** The rules of this fleet: a service group only when an exporter of that kind is scraped, sites when a probe is. */
export function fleetRuleGroups(t: Thresholds, targets: MonitoringTargets): RuleGroup[] {
  const has = (kind: string) => targets.exporters.some((e) => e.kind === kind);
  return [
    hostRules(t),
    containerRules(t),
    ...(has('postgres') ? [postgresRules(t)] : []),
    ...(has('redis') ? [redisRules(t)] : []),
    ...(has('mysql') ? [mysqlRules()] : []),
    ...(has('nginx') ? [nginxRules()] : []),
    ...(targets.probes.length > 0 ? [siteRules(t)] : []),
    ...(targets.backedUp.length > 0 ? [backupRules(t)] : []),
    heartbeatRules(),
  ];
}
