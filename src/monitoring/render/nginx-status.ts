/**
 * nginx's stub_status for the nginx exporter of a server whose proxy is Ferry's nginx: a
 * server block of its own on loopback, read by the exporter on the host's network and by
 * nothing else. Pure.
 */
import { EXPORTER_PORTS } from '../targets.js';

/** Debian's nginx.conf includes `sites-enabled/*` inside `http {}`, as for the stacks' sites. */
export const NGINX_STATUS_PATH = '/etc/nginx/sites-enabled/ferry-status.conf';
/** Where the status page listens: loopback, a port of its own next to the exporter's. */
export const NGINX_STATUS_LISTEN = `127.0.0.1:${EXPORTER_PORTS.nginx + 67}`;
export const NGINX_STATUS_URI = `http://${NGINX_STATUS_LISTEN}/stub_status`;

export function renderNginxStatus(): string {
  return [
    "# Written by Ferry: nginx's counters for the monitoring's nginx exporter, on loopback only.",
    'server {',
    `    listen ${NGINX_STATUS_LISTEN};`,
    '    server_name ferry-status;',
    '    access_log off;',
    '    location = /stub_status {',
    '        stub_status;',
    '        allow 127.0.0.1;',
    '        deny all;',
    '    }',
    '    location / {',
    '        return 404;',
    '    }',
    '}',
    '',
  ].join('\n');
}
