/**
 * A stack's certificate from the fleet's ACME CA, with certbot's webroot method: the CA
 * fetches its HTTP-01 token from nginx on port 80 (the site serves the webroot). Nothing
 * changes while the certificate covers exactly the stack's domains, came from the same
 * CA and is valid for more than 30 days.
 */
import type { Step, StepContext } from '../engine/step.js';
import type { AcmeDef } from '../model/fleet.js';
import { runTool } from '../tools/run.js';
import {
  certbotCommand,
  checkEndCommand,
  deleteCertificateCommand,
  existsCommand,
  readCertificateCommand,
  RENEW_DAYS,
  renewalServerCommand,
  shown,
} from './commands.js';
import { doing, expectProxyOk } from './failures.js';
import { certificateName, certificatePaths, LETS_ENCRYPT_DIRECTORY } from './names.js';
import { inspectedStep } from './step-kit.js';

/** How long certbot may take to get a certificate (the CA validates every domain over HTTP). */
export const CERTBOT_TIMEOUT_MS = 10 * 60_000;

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
export async function certificateState(ctx: StepContext, stack: string, sudo: boolean): Promise<CertificateState> {
  if ((await ctx.transport.exec(existsCommand(certificatePaths(stack).fullchain), { sudo })).code !== 0)
    return { exists: false };
  // openssl has no classifier: a certificate it cannot read is the transport's `command-failed`.
  const read = await ctx.transport.exec(readCertificateCommand(stack), { sudo, check: true });
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

/** What the certificate step's check saw. */
export interface CertificateObserved {
  /** The lineage existed before the step's first apply (on `--resume`, as the resumed run saw it). */
  existed: boolean;
  /** certbot must replace a lineage that is not due for renewal (it came from another CA). */
  force: boolean;
}

function priorExisted(prior: unknown): boolean | undefined {
  const existed = (prior as Partial<CertificateObserved> | undefined)?.existed;
  return typeof existed === 'boolean' ? existed : undefined;
}

export function certificateStep(o: CertificateStepOptions): Step<CertificateObserved> {
  const directory = o.acme.directory ?? LETS_ENCRYPT_DIRECTORY;
  const command = (force: boolean) =>
    certbotCommand({ stack: o.stack, domains: o.domains, acme: o.acme, caBundle: o.caBundle, force });
  const paths = certificatePaths(o.stack);
  const lineageExists = async (ctx: StepContext) =>
    (await ctx.transport.exec(existsCommand(paths.fullchain), { sudo: o.sudo })).code === 0;
  return inspectedStep<CertificateObserved>({
    id: o.id,
    host: o.host,
    title: `certificate ${certificateName(o.stack)} for ${o.domains.join(', ')}`,
    dependsOn: o.dependsOn,
    doc: {
      purpose: `Get a certificate for ${o.domains.join(', ')} from ${directory} with certbot's webroot method (the CA fetches its token from nginx on port 80), stored as certbot lineage "${certificateName(o.stack)}" (${paths.fullchain}). Nothing is done while the certificate covers exactly these domains, came from this CA and is valid for more than ${RENEW_DAYS} days. certbot is given at most ${CERTBOT_TIMEOUT_MS / 60_000} minutes.`,
      commands: [
        existsCommand(paths.fullchain),
        readCertificateCommand(o.stack),
        checkEndCommand(o.stack),
        renewalServerCommand(o.stack),
        command(false),
      ].map((c) => shown(c, o.sudo)),
      verify: `openssl shows a certificate at ${paths.fullchain} whose subjectAltName lists exactly ${o.domains.join(', ')}, valid for more than ${RENEW_DAYS} days.`,
      undo: `A certificate that did not exist before and exists now is deleted (${shown(deleteCertificateCommand(o.stack), o.sudo)}); a renewed one stays (the previous one is kept in /etc/letsencrypt/archive/).`,
    },
    async inspect(ctx) {
      const state = await certificateState(ctx, o.stack, o.sudo);
      const problem = certificateProblem(state, o.domains, directory);
      const observed = { existed: priorExisted(ctx.prior) ?? state.exists, force: problem?.force ?? false };
      return { summary: problem?.summary, observed };
    },
    async apply(ctx, observed) {
      const r = await ctx.transport.exec(command(observed.force), { sudo: o.sudo, timeoutMs: CERTBOT_TIMEOUT_MS });
      expectProxyOk(
        'certbot',
        r,
        doing(ctx, o.host, `getting a certificate for ${o.domains.join(', ')} from ${directory}`),
        {
          code: 'acme-failed',
          hint: `Each domain must resolve to ${o.host} and its port 80 must be reachable from the CA (nginx serves /.well-known/acme-challenge/ there); certbot's log on the host is /var/log/letsencrypt/letsencrypt.log.`,
        },
      );
    },
    async rollback(ctx, observed) {
      // After a partial apply or a kill too: only a lineage this step made, and only if it is there.
      if (observed.existed || !(await lineageExists(ctx))) return;
      await runTool(ctx, 'certbot', deleteCertificateCommand(o.stack), {
        what: `deleting the new certificate ${certificateName(o.stack)}`,
        sudo: o.sudo,
      });
    },
  });
}
