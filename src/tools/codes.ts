/**
 * Every code a step's error can carry: one list, so that a code is a word users can look
 * up (docs/checks.md, the runbook) and not a string made up at the call site.
 */
export const STEP_ERROR_CODES = [
  // One per tool, from src/tools/classify.ts.
  'docker-failed',
  'docker-unavailable',
  'compose-failed',
  'compose-missing',
  'psql-failed',
  'database-auth-failed',
  'database-not-running',
  'database-unreadable',
  'redis-failed',
  'redis-auth-failed',
  'redis-save-failed',
  'sync-failed',
  'acme-failed',
  'acme-missing',
  'acme-ca-unreadable',
  'systemctl-failed',
  'unit-missing',
  'nginx-config-invalid',
  'nginx-reload-failed',
  'permission-denied',
  'no-space',
  'container-missing',
  'command-not-found',
  // The engine's own.
  'step-host-undeclared',
  'verify-failed',
  'unexpected-output',
  // Deploy.
  'health-check-failed',
  'release-write-failed',
  'install-failed',
  'no-systemd',
  'firewall-failed',
  'image-save-failed',
  'image-pull-failed',
  'image-missing-locally',
  'image-load-failed',
  'volume-missing',
  'volume-create-failed',
  // Migrate.
  'preflight-failed',
  'target-not-empty',
  'channel-setup-failed',
  'channel-key-invalid',
  'channel-failed',
  'host-keys-unreadable',
  'tunnel-failed',
  'hold-failed',
  'dump-failed',
  'schema-copy-failed',
  'replication-failed',
  'replication-behind',
  'replicate-unsupported',
  'manifest-failed',
  'source-changed',
  'proof-lost',
  'not-moved',
  'rollback-impossible',
  'rollback-failed',
  'target-in-use',
  'source-in-use',
  'write-back-impossible',
  'write-back-failed',
  'dns-preflight-failed',
  'dns-hook-failed',
  'dns-lookup-failed',
  'dns-not-propagated',
  // DNS findings of severity error, raised by the cut-over's check.
  'dns-no-target-address',
  'dns-hook-wrong-record',
  'dns-ttl-over-max',
  'dns-ttl-over-wait',
  // Proxy.
  'nginx-install-failed',
  'nginx-start-failed',
] as const;

export type StepErrorCode = (typeof STEP_ERROR_CODES)[number];

const KNOWN = new Set<string>(STEP_ERROR_CODES);

/** Whether a finding's code is also a step error's (a finding raised as the error of a step). */
export const isStepErrorCode = (code: string): code is StepErrorCode => KNOWN.has(code);
