/**
 * docs/errors.md names every code the source defines (core/codes.ts, tools/codes.ts),
 * each once, with a cause and a fix, and no code the source does not define.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMAND_CODES, FINDING_CODES, TRANSPORT_ERROR_CODES } from '../../src/core/codes.js';
import { STEP_ERROR_CODES } from '../../src/tools/codes.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');

/** Rows of the tables: `| \`code\` | cause | fix |`. */
function rows(): { code: string; cause: string; fix: string }[] {
  return [...doc.matchAll(/^\| `([a-z0-9-]+)` \| (.*) \| (.*) \|$/gm)].map((m) => ({
    code: m[1]!,
    cause: m[2]!.trim(),
    fix: m[3]!.trim(),
  }));
}

test('docs/errors.md documents exactly the codes the source defines, each once, with a cause and a fix', () => {
  const defined = new Set<string>([...FINDING_CODES, ...COMMAND_CODES, ...TRANSPORT_ERROR_CODES, ...STEP_ERROR_CODES]);
  const documented = rows();
  const seen = new Map<string, number>();
  for (const r of documented) seen.set(r.code, (seen.get(r.code) ?? 0) + 1);
  assert.deepEqual(
    [...defined].filter((c) => !seen.has(c)).sort(),
    [],
    'codes the source defines that docs/errors.md does not explain',
  );
  assert.deepEqual(
    [...seen.keys()].filter((c) => !defined.has(c)).sort(),
    [],
    'codes docs/errors.md explains that the source does not define',
  );
  assert.deepEqual(
    [...seen].filter(([, n]) => n > 1).map(([c]) => c),
    [],
    'codes explained twice',
  );
  for (const r of documented) {
    assert.ok(r.cause.length > 20, `${r.code}: a cause`);
    assert.ok(r.fix.length > 0, `${r.code}: a fix`);
  }
});
