import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { loadFleetFile } from './load.js';
import { fleetJsonSchema, fleetJsonSchemaText } from './schema.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const committedPath = join(root, 'schema/ferry.schema.json');
const fixtures = join(root, 'test/fixtures/fleet');

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  return ajv.compile(JSON.parse(readFileSync(committedPath, 'utf8')) as object);
}

/** The complete fleet files shown in docs/fleet-file.md. */
function docExamples(): string[] {
  const md = readFileSync(join(root, 'docs/fleet-file.md'), 'utf8');
  return [...md.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((y) => /^servers:/m.test(y) && /^stacks:/m.test(y));
}

test('schema/ferry.schema.json is what the zod schema produces (run `npm run schema` after changing it)', () => {
  assert.equal(readFileSync(committedPath, 'utf8'), fleetJsonSchemaText());
});

test('the JSON Schema names itself and describes every key', () => {
  const s = fleetJsonSchema();
  assert.equal(s['$schema'], 'http://json-schema.org/draft-07/schema#');
  assert.equal(s['$id'], 'urn:ferry:schema:fleet-file');
  assert.equal(s['title'], 'Ferry fleet file (ferry.yml)');
  const undescribed: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['properties'] && typeof n['properties'] === 'object') {
      for (const [k, v] of Object.entries(n['properties'] as Record<string, Record<string, unknown>>)) {
        if (typeof v['description'] !== 'string') undescribed.push(`${path}/${k}`);
        walk(v, `${path}/${k}`);
      }
    }
    if (n['additionalProperties'] && typeof n['additionalProperties'] === 'object')
      walk(n['additionalProperties'], `${path}/*`);
    if (n['items']) walk(n['items'], `${path}/0`);
  };
  walk(s, '');
  assert.deepEqual(undescribed, []);
});

test('the examples in docs/fleet-file.md are valid for the JSON Schema and for the loader', () => {
  const examples = docExamples();
  assert.equal(examples.length, 3);
  const validate = validator();
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-doc-'));
  try {
    for (const [i, yaml] of examples.entries()) {
      assert.equal(validate(parse(yaml, { merge: true })), true, JSON.stringify(validate.errors));
      writeFileSync(join(tmp, `example-${i}.yml`), yaml);
      const { fleet, findings } = loadFleetFile(`example-${i}.yml`, { cwd: tmp });
      assert.deepEqual(findings, []);
      assert.ok(fleet);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the JSON Schema and the loader agree on the fixtures', () => {
  const validate = validator();
  const read = (name: string) => parse(readFileSync(join(fixtures, name), 'utf8'), { merge: true }) as unknown;
  for (const name of ['valid/ferry.yml', 'valid/defaults.yml', 'valid/sizes.yml']) {
    assert.equal(validate(read(name)), true, `${name}: ${JSON.stringify(validate.errors)}`);
  }
  // schema errors are errors for editors too; unknown references are the loader's own
  for (const name of [
    'errors/unknown-key.yml',
    'errors/wrong-type.yml',
    'errors/missing-key.yml',
    'errors/bad-name.yml',
  ]) {
    assert.equal(validate(read(name)), false, name);
    assert.ok(
      loadFleetFile(name, { cwd: fixtures }).findings.some((f) => f.code === 'schema'),
      name,
    );
  }
  for (const name of ['errors/unknown-server.yml', 'errors/unknown-stack.yml']) {
    assert.equal(validate(read(name)), true, name);
  }
});

test('the JSON Schema reads sizes as the loader does', () => {
  const validate = validator();
  const fleet = (memory: unknown) => ({ servers: { app: { host: 'a', memory } }, stacks: {} });
  for (const ok of ['512M', '512MiB', '16GiB', '2g', '1.5GB', '160G', '512 MiB', 1024])
    assert.equal(validate(fleet(ok)), true, String(ok));
  for (const bad of ['lots', '1.5', '16 GiBs', -1, 1.5, true]) assert.equal(validate(fleet(bad)), false, String(bad));
});
