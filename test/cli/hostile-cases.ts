/**
 * Random projects for the generative test: a compose file, an `.env`, an `env_file`, a
 * fleet file, with a canary secret in every kind of place a secret can be, then broken
 * in one of the ways a hostile or careless user breaks them.
 */
import fc from 'fast-check';

/** Where a secret is written. Each kind is a place `core/secret-places.ts` must recognize. */
export const SECRET_PLACES = [
  'env-map',
  'env-list',
  'url',
  'requirepass',
  'password-flag',
  'mysql-flag',
  'redis-cli',
  'basic-auth-label',
  'build-arg',
  'extension',
  'dotenv-used',
  'dotenv-unused',
  'env-file',
  'secret-from-env',
  'fleet-url',
] as const;
export type SecretPlace = (typeof SECRET_PLACES)[number];

/** How the files are broken (or not). */
export const BREAKAGES = [
  'none',
  // The value of a secret in a template Compose refuses: the message about it must not show it.
  'invalid-template',
  'long-invalid-template',
  'yaml-indent',
  'truncated',
  'unknown-key',
  'misspelt-anchor',
  'wrong-type',
  'extends-cycle',
  'missing-env-file',
  'missing-secret-file',
  'invalid-image',
  'duplicate-key',
  'bad-service-name',
  'two-documents',
  'env-forward-reference',
  'deep-nesting',
  'fleet-not-mapping',
  'fleet-unknown-key',
  'fleet-misspelt-anchor',
  'project-name-empty',
  'binary',
] as const;
export type Breakage = (typeof BREAKAGES)[number];

export interface Case {
  /** 16 hex characters: the canary is `CANARY` followed by them. */
  hex: string;
  places: SecretPlace[];
  breakage: Breakage;
  /** Where a truncated file is cut, as a fraction of its length. */
  cut: number;
  mode: 'fleet' | 'compose';
  services: number;
}

export const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  hex: fc.stringMatching(/^[0-9a-f]{16}$/),
  places: fc.subarray([...SECRET_PLACES], { minLength: 3 }),
  // Unbroken files a third of the time, so that the commands go on to plan and reach for the server.
  breakage: fc.oneof(
    { arbitrary: fc.constant('none' as const), weight: 1 },
    { arbitrary: fc.constantFrom(...BREAKAGES.filter((b) => b !== 'none')), weight: 2 },
  ),
  cut: fc.integer({ min: 1, max: 99 }).map((n) => n / 100),
  mode: fc.constantFrom('fleet' as const, 'compose' as const),
  services: fc.integer({ min: 1, max: 4 }),
});

/** The files of a case, by name. */
export function filesOf(c: Case): Record<string, string | Buffer> {
  const canary = `CANARY${c.hex}`;
  const has = (p: SecretPlace) => c.places.includes(p);
  const env: string[] = ['POSTGRES_USER=postgres', 'POSTGRES_DB=app', 'LOG_LEVEL=warning'];
  if (has('dotenv-used')) env.push(`DB_PASS_VALUE=${canary}-dotenv`);
  if (has('dotenv-unused')) env.push(`SECRET_KEY_BASE=${canary}-unused`);
  if (has('secret-from-env')) env.push(`VAULT_VALUE=${canary}-secretenv`);
  if (c.breakage === 'env-forward-reference') {
    env.unshift('EARLY=${LATER}');
    env.push(`LATER=${canary}-later`);
  }
  const appEnv = has('env-file') ? `API_TOKEN=${canary}-envfile\nMODE=production\n` : 'MODE=production\n';
  const files: Record<string, string | Buffer> = {
    'compose.yml': composeOf(c, canary),
    '.env': `${env.join('\n')}\n`,
    'db.txt': 'not-a-canary\n',
  };
  if (c.breakage !== 'missing-env-file') files['app.env'] = appEnv;
  if (c.mode === 'fleet') files['ferry.yml'] = fleetOf(c, canary);
  return broken(c, files);
}

function serviceLines(c: Case, canary: string, i: number): string[] {
  const has = (p: SecretPlace) => c.places.includes(p);
  const name = c.breakage === 'bad-service-name' && i === 0 ? '"my web;x"' : `s${i}`;
  const lines = [
    `  ${name}:`,
    '    <<: *common',
    `    image: ${c.breakage === 'invalid-image' ? '"Nginx:1.27 ; id"' : 'nginx:1.27'}`,
  ];
  if (c.breakage === 'extends-cycle' && c.services > 1) lines.push(`    extends: s${(i + 1) % c.services}`);
  lines.push('    env_file: app.env', '    secrets: [db]', '    environment:', '      LOG_LEVEL: ${LOG_LEVEL}');
  if (has('env-map')) lines.push(`      DB_PASSWORD: ${canary}-envmap`);
  if (has('url')) lines.push(`      DATABASE_URL: postgres://app:${canary}-url@db:5432/app`);
  if (has('dotenv-used')) lines.push('      POSTGRES_PASSWORD: ${DB_PASS_VALUE}');
  if (c.breakage === 'invalid-template') lines.push(`      BROKEN_URL: "postgres://app:${canary}-tpl@db/\${ DB}"`);
  if (c.breakage === 'long-invalid-template')
    lines.push(`      LONG_SECRET: "${canary}-long${'x'.repeat(300)}\${ DB}"`);
  if (c.breakage === 'deep-nesting') lines.push(`      DEEP: "${'${X:-'.repeat(200)}x${'}'.repeat(200)}"`);
  const cmd: string[] = [];
  if (has('requirepass')) cmd.push(`redis-server --requirepass ${canary}-rp`);
  if (has('password-flag')) cmd.push(`--password=${canary}-pf`);
  if (has('mysql-flag')) cmd.push(`mysql -uroot -p${canary}-my`);
  if (has('redis-cli')) cmd.push(`redis-cli -a ${canary}-rc ping`);
  if (cmd.length > 0) lines.push(`    command: ${JSON.stringify(cmd.join(' && '))}`);
  if (has('basic-auth-label'))
    lines.push('    labels:', `      traefik.http.middlewares.auth.basicauth.users: "admin:${canary}-label"`);
  if (has('build-arg')) lines.push('    build:', '      context: .', '      args:', `        NPM_TOKEN: ${canary}-arg`);
  if (c.breakage === 'wrong-type' && i === 0) lines.push('    ports: 80');
  if (c.breakage === 'unknown-key' && i === 0) lines.push('    portz: ["80:80"]');
  if (c.breakage === 'duplicate-key' && i === 0) lines.push('    image: nginx:1.26');
  return lines;
}

function composeOf(c: Case, canary: string): string {
  const anchor = c.breakage === 'misspelt-anchor' ? 'comon' : 'common';
  const lines = [
    ...(c.breakage === 'project-name-empty' ? ['name: "!!!"'] : []),
    'x-common: &common',
    '  restart: unless-stopped',
    ...(c.places.includes('extension') ? [`x-secrets:\n  ADMIN_PASSWORD: ${canary}-ext`] : []),
    'services:',
  ];
  for (let i = 0; i < c.services; i++) lines.push(...serviceLines(c, canary, i));
  if (c.places.includes('env-list'))
    lines.push('  lister:', '    image: busybox:1.36', '    environment:', `      - API_TOKEN=${canary}-envlist`);
  lines.push(
    'secrets:',
    c.places.includes('secret-from-env')
      ? '  db: { environment: VAULT_VALUE }'
      : `  db: { file: ${c.breakage === 'missing-secret-file' ? './missing.txt' : './db.txt'} }`,
  );
  let text = `${lines.join('\n')}\n`.replace('*common', `*${anchor}`);
  if (c.breakage === 'two-documents') text += '---\nservices: {}\n';
  return text;
}

function fleetOf(c: Case, canary: string): string {
  if (c.breakage === 'fleet-not-mapping') return '- servers\n- stacks\n';
  const anchor = c.breakage === 'fleet-misspelt-anchor' ? '*hetzer' : '*hetzner';
  return [
    'x-hetzner: &hetzner',
    '  port: 1',
    ...(c.places.includes('fleet-url') ? [`x-note: https://deploy:${canary}-fleet@example.com/hook`] : []),
    'servers:',
    '  app:',
    `    <<: ${anchor}`,
    '    host: 127.0.0.1',
    ...(c.breakage === 'fleet-unknown-key' ? ['    hots: 127.0.0.2'] : []),
    'stacks:',
    '  web: { server: app, compose: compose.yml }',
    '',
  ].join('\n');
}

function broken(c: Case, files: Record<string, string | Buffer>): Record<string, string | Buffer> {
  const target = c.mode === 'fleet' && c.breakage === 'truncated' && c.cut < 0.3 ? 'ferry.yml' : 'compose.yml';
  const text = String(files[target]);
  if (c.breakage === 'truncated') return { ...files, [target]: text.slice(0, Math.floor(text.length * c.cut)) };
  if (c.breakage === 'yaml-indent') return { ...files, 'compose.yml': text.replace('    image:', '   image:') };
  if (c.breakage === 'binary')
    return { ...files, 'compose.yml': Buffer.concat([Buffer.from(text.slice(0, 40)), Buffer.from([0xff, 0xfe, 0])]) };
  return files;
}
