import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OverrideTag, ResetTag } from '../yaml/plain.js';
import { interpolate, interpolateTree, MAX_NESTING, type Lookup } from './interpolate.js';

/** A lookup over a fixed set of variables; any other name is unset. */
function vars(env: Record<string, string>): Lookup {
  return (name) => (Object.hasOwn(env, name) ? env[name] : undefined);
}

const env = vars({ FOO: 'first', BAR: '', JSON: '{"json":2}' });

/** The value of a template that must interpolate without problems. */
function value(template: string, lookup: Lookup = env): string {
  const r = interpolate(template, lookup);
  assert.deepEqual(r.problems, [], `unexpected problems for ${template}`);
  return r.value;
}

interface Case {
  template: string;
  env: Record<string, string>;
  expected?: string;
  error?: boolean;
}

test('conformance with the compose-go interpolation cases', () => {
  const cases = JSON.parse(
    readFileSync(new URL('../../../shared/fixtures/interpolation-cases.json', import.meta.url), 'utf8'),
  ) as Case[];
  const failures: string[] = [];
  for (const c of cases) {
    const r = interpolate(c.template, vars(c.env));
    if (c.error === true) {
      if (r.problems.length === 0)
        failures.push(`${JSON.stringify(c.template)}: expected a problem, got ${JSON.stringify(r.value)}`);
    } else if (r.problems.length > 0) {
      failures.push(`${JSON.stringify(c.template)}: unexpected problem ${r.problems[0]?.message}`);
    } else if (r.value !== c.expected) {
      failures.push(
        `${JSON.stringify(c.template)}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(r.value)}`,
      );
    }
  }
  console.log(`interpolation conformance: ${cases.length - failures.length}/${cases.length} cases passed`);
  assert.ok(cases.length >= 100, 'the fixture file holds the full case list');
  assert.deepEqual(failures, []);
});

test('plain text and literal dollars stay as written', () => {
  assert.equal(value('no variables'), 'no variables');
  assert.equal(value('a $ b'), 'a $ b');
  assert.equal(value('$'), '$');
  assert.equal(value('$}'), '$}');
  assert.equal(value('^REGEX$'), '^REGEX$');
  assert.equal(value('$1 $-x $.y'), '$1 $-x $.y');
  assert.equal(value('price: 5$'), 'price: 5$');
});

test('$$ is a literal dollar and is not read further', () => {
  assert.equal(value('$$'), '$');
  assert.equal(value('$$FOO'), '$FOO');
  assert.equal(value('$${FOO}'), '${FOO}');
  assert.equal(value('$$$FOO'), '$first');
  assert.equal(value('echo "$$HOME" $FOO'), 'echo "$HOME" first');
});

test('$VAR takes the longest name', () => {
  assert.equal(value('$FOO'), 'first');
  assert.equal(value('$FOO-bar'), 'first-bar');
  assert.equal(value('$FOO.txt'), 'first.txt');
  assert.equal(value('$FOOBAR', vars({ FOO: 'x', FOOBAR: 'y' })), 'y');
  assert.equal(value('$_u1', vars({ _u1: 'z' })), 'z');
  assert.equal(value('$foo', vars({ foo: 'lower' })), 'lower');
});

test('${VAR} and an unset or empty variable', () => {
  assert.equal(value('${FOO}'), 'first');
  assert.equal(value('x${FOO}y'), 'xfirsty');
  assert.equal(value('[${BAR}]'), '[]');
  assert.equal(value('[${MISSING}]'), '[]');
});

test('unset variables used without a default are listed once, in order', () => {
  const r = interpolate('$B ${A} $B ${FOO} ${BAR}', env);
  assert.equal(r.value, '   first ');
  assert.deepEqual(r.unset, ['B', 'A']);
  assert.deepEqual(r.problems, []);
});

test('variables with an operator are never listed as unset', () => {
  const r = interpolate('${A:-x}${B-y}${C:+z}${D+w}', env);
  assert.equal(r.value, 'xy');
  assert.deepEqual(r.unset, []);
});

test(':- and - defaults', () => {
  assert.equal(value('${MISSING:-def}'), 'def');
  assert.equal(value('${BAR:-def}'), 'def');
  assert.equal(value('${FOO:-def}'), 'first');
  assert.equal(value('${MISSING-def}'), 'def');
  assert.equal(value('${BAR-def}'), '');
  assert.equal(value('${FOO-def}'), 'first');
  assert.equal(value('${MISSING:-}'), '');
  assert.equal(value('${BAR:-/non:-alpha?numeric}'), '/non:-alpha?numeric');
  assert.equal(value('${MISSING-a:?b}'), 'a:?b');
});

test(':+ and + replacements', () => {
  assert.equal(value('${FOO:+yes}'), 'yes');
  assert.equal(value('${BAR:+yes}'), '');
  assert.equal(value('${MISSING:+yes}'), '');
  assert.equal(value('${FOO+yes}'), 'yes');
  assert.equal(value('${BAR+yes}'), 'yes');
  assert.equal(value('${MISSING+yes}'), '');
});

test(':? and ? pass a set value through', () => {
  assert.equal(value('${FOO:?err}'), 'first');
  assert.equal(value('${FOO?err}'), 'first');
  assert.equal(value('${BAR?err}'), '');
});

test('required variables: compose-go wording, with and without a message', () => {
  assert.deepEqual(interpolate('${MISSING:?please set it}', env).problems, [
    { kind: 'required', variable: 'MISSING', message: 'required variable MISSING is missing a value: please set it' },
  ]);
  assert.deepEqual(interpolate('${BAR:?}', env).problems, [
    { kind: 'required', variable: 'BAR', message: 'required variable BAR is missing a value' },
  ]);
  assert.deepEqual(interpolate('${MISSING?}', env).problems, [
    { kind: 'required', variable: 'MISSING', message: 'required variable MISSING is missing a value' },
  ]);
  assert.deepEqual(interpolate('${MISSING?need ${FOO}}', env).problems, [
    { kind: 'required', variable: 'MISSING', message: 'required variable MISSING is missing a value: need first' },
  ]);
});

test('every required variable of a string is reported', () => {
  const r = interpolate('${A:?a} and ${B?b} then ${FOO:?f} and ${C:?}', env);
  assert.deepEqual(
    r.problems.map((p) => p.message),
    [
      'required variable A is missing a value: a',
      'required variable B is missing a value: b',
      'required variable C is missing a value',
    ],
  );
});

test('nesting in defaults, replacements and messages', () => {
  assert.equal(value('${A:-${B:-x}}'), 'x');
  assert.equal(value('${A:-${FOO}}'), 'first');
  assert.equal(value('${A:-${B:-${C:-deep}}}'), 'deep');
  assert.equal(value('${A:-${B:-x}_mid_${C:-y}}'), 'x_mid_y');
  assert.equal(value('${A:-$FOO/$FOO}'), 'first/first');
  assert.equal(value('${FOO:+[${FOO}]}'), '[first]');
  assert.equal(value('${A:+${A},}B'), 'B');
  assert.equal(value('${A:-$$}'), '$');
  assert.equal(value('${A:-$${B}}'), '${B}');
  assert.equal(value('${A:-x} ${FOO} ${B:-y}'), 'x first y');
});

test('text after an operator is interpolated only when used', () => {
  const r = interpolate('${FOO:-${NOPE:?never}}${MISSING:+${ALSO}}${FOO?${GONE}}', env);
  assert.deepEqual(r, { value: 'firstfirst', problems: [], unset: [] });
});

test('braces in defaults', () => {
  assert.equal(value('${A:-{"json":1}}'), '{"json":1}');
  assert.equal(value('${JSON:-{"json":1}}'), '{"json":2}');
  assert.equal(value('${A:-}}'), '}');
  // compose-go never looks at the character right after a `{`, so this `}` closes nothing.
  assert.equal(value('${A:-{}}x}'), '{}}x');
});

test('an operator runs to the last brace of its line only', () => {
  assert.equal(value('${A:-x}\n${FOO}'), 'x\nfirst');
  assert.equal(interpolate('${A:-x\n}', env).problems[0]?.kind, 'invalid');
});

test('malformed templates are invalid', () => {
  for (const t of [
    '${',
    '${}',
    '${ }',
    '${ foo}',
    '${foo }',
    '${foo!}',
    '${foo:}',
    '${1}',
    '${-x}',
    'a ${FOO:x} b',
    '${A:-${B}',
  ]) {
    const r = interpolate(t, env);
    assert.equal(r.problems.length, 1, t);
    // The message says where the malformed `${` is, never what the value holds: here the
    // inner one of '${A:-${B}', the first one of every other.
    const at = t === '${A:-${B}' ? 6 : t.indexOf('${') + 1;
    assert.deepEqual(
      r.problems[0],
      {
        kind: 'invalid',
        message: `invalid template: the "\${" at character ${at} of the value does not start a variable`,
      },
      t,
    );
  }
});

test('an invalid template does not hide the required variables of the same string', () => {
  const r = interpolate('${foo!} ${A:?need A}', env);
  assert.deepEqual(
    r.problems.map((p) => p.kind),
    ['invalid', 'required'],
  );
  assert.equal(r.problems[1]?.variable, 'A');
});

test('an invalid template never quotes the value (which may hold a password), however long', () => {
  for (const t of ['postgres://app:CANARY-7f3a9@db/${ DB}', `CANARY-7f3a9${'x'.repeat(500)}\${ DB}`]) {
    const message = interpolate(t, env).problems[0]?.message ?? '';
    assert.match(message, /^invalid template: the "\$\{" at character \d+ of the value does not start a variable$/);
    assert.doesNotMatch(message, /CANARY/);
  }
});

test('nesting is limited, and a long line of templates is read in one pass (no recursion per template)', () => {
  let nested = 'x';
  for (let i = 0; i < MAX_NESTING + 10; i++) nested = `\${X:-${nested}}`;
  assert.deepEqual(interpolate(nested, env).problems, [
    { kind: 'invalid', message: `invalid template: variables nested more than ${MAX_NESTING} levels deep` },
  ]);
  const line = '${A-x}'.repeat(50_000);
  assert.equal(interpolate(line, env).value, 'x'.repeat(50_000));
});

test('names that Go folds case-insensitively onto ASCII letters', () => {
  assert.equal(value('$\u017fx', vars({ '\u017fx': 'long-s' })), 'long-s');
  assert.equal(value('${\u212a}', vars({ '\u212a': 'kelvin' })), 'kelvin');
  assert.equal(value('$\u00e9'), '$\u00e9');
});

test('interpolateTree interpolates values, never keys, and leaves other scalars alone', () => {
  const tree = {
    services: {
      web: {
        image: 'nginx:${TAG:-latest}',
        ports: ['${PORT:-80}:80', 8080],
        '${FOO}': 'key stays',
        read_only: true,
        cpus: 1.5,
        init: null,
      },
    },
  };
  const r = interpolateTree(tree, vars({ FOO: 'first' }));
  assert.deepEqual(r.value, {
    services: {
      web: {
        image: 'nginx:latest',
        ports: ['80:80', 8080],
        '${FOO}': 'key stays',
        read_only: true,
        cpus: 1.5,
        init: null,
      },
    },
  });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.unset, []);
  assert.equal(tree.services.web.image, 'nginx:${TAG:-latest}', 'the input is not modified');
});

test('interpolateTree collects every problem and unset variable with its path', () => {
  const tree = {
    services: {
      db: { environment: { PASSWORD: '${DB_PASSWORD:?set the password}', USER: '$DB_USER' } },
      web: { command: ['run', '${MODE:?}', '${bad!}'], labels: ['a=${DB_USER}'] },
    },
  };
  const r = interpolateTree(tree, vars({}));
  assert.deepEqual(r.problems, [
    {
      kind: 'required',
      variable: 'DB_PASSWORD',
      message: 'required variable DB_PASSWORD is missing a value: set the password',
      path: ['services', 'db', 'environment', 'PASSWORD'],
    },
    {
      kind: 'required',
      variable: 'MODE',
      message: 'required variable MODE is missing a value',
      path: ['services', 'web', 'command', 1],
    },
    {
      kind: 'invalid',
      message: 'invalid template: the "${" at character 1 of the value does not start a variable',
      path: ['services', 'web', 'command', 2],
    },
  ]);
  assert.deepEqual(r.unset, [
    { variable: 'DB_USER', path: ['services', 'db', 'environment', 'USER'] },
    { variable: 'DB_USER', path: ['services', 'web', 'labels', 0] },
  ]);
});

test('interpolateTree prefixes the given path', () => {
  const r = interpolateTree({ image: '${X:?}' }, vars({}), ['services', 'web']);
  assert.deepEqual(r.problems[0]?.path, ['services', 'web', 'image']);
});

test('interpolateTree walks into !override and keeps !reset', () => {
  const reset = new ResetTag();
  const tree = {
    ports: new OverrideTag(['${PORT:-8080}:80']),
    env: new OverrideTag({ A: '${MISSING}' }),
    volumes: reset,
  };
  const r = interpolateTree(tree, vars({}));
  const out = r.value as { ports: OverrideTag; env: OverrideTag; volumes: unknown };
  assert.ok(out.ports instanceof OverrideTag);
  assert.deepEqual(out.ports.value, ['8080:80']);
  assert.ok(out.env instanceof OverrideTag);
  assert.deepEqual(out.env.value, { A: '' });
  assert.equal(out.volumes, reset);
  assert.deepEqual(r.unset, [{ variable: 'MISSING', path: ['env', 'A'] }]);
});

test('interpolateTree keeps keys such as __proto__ as own data', () => {
  const tree = JSON.parse('{"__proto__": "${FOO}", "a": 1}') as Record<string, unknown>;
  const r = interpolateTree(tree, vars({ FOO: 'x' }));
  const out = r.value as Record<string, unknown>;
  assert.deepEqual(Object.keys(out), ['__proto__', 'a']);
  assert.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'x');
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
});

test('interpolateTree on a bare string', () => {
  assert.deepEqual(interpolateTree('${FOO}', vars({ FOO: 'v' })), { value: 'v', problems: [], unset: [] });
});
