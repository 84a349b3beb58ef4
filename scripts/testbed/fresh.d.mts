// Types of fresh.mjs for the TypeScript tests that import it.
import type { TestbedHost } from './lib.mjs';

export const FRESH: string;
/** Creates (or recreates) the fresh host PREFIXfresh-NAME (Debian 13, FRESH_IMAGE; or the test bed's Debian 12 host image), booted and reachable by key as root; its own known_hosts. */
export function createFreshHost(name: string, os?: 'debian-13' | 'debian-12'): Promise<TestbedHost>;
/** Removes it (container, volume, files), if there. */
export function removeFreshHost(name: string): Promise<void>;
