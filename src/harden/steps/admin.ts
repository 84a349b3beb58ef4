/**
 * The admin user: created (home, shell, group sudo) unless there, with Ferry's
 * authorized_keys (the fleet file's keys, else the operator's) and passwordless sudo in a
 * sudoers drop-in judged by `visudo -c` before it is kept. Not under the switch: adding a
 * user locks nobody out.
 */
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { cmd, render, script, type Command } from '../../shell/command.js';
import { sha256 } from './config-file.js';
import { sections } from '../../inventory/live/probe.js';

export interface AdminOptions {
  id: string;
  server: string;
  user: string;
  keys: string[];
  sudo: boolean;
  dependsOn: string[];
}

export interface AdminObserved {
  /** The user was there before Ferry's first apply: rollback leaves it. */
  existed: boolean;
}

export const sudoersPath = (user: string): string => `/etc/sudoers.d/ferry-harden-${user}`;
export const authorizedKeysText = (keys: string[]): string =>
  ['# Written by Ferry (harden): the keys of ferry.yml. `ferry apply` rewrites this file.', ...keys, ''].join('\n');
export const sudoersText = (user: string): string =>
  `# Written by Ferry (harden): the admin user's sudo.\n${user} ALL=(ALL:ALL) NOPASSWD: ALL\n`;

export const adminStateCommand = (user: string): Command =>
  script(
    'echo @@id; id -u "$1" 2>/dev/null; echo @@keys; sha256sum "$(getent passwd "$1" | cut -d: -f6)/.ssh/authorized_keys" 2>/dev/null | cut -c1-64; echo @@sudoers; sha256sum "$2" 2>/dev/null | cut -c1-64; true',
    user,
    sudoersPath(user),
  );
export const createUserCommand = (user: string): Command =>
  script(
    'id -u "$1" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo "$1"; home=$(getent passwd "$1" | cut -d: -f6); install -d -m 700 -o "$1" -g "$1" "$home/.ssh"',
    user,
  );
export const keysPath = (user: string): string =>
  user === 'root' ? '/root/.ssh/authorized_keys' : `/home/${user}/.ssh/authorized_keys`;
export const visudoCommand = (user: string): Command => cmd('visudo', '-c', '-q', '-f', sudoersPath(user));

export function adminStep(o: AdminOptions): Step<AdminObserved> {
  const { sudo, user } = o;
  const keys = authorizedKeysText(o.keys);
  const sudoers = sudoersText(user);
  const read = async (ctx: StepContext) => {
    const s = sections((await ctx.transport.exec(adminStateCommand(user), { sudo })).stdout);
    const exists = /^\d+$/m.test(s.get('id') ?? '');
    const missing: string[] = [];
    if (!exists) missing.push(`user ${user}`);
    if ((s.get('keys') ?? '').trim() !== sha256(keys)) missing.push('authorized_keys');
    if ((s.get('sudoers') ?? '').trim() !== sha256(sudoers)) missing.push('sudo');
    return { exists, missing };
  };
  const fail = (what: string, code: 'admin-user-failed' | 'sudoers-invalid', err: string) =>
    new StepError(
      code,
      `${o.server}: ${what}: ${err.trim().split('\n').slice(-3).join(' ')}`,
      `Check useradd and sudo on ${o.server}; nothing else was changed.`,
    );
  return {
    id: o.id,
    host: o.server,
    phase: 'prepare',
    title: `admin user ${user} with your keys and sudo`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Create ${user} (home, /bin/bash, group sudo) unless it exists, write its authorized_keys (${o.keys.length} key${o.keys.length === 1 ? '' : 's'}, mode 600) and ${sudoersPath(user)} (passwordless sudo, judged by visudo -c).`,
      commands: [
        render(createUserCommand(user)),
        `cat > ${keysPath(user)}`,
        `cat > ${sudoersPath(user)}`,
        render(visudoCommand(user)),
      ],
      verify: `id -u ${user}, and the hashes of its authorized_keys and ${sudoersPath(user)}`,
      undo: `rm ${sudoersPath(user)}; userdel --remove ${user} (only if Ferry created it)`,
    }),
    async check(ctx) {
      const { exists, missing } = await read(ctx);
      const p = ctx.prior as Partial<AdminObserved> | undefined;
      const observed = { existed: typeof p?.existed === 'boolean' ? p.existed : exists };
      return missing.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: `add: ${missing.join(', ')}` }, observed };
    },
    async apply(ctx) {
      const made = await ctx.transport.exec(createUserCommand(user), { sudo });
      if (made.code !== 0) throw fail(`creating ${user}`, 'admin-user-failed', made.stderr);
      await ctx.transport.upload(keysPath(user), keys, { mode: 0o600, sudo, owner: `${user}:${user}` });
      await ctx.transport.upload(sudoersPath(user), sudoers, { mode: 0o440, sudo });
      const judged = await ctx.transport.exec(visudoCommand(user), { sudo });
      if (judged.code !== 0) {
        await ctx.transport.exec(cmd('rm', '-f', sudoersPath(user)), { sudo });
        throw fail(`visudo refused ${sudoersPath(user)}`, 'sudoers-invalid', judged.stderr + judged.stdout);
      }
    },
    async verify(ctx) {
      const { missing } = await read(ctx);
      return missing.length === 0 ? { ok: true } : { ok: false, message: `missing: ${missing.join(', ')}` };
    },
    async rollback(ctx, observed) {
      if (observed.existed) return;
      await ctx.transport.exec(script('rm -f "$2"; userdel --remove "$1" 2>/dev/null; true', user, sudoersPath(user)), {
        sudo,
      });
    },
  };
}
