// Starts a Docker engine on this machine when none answers: `dockerd` in the background,
// its log in .testbed/dockerd.log. There is no systemd here to do it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { paths } from './lib.mjs';
import { run, log, seconds, waitFor, lastLines, indent, TestbedError } from './run.mjs';

const SOCKET = '/var/run/docker.sock';

async function engineAnswers() {
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}']);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

export async function ensureEngine() {
  const version = await engineAnswers();
  if (version) {
    log(`engine: Docker ${version} already running`);
    return;
  }
  const started = Date.now();
  mkdirSync(paths.dir, { recursive: true });
  const logStart = existsSync(paths.dockerdLog) ? statSync(paths.dockerdLog).size : 0;
  const fd = openSync(paths.dockerdLog, 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', fd, fd] });
  let failed;
  child.on('error', (err) => {
    failed = err;
  });
  child.on('exit', (code) => {
    failed ??= new Error(`dockerd exited with code ${code}`);
  });
  child.unref();
  closeSync(fd);
  log(`engine: started dockerd (pid ${child.pid}), log in .testbed/dockerd.log`);
  const ok = await waitFor(async () => failed || (existsSync(SOCKET) && (await engineAnswers())), {
    timeoutMs: 60_000,
  });
  if (!ok || failed) {
    const tail = lastLines(readFileSync(paths.dockerdLog).subarray(logStart).toString('utf8').trim(), 12);
    throw new TestbedError(
      `the Docker engine did not start: ${failed ? failed.message : `no answer on ${SOCKET} after 60 s`}` +
        (tail ? `\n  last lines of .testbed/dockerd.log:\n${indent(tail)}` : ''),
      `see .testbed/dockerd.log; \`dockerd\` by hand shows the same error${process.env.DOCKER_HOST ? ` (DOCKER_HOST is ${process.env.DOCKER_HOST})` : ''}`,
    );
  }
  child.removeAllListeners();
  log(`engine: Docker ${ok} answers (${seconds(Date.now() - started)})`);
}
