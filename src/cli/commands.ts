/** `ferry inventory` and `ferry check` (offline). */
import { hasErrors, sortFindings, type Finding } from '../core/finding.js';
import { Redactor } from '../core/redact.js';
import { runChecks } from '../check/index.js';
import { offlineInventory } from '../inventory/offline.js';
import { renderFindings } from '../render/findings.js';
import { renderInventory } from '../render/inventory.js';
import { runLiveChecks } from '../check/live/index.js';
import { renderLiveInventory } from '../inventory/live/render.js';
import { loadWorkspace, type WorkspaceOptions } from '../workspace/load.js';
import { readServers, serverFinding, type SshFlags } from './live.js';
import { redacting, type Io } from './io.js';

export interface InputFlags extends SshFlags {
  file?: string;
  compose?: string[];
  envFile?: string;
  profile?: string[];
  json?: boolean;
  live?: boolean;
}

function workspaceOptions(flags: InputFlags, io: Io): WorkspaceOptions {
  return {
    cwd: io.cwd,
    env: io.env,
    ...(flags.file ? { fleetFile: flags.file } : {}),
    ...(flags.compose ? { compose: flags.compose } : {}),
    ...(flags.envFile ? { envFile: flags.envFile } : {}),
    ...(flags.profile && flags.profile.length > 0 ? { profiles: flags.profile.flatMap((p) => p.split(',')) } : {}),
  };
}

function printFindings(io: Io, findings: readonly Finding[], json: boolean): void {
  if (json) io.out(JSON.stringify({ findings }, null, 2) + '\n');
  else io.out(renderFindings(findings));
}

/** Exit codes: 0 listed, 1 when a server could not be read (`--live`), 2 when the input cannot be read. */
export async function inventoryCommand(flags: InputFlags, rawIo: Io): Promise<number> {
  const redactor = new Redactor();
  const io = redacting(rawIo, redactor);
  const ws = loadWorkspace(workspaceOptions(flags, rawIo));
  redactor.addAll(ws.secrets);
  if (!ws.loaded) {
    printFindings({ ...io, out: io.err }, sortFindings(ws.findings), false);
    return 2;
  }
  if (flags.live) {
    const run = await readServers(ws.loaded, flags, rawIo, redactor);
    if (flags.json) io.out(JSON.stringify({ servers: run.results }, null, 2) + '\n');
    else io.out(renderLiveInventory(run.results));
    io.err(`snapshot saved: ${run.snapshot}\n`);
    return run.results.some((r) => r.error) ? 1 : 0;
  }
  const inv = offlineInventory(ws.loaded);
  if (flags.json) io.out(JSON.stringify(inv, null, 2) + '\n');
  else io.out(renderInventory(inv));
  const blocking = sortFindings([
    ...ws.loaded.findings,
    ...ws.loaded.stacks.flatMap((s) => (s.project ? [] : s.findings)),
  ]);
  if (blocking.length > 0) io.err(renderFindings(blocking));
  return ws.unreadable ? 2 : 0;
}

/** Exit codes: 0 no errors, 1 errors found, 2 when the input cannot be read. */
export async function checkCommand(flags: InputFlags, rawIo: Io): Promise<number> {
  const redactor = new Redactor();
  const io = redacting(rawIo, redactor);
  const ws = loadWorkspace(workspaceOptions(flags, rawIo));
  redactor.addAll(ws.secrets);
  let findings = ws.loaded ? runChecks(ws.loaded) : sortFindings(ws.findings);
  if (flags.live && ws.loaded && !ws.unreadable) {
    const run = await readServers(ws.loaded, flags, rawIo, redactor);
    findings = sortFindings([
      ...findings,
      ...runLiveChecks(ws.loaded, run.facts),
      ...run.results.filter((r) => r.error).map(serverFinding),
    ]);
  }
  printFindings(io, findings, flags.json === true);
  if (ws.unreadable) return 2;
  return hasErrors(findings) ? 1 : 0;
}
