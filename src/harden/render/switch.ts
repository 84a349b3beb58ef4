/**
 * The dead man's switch, pure: a systemd timer armed on the server before sshd or the
 * firewall changes, whose service puts back the configuration saved before the change and
 * reloads sshd and ufw. Ferry disarms it once a new connection got in with the new
 * settings. Units on disk, not a transient timer: they outlive Ferry, a dropped network,
 * and a reboot (the timer is wanted by timers.target and counts again from boot).
 */
export const SWITCH_DIR = '/var/lib/ferry/harden/switch';
export const SAVED_TAR = `${SWITCH_DIR}/saved.tar`;
export const UFW_WAS = `${SWITCH_DIR}/ufw-was`;
export const RESTORE_SCRIPT = `${SWITCH_DIR}/restore.sh`;
/** Written by the restore script when it ran: the next check knows the change was undone. */
export const RESTORED_MARK = `${SWITCH_DIR}/restored`;
/** The state before Ferry's first change, kept for the step's rollback and for undoing by hand. */
export const ORIGINAL_TAR = '/var/lib/ferry/harden/original.tar';
export const SWITCH_UNIT = 'ferry-harden-switch';
export const SWITCH_SERVICE_PATH = `/etc/systemd/system/${SWITCH_UNIT}.service`;
export const SWITCH_TIMER_PATH = `/etc/systemd/system/${SWITCH_UNIT}.timer`;

/** What the switch saves and puts back: sshd's drop-in and ufw's rules, defaults and state. */
export const GUARDED_FILES = [
  '/etc/ssh/sshd_config.d/00-ferry-harden.conf',
  '/etc/ufw/user.rules',
  '/etc/ufw/user6.rules',
  '/etc/ufw/ufw.conf',
  '/etc/default/ufw',
];

/** The restore script: constant text (no value of the fleet file is in it). */
export function renderRestoreScript(): string {
  return [
    '#!/bin/sh',
    "# Written by Ferry (harden): the dead man's switch. Puts back sshd's and ufw's configuration as it",
    '# was before Ferry changed it, unless Ferry confirmed the change in time. See docs/harden.md.',
    `dir=${SWITCH_DIR}`,
    '[ -f "$dir/saved.tar" ] || exit 0',
    `rm -f ${GUARDED_FILES[0]}`,
    'tar -xpf "$dir/saved.tar" -C /',
    'if command -v ufw >/dev/null 2>&1; then',
    '  if [ "$(cat "$dir/ufw-was" 2>/dev/null)" = active ]; then ufw --force reload || ufw --force enable; else ufw --force disable; fi',
    'fi',
    'if sshd -t; then systemctl reload ssh || systemctl restart ssh; else rm -f ' +
      GUARDED_FILES[0] +
      '; systemctl restart ssh; fi',
    'date -u +%Y-%m-%dT%H:%M:%SZ > "$dir/restored"',
    'rm -f "$dir/saved.tar"',
    `systemctl disable ${SWITCH_UNIT}.timer 2>/dev/null`,
    'exit 0',
    '',
  ].join('\n');
}

export function renderSwitchService(): string {
  return [
    "# Written by Ferry (harden): the dead man's switch's action. See docs/harden.md.",
    '[Unit]',
    "Description=Ferry: put back sshd's and ufw's configuration (a change was not confirmed)",
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/bin/sh ${RESTORE_SCRIPT}`,
    '',
  ].join('\n');
}

export function renderSwitchTimer(seconds: number): string {
  return [
    "# Written by Ferry (harden): the dead man's switch. Ferry stops it once a new SSH session got in.",
    '[Unit]',
    `Description=Ferry: undo the sshd and firewall change unless confirmed within ${seconds} s`,
    '',
    '[Timer]',
    `OnActiveSec=${seconds}s`,
    'AccuracySec=1s',
    `Unit=${SWITCH_UNIT}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}
