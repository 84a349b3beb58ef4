/** A server's hardening (`harden` in ferry.yml), merged and with its defaults filled in. */

export interface SshHardening {
  /** The port sshd must listen on; undefined: the one it listens on now (read from the server). */
  port?: number;
  rootLogin: boolean;
  passwordLogin: boolean;
  /** Undefined: the admin user, and the user Ferry logs in as when that one may still log in. */
  allowUsers?: string[];
  maxAuthTries: number;
  maxSessions: number;
  loginGraceSeconds: number;
  clientAliveSeconds: number;
  clientAliveCountMax: number;
  forwarding: boolean;
}

/** A port to open: from anywhere, or only from these addresses (servers resolved to theirs). */
export interface FirewallAllow {
  /** `8080`, or a range `6000:6010`. */
  port: string;
  proto: 'tcp' | 'udp';
  /** Empty: from anywhere. */
  from: string[];
  /** Why it is open, for the rule's comment (`ferry.yml`, `proxy of shop`, `shop/db from web1`). */
  why: string;
}

export interface Fail2banHardening {
  maxRetry: number;
  findSeconds: number;
  banSeconds: number;
  ignore: string[];
  /** Undefined: when nginx is installed. */
  nginx?: boolean;
}

export interface DockerHardening {
  logMaxSize: string;
  logMaxFiles: number;
  liveRestore: boolean;
}

export interface HardenDef {
  admin?: { user: string; keys?: string[] };
  ssh?: SshHardening;
  firewall?: { allow: FirewallAllow[] };
  fail2ban?: Fail2banHardening;
  upgrades?: { reboot: boolean; rebootTime: string };
  swapBytes?: number;
  /** Ferry's settings, with the fleet file's over them. */
  sysctl: Record<string, string>;
  journald?: { maxUseBytes: number };
  docker?: DockerHardening;
  timeSync: boolean;
  timezone?: string;
  switchTimeoutSeconds: number;
}
