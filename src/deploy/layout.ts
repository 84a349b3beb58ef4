/**
 * Where a stack lives on its server. Every deploy is a release directory named by the
 * hash of what it holds; `current` points at the one that runs; `shared` holds the data
 * that relative bind mounts name, so that it outlives releases.
 *
 *   /srv/ferry/STACK/releases/ID/...   compose files, env files (600), mounted files (644), secrets and configs (444), in a directory of mode 700
 *   /srv/ferry/STACK/current -> releases/ID
 *   /srv/ferry/STACK/shared/...        data of relative bind mounts
 *   /srv/ferry/STACK/history           one line per switch: "ISO-TIME ID"
 */
export const ROOT = '/srv/ferry';

export const stackDir = (stack: string): string => `${ROOT}/${stack}`;
export const releasesDir = (stack: string): string => `${stackDir(stack)}/releases`;
export const releaseDir = (stack: string, id: string): string => `${releasesDir(stack)}/${id}`;
export const currentLink = (stack: string): string => `${stackDir(stack)}/current`;
export const sharedDir = (stack: string): string => `${stackDir(stack)}/shared`;
export const historyFile = (stack: string): string => `${stackDir(stack)}/history`;
