/**
 * A stack's certificate from the fleet's ACME CA, with certbot's webroot method: the CA
 * fetches its HTTP-01 token from nginx on port 80 (the site serves the webroot). Nothing
 * changes while the certificate covers exactly the stack's domains, came from the same
 * CA and is valid for more than 30 days.
 */
import { StepError } from '../engine/errors.js';
import type { Step, StepContext } from '../engine/step.js';
import type { AcmeDef } from '../model/fleet.js';
import { commandFailed, stderrTail } from '../transport/ssh/errors.js';
import {
  certbotCommand,
  checkEndCommand,
  deleteCertificateCommand,
  existsCommand,
  readCertificateCommand,
  RENEW_DAYS,
  renewalServerCommand,
} from './commands.js';
import { certificateName, certificatePaths, LETS_ENCRYPT_DIRECTORY } from './names.js';
import { shown } from './nginx-file.js';
import { inspectedStep } from './step-kit.js';

export interface CertificateStepOptions {
  id: string;
  host: string;
  stack: string;
  domains: string[];
  acme: AcmeDef;
  /** The fleet's CA bundle was uploaded for certbot. */
  caBundle: boolean;
  sudo: boolean;
  dependsOn: string[];
}

export type CertificateState =
  { exists: false } | { exists: true; domains: string[]; notAfter: string; valid: boolean; server: string | undefined };

/** What the host has for the stack's lineage. Reads only. */
export async function certificateState(
  ctx: StepContext,
  host: string,
  stack: string,
  sudo: boolean,
): Promise<CertificateState> {
  if ((await ctx.transport.exec(existsCommand(certificatePaths(stack).fullchain), { sudo })).code !== 0)
    return { exists: false };
  const read = await ctx.transport.exec(readCertificateCommand(stack), { sudo });
  if (read.code !== 0) throw commandFailed(host, read.command, read.code, read.stderr, (t) => ctx.redactor.redact(t));
  const domains = [...read.stdout.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!);
  const notAfter = /notAfter=(.+)/.exec(read.stdout)?.[1]?.trim() ?? 'unknown';
  const valid = (await ctx.transport.exec(checkEndCommand(stack), { sudo })).code === 0;
  const server = /^server\s*=\s*(\S+)/m.exec(
    (await ctx.transport.exec(renewalServerCommand(stack), { sudo })).stdout,
  )?.[1];
  return { exists: true, domains, notAfter, valid, server };
}

const sameSet = (a: string[], b: string[]): boolean =>
  a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');

/** Why the certificate must be (re)issued, or undefined when it is fine. */
export function certificateProblem(
  s: CertificateState,
  domains: string[],
  directory: string,
): { summary: string; force: boolean } | undefined {
  if (!s.exists) return { summary: `issue a certificate for ${domains.join(', ')} from ${directory}`, force: false };
  if (!sameSet(s.domains, domains))
    return {
      summary: `replace the certificate: domains ${s.domains.join(', ') || '(none)'} -> ${domains.join(', ')}`,
      force: false,
    };
  if (s.server !== undefined && s.server !== directory)
    return { summary: `replace the certificate from ${s.server} with one from ${directory}`, force: true };
  if (!s.valid)
    return { summary: `renew the certificate: it expires within ${RENEW_DAYS} days (${s.notAfter})`, force: false };
  return undefined;
}

export function certificateStep(o: CertificateStepOptions): Step {
  const directory = o.acme.directory ?? LETS_ENCRYPT_DIRECTORY;
  const command = (force: boolean) =>
    certbotCommand({ stack: o.stack, domains: o.domains, acme: o.acme, caBundle: o.caBundle, force });
  let existed = true;
  let force = false;
  let issued = false;
  const paths = certificatePaths(o.stack);
  return inspectedStep({
    id: o.id,
    host: o.host,
    title: `certificate ${certificateName(o.stack)} for ${o.domains.join(', ')}`,
    dependsOn: o.dependsOn,
    doc: {
      purpose: `Get a certificate for ${o.domains.join(', ')} from ${directory} with certbot's webroot method (the CA fetches its token from nginx on port 80), stored as certbot lineage "${certificateName(o.stack)}" (${paths.fullchain}). Nothing is done while the certificate covers exactly these domains, came from this CA and is valid for more than ${RENEW_DAYS} days.`,
      commands: [
        readCertificateCommand(o.stack),
        checkEndCommand(o.stack),
        renewalServerCommand(o.stack),
        command(false),
      ].map((c) => shown(c, o.sudo)),
      verify: `openssl shows a certificate at ${paths.fullchain} whose subjectAltName lists exactly ${o.domains.join(', ')}, valid for more than ${RENEW_DAYS} days.`,
      undo: `A certificate that did not exist before is deleted (${shown(deleteCertificateCommand(o.stack), o.sudo)}); a renewed one stays (the previous one is kept in /etc/letsencrypt/archive/).`,
    },
    async inspect(ctx, stage) {
      const state = await certificateState(ctx, o.host, o.stack, o.sudo);
      const problem = certificateProblem(state, o.domains, directory);
      if (stage === 'check') {
        existed = state.exists;
        force = problem?.force ?? false;
        issued = false;
      }
      return problem?.summary;
    },
    async apply(ctx) {
      const r = await ctx.transport.exec(command(force), { sudo: o.sudo, timeoutMs: 10 * 60_000 });
      if (r.code !== 0) {
        throw new StepError(
          'acme-failed',
          ctx.redactor.redact(
            `${o.host}: certbot could not get a certificate for ${o.domains.join(', ')} from ${directory}:\n${stderrTail(r.stderr || r.stdout, 12)}`,
          ),
          `Each domain must resolve to ${o.host} and its port 80 must be reachable from the CA (nginx serves /.well-known/acme-challenge/ there); certbot's log on the host is /var/log/letsencrypt/letsencrypt.log.`,
        );
      }
      issued = true;
    },
    async rollback(ctx) {
      if (!issued || existed) return;
      await ctx.transport.exec(deleteCertificateCommand(o.stack), { sudo: o.sudo, check: true });
      issued = false;
    },
  });
}
