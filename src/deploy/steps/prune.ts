/**
 * Old releases: keeps the newest `keep` of the history (the current one always, and the
 * one before it, for `ferry rollback`), removes the others and any `.partial` left by an
 * interrupted run. Data in `shared/` and volumes are never touched.
 */
import { cmd, quiet, render, script, type Command } from '../../shell/command.js';
import type { Step } from '../../engine/step.js';
import { currentLink, historyFile, releaseDir, releasesDir } from '../layout.js';
import { idOfLink } from '../release-meta.js';

/** Release ids switched to (lines `ISO-TIME ID` of `history`), newest first, once each. */
export function releaseHistory(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').reverse()) {
    const id = line.trim().split(/\s+/)[1];
    if (id && !out.includes(id)) out.push(id);
  }
  return out;
}

/** Release ids to remove: those not among the `keep` most recently switched to (never `current`), and `.partial` leftovers. */
export function releasesToRemove(
  existing: string[],
  historyText: string,
  current: string | undefined,
  keep: number,
): string[] {
  const kept = new Set(releaseHistory(historyText).slice(0, keep));
  if (current) kept.add(current);
  return existing.filter((d) => d.endsWith('.partial') || !kept.has(d));
}

/** What the check of old releases saw. */
export interface PruneObserved {
  /** Release directories (ids, or `ID.partial`) apply removes. */
  remove: string[];
  /** Images built on the server for releases no longer kept (`PROJECT-build:HASH`). */
  images?: string[];
}

/**
 * The tags of `repo` on the server, a `---` line, then those the compose files of the
 * releases `kept` name: the others were built for releases that are gone.
 */
export const builtImagesCommand = (stack: string, b: BuiltImages, kept: string[]): Command =>
  quiet(
    script(
      'd=$1 repo=$2 f=$3; shift 3; docker image ls --format "{{.Repository}}:{{.Tag}}" "$repo"; echo ---; for id; do cat "$d/$id/$f" 2>/dev/null; done | grep -o "$repo:[0-9a-f]*" | sort -u; true',
      releasesDir(stack),
      b.repo,
      b.composeFile,
      ...kept,
    ),
  );

/** Where a stack's images built on the server are: their repository, and the release file that names them. */
export interface BuiltImages {
  repo: string;
  composeFile: string;
}

/** The tags listed before `---` that no kept release names after it. */
export function staleImages(out: string): string[] {
  const lines = out.split('\n').map((l) => l.trim());
  const at = lines.indexOf('---');
  if (at < 0) return [];
  const named = new Set(lines.slice(at + 1));
  return lines.slice(0, at).filter((t) => t && !t.endsWith(':<none>') && !named.has(t));
}

export function pruneStep(o: {
  id: string;
  host: string;
  stack: string;
  keep: number;
  sudo: boolean;
  dependsOn: string[];
  /** The stack builds images on the server: those only releases removed here ran go too. */
  built?: BuiltImages;
}): Step<PruneObserved> {
  return {
    id: o.id,
    host: o.host,
    phase: 'verify',
    title: `keep the last ${o.keep} releases`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Remove releases of ${o.stack} beyond the ${o.keep} most recently used (never the current one), and directories left by an interrupted upload${o.built ? `, and the images built on the server (${o.built.repo}) that no kept release runs` : ''}. Data in shared/ and Docker volumes are not touched.`,
      commands: [
        render(cmd('ls', '-1', releasesDir(o.stack))),
        render(cmd('cat', historyFile(o.stack))),
        `rm -rf ${releasesDir(o.stack)}/OLD`,
      ],
      verify: 'The removed directories are gone.',
      undo: 'Nothing: removed releases are gone (their data lives in shared/ and volumes, which stay).',
    }),
    async check(ctx) {
      const t = ctx.transport;
      const [ls, hist, cur] = await Promise.all([
        t.exec(quiet(cmd('ls', '-1', releasesDir(o.stack))), { sudo: o.sudo }),
        t.exec(quiet(cmd('cat', historyFile(o.stack))), { sudo: o.sudo }),
        t.exec(quiet(cmd('readlink', currentLink(o.stack))), { sudo: o.sudo }),
      ]);
      const existing =
        ls.code === 0
          ? ls.stdout
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean)
          : [];
      const remove = releasesToRemove(
        existing,
        hist.code === 0 ? hist.stdout : '',
        cur.code === 0 ? idOfLink(cur.stdout) : undefined,
        o.keep,
      );
      const kept = existing.filter((d) => !remove.includes(d) && !d.endsWith('.partial'));
      const images = o.built
        ? staleImages((await t.exec(builtImagesCommand(o.stack, o.built, kept), { sudo: o.sudo })).stdout)
        : [];
      const gone = [...remove, ...images];
      return gone.length === 0
        ? { needed: false, observed: { remove } }
        : {
            needed: true,
            change: { summary: `remove ${gone.join(', ')}` },
            observed: images.length > 0 ? { remove, images } : { remove },
          };
    },
    async apply(ctx, { remove, images = [] }) {
      if (remove.length > 0)
        await ctx.transport.exec(cmd('rm', '-rf', ...remove.map((id) => releaseDir(o.stack, id))), {
          sudo: o.sudo,
          check: true,
        });
      // Docker keeps an image a container still uses (and the build cache): it goes with a later prune.
      if (images.length > 0) await ctx.transport.exec(quiet(cmd('docker', 'image', 'rm', ...images)), { sudo: o.sudo });
    },
    async verify(ctx, { remove }) {
      const r = await ctx.transport.exec(quiet(cmd('ls', '-1', releasesDir(o.stack))), { sudo: o.sudo });
      const left = remove.filter((id) => r.stdout.split('\n').includes(id));
      return left.length === 0 ? { ok: true } : { ok: false, message: `still there: ${left.join(', ')}` };
    },
    async rollback() {},
  };
}
