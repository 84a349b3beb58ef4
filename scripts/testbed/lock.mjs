// One up or down at a time on this machine: .testbed/lock holds the pid of the one running.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { paths } from './lib.mjs';
import { log, sleep, TestbedError } from './run.mjs';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export async function withLock(fn) {
  mkdirSync(paths.dir, { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  let told = false;
  for (;;) {
    try {
      writeFileSync(paths.lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(paths.lock, 'utf8').trim());
      if (!pid || !alive(pid)) {
        rmSync(paths.lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new TestbedError(`another testbed up/down (pid ${pid}) still holds .testbed/lock after 20 min`);
      if (!told) {
        log(`waiting for another testbed up/down (pid ${pid}) to finish`);
        told = true;
      }
      await sleep(2000);
    }
  }
  const release = () => {
    try {
      if (readFileSync(paths.lock, 'utf8').trim() === String(process.pid)) rmSync(paths.lock, { force: true });
    } catch {
      /* already gone */
    }
  };
  process.once('exit', release);
  try {
    return await fn();
  } finally {
    release();
  }
}
