/**
 * Every code a user can meet, besides the steps' own (`tools/codes.ts`): one list per
 * kind, so that a code is a word to look up in docs/errors.md (a test holds the lists and
 * the document together), not a string made up at the call site. `finding()` and
 * `FerryError` take only these.
 */
import type { StepErrorCode } from '../tools/codes.js';

/** The hardening audit's codes (`check --live`): one a control a server fails, in the order they are judged. */
export const HARDENING_AUDIT_CODES = [
  'ssh-password-login',
  'ssh-root-login',
  'firewall-off',
  'published-port-open',
  'no-fail2ban',
  'fail2ban-wrong-port',
  'no-swap',
  'no-auto-upgrades',
  'pending-security-updates',
] as const;

/** Codes of findings: about the input files (loading), the checks' rules, and the servers read live. */
export const FINDING_CODES = [
  // Reading and loading the files.
  'yaml-syntax',
  'schema',
  'missing-file',
  'file-unreadable',
  'file-too-large',
  'missing-variable',
  'unset-variable',
  'invalid-interpolation',
  'env-forward-reference',
  'extends-cycle',
  'extends-too-deep',
  'include-cycle',
  'include-conflict',
  'invalid-project-name',
  'unknown-reference',
  'placement-same-server',
  // The checks.
  'dependency-cycle',
  'port-conflict',
  'project-conflict',
  'capacity',
  'connection-budget',
  'exposed-port',
  'plaintext-secret',
  'floating-tag',
  'invalid-image',
  'no-memory-limit',
  'no-healthcheck',
  'no-restart-policy',
  'host-gateway-missing',
  'container-name-with-replicas',
  'stateful-without-volume',
  'proxy-route',
  'proxy-published-port',
  // Against the servers (--live).
  'port-in-use',
  'certificate-expiry',
  'disk-usage',
  'backup-age',
  'state-dir-unwritable',
  // The hardening audit (--live).
  ...HARDENING_AUDIT_CODES,
  // Planning a deploy or a migration.
  'outside-project',
  'build-context-missing',
  'build-context-unsupported',
  'build-option-unsupported',
  'build-image-unnamed',
  'tune-not-postgres',
  'tune-memory-unknown',
  'tune-command-unreadable',
  'unknown-service',
  'placement-routed',
  'placement-port-unknown',
  'placement-no-address',
  'host-postgres-no-address',
  'server-postgres-invalid',
  'placement-shared-volume',
  // Monitoring (`monitoring` in ferry.yml).
  'monitoring-secret-missing',
  'monitoring-secret-unusable',
  // DNS of a stack's domains, judged before a migration.
  'dns-lookup-failed',
  'dns-hook-missing',
  'dns-not-found',
  'dns-at-source',
  'dns-at-target',
  'dns-points-elsewhere',
  'dns-no-target-address',
  'dns-hook-wrong-record',
  'dns-ttl-high',
  'dns-ttl-over-max',
  'dns-ttl-over-wait',
] as const;

/** Codes of errors the command line reports about itself, the plans and the local state. */
export const COMMAND_CODES = [
  'usage',
  'check-failed',
  'plan-check-failed',
  'plan-stale',
  'plan-invalid',
  'saved-plan-invalid',
  'file-unwritable',
  'declined',
  'lock-held',
  'nothing-to-resume',
  'rollback-stopped',
  'rollback-incomplete',
  'target-writes-discarded',
  'run-not-found',
  'journal-unreadable',
  'journal-too-new',
  'state-dir-unwritable',
  'output-failed',
  'no-result',
  'input-invalid',
  'backup-not-configured',
  'backup-password-unreadable',
  'backup-source-unknown',
  'backup-source-unsupported',
  'recover-no-offsite',
  'watch-not-installed',
  'internal',
] as const;

/** Failures of reaching or using a host. */
export const TRANSPORT_ERROR_CODES = [
  'host-unreachable',
  'connect-timeout',
  'auth-failed',
  'host-key-unknown',
  'host-key-changed',
  'sudo-missing',
  'command-timeout',
  'command-failed',
  'connection-lost',
  'ssh-config',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

const FINDINGS = new Set<string>(FINDING_CODES);
export const isFindingCode = (code: string): code is FindingCode => FINDINGS.has(code);
export type CommandCode = (typeof COMMAND_CODES)[number];
export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number];
/** What an error a user sees may be coded: a finding's code is also one (the first error of an input). */
export type ErrorCode = FindingCode | CommandCode | TransportErrorCode | StepErrorCode;
