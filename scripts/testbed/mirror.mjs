// Reads this machine's apt sources for its Debian bookworm mirror, so that debootstrap and
// the images' apt use the same mirror as the machine (deb822 `.sources` or one-line `.list`).
// The same mirror serves trixie: its suites are named from the bookworm ones.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestbedError } from './run.mjs';

/** The suite this machine's sources name; hosts of other suites use the same mirror. */
const MACHINE_SUITE = 'bookworm';

function sourceFiles() {
  const files = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d)) {
    for (const f of readdirSync(d).sort()) if (f.endsWith('.list') || f.endsWith('.sources')) files.push(join(d, f));
  }
  return files;
}

/** Entries { uri, suites[], components[] } of type deb, from both formats. */
export function parseSources(name, text) {
  const out = [];
  if (name.endsWith('.sources')) {
    for (const para of text.split(/\n\s*\n/)) {
      const f = {};
      let last;
      for (const line of para.split('\n')) {
        if (line.startsWith('#') || !line.trim()) continue;
        if (/^\s/.test(line) && last) {
          f[last] += ` ${line.trim()}`;
          continue;
        }
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) {
          last = m[1].toLowerCase();
          f[last] = m[2].trim();
        }
      }
      if (!f.uris || !(f.types ?? '').split(/\s+/).includes('deb') || /^(no|false)$/i.test(f.enabled ?? '')) continue;
      for (const uri of f.uris.split(/\s+/)) {
        out.push({ uri, suites: (f.suites ?? '').split(/\s+/), components: (f.components ?? '').split(/\s+/) });
      }
    }
  } else {
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
      if (m) out.push({ uri: m[1], suites: [m[2]], components: m[3].split(/\s+/) });
    }
  }
  return out;
}

/**
 * The Debian mirror for debootstrap, and sources.list lines for the images of `suite`:
 * every deb entry of this machine for bookworm, bookworm-updates and bookworm-security
 * (main only), renamed for `suite` (e.g. trixie, trixie-updates, trixie-security).
 */
export function debianMirror(suite = MACHINE_SUITE) {
  const entries = sourceFiles().flatMap((f) => parseSources(f, readFileSync(f, 'utf8')));
  const lines = [];
  let mirror;
  for (const e of entries) {
    for (const s of e.suites) {
      if (s !== MACHINE_SUITE && !s.startsWith(`${MACHINE_SUITE}-`) && !s.startsWith(`${MACHINE_SUITE}/`)) continue;
      if (!e.components.includes('main')) continue;
      lines.push(`deb ${e.uri} ${suite}${s.slice(MACHINE_SUITE.length)} main`);
      if (s === MACHINE_SUITE) mirror ??= e.uri;
    }
  }
  if (!mirror) {
    throw new TestbedError(
      `no Debian ${MACHINE_SUITE} mirror with component main in this machine's apt sources (${sourceFiles().join(', ') || 'none'})`,
      'add a bookworm main entry to /etc/apt/sources.list.d/debian.sources',
    );
  }
  return { mirror, suite, sourcesList: [...new Set(lines)].join('\n') + '\n' };
}
