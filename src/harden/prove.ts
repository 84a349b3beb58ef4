/**
 * The proof that a changed sshd or firewall still lets the operator in: a new SSH
 * connection (never the pooled one, which a reload does not cut) with the new settings:
 * sshd's new port, the admin user, keys only; it must run `sudo -n true` as that user.
 * The planner is given one (the SSH one in the CLI, a fake in unit tests).
 */
export interface ProofRequest {
  port: number;
  user: string;
}

export interface ProofResult {
  ok: boolean;
  /** What the connection said: `ops@203.0.113.20:2222 logged in, sudo works`, or its error. */
  message: string;
}

export type Prover = (server: string, request: ProofRequest) => Promise<ProofResult>;
