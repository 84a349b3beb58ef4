/** blackbox.yml: the probe modules prometheus.yml names (HTTP 2xx for sites, the SSH banner for servers). */
import { renderYaml } from './yaml.js';

export function renderBlackbox(): string {
  return renderYaml({
    modules: {
      http_2xx: {
        prober: 'http',
        timeout: '10s',
        http: { preferred_ip_protocol: 'ip4', follow_redirects: true },
      },
      ssh_banner: {
        prober: 'tcp',
        timeout: '5s',
        tcp: { preferred_ip_protocol: 'ip4', query_response: [{ expect: '^SSH-2.0-' }] },
      },
    },
  });
}
