/** Listening sockets (Docker or not), the ufw firewall and fail2ban jails. */
import { cmd } from '../../../shell/command.js';
import type { Listener, UfwRule } from '../facts.js';
import { sections, type Probe } from '../probe.js';
import { sectioned } from './sectioned.js';

export const networkProbe: Probe = {
  name: 'network',
  root: true,
  command: sectioned({
    ss: cmd('ss', '-H', '-ltnup'),
    ufw_path: cmd('sh', '-c', 'command -v ufw'),
    ufw: cmd('ufw', 'status', 'verbose'),
    fail2ban_path: cmd('sh', '-c', 'command -v fail2ban-client'),
    fail2ban: cmd('fail2ban-client', 'status'),
  }),
  apply(facts, result) {
    const s = sections(result.stdout);
    facts.listening = parseSs(s.get('ss') ?? '');
    facts.ufw = { installed: (s.get('ufw_path') ?? '').trim() !== '', ...parseUfw(s.get('ufw') ?? '') };
    const jails = parseFail2ban(s.get('fail2ban') ?? '');
    facts.fail2ban = {
      installed: (s.get('fail2ban_path') ?? '').trim() !== '',
      running: jails !== undefined,
      jails: jails ?? [],
    };
  },
};

/** `ss -H -ltnup` lines: `tcp LISTEN 0 4096 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))`. */
export function parseSs(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || (f[0] !== 'tcp' && f[0] !== 'udp')) continue;
    const local = f[4]!;
    const i = local.lastIndexOf(':');
    const address = local
      .slice(0, i)
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/%\S+$/, '');
    const port = Number(local.slice(i + 1));
    if (!Number.isInteger(port)) continue;
    const proc = /users:\(\("([^"]+)"/.exec(line)?.[1];
    out.push({ protocol: f[0], address, port, ...(proc ? { process: proc } : {}) });
  }
  const key = (l: Listener): string => `${l.protocol}/${l.port}/${l.address}`;
  return [...new Map(out.map((l) => [key(l), l])).values()].sort(
    (a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol) || a.address.localeCompare(b.address),
  );
}

export function parseUfw(text: string): { active: boolean; defaultIncoming?: string; rules: UfwRule[] } {
  const active = /^Status:\s+active/m.test(text);
  const def = /^Default:\s+(\w+) \(incoming\)/m.exec(text)?.[1];
  const rules: UfwRule[] = [];
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^--\s+-+\s+--/.test(l.trim()));
  if (start >= 0) {
    for (const line of lines.slice(start + 1)) {
      const m = /^(.+?)\s{2,}((?:ALLOW|DENY|REJECT|LIMIT)(?: (?:IN|OUT|FWD))?)\s{2,}(.+?)\s*$/.exec(line);
      if (m) rules.push({ to: m[1]!.trim(), action: m[2]!, from: m[3]! });
    }
  }
  return { active, ...(def ? { defaultIncoming: def } : {}), rules };
}

/** Jail names from `fail2ban-client status`, or undefined when the server is not running. */
export function parseFail2ban(text: string): string[] | undefined {
  const m = /Jail list:\s*(.*)$/m.exec(text);
  if (!m) return undefined;
  return m[1]!
    .split(',')
    .map((j) => j.trim())
    .filter((j) => j.length > 0);
}
