/**
 * Docker image references: `[registry[:port]/]path[:tag][@digest]`, the path in lower case.
 * Docker refuses anything else ("invalid reference format").
 */

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

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);
/** Docker's limit on a repository name; the whole reference is checked only below twice that. */
const MAX_NAME = 255;

/** Why `image` is not a reference Docker accepts, or undefined when it is. */
export function imageProblem(image: string): string | undefined {
  if (image === '') return 'is empty';
  if (image.length > 2 * MAX_NAME) return `is ${image.length} characters long`;
  if (/\s/.test(image)) return 'contains a space';
  const name = image.split('@')[0]!.replace(/:[\w][\w.-]*$/, '');
  if (name.length > MAX_NAME) return `has a name longer than ${MAX_NAME} characters`;
  if (!REFERENCE.test(image))
    return /[A-Z]/.test(name.slice(name.indexOf('/') + 1))
      ? 'has capital letters in its name'
      : 'is not a valid reference';
  return undefined;
}
