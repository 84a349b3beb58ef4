/** The images a stack's services run, and their ids on this machine (for pushed images). */
import { imageIds } from '../engine/steps/images.js';
import type { Service } from '../model/compose.js';
import type { Transport } from '../transport/transport.js';

/** Images the stack runs, by name, once each. */
export const stackImages = (services: Service[]): string[] => [
  ...new Set(services.filter((s) => s.image && s.replicas > 0).map((s) => s.image!)),
];

/** Local image ids, so that a rebuilt image under the same tag makes a new release. */
export async function localImageIds(local: Transport, images: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [img, id] of await imageIds(local, images, false)) if (id) out[img] = id;
  return out;
}
