/** Every Grafana panel's query as a recording rule file, Grafana's variables replaced, so that promtool parses them all. */
import { renderDashboards } from '../render/grafana.js';
import { renderYaml } from '../render/yaml.js';

interface Dashboard {
  panels: { id: number; targets: { expr: string }[] }[];
}

export function panelQueriesAsRules(): { count: number; text: string } {
  const rules = [...renderDashboards()].flatMap(([file, text]) =>
    (JSON.parse(text) as Dashboard).panels.map((p) => ({
      record: `ferry:${file.replace(/\.json$/, '')}:panel${p.id}`,
      expr: p.targets[0]!.expr.replace(/\$__rate_interval/g, '5m').replace(/\$\w+/g, '.*'),
    })),
  );
  return { count: rules.length, text: renderYaml({ groups: [{ name: 'grafana-panels', rules }] }) };
}
