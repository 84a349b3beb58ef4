/** nginx sites (from `nginx -T`) and TLS certificates (Let's Encrypt's and those nginx names) with expiry. */
import { cmd, script } from '../../../shell/command.js';
import type { Certificate, NginxSite } from '../facts.js';
import { sections, type Probe } from '../probe.js';
import { sectioned } from './sectioned.js';

/** Prints `@@cert:PATH` then the certificate's end date, subject and names, for every certificate found. */
const CERTS = [
  'for f in $( { ls -1 /etc/letsencrypt/live/*/fullchain.pem; nginx -T 2>/dev/null | awk \'$1 == "ssl_certificate" {gsub(";", "", $2); print $2}\'; } 2>/dev/null | sort -u ); do',
  '  [ -r "$f" ] || continue; echo "@@cert:$f";',
  '  openssl x509 -noout -enddate -subject -ext subjectAltName -in "$f" 2>/dev/null;',
  'done',
].join(' ');

export const webProbe: Probe = {
  name: 'web',
  root: true,
  command: sectioned({
    nginx_path: cmd('sh', '-c', 'command -v nginx'),
    nginx: cmd('nginx', '-T'),
    certs: script(CERTS),
  }),
  apply(facts, result, ctx) {
    const s = sections(result.stdout);
    facts.nginx = { installed: (s.get('nginx_path') ?? '').trim() !== '', sites: parseNginxT(s.get('nginx') ?? '') };
    facts.certificates = [...s.entries()]
      .filter(([k]) => k.startsWith('cert:'))
      .map(([k, v]) => parseCert(k.slice(5), v, ctx.now))
      .filter((c): c is Certificate => c !== undefined);
  },
};

/** Server blocks of sites from `nginx -T` output (`# configuration file PATH:` headers). */
export function parseNginxT(text: string): NginxSite[] {
  const sites: NginxSite[] = [];
  const files = text.split(/^# configuration file (.+):$/m);
  for (let i = 1; i < files.length; i += 2) {
    const file = files[i]!;
    const body = stripComments(files[i + 1] ?? '');
    if (!/\bserver\s*\{/.test(body)) continue;
    const all = (re: RegExp): string[] => [...body.matchAll(re)].map((m) => m[1]!.trim());
    sites.push({
      file,
      serverNames: [...new Set(all(/\bserver_name\s+([^;]+);/g).flatMap((v) => v.split(/\s+/)))],
      listen: [...new Set(all(/\blisten\s+([^;]+);/g))],
      certificates: [...new Set(all(/\bssl_certificate\s+([^;]+);/g))],
    });
  }
  return sites;
}

function stripComments(text: string): string {
  return text.replace(/#[^\n]*/g, '');
}

export function parseCert(path: string, text: string, now: Date): Certificate | undefined {
  const end = /notAfter=(.+)/.exec(text)?.[1]?.trim();
  if (!end) return undefined;
  const notAfter = new Date(end);
  if (Number.isNaN(notAfter.getTime())) return undefined;
  const subject = /subject=\s*(.+)/.exec(text)?.[1]?.trim() ?? '';
  const names = [...text.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!);
  return {
    path,
    subject,
    names,
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
  };
}
