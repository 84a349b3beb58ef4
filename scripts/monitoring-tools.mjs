// Brings Debian 13's amtool (Alertmanager 0.28) onto this Debian 12 machine for the
// monitoring tests: Ferry's alertmanager.yml reads receiver secrets from files
// (`url_file`, `webhook_url_file`, `bot_token_file`), keys that Debian 12's Alertmanager
// 0.25 does not know. The package is downloaded with apt-get from the machine's own
// mirror (suite renamed to trixie, a private list directory: the machine's apt sources
// are left alone) and unpacked, not installed, under DIR. Prints the amtool path.
// Usage: node scripts/monitoring-tools.mjs [DIR]   (default /var/cache/ferry/monitoring-tools)
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debianMirror } from './testbed/mirror.mjs';
import { run } from './testbed/run.mjs';

const dir = process.argv[2] ?? '/var/cache/ferry/monitoring-tools';
const amtool = join(dir, 'root/usr/bin/amtool');
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}`);
  }
  return r;
}

if (!existsSync(amtool)) {
  for (const d of ['lists/partial', 'archives/partial', 'root']) mkdirSync(join(dir, d), { recursive: true });
  const { sourcesList } = debianMirror('trixie');
  const signed = existsSync(KEYRING) ? `[signed-by=${KEYRING}] ` : '';
  const list = sourcesList
    .split('\n')
    .filter((l) => /^deb \S+ trixie main$/.test(l))
    .map((l) => l.replace(/^deb /, `deb ${signed}`))
    .join('\n');
  writeFileSync(join(dir, 'sources.list'), `${list}\n`);
  const apt = [
    '-o',
    `Dir::Etc::sourcelist=${join(dir, 'sources.list')}`,
    '-o',
    'Dir::Etc::sourceparts=-',
    '-o',
    `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o',
    `Dir::Cache::Archives=${join(dir, 'archives')}`,
    '-o',
    'APT::Sandbox::User=root',
  ];
  await must('apt-get', [...apt, '-qq', 'update']);
  await must('apt-get', [...apt, '-qq', 'download', 'prometheus-alertmanager'], { cwd: dir });
  const deb = readdirSync(dir).find((f) => f.startsWith('prometheus-alertmanager_') && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download left no prometheus-alertmanager package in ${dir}`);
  await must('dpkg-deb', ['-x', join(dir, deb), join(dir, 'root')]);
}
const version = await must(amtool, ['--version']);
process.stderr.write(version.stdout.split('\n')[0] + '\n');
process.stdout.write(`${amtool}\n`);
