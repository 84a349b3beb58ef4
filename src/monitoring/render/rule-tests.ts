/**
 * `promtool test rules` cases of every rule: one where its bad series make it fire with
 * exactly the labels and annotations expected, one where its good series keep it silent.
 */
import { expandAnnotation, type AlertRule, type RuleGroup } from '../rule.js';
import { renderYaml } from './yaml.js';

export function renderRuleTests(groups: readonly RuleGroup[], ruleFile = 'alerts.yml'): string {
  const rules = groups.flatMap((g) => g.rules);
  return renderYaml({
    rule_files: [ruleFile],
    evaluation_interval: '1m',
    tests: rules.flatMap((r) => [testCase(r, 'bad'), testCase(r, 'good')]),
  });
}

function testCase(r: AlertRule, which: 'bad' | 'good'): Record<string, unknown> {
  const labels = { ...r.proof.labels, severity: r.severity };
  const expected =
    which === 'bad'
      ? [
          {
            exp_labels: labels,
            exp_annotations: {
              summary: expandAnnotation(r.summary, labels),
              description: expandAnnotation(r.description, labels),
            },
          },
        ]
      : [];
  return {
    name: `${r.alert} ${which === 'bad' ? 'fires' : 'stays silent'}`,
    interval: r.proof.interval ?? '1m',
    input_series: r.proof.series.map((s) => ({ series: s.series, values: s[which] })),
    alert_rule_test: [{ eval_time: r.proof.evalAt, alertname: r.alert, exp_alerts: expected }],
  };
}
