/**
 * The heartbeat rule: Watchdog fires for as long as Prometheus scrapes itself and evaluates
 * its rules. Alertmanager posts it to `monitoring.heartbeat` again every interval (a dead
 * man's switch there notices when the posts stop), and to no other receiver.
 */
import type { RuleGroup } from './rule.js';

export const WATCHDOG = 'Watchdog';

export function heartbeatRules(): RuleGroup {
  return {
    name: 'ferry-heartbeat',
    rules: [
      {
        alert: WATCHDOG,
        // No labels of a server: HostDown of the monitoring server's node_exporter does not inhibit it.
        expr: 'count(up{job="prometheus"} == 1) > 0',
        for: '0m',
        severity: 'none',
        summary: 'Monitoring is alive',
        description:
          'Always firing while Prometheus runs and evaluates its rules. Alertmanager posts it to the heartbeat URL every interval; when the posts stop, the monitoring itself is down.',
        // Inverted, as the rule is: it fires while Prometheus scrapes itself, and is silent when it cannot.
        proof: {
          series: [{ series: 'up{job="prometheus",instance="localhost:9090"}', bad: '1x10', good: '0x10' }],
          evalAt: '5m',
          labels: {},
        },
      },
    ],
  };
}
