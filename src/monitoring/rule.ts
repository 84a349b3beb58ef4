/**
 * An alert rule as Ferry generates it, with its proof: series on which it must fire and
 * series on which it must stay silent. The proofs become `promtool test rules` cases
 * (render/rule-tests.ts), so that every rule shipped is shown to work by Prometheus itself.
 */
import type { Severity } from '../model/monitoring.js';

/** One input series of a proof: its selector, and promtool's expanding notation for each case. */
export interface ProofSeries {
  series: string;
  /** Values on which the rule fires (`0x30`, `0+3x30`). */
  bad: string;
  /** Values on which it stays silent. */
  good: string;
}

export interface RuleProof {
  series: ProofSeries[];
  /** When the rule is judged, as a PromQL duration from the start (past its `for`). */
  evalAt: string;
  /** Sample spacing of the series. Default: 1m. */
  interval?: string;
  /** The labels of the alert that fires (without `severity`). */
  labels: Record<string, string>;
}

export interface AlertRule {
  alert: string;
  expr: string;
  /** A PromQL duration; `0m` fires at once. */
  for: string;
  /** `none`: the heartbeat, which no receiver of alerts gets. */
  severity: Severity | 'none';
  /**
   * Annotations; they may name labels (`{{ $labels.server }}`) and choose on one being set
   * (`{{ if $labels.stack }}...{{ else }}...{{ end }}`, not nested), nothing else, so that
   * tests can expect them exactly.
   */
  summary: string;
  description: string;
  proof: RuleProof;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** An annotation with its `{{ $labels.NAME }}` filled in and its `if` chosen, as Prometheus would. */
export function expandAnnotation(text: string, labels: Record<string, string>): string {
  return text
    .replace(
      /\{\{ if \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}(.*?)\{\{ else \}\}(.*?)\{\{ end \}\}/g,
      (_, name: string, set: string, unset: string) => (labels[name] ? set : unset),
    )
    .replace(/\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}/g, (_, name: string) => labels[name] ?? '');
}
