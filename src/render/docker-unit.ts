/** A oneshot systemd unit that lives and dies with Docker: how Ferry keeps iptables rules across Docker's restarts and reboots. */
export function dockerBoundUnit(o: { comment: string; description: string; service: string[] }): string {
  return [
    `# ${o.comment}`,
    '[Unit]',
    `Description=${o.description}`,
    'After=docker.service',
    'PartOf=docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...o.service,
    '',
    '[Install]',
    'WantedBy=docker.service',
    '',
  ].join('\n');
}
