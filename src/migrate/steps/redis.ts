/**
 * Redis saved to disk before its writers stop (the write freeze's first act): BGSAVE, then
 * `INFO persistence` until the save has finished, for at most a minute. Every reply goes
 * through the redis-cli classifier, so that `NOAUTH` or `ERR` (which redis-cli prints with
 * exit status 0) fails at once instead of waiting for a save that never started.
 *
 * A password is read from the container's own configuration (`docker inspect`): the
 * `--requirepass` of its command, or the `REDIS_ARGS` / `REDIS_PASSWORD` environment the
 * redis-stack and Bitnami images document. It reaches redis-cli as `REDISCLI_AUTH`: the
 * value goes on stdin to a shell on the host that exports it, and `docker exec -e
 * REDISCLI_AUTH` passes the variable by name, so it is on no command line (neither the
 * host's nor the container's) and in no output.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret } from '../../core/secret.js';
import { StepError } from '../../engine/errors.js';
import type { StepContext } from '../../engine/step.js';
import { cmd, script, type Command } from '../../shell/command.js';
import { runTool } from '../../tools/run.js';

/** How long the save may take before the freeze gives up (the stack is stopped meanwhile). */
export const REDIS_SAVE_TIMEOUT_MS = 60_000;
/** Between two reads of `INFO persistence`. */
export const REDIS_POLL_MS = 200;
/** One redis-cli call (a hung `docker exec` must not outlast the save's bound). */
const CLI_TIMEOUT_MS = 10_000;

/** The container's command and environment (JSON), read for its password. */
export const redisConfigCommand = (container: string): Command =>
  cmd('docker', 'inspect', '--format', '{{json .Config}}', container);

/** redis-cli in the container; with `auth`, the password is read from stdin into REDISCLI_AUTH (never on argv). */
export function redisCliCommand(container: string, args: string[], auth: boolean): Command {
  if (!auth) return cmd('docker', 'exec', container, 'redis-cli', ...args);
  return script(
    'IFS= read -r REDISCLI_AUTH && export REDISCLI_AUTH && exec docker exec -e REDISCLI_AUTH "$@"',
    container,
    'redis-cli',
    ...args,
  );
}

export interface RedisConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
}

const REQUIREPASS = /--requirepass(?:\s+|=)(?:"([^"]*)"|'([^']*)'|(\S+))/;

/** A value written in shell text: `$NAME` and `${NAME}` taken from the container's environment. */
const expand = (word: string, env: Map<string, string>): string =>
  word.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_, a: string | undefined, b: string | undefined) => env.get(a ?? b ?? '') ?? '',
  );

function fromText(text: string, env: Map<string, string>): string | undefined {
  const m = REQUIREPASS.exec(text);
  if (!m) return undefined;
  return m[1] !== undefined ? expand(m[1], env) : m[2] !== undefined ? m[2] : expand(m[3]!, env);
}

/** The password the container's Redis requires, or undefined when it requires none that Ferry can see. */
export function redisPassword(c: RedisConfig): string | undefined {
  const env = new Map(
    (c.Env ?? []).map((kv) => [kv.slice(0, Math.max(0, kv.indexOf('='))), kv.slice(kv.indexOf('=') + 1)]),
  );
  const argv = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  // Exec form: the word after --requirepass is the password as written (no shell expands it).
  const at = argv.indexOf('--requirepass');
  if (at >= 0 && argv[at + 1] !== undefined) return argv[at + 1];
  // Shell form (`sh -c "redis-server --requirepass $REDIS_PASSWORD"`) and redis-stack's REDIS_ARGS.
  for (const text of [...argv, env.get('REDIS_ARGS') ?? '']) {
    const found = fromText(text, env);
    if (found) return found;
  }
  return env.get('REDIS_PASSWORD') || undefined;
}

export interface Persistence {
  lastSave: number;
  inProgress: boolean;
  /** `ok` or `err`: how the last background save ended. */
  status: string;
  changesSinceSave?: number;
}

/** The fields of `INFO persistence` that say whether a save has finished. */
export function parsePersistence(info: string): Persistence {
  const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
  const lastSave = Number(field('rdb_last_save_time'));
  if (!Number.isFinite(lastSave))
    throw new StepError(
      'unexpected-output',
      `redis-cli INFO persistence printed no rdb_last_save_time: ${info.slice(0, 200)}`,
      'Check that the service runs Redis (or a server that speaks its protocol).',
    );
  const changes = Number(field('rdb_changes_since_last_save'));
  return {
    lastSave,
    inProgress: field('rdb_bgsave_in_progress') === '1',
    status: field('rdb_last_bgsave_status') ?? 'ok',
    ...(Number.isFinite(changes) ? { changesSinceSave: changes } : {}),
  };
}

/** Whether the save started after `before` has ended; throws when it failed. */
function saved(before: Persistence, now: Persistence, where: string): boolean {
  if (now.inProgress) return false;
  const moved = now.lastSave !== before.lastSave || now.changesSinceSave === 0;
  if (!moved && now.status !== 'ok')
    throw new StepError(
      'redis-save-failed',
      `${where}: Redis's background save failed (rdb_last_bgsave_status:${now.status})`,
      'Read `docker logs` of the container (a full disk, a read-only volume), then run migrate again (--resume).',
    );
  return moved;
}

export interface RedisSaveOptions {
  container: string;
  sudo: boolean;
  /** Another host than the step's own (one it reaches). */
  on?: string;
  timeoutMs?: number;
  pollMs?: number;
}

/** BGSAVE, then wait until it has ended: the RDB on disk holds everything written before the freeze. */
export async function redisSave(ctx: StepContext, o: RedisSaveOptions): Promise<void> {
  const where = `${o.on ?? ctx.transport.name}: ${o.container}`;
  const on = o.on === undefined ? {} : { on: o.on };
  const config = await runTool(ctx, 'docker', redisConfigCommand(o.container), {
    what: `reading the configuration of ${o.container}`,
    sudo: o.sudo,
    ...on,
  });
  const password = redisPassword(JSON.parse(config) as RedisConfig);
  ctx.redactor.add(password);
  const cli = (...args: string[]) =>
    runTool(ctx, 'redis-cli', redisCliCommand(o.container, args, password !== undefined), {
      what: `redis-cli ${args.join(' ')} in ${o.container}`,
      sudo: o.sudo,
      timeoutMs: CLI_TIMEOUT_MS,
      // Each call reads or starts a save, the same run once or twice.
      replay: true,
      ...on,
      ...(password !== undefined ? { stdin: new Secret(`${password}\n`) } : {}),
    });
  const timeoutMs = o.timeoutMs ?? REDIS_SAVE_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const info = async () => parsePersistence(await cli('INFO', 'persistence'));
  const until = async (done: (p: Persistence) => boolean): Promise<boolean> => {
    while (Date.now() < deadline) {
      if (done(await info())) return true;
      await sleep(o.pollMs ?? REDIS_POLL_MS);
    }
    return false;
  };
  let before = await info();
  // A save Redis began on its own before the freeze may miss the last writes: wait for it, then save again.
  if (!(await bgsave(cli))) {
    if (await until((p) => !p.inProgress)) {
      before = await info();
      await cli('BGSAVE');
    }
  }
  if (await until((now) => saved(before, now, where))) return;
  throw new StepError(
    'redis-save-failed',
    `${where}: Redis did not finish BGSAVE within ${Math.round(timeoutMs / 1000)} s`,
    'Check its disk and `docker logs`; the writers were not stopped. Run migrate again (--resume).',
  );
}

/** BGSAVE; false when Redis was saving already (its `ERR Background save already in progress`). */
async function bgsave(cli: (...args: string[]) => Promise<string>): Promise<boolean> {
  try {
    await cli('BGSAVE');
    return true;
  } catch (e) {
    if (e instanceof StepError && e.code === 'redis-failed' && /already in progress/i.test(e.message)) return false;
    throw e;
  }
}
