/**
 * What to offer the server: the ssh-agent first (when SSH_AUTH_SOCK is set), then each
 * readable, unencrypted key file. Missing files are skipped as OpenSSH skips them; an
 * encrypted key can only be used through the agent.
 */
import { INPUT_LIMITS, readInput } from '../../core/files.js';
import ssh2, { type AnyAuthMethod } from 'ssh2';
import { TransportError } from '../transport.js';
import { describeEndpoint, type Endpoint } from './target.js';

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** What is offered, for messages: `ssh-agent`, key paths. */
  offered: string[];
}

export async function authPlan(name: string, endpoint: Endpoint, agentSocket: string | undefined): Promise<AuthPlan> {
  const plan: AuthPlan = { methods: [], offered: [] };
  if (agentSocket) {
    plan.methods.push({ type: 'agent', username: endpoint.user, agent: agentSocket });
    plan.offered.push('ssh-agent');
  }
  const skipped: string[] = [];
  for (const path of endpoint.identityFiles) {
    const key = await readKey(path);
    if (key === undefined) continue;
    if (key instanceof Error) {
      skipped.push(`${path} (${key.message})`);
      continue;
    }
    plan.methods.push({ type: 'publickey', username: endpoint.user, key });
    plan.offered.push(path);
  }
  if (plan.methods.length === 0) {
    const tried = endpoint.identityFiles.join(', ');
    throw new TransportError(
      'auth-failed',
      name,
      `${name}: no key to offer ${describeEndpoint(endpoint)}: SSH_AUTH_SOCK is not set and no usable key among ${tried}${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`,
      'name an unencrypted private key with `identity_file:` for the server in ferry.yml (or `-i KEY`), or load the key into ssh-agent (`ssh-add`) and export SSH_AUTH_SOCK',
    );
  }
  return plan;
}

async function readKey(path: string): Promise<Buffer | Error | undefined> {
  const read = readInput(path, path, INPUT_LIMITS.small);
  if (read.problem) return read.problem.code === 'missing-file' ? undefined : new Error(read.problem.reason);
  const data = read.bytes;
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error)
    return new Error(/encrypted|passphrase/i.test(parsed.message) ? 'encrypted' : parsed.message);
  return data;
}
