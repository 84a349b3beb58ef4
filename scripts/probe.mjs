// A writing probe in its own process: GET /health through nginx at ADDRESS with Host
// DOMAIN (each 200 is a row written), every 20 ms, until killed; one line per answer:
// "<epoch ms> <status> <hits or -> <ms the request took> <id of the row written or ->". A third argument, in ms (5000): a request
// without an answer by then counts as failed (status 0), as does an answer cut off midway.
import { request } from 'node:http';

const [address, domain, timeoutArg] = process.argv.slice(2);
const timeout = Number(timeoutArg ?? 5000);
let pending;
// Stopped while a request waits: it is written down as "stopped", with how long it waited.
process.on('SIGTERM', () => {
  if (pending !== undefined) process.stdout.write(`${Date.now()} stopped - ${Date.now() - pending}\n`);
  process.exit(0);
});
for (;;) {
  const begun = Date.now();
  pending = begun;
  const line = await new Promise((resolve) => {
    // One line per request, whatever ends it first: a response cut off after its status line
    // (nginx closing the connection when the container behind it stops mid-answer, or the
    // timeout) ends with 'close' and no 'end', and must not stall the probe for good.
    let done = false;
    const settle = (text) => {
      if (!done) resolve(text);
      done = true;
    };
    const failed = () => settle(`${Date.now()} 0 - ${Date.now() - begun} -`);
    const req = request(
      { host: address, port: 80, path: '/health', headers: { Host: domain }, agent: false, timeout },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('error', failed);
        res.on('close', () => {
          if (!res.complete) failed();
        });
        res.on('end', () => {
          let hits = '-';
          let id = '-';
          try {
            const answer = JSON.parse(body);
            hits = String(answer.hits ?? '-');
            id = String(answer.id ?? '-');
          } catch {
            /* not JSON */
          }
          settle(`${Date.now()} ${res.statusCode} ${hits} ${Date.now() - begun} ${id}`);
        });
      },
    );
    req.on('error', failed);
    req.on('timeout', () => req.destroy());
    req.end();
  });
  pending = undefined;
  process.stdout.write(`${line}\n`);
  await new Promise((r) => setTimeout(r, 20));
}
