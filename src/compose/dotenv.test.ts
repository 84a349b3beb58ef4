import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandEscapes, parseDotenv } from './dotenv.js';
import type { Lookup } from './interpolate.js';

/** A lookup over a fixed set of variables; any other name is unset. */
function vars(env: Record<string, string>): Lookup {
  return (name) => (Object.hasOwn(env, name) ? env[name] : undefined);
}

const none = vars({});

/** Values of a file that must parse without problems. */
function values(text: string, lookup: Lookup = none, earlier?: Lookup): Record<string, string> {
  const r = parseDotenv(text, lookup, earlier);
  assert.deepEqual(r.problems, [], `unexpected problems for ${JSON.stringify(text)}`);
  return r.values;
}

test('KEY=value lines, spaces around = and blank lines', () => {
  assert.deepEqual(values('ONE=1\n\nTWO = 2\n   THREE=3\n\tFOUR= 4\nEMPTY=\nLAST='), {
    ONE: '1',
    TWO: '2',
    THREE: '3',
    FOUR: '4',
    EMPTY: '',
    LAST: '',
  });
});

test('a later line wins', () => {
  assert.deepEqual(values('A=1\nA=2'), { A: '2' });
});

test('YAML-style KEY: value, as compose-go accepts it', () => {
  assert.deepEqual(values('OPTION_A: 1\nOPTION_B: Foo=bar\nOPTION_C=1:B'), {
    OPTION_A: '1',
    OPTION_B: 'Foo=bar',
    OPTION_C: '1:B',
  });
});

test('keys may hold dots, dashes, brackets and letters of any script', () => {
  assert.deepEqual(values('FOO.BAR=1\nfoo-bar=2\narr[0]=3\nclé=4\nA1_=5'), {
    'FOO.BAR': '1',
    'foo-bar': '2',
    'arr[0]': '3',
    clé: '4',
    A1_: '5',
  });
});

test('unquoted values: trimmed, cut at " #", = kept', () => {
  assert.deepEqual(
    values(
      'A=bar   \nB=bar # comment\nC=bar#baz\nD=a=b=c\nE=postgres://h:5432/db?sslmode=disable\nF=with  inner  spaces',
    ),
    {
      A: 'bar',
      B: 'bar',
      C: 'bar#baz',
      D: 'a=b=c',
      E: 'postgres://h:5432/db?sslmode=disable',
      F: 'with  inner  spaces',
    },
  );
});

test('a # right after = is part of the value, as in compose-go', () => {
  assert.deepEqual(values('A= #not a comment'), { A: '#not a comment' });
});

test('comments', () => {
  assert.deepEqual(values('# leading\n  # indented\nA=1\n#A=2\n\t# tab\nB=2 # trailing\n# last without newline'), {
    A: '1',
    B: '2',
  });
});

test('export prefix', () => {
  assert.deepEqual(values('export A=1\n  export\tB=2\nexportC=3\nexport.D=4\nexport_E=5\nexport F'), {
    A: '1',
    B: '2',
    exportC: '3',
    'export.D': '4',
    export_E: '5',
  });
  assert.deepEqual(values('export F\n', vars({ F: 'from env' })), { F: 'from env' });
});

test('single-quoted values are literal', () => {
  assert.deepEqual(values("A='$HOME ${X:?boom} \\n # not a comment'\nB='it\\'s'\nC=''"), {
    A: '$HOME ${X:?boom} \\n # not a comment',
    B: "it's",
    C: '',
  });
});

test('double-quoted values: escapes', () => {
  assert.deepEqual(
    values('A="a\\nb"\nB="tab\\there"\nC="say \\"hi\\""\nD="back\\\\slash"\nE="cr\\r"\nF="\'single\' inside"'),
    {
      A: 'a\nb',
      B: 'tab\there',
      C: 'say "hi"',
      D: 'back\\slash',
      E: 'cr\r',
      F: "'single' inside",
    },
  );
});

test('double-quoted values: \\$ is a literal dollar, unknown escapes stay', () => {
  assert.deepEqual(values('A="cost \\$5 \\${HOME}"\nB="keep \\q \\x41"', vars({ HOME: '/h' })), {
    A: 'cost $5 ${HOME}',
    B: 'keep \\q \\x41',
  });
});

test('expandEscapes follows compose-go for octal and bell-like escapes', () => {
  assert.equal(expandEscapes('\\0101\\0'), 'A\\');
  assert.equal(expandEscapes('\\012'), '\\12');
  assert.equal(expandEscapes('\\0400'), '\\400');
  assert.equal(expandEscapes('\\a\\b\\f\\v'), '\x07\b\f\v');
  assert.equal(expandEscapes('\\\\n'), '\\n');
});

test('double-quoted values may span lines', () => {
  const r = parseDotenv('CERT="-----BEGIN-----\nline two\n-----END-----"\nNEXT=after\n\nBAD$=x', none);
  assert.deepEqual(r.values, { CERT: '-----BEGIN-----\nline two\n-----END-----', NEXT: 'after' });
  assert.deepEqual(r.problems, [{ line: 6, message: 'unexpected character "$" in variable name' }]);
});

test('# inside quotes is kept; a comment after the closing quote is skipped', () => {
  assert.deepEqual(values('A="bar#baz" # comment\nB=\'ba#r\' # comment\nC="x # y"'), {
    A: 'bar#baz',
    B: 'ba#r',
    C: 'x # y',
  });
});

test('interpolation in bare and double-quoted values', () => {
  const lookup = vars({ HOME: '/home/u', EMPTY: '' });
  assert.deepEqual(
    values('A=$HOME/x\nB="${HOME}/y"\nC=${EMPTY:-dflt}\nD=${NOPE-none}\nE=$$HOME\nF="${HOME:+set}"', lookup),
    {
      A: '/home/u/x',
      B: '/home/u/y',
      C: 'dflt',
      D: 'none',
      E: '$HOME',
      F: 'set',
    },
  );
});

test('interpolation order: environment, then lines above, then earlier files', () => {
  const env = vars({ SHARED: 'env' });
  const earlier = vars({ SHARED: 'earlier file', OLD: 'earlier file', LOCAL: 'earlier file' });
  assert.deepEqual(
    values(
      'LOCAL=this file\nSHARED=this file\nA=${LOCAL}\nB=${SHARED}\nC=${OLD}\nD=${LATER}\nLATER=too late',
      env,
      earlier,
    ),
    {
      LOCAL: 'this file',
      SHARED: 'this file',
      A: 'this file',
      B: 'env',
      C: 'earlier file',
      D: '',
      LATER: 'too late',
    },
  );
});

test('unset variables are reported with their line', () => {
  const r = parseDotenv('A=1\nB=${X}\nC="$Y and $X"\nD=${Z:-fine}', none);
  assert.deepEqual(r.unset, [
    { line: 2, variable: 'X' },
    { line: 3, variable: 'Y' },
    { line: 3, variable: 'X' },
  ]);
  assert.deepEqual(r.problems, []);
});

test('a key alone on its line takes its value from the environment, or is left out', () => {
  const env = vars({ FROM_ENV: 'env value', EMPTY: '' });
  assert.deepEqual(values('FROM_ENV\nMISSING\nEMPTY\n  SPACED  \nLAST', env, vars({ LAST: 'earlier' })), {
    FROM_ENV: 'env value',
    EMPTY: '',
    LAST: 'earlier',
  });
  assert.deepEqual(values('A=1\nA\n'), { A: '1' }, 'an unset bare key leaves an earlier line alone');
});

test('BOM, CRLF line ends and a missing final newline', () => {
  assert.deepEqual(values('\ufeffA=1\r\nB="two"\r\nC\r\nD=4', vars({ C: 'c' })), { A: '1', B: 'two', C: 'c', D: '4' });
});

test('an empty key is accepted, as compose-go does', () => {
  assert.deepEqual(values('="value"'), { '': 'value' });
});

test('__proto__ is an ordinary key', () => {
  const v = values('__proto__=x\nconstructor=y');
  assert.deepEqual(Object.keys(v), ['__proto__', 'constructor']);
  assert.equal(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, 'x');
});

test('bad lines: a problem with the line number, the other lines still read', () => {
  const r = parseDotenv('A=1\n\n# comment\nlol$wut=2\nB=2\nMY KEY=3\nC=3\nexport  ', none);
  assert.deepEqual(r.values, { A: '1', B: '2', C: '3' });
  assert.deepEqual(r.problems, [
    { line: 4, message: 'unexpected character "$" in variable name' },
    { line: 6, message: 'a variable name cannot contain a space' },
    { line: 8, message: 'expected a variable name after "export"' },
  ]);
});

test('an unterminated quote stops reading at its line', () => {
  const r = parseDotenv('A=1\nB="open\nC=3\nD=4', none);
  assert.deepEqual(r.values, { A: '1' });
  assert.deepEqual(r.problems, [{ line: 2, message: 'unterminated quoted value for B' }]);
});

test('interpolation problems name the key and the variable, with the line', () => {
  const r = parseDotenv('A=ok\nB=${NEEDED:?set NEEDED}\nC="${bad!}"\nD=${ALSO?}', none);
  assert.deepEqual(r.values, { A: 'ok' });
  assert.deepEqual(r.problems, [
    { line: 2, message: 'B: required variable NEEDED is missing a value' },
    { line: 3, message: 'C: invalid interpolation template in the value' },
    { line: 4, message: 'D: required variable ALSO is missing a value' },
  ]);
});

test('a secret value never appears in a problem message', () => {
  const canary = 'Zq9-CANARY-7f3e';
  const text = [
    `GOOD=${canary}`,
    `UNTERMINATED_LATER_IS_LAST=ok`,
    `BAD$KEY=${canary}`,
    `${canary} with spaces=1`,
    `${canary}`,
    `REQ=${canary}\${NEED:?${canary}}`,
    `INVALID=${canary}\${ ${canary}}`,
    `DQ="${canary}\${MISSING?${canary}} \${oops!}"`,
    `SECRET_REF=\${GOOD:?never}\${X:?\${GOOD}}`,
    `Q="${canary}`,
  ].join('\n');
  const r = parseDotenv(text, none);
  assert.ok(r.problems.length >= 6, `expected problems, got ${JSON.stringify(r.problems)}`);
  for (const p of r.problems) {
    assert.ok(!p.message.includes(canary), `canary leaked: ${p.message}`);
    assert.ok(!p.message.includes('CANARY'), `part of the canary leaked: ${p.message}`);
  }
  assert.equal(r.values.GOOD, canary);
});

test('variables used above the line that sets them are told apart from variables set nowhere', () => {
  const r = parseDotenv('A=${B}\nB=${A}\nC=${C}\nD=${NOWHERE}\nE=${A}x\n', () => undefined);
  assert.deepEqual(r.forward, [
    { line: 1, key: 'A', variable: 'B', setAt: 2 },
    { line: 3, key: 'C', variable: 'C', setAt: 3 },
  ]);
  assert.deepEqual(r.unset, [{ line: 4, variable: 'NOWHERE' }]);
  // B=${A} read A, set above it (empty): no problem of its own.
  assert.equal(r.values.E, 'x');
});
