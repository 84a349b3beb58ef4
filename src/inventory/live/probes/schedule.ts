/** Crontab entries and systemd units that start compose projects. */
import { raw, script } from '../../../shell/command.js';
import { sections, type Probe } from '../probe.js';
import { sectioned } from './sectioned.js';

const UNITS = [
  'for u in $(grep -lsE "docker(-| )compose|docker stack" /etc/systemd/system/*.service /lib/systemd/system/*.service); do',
  // is-enabled/is-active print the state and exit non-zero for disabled/inactive units.
  '  n=$(basename "$u"); e=$(systemctl is-enabled "$n" 2>/dev/null); a=$(systemctl is-active "$n" 2>/dev/null);',
  '  echo "$n ${e:-unknown} ${a:-unknown}";',
  'done',
].join(' ');

export const scheduleProbe: Probe = {
  name: 'schedule',
  root: true,
  command: sectioned({
    crontab: raw`crontab -l`,
    crond: raw`for f in /etc/cron.d/*; do [ -f "$f" ] && sed "s|^|$f\\t|" "$f"; done`,
    units: script(UNITS),
  }),
  apply(facts, result) {
    const s = sections(result.stdout);
    facts.cron = [...cronLines('crontab', s.get('crontab') ?? ''), ...cronDLines(s.get('crond') ?? '')];
    facts.composeUnits = (s.get('units') ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 3)
      .map(([unit, enabled, active]) => ({ unit: unit!, enabled: enabled!, active: active! }));
  },
};

const isEntry = (l: string): boolean => l.trim() !== '' && !l.trim().startsWith('#') && !/^\s*[A-Z_]+=/.test(l);

function cronLines(source: string, text: string): { source: string; line: string }[] {
  return text
    .split('\n')
    .filter(isEntry)
    .map((line) => ({ source, line: line.trim() }));
}

function cronDLines(text: string): { source: string; line: string }[] {
  return text
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((p) => p.length >= 2 && isEntry(p.slice(1).join('\t')))
    .map((p) => ({ source: p[0]!, line: p.slice(1).join('\t').trim() }));
}
