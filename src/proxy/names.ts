/**
 * Where the proxy's files live on a server and what its nginx objects are called. One
 * place, so that the renderers, the steps, the deploy code and the docs agree.
 */

/** nginx names take letters, digits and `_`: everything else becomes `_`. */
const nginxName = (text: string): string => text.replace(/[^A-Za-z0-9_]/g, '_');

/** `ferry_<stack>_<service>_<port>`: the upstream of one service port. */
export const upstreamName = (stack: string, service: string, port: number): string =>
  nginxName(`ferry_${stack}_${service}_${port}`);

/** The limit_req zone of a stack's route (by its index in `proxy.routes`); zones are global to nginx. */
export const rateZoneName = (stack: string, route: number): string => nginxName(`ferry_${stack}_rate_${route}`);

/** The variable that maps `$http_upgrade` to a Connection header, one per stack (map variables are global). */
export const connectionVariable = (stack: string): string => `$${nginxName(`ferry_${stack}_connection`)}`;

/** Debian's nginx.conf includes `sites-enabled/*` inside `http {}`. */
export const sitePath = (stack: string): string => `/etc/nginx/sites-enabled/ferry-${stack}.conf`;

export const UPSTREAMS_DIR = '/etc/nginx/ferry';

/** Rewritten at every deploy (zero-downtime swaps); the site file includes it. */
export const upstreamsPath = (stack: string): string => `${UPSTREAMS_DIR}/${stack}.upstreams.conf`;

/**
 * Where an nginx file step keeps the file it replaced, for its rollback (even after a
 * kill): outside every directory nginx includes (a copy in sites-enabled/ would be loaded).
 */
export const PREVIOUS_DIR = `${UPSTREAMS_DIR}/previous`;

/** The copy kept by the step `stepId` (one per step: two steps may write the same file). */
export const previousCopyPath = (stepId: string): string => `${PREVIOUS_DIR}/${encodeURIComponent(stepId)}`;

/** certbot writes HTTP-01 tokens under `<webroot>/.well-known/acme-challenge/`, nginx serves them. */
export const ACME_WEBROOT = '/var/www/ferry-acme';

/** A stack's certificate is certbot's lineage named after the stack. */
export const certificateName = (stack: string): string => stack;

export interface CertificatePaths {
  fullchain: string;
  privkey: string;
  /** certbot's renewal configuration of the lineage (it records the CA's directory). */
  renewal: string;
}

export function certificatePaths(stack: string): CertificatePaths {
  const name = certificateName(stack);
  return {
    fullchain: `/etc/letsencrypt/live/${name}/fullchain.pem`,
    privkey: `/etc/letsencrypt/live/${name}/privkey.pem`,
    renewal: `/etc/letsencrypt/renewal/${name}.conf`,
  };
}

/** The fleet's `acme.ca_bundle`, uploaded for certbot to trust the directory. */
export const ACME_CA_PATH = '/etc/ferry/acme-ca.pem';

/** Gives certbot.service (the renewal timer's) the CA bundle too. */
export const CERTBOT_DROPIN_PATH = '/etc/systemd/system/certbot.service.d/ferry-acme.conf';

/** certbot runs every executable here after it renewed a certificate. */
export const RENEW_HOOK_PATH = '/etc/letsencrypt/renewal-hooks/deploy/ferry-nginx-reload';

/** Let's Encrypt's production directory: what certbot uses without `--server`. */
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
