/**
 * The shell commands of the proxy and its certificates, as data (tested as exact lines).
 * Only the steps run them, through a transport.
 */
import { and, cmd, quiet, raw, render, type Command } from '../shell/command.js';
import type { AcmeDef } from '../model/fleet.js';
import { ACME_CA_PATH, ACME_WEBROOT, certificateName, certificatePaths, PREVIOUS_DIR } from './names.js';

/** A command as the runbook shows it. */
export const shown = (c: Command, sudo: boolean): string => `${sudo ? 'sudo ' : ''}${render(c)}`;

/** Days a certificate must still be valid for before Ferry leaves it alone (certbot renews at 30 too). */
export const RENEW_DAYS = 30;

export const nginxVersionCommand: Command = cmd('nginx', '-v');
export const nginxTestCommand: Command = cmd('nginx', '-t');

// `[ -d /run/systemd/system ]`: whether systemd runs the host (a container without it has
// `systemctl` but no `/run/systemd/system`).

/** Reload through systemd when it runs the host, else signal nginx. */
export const reloadNginxCommand: Command = raw`if [ -d /run/systemd/system ]; then systemctl reload nginx; else nginx -s reload; fi`;
/** The same, as text for the renewal hook. */
export const RELOAD_NGINX_TEXT = render(reloadNginxCommand);

/**
 * The pids of nginx's workers that accept requests: not those `shutting down` after a
 * reload (`[n]` keeps the shell running pgrep from matching itself; ` *$` allows the
 * padding of the process title).
 */
export const workersCommand: Command = quiet(cmd('pgrep', '-f', '[n]ginx: worker process *$'));

export const nginxActiveCommand: Command = raw`if [ -d /run/systemd/system ]; then systemctl is-active --quiet nginx; else pgrep -x nginx >/dev/null; fi`;
export const startNginxCommand: Command = raw`if [ -d /run/systemd/system ]; then systemctl enable --now nginx; else nginx; fi`;
export const installNginxCommand: Command = and(
  cmd('apt-get', 'update', '-qq'),
  cmd('env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'nginx'),
);

export const existsCommand = (path: string): Command => cmd('test', '-e', path);
export const mkdirCommand = (path: string, mode = '755'): Command => cmd('mkdir', '-p', '-m', mode, path);
export const rmdirCommand = (path: string): Command => quiet(cmd('rmdir', path));
/** Keeps a copy of `path` (mode, owner and times too) at `copy`, in PREVIOUS_DIR, for a rollback. */
export const keepCopyCommand = (path: string, copy: string): Command =>
  and(mkdirCommand(PREVIOUS_DIR, '700'), cmd('cp', '-p', path, copy));

/** Domains (one per line, `DNS:` names of subjectAltName) and the end date, or a failure when there is no certificate. */
export const readCertificateCommand = (stack: string): Command =>
  cmd('openssl', 'x509', '-in', certificatePaths(stack).fullchain, '-noout', '-enddate', '-ext', 'subjectAltName');
/** Exit 0 when the certificate is still valid in `days` days. */
export const checkEndCommand = (stack: string, days = RENEW_DAYS): Command =>
  quiet(cmd('openssl', 'x509', '-in', certificatePaths(stack).fullchain, '-noout', '-checkend', String(days * 86_400)));
/** The `server = URL` line of the lineage's renewal configuration: the CA it came from. */
export const renewalServerCommand = (stack: string): Command =>
  quiet(cmd('grep', '-E', '^server *=', certificatePaths(stack).renewal));

export interface CertbotOptions {
  stack: string;
  domains: string[];
  acme: AcmeDef;
  /** The CA bundle was uploaded to ACME_CA_PATH: certbot must trust it. */
  caBundle: boolean;
  /** Replace a lineage that is not due for renewal (it came from another CA). */
  force?: boolean;
}

export function certbotCommand(o: CertbotOptions): Command {
  const env = o.caBundle ? ['env', `REQUESTS_CA_BUNDLE=${ACME_CA_PATH}`] : [];
  return cmd(
    ...env,
    'certbot',
    'certonly',
    '--webroot',
    '-w',
    ACME_WEBROOT,
    '--cert-name',
    certificateName(o.stack),
    ...o.domains.flatMap((d) => ['-d', d]),
    '--non-interactive',
    '--agree-tos',
    '-m',
    o.acme.email,
    ...(o.acme.directory ? ['--server', o.acme.directory] : []),
    ...(o.force ? ['--force-renewal'] : []),
  );
}

export const deleteCertificateCommand = (stack: string): Command =>
  cmd('certbot', 'delete', '--cert-name', certificateName(stack), '--non-interactive');

export const daemonReloadCommand: Command = raw`if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi`;
export const timerStateCommand: Command = raw`if [ -d /run/systemd/system ]; then echo "$(systemctl is-enabled certbot.timer 2>/dev/null) $(systemctl is-active certbot.timer 2>/dev/null)"; else echo no-systemd; fi`;
export const enableTimerCommand: Command = cmd('systemctl', 'enable', '--now', 'certbot.timer');
export const disableTimerCommand: Command = cmd('systemctl', 'disable', '--now', 'certbot.timer');

/** The deploy hook certbot runs after a renewal: nginx picks up the new certificate. */
export const RENEW_HOOK = `#!/bin/sh\n# Ferry: reload nginx after certbot renewed a certificate, unless its configuration is broken.\nnginx -t -q && { ${RELOAD_NGINX_TEXT}; }\n`;

/** A systemd drop-in: certbot.service (run by certbot.timer) trusts the fleet's ACME CA bundle. */
export const CERTBOT_DROPIN = `# Ferry: certbot renewals trust the ACME CA bundle of the fleet.\n[Service]\nEnvironment=REQUESTS_CA_BUNDLE=${ACME_CA_PATH}\n`;
