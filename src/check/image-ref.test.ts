import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageProblem } from './image-ref.js';

test('references Docker accepts', () => {
  for (const ref of [
    'nginx',
    'nginx:1.27',
    'postgres:16.4-alpine',
    'library/redis:7',
    'ghcr.io/acme/api:1.2',
    'localhost:5000/team/app_v2:latest',
    'registry.example.com:443/a/b/c@sha256:' + 'a'.repeat(64),
    'nginx:1.27@sha256:' + 'b'.repeat(64),
    '[::1]:5000/app:1',
    'a--b__c.d:TAG_1.2',
  ])
    assert.equal(imageProblem(ref), undefined, ref);
});

test('references Docker refuses, each with its reason', () => {
  const cases: [string, RegExp][] = [
    ['nginx:1.27 ; rm -rf /', /contains a space/],
    ['nginx;id', /not a valid reference/],
    ['MyApp:1', /capital letters/],
    ['acme/App:1', /capital letters/],
    ['', /is empty/],
    ['nginx:', /not a valid reference/],
    ['/app:1', /not a valid reference/],
    ['app:tag:more', /not a valid reference/],
    ['x'.repeat(300), /name longer than 255/],
    ['x'.repeat(600), /600 characters long/],
  ];
  for (const [ref, reason] of cases) assert.match(imageProblem(ref) ?? 'accepted', reason, ref);
});
