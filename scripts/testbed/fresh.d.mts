// Types of fresh.mjs for the TypeScript tests that import it.
import type { TestbedHost } from './lib.mjs';

export const FRESH: string;
/** Creates (or recreates) the fresh host PREFIXfresh-NAME (Debian 13, FRESH_IMAGE), booted and reachable by key as root; its own known_hosts. */
export function createFreshHost(name: string): Promise<TestbedHost>;
/** Removes it (container, volume, files), if there. */
export function removeFreshHost(name: string): Promise<void>;
