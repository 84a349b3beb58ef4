/**
 * Bind addresses, as compose files, `docker inspect` and `ss` write them: which ones
 * mean every interface, and whether two can collide on the same port.
 */

/** Every interface: of one family (`0.0.0.0`, `::`), or of both (no address, `*` as `ss` shows dual-stack sockets). */
const WILDCARDS = new Set(['', '*', '0.0.0.0', '::', '[::]']);

function family(ip: string | undefined): 'any' | 4 | 6 {
  if (ip === undefined || ip === '' || ip === '*') return 'any';
  return ip.includes(':') ? 6 : 4;
}

/** Whether an address (undefined = none given) listens on every interface. */
export function isAllInterfaces(ip: string | undefined): boolean {
  return ip === undefined || WILDCARDS.has(ip);
}

/** Whether two bind addresses can collide: wildcards cover their family (no address covers both). */
export function addressesOverlap(a: string | undefined, b: string | undefined): boolean {
  const fa = family(a);
  const fb = family(b);
  if (fa !== 'any' && fb !== 'any' && fa !== fb) return false;
  if (isAllInterfaces(a) || isAllInterfaces(b)) return true;
  return a!.replace(/^\[|\]$/g, '').toLowerCase() === b!.replace(/^\[|\]$/g, '').toLowerCase();
}
