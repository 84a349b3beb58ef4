/** Where a server is reached, as the migration channels need it: the SSH transport's resolved endpoint (ssh config applied), else the fleet file's. */
import type { Endpoint } from '../migrate/channel.js';
import type { ServerDef } from '../model/fleet.js';
import type { Transport } from '../transport/transport.js';

export async function endpoint(t: Transport, s: ServerDef): Promise<Endpoint> {
  const resolved =
    'resolve' in t
      ? await (
          t as unknown as { resolve(): Promise<{ endpoint: { host: string; port: number; user: string } }> }
        ).resolve()
      : undefined;
  return {
    name: s.name,
    address: resolved?.endpoint.host ?? s.host,
    port: resolved?.endpoint.port ?? s.port ?? 22,
    user: resolved?.endpoint.user ?? s.user ?? 'root',
    sudo: s.sudo ?? false,
  };
}
