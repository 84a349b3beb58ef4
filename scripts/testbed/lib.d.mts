// Types of lib.mjs for the TypeScript tests that import it.
export interface TestbedHost {
  name: string;
  host: string;
  user: string;
  port: number;
  container: string;
  /** Debian 13 hosts run Compose v2 (`docker compose`), Debian 12 hosts Compose v1 (`docker-compose`). */
  os: 'debian-13' | 'debian-12';
  identityFile: string;
  knownHostsFile: string;
}

export interface TestbedInfo {
  hosts: Omit<TestbedHost, 'identityFile' | 'knownHostsFile'>[];
  deployUser: string;
  identityFile: string;
  knownHostsFile: string;
  sshConfig: string;
  fleetFile: string;
  appImages: { tar: string; images: string[] };
}

export const ROOT: string;
export const DIR: string;
export const PREFIX: string;
export const NETWORK: string;
export const LABEL: string;
export const paths: Record<
  | 'dir'
  | 'key'
  | 'knownHosts'
  | 'fleet'
  | 'hostsJson'
  | 'sshConfig'
  | 'images'
  | 'appsTar'
  | 'replacedImages'
  | 'dockerdLog'
  | 'lock',
  string
>;
export function testbedIsUp(): boolean;
export function testbedInfo(): TestbedInfo;
/** Every host, or those of one operating system. */
export function testbedHosts(os?: TestbedHost['os']): TestbedHost[];
export function sshArgs(host: TestbedHost, user?: string): string[];
export function sshTarget(host: TestbedHost): {
  name: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  knownHostsFiles: string[];
};
