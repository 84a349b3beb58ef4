/** What live checks read: the fleet as loaded, and the facts read from each server that answered. */
import type { HostFacts } from '../../inventory/live/facts.js';
import type { LoadedFleet } from '../../model/loaded.js';
import type { Finding } from '../../core/finding.js';

export type LiveRule = (fleet: LoadedFleet, facts: ReadonlyMap<string, HostFacts>) => Finding[];

/** Days before expiry from which a certificate is reported. */
export const CERT_WARN_DAYS = 21;
/** Disk use (percent) from which a mount is reported; from `DISK_ERROR_PERCENT` it is an error. */
export const DISK_WARN_PERCENT = 80;
export const DISK_ERROR_PERCENT = 95;
