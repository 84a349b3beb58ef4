/** Docker image references: `[registry[:port]/]path[:tag][@digest]`. */

export interface ImageRef {
  /** `ghcr.io`, `localhost:5000`; undefined for Docker Hub short names. */
  registry?: string;
  /** Repository path without registry, lower-cased, `library/` dropped: `postgres`, `bitnami/redis`. */
  repository: string;
  /** Last path component: `postgres`, `redis`. */
  name: string;
  /** Path before `name` (`bitnami`), undefined for official images. */
  namespace?: string;
  tag?: string;
  digest?: string;
}

export function parseImage(image: string): ImageRef {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  let registry: string | undefined;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  const repository = parts.join('/').toLowerCase();
  const name = (parts[parts.length - 1] ?? '').toLowerCase();
  const ref: ImageRef = { repository, name };
  if (registry !== undefined) ref.registry = registry;
  if (parts.length > 1) ref.namespace = parts.slice(0, -1).join('/').toLowerCase();
  if (tag !== undefined && tag !== '') ref.tag = tag;
  if (digest !== undefined && digest !== '') ref.digest = digest;
  return ref;
}
