/**
 * Which earlier binding first covers any port of a range, per protocol and bind address,
 * in O(log ports) per binding: a segment tree over the 65,536 ports (nodes made only
 * where used), kept for each address and for the families that wildcards cover. Checking
 * every binding against every earlier one made `port-conflict` quadratic in services.
 */
import { isAllInterfaces } from './addresses.js';

const TOP = 65535;

/** The lowest index of the ranges added that covers some port in a range. */
class PortTree {
  /** Per node (heap numbering): the lowest index covering the whole node, and anywhere below it. */
  private readonly cover = new Map<number, number>();
  private readonly below = new Map<number, number>();

  add(lo: number, hi: number, index: number, node = 1, l = 0, r = TOP): void {
    if (hi < l || r < lo) return;
    this.below.set(node, Math.min(this.below.get(node) ?? Infinity, index));
    if (lo <= l && r <= hi) {
      this.cover.set(node, Math.min(this.cover.get(node) ?? Infinity, index));
      return;
    }
    const m = (l + r) >> 1;
    this.add(lo, hi, index, 2 * node, l, m);
    this.add(lo, hi, index, 2 * node + 1, m + 1, r);
  }

  first(lo: number, hi: number, node = 1, l = 0, r = TOP): number {
    if (hi < l || r < lo || !this.below.has(node)) return Infinity;
    const covering = this.cover.get(node) ?? Infinity;
    if (lo <= l && r <= hi) return Math.min(covering, this.below.get(node)!);
    const m = (l + r) >> 1;
    return Math.min(covering, this.first(lo, hi, 2 * node, l, m), this.first(lo, hi, 2 * node + 1, m + 1, r));
  }
}

/** A bind address by what it covers: every interface of both families, of one, or itself. */
function classOf(ip: string | undefined): { family: 'any' | '4' | '6'; wildcard: boolean; address: string } {
  const bare = (ip ?? '').replace(/^\[|\]$/g, '').toLowerCase();
  const family = ip === undefined || ip === '' || ip === '*' ? 'any' : bare.includes(':') ? '6' : '4';
  return { family, wildcard: isAllInterfaces(ip), address: bare };
}

/**
 * Bindings added in order; `firstOverlap` names the earliest added one that would collide
 * with a new binding (same protocol, overlapping ports, addresses that overlap as
 * `addressesOverlap` says).
 */
export class PortBindings {
  private readonly trees = new Map<string, PortTree>();

  private tree(key: string): PortTree {
    let t = this.trees.get(key);
    if (!t) this.trees.set(key, (t = new PortTree()));
    return t;
  }

  /** Index of the earliest binding added that collides with this one, or undefined. */
  firstOverlap(protocol: string, ip: string | undefined, lo: number, hi: number): number | undefined {
    const c = classOf(ip);
    // A wildcard of both families meets everything; of one family, all of that family and
    // the dual wildcards; an address, the wildcards that cover it and itself.
    const keys =
      c.family === 'any'
        ? ['all']
        : c.wildcard
          ? ['wild:any', `all:${c.family}`]
          : ['wild:any', `wild:${c.family}`, `ip:${c.address}`];
    const found = Math.min(...keys.map((k) => this.trees.get(`${protocol}/${k}`)?.first(lo, hi) ?? Infinity));
    return Number.isFinite(found) ? found : undefined;
  }

  add(protocol: string, ip: string | undefined, lo: number, hi: number, index: number): void {
    const c = classOf(ip);
    const keys = ['all', c.family === 'any' ? 'wild:any' : `all:${c.family}`];
    if (c.family !== 'any') keys.push(c.wildcard ? `wild:${c.family}` : `ip:${c.address}`);
    for (const k of keys) this.tree(`${protocol}/${k}`).add(lo, hi, index);
  }
}
