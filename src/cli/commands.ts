/** `ferry inventory` and `ferry check` (offline). */
import { errorReport, InputError } from '../core/errors.js';
import { hasErrors, sortFindings, type Finding } from '../core/finding.js';
import type { LoadedFleet } from '../model/loaded.js';
import { runChecks } from '../check/index.js';
import { offlineInventory } from '../inventory/offline.js';
import { renderFindings } from '../render/findings.js';
import { renderInventory } from '../render/inventory.js';
import { runLiveChecks } from '../check/live/index.js';
import { renderLiveInventory } from '../inventory/live/render.js';
import { securityReport } from '../inventory/live/security.js';
import { loadWorkspace, type WorkspaceOptions } from '../workspace/load.js';
import { readServers, serverFinding, snapshotFinding, type SshFlags } from './live.js';
import type { CliIo, Io } from './io.js';
import { renderFailure } from './report.js';

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

function printFindings(io: CliIo, findings: readonly Finding[], json: boolean, unreadable: boolean): void {
  if (!json) io.out(renderFindings(findings));
  else io.out(`${JSON.stringify({ findings, ...(unreadable ? { error: errorReport(findings) } : {}) }, null, 2)}\n`);
}

/** Findings that keep stacks from being loaded at all. */
function blockingFindings(loaded: LoadedFleet): Finding[] {
  return sortFindings([...loaded.findings, ...loaded.stacks.flatMap((s) => (s.project ? [] : s.findings))]);
}

/** Exit codes: 0 listed, 1 when a server could not be read (`--live`), 2 when the input cannot be read. */
export async function inventoryCommand(flags: InputFlags, io: CliIo): Promise<number> {
  const ws = loadWorkspace(workspaceOptions(flags, io));
  io.redactor.addAll(ws.secrets);
  if (!ws.loaded) throw new InputError(sortFindings(ws.findings));
  if (flags.live) {
    const run = await readServers(ws.loaded, flags, io);
    const servers = run.results.map((r) => (r.facts ? { ...r, hardening: securityReport(r.facts) } : r));
    if (flags.json) io.out(JSON.stringify({ servers, ...run.saved }, null, 2) + '\n');
    else io.out(renderLiveInventory(run.results));
    if (run.saved.snapshot) io.err(`snapshot saved: ${run.saved.snapshot}\n`);
    else io.err(renderFailure({ report: run.saved.snapshotError!, exit: 0 }).replace(/^error /, 'warning '));
    return run.results.some((r) => r.error) ? 1 : 0;
  }
  const inv = offlineInventory(ws.loaded);
  const blocking = blockingFindings(ws.loaded);
  if (flags.json)
    io.out(
      `${JSON.stringify({ ...inv, ...(ws.unreadable ? { findings: blocking, error: errorReport(blocking) } : {}) }, null, 2)}\n`,
    );
  else io.out(renderInventory(inv));
  if (blocking.length > 0 && !flags.json) io.err(renderFindings(blocking));
  return ws.unreadable ? 2 : 0;
}

/** Exit codes: 0 no errors, 1 errors found, 2 when the input cannot be read. */
export async function checkCommand(flags: InputFlags, io: CliIo): Promise<number> {
  const ws = loadWorkspace(workspaceOptions(flags, io));
  io.redactor.addAll(ws.secrets);
  let findings = ws.loaded ? runChecks(ws.loaded) : sortFindings(ws.findings);
  if (flags.live && ws.loaded && !ws.unreadable) {
    const run = await readServers(ws.loaded, flags, io);
    findings = sortFindings([
      ...findings,
      ...runLiveChecks(ws.loaded, run.facts),
      ...run.results.filter((r) => r.error).map(serverFinding),
      ...(run.saved.snapshotError ? [snapshotFinding(run.saved.snapshotError)] : []),
    ]);
  }
  printFindings(io, findings, flags.json === true, ws.unreadable);
  if (ws.unreadable) return 2;
  return hasErrors(findings) ? 1 : 0;
}
