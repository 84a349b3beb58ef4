/**
 * The commands of a restore drill, as data: scratch containers and a scratch directory on
 * the server, all named after the stack and labelled, so that cleaning up finds them all.
 */
import { cmd, pipe, render, type Command } from '../shell/command.js';
import { load } from '../migrate/dump-commands.js';
import type { Database } from '../migrate/postgres.js';
import { dumpFile, restoreTo, type RepoAccess } from './restic.js';

export const drillLabel = (stack: string): string => `ferry-drill=${stack}`;
export const drillDir = (stack: string): string => `/var/tmp/ferry-drill-${stack}`;
export const scratchName = (stack: string, service: string): string => `ferry-drill-${stack}-${service}`;

export const makeDrillDir = (stack: string): Command => cmd('install', '-d', '-m', '700', drillDir(stack));

/**
 * A throwaway Postgres of the backed-up image, with no network: its role and database are
 * the source's, its password a random one of the drill's (nothing can connect from outside).
 */
export const scratchPostgres = (stack: string, d: Database, image: string, password: string): Command =>
  cmd(
    'docker',
    'run',
    '-d',
    '--name',
    scratchName(stack, d.service),
    '--label',
    drillLabel(stack),
    '--network',
    'none',
    '-e',
    `POSTGRES_USER=${d.user}`,
    '-e',
    `POSTGRES_DB=${d.db}`,
    '-e',
    `POSTGRES_PASSWORD=${password}`,
    image,
  );

/** The dump straight from the repository into the scratch database (pipefail: either side's failure fails it). */
export const restorePostgres = (r: RepoAccess, snapshot: string, container: string, d: Database): Command =>
  cmd(
    'bash',
    '-o',
    'pipefail',
    '-c',
    render(pipe(dumpFile(r, snapshot, `/postgres-${d.service}.sql`), load(container, d))),
  );

/** The RDB file out of the repository into the scratch directory. */
export const restoreRdb = (r: RepoAccess, stack: string, snapshot: string, service: string): Command =>
  cmd(
    'bash',
    '-o',
    'pipefail',
    '-c',
    `${render(dumpFile(r, snapshot, `/redis-${service}.rdb`))} > ${drillDir(stack)}/${service}.rdb`,
  );

/** redis-check-rdb of the Redis image on the restored file: it checks the file's CRC and counts its keys. */
export const checkRdb = (stack: string, service: string, image: string): Command =>
  cmd(
    'docker',
    'run',
    '--rm',
    '--label',
    drillLabel(stack),
    '--network',
    'none',
    '--entrypoint',
    'redis-check-rdb',
    '-v',
    `${drillDir(stack)}:/drill:ro`,
    image,
    `/drill/${service}.rdb`,
  );

/** Where a drill restores a directory's files: `sub` is `KIND-K` (`volume-0`, `path-1`, `release-2`). */
export const filesDrillDir = (stack: string, sub: string): string => `${drillDir(stack)}/${sub}`;

export const restoreFiles = (r: RepoAccess, stack: string, snapshot: string, sub: string): Command =>
  restoreTo(r, snapshot, filesDrillDir(stack, sub));

/** Everything a drill made: its containers (by label) and its directory. */
export const cleanupDrill = (stack: string): Command =>
  cmd(
    'bash',
    '-c',
    'ids=$(docker ps -aq --filter "label=$1"); [ -z "$ids" ] || docker rm -f $ids >/dev/null; rm -rf -- "$2"',
    'ferry-drill-cleanup',
    drillLabel(stack),
    drillDir(stack),
  );

/** What a drill left: containers and the directory, one per line (none when clean). */
export const drillLeftovers = (stack: string): Command =>
  cmd(
    'bash',
    '-c',
    'docker ps -a --filter "label=$1" --format "container {{.Names}}"; [ ! -e "$2" ] || echo "directory $2"',
    'ferry-drill-left',
    drillLabel(stack),
    drillDir(stack),
  );
