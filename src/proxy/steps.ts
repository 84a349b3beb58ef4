/**
 * The steps that put nginx in front of a stack on its server, and (with `tls: acme`) get,
 * serve and renew its certificate. In order: nginx, the ACME webroot, the upstreams file,
 * the site (HTTP only until the certificate exists), the CA bundle and certbot's drop-in
 * (when the fleet names a test CA), the certificate, the renewal hook and timer, and the
 * site again with the certificate: the first apply ends serving HTTPS and redirecting
 * HTTP, and a second apply finds nothing to change.
 */
import { INPUT_LIMITS, readInput } from '../core/files.js';
import { posix } from 'node:path';
import { StepError } from '../engine/errors.js';
import type { Step, StepContext } from '../engine/step.js';
import type { Command } from '../shell/command.js';
import { fileStep } from '../engine/steps/file.js';
import type { AcmeDef, StackDef } from '../model/fleet.js';
import { CERTBOT_DROPIN, daemonReloadCommand, existsCommand, mkdirCommand, RENEW_HOOK } from './commands.js';
import { certificateStep } from './certificate.js';
import { nginxStep, renewalTimerStep, webrootStep } from './host-steps.js';
import {
  ACME_CA_PATH,
  CERTBOT_DROPIN_PATH,
  certificatePaths,
  RENEW_HOOK_PATH,
  sitePath,
  upstreamsPath,
} from './names.js';
import { nginxFileStep } from './nginx-file.js';
import { renderSite } from './render-site.js';
import { renderUpstreams } from './render-upstreams.js';
import { around } from './step-kit.js';

export { nginxFileStep, writeNginxFile } from './nginx-file.js';

export interface ProxyStepsOptions {
  /** Without `proxy`, there is nothing to do: no steps. */
  stack: StackDef;
  host: string;
  sudo?: boolean;
  /** The fleet's `acme`; required when the proxy's tls is `acme`. */
  acme?: AcmeDef;
  /** Container addresses (`172.20.0.3:8000`) per upstream name, asked at check time. */
  upstreams: (ctx: StepContext) => Promise<Record<string, string[]>>;
  dependsOn: string[];
}

/** Whether the stack's certificate and key are on the host. */
async function hasCertificate(ctx: StepContext, stack: string, sudo: boolean): Promise<boolean> {
  const p = certificatePaths(stack);
  for (const path of [p.fullchain, p.privkey])
    if ((await ctx.transport.exec(existsCommand(path), { sudo })).code !== 0) return false;
  return true;
}

function readBundle(path: string): string {
  const read = readInput(path, path, INPUT_LIMITS.small);
  if (read.problem)
    throw new StepError(
      'acme-ca-unreadable',
      `acme.ca_bundle: ${read.problem.message}`,
      'Fix `acme.ca_bundle` in ferry.yml: a PEM file on this machine, relative to ferry.yml.',
      path,
    );
  return read.bytes.toString('utf8');
}

export function proxySteps(o: ProxyStepsOptions): Step[] {
  const proxy = o.stack.proxy;
  if (!proxy) return [];
  const stack = o.stack.name;
  const sudo = o.sudo ?? false;
  const id = (name: string) => `${stack}/proxy/${name}`;
  const base = { host: o.host, sudo };
  const acme = proxy.tls === 'acme' ? o.acme : undefined;
  if (proxy.tls === 'acme' && !acme) {
    throw new StepError(
      'acme-missing',
      `stack ${stack} has proxy.tls acme but the fleet has no top-level \`acme\``,
      'Add `acme: { email: you@example.com }` to ferry.yml, or set `proxy.tls: none` for HTTP only.',
    );
  }
  return [
    nginxStep({ ...base, id: id('nginx'), dependsOn: o.dependsOn }),
    webrootStep({ ...base, id: id('webroot'), dependsOn: [id('nginx')] }),
    nginxFileStep({
      ...base,
      id: id('upstreams'),
      path: upstreamsPath(stack),
      dependsOn: [id('nginx')],
      title: `nginx upstreams of ${stack}`,
      purpose: `Write the upstreams of ${stack} (one per routed service port, listing its containers' addresses) to ${upstreamsPath(stack)}`,
      content: async (ctx) => renderUpstreams(stack, proxy.routes, await o.upstreams(ctx)),
    }),
    nginxFileStep({
      ...base,
      id: id('site'),
      path: sitePath(stack),
      dependsOn: [id('upstreams'), id('webroot')],
      title: `nginx site of ${stack} (${proxy.domains.join(', ')})`,
      purpose: `Write the nginx site of ${stack} for ${proxy.domains.join(', ')} to ${sitePath(stack)}: ${acme ? 'HTTPS with the certificate when it is already on the host, else HTTP (the certificate step needs port 80 to answer the CA)' : 'HTTP only (tls: none)'}`,
      content: async (ctx) =>
        renderSite(stack, proxy, { certificate: acme !== undefined && (await hasCertificate(ctx, stack, sudo)) }),
    }),
    ...(acme ? acmeSteps(o, acme, id) : []),
  ];
}

/** A file of the ACME setup, in the `proxy` phase, with its directory made first (and `after` run). */
function acmeFile(
  o: ProxyStepsOptions,
  f: { id: string; path: string; content: string; mode: number; dependsOn: string[]; after?: Command[] },
): Step {
  const sudo = o.sudo ?? false;
  const { after, ...file } = f;
  return around(fileStep({ ...file, host: o.host, sudo, phase: 'proxy' }), {
    sudo,
    before: [mkdirCommand(posix.dirname(f.path))],
    ...(after ? { after } : {}),
  });
}

/** The CA bundle and certbot's drop-in (with a test CA), the certificate, the renewal hook and timer, the HTTPS site. */
function acmeSteps(o: ProxyStepsOptions, acme: AcmeDef, id: (name: string) => string): Step[] {
  const proxy = o.stack.proxy!;
  const stack = o.stack.name;
  const sudo = o.sudo ?? false;
  const base = { host: o.host, sudo };
  const bundle = acme.caBundle !== undefined ? readBundle(acme.caBundle) : undefined;
  const ca = bundle !== undefined ? [id('acme-ca'), id('certbot-env')] : [];
  const trust: Step[] =
    bundle === undefined
      ? []
      : [
          acmeFile(o, { id: id('acme-ca'), path: ACME_CA_PATH, content: bundle, mode: 0o644, dependsOn: o.dependsOn }),
          acmeFile(o, {
            id: id('certbot-env'),
            path: CERTBOT_DROPIN_PATH,
            content: CERTBOT_DROPIN,
            mode: 0o644,
            dependsOn: [id('acme-ca')],
            after: [daemonReloadCommand],
          }),
        ];
  return [
    ...trust,
    certificateStep({
      ...base,
      id: id('certificate'),
      stack,
      domains: proxy.domains,
      acme,
      caBundle: bundle !== undefined,
      dependsOn: [id('site'), ...ca],
    }),
    acmeFile(o, {
      id: id('renew-hook'),
      path: RENEW_HOOK_PATH,
      content: RENEW_HOOK,
      mode: 0o755,
      dependsOn: [id('nginx')],
    }),
    renewalTimerStep({ ...base, id: id('renew-timer'), dependsOn: [id('renew-hook'), ...ca] }),
    nginxFileStep({
      ...base,
      id: id('site-tls'),
      path: sitePath(stack),
      dependsOn: [id('certificate'), id('renew-timer')],
      title: `nginx site of ${stack} with HTTPS`,
      purpose: `Write the nginx site of ${stack} with its certificate to ${sitePath(stack)}: HTTPS on 443${proxy.hsts ? ' with HSTS' : ''}, HTTP redirected to HTTPS except ACME challenges`,
      content: renderSite(stack, proxy, { certificate: true }),
    }),
  ];
}
