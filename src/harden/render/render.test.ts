/**
 * The hardening renderers against the golden files in test/golden/harden/, byte for byte.
 * `UPDATE_GOLDEN=1` rewrites them after a deliberate change; review the diff before
 * committing (test/e2e/harden.test.ts has the real tools judge every one of them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldenTests } from '../../render/test-helpers/golden.js';
import { GOLDEN_CASES } from '../test-cases.js';
import { chainRules } from './docker-user.js';
import { mergeDaemonJson } from './host-files.js';
import { addedLine, parseAddedLine, ruleWords, ufwChanges } from './ufw.js';

goldenTests('harden', GOLDEN_CASES);

test('ufw: the words of a rule, and the line `ufw show added` prints for it, both ways', () => {
  const open = { port: '8080', proto: 'tcp' as const, from: [], why: 'ferry.yml' };
  const from = { port: '6000:6010', proto: 'udp' as const, from: ['10.0.0.7'], why: 'shop/db' };
  assert.deepEqual(ruleWords(open), ['allow', '8080/tcp', 'comment', 'ferry-harden ferry.yml']);
  assert.deepEqual(ruleWords(from), [
    'allow',
    'proto',
    'udp',
    'from',
    '10.0.0.7',
    'to',
    'any',
    'port',
    '6000:6010',
    'comment',
    'ferry-harden shop/db',
  ]);
  assert.equal(addedLine(open), "ufw allow 8080/tcp comment 'ferry-harden ferry.yml'");
  assert.equal(
    addedLine(from),
    "ufw allow from 10.0.0.7 to any port 6000:6010 proto udp comment 'ferry-harden shop/db'",
  );
  assert.deepEqual(parseAddedLine(addedLine(open)), open);
  assert.deepEqual(parseAddedLine(addedLine(from)), from);
  assert.equal(parseAddedLine("ufw allow 22/tcp comment 'mine'"), undefined);
});

test("ufw: what to add and what to delete, leaving rules that are not Ferry's alone", () => {
  const ssh = { port: '2222', proto: 'tcp' as const, from: [], why: 'ssh' };
  const two = { port: '9100', proto: 'tcp' as const, from: ['10.0.0.7', '10.0.0.8'], why: 'ferry.yml' };
  const current = [
    "ufw allow 22/tcp comment 'ferry-harden ssh'",
    "ufw allow from 10.0.0.7 to any port 9100 proto tcp comment 'ferry-harden ferry.yml'",
  ];
  const { add, remove } = ufwChanges(current, [ssh, two]);
  assert.deepEqual(add.map(addedLine), [
    "ufw allow 2222/tcp comment 'ferry-harden ssh'",
    "ufw allow from 10.0.0.8 to any port 9100 proto tcp comment 'ferry-harden ferry.yml'",
  ]);
  assert.deepEqual(remove.map(addedLine), ["ufw allow 22/tcp comment 'ferry-harden ssh'"]);
});

test('DOCKER-USER: established and container traffic pass, opened ports pass (from their sources), every other DNAT is dropped', () => {
  assert.deepEqual(chainRules([{ port: '8080', proto: 'tcp', from: ['10.0.0.7', '10.1.0.0/16'], why: 'x' }]), [
    '-A FERRY-HARDEN -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
    '-A FERRY-HARDEN -i docker0 -j RETURN',
    '-A FERRY-HARDEN -i br-+ -j RETURN',
    '-A FERRY-HARDEN -s 10.0.0.7/32 -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j RETURN',
    '-A FERRY-HARDEN -s 10.1.0.0/16 -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -j RETURN',
    '-A FERRY-HARDEN -m conntrack --ctstate DNAT --ctdir ORIGINAL -j DROP',
  ]);
});

test("daemon.json: Ferry's keys set, others kept, another log driver left alone, and a file that is no object refused", () => {
  const d = { logMaxSize: '20m', logMaxFiles: 5, liveRestore: true };
  assert.deepEqual(JSON.parse(mergeDaemonJson(null, d)), {
    'log-driver': 'json-file',
    'log-opts': { 'max-size': '20m', 'max-file': '5' },
    'live-restore': true,
  });
  assert.deepEqual(JSON.parse(mergeDaemonJson('{"log-driver":"journald","debug":true}', d)), {
    'log-driver': 'journald',
    debug: true,
    'live-restore': true,
  });
  assert.throws(() => mergeDaemonJson('[1]', d), SyntaxError);
  assert.throws(() => mergeDaemonJson('{', d), SyntaxError);
});
