/** The Prometheus rule file (alerts.yml) of a list of rule groups. */
import type { AlertRule, RuleGroup } from '../rule.js';
import { renderYaml } from './yaml.js';

export function renderRules(groups: readonly RuleGroup[]): string {
  return renderYaml({ groups: groups.map((g) => ({ name: g.name, rules: g.rules.map(ruleEntry) })) });
}

function ruleEntry(r: AlertRule): Record<string, unknown> {
  return {
    alert: r.alert,
    expr: r.expr,
    for: r.for,
    labels: { severity: r.severity },
    annotations: { summary: r.summary, description: r.description },
  };
}
