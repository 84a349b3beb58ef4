/**
 * `plaintext-secret`: a credential written literally in a compose file: a credential-named
 * `environment` key, a password inside a URL, or a password on a command line.
 * Findings name the key or flag and the place, never the value.
 */
import { finding, type Finding, type Where } from '../../core/finding.js';
import type { Service } from '../../model/compose.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { commandCredentials } from '../../core/command-credentials.js';
import { ids, locSvc, loadedStacks, words, type StackView } from '../common.js';
import type { CheckContext } from '../context.js';
import { isCredentialName, isSettingValue, urlPasswords } from '../../core/secret-names.js';
import { SourceText } from '../source-text.js';

const HINT_ENV =
  'Keep the value out of the compose file: reference a variable (`KEY: ${KEY}`) set in a mode-600 .env or env_file kept out of git, or use `secrets:` (many images read `*_FILE` variables). If the file was ever committed or copied, rotate the credential.';
const HINT_CMD =
  'Keep the value out of the compose file: pass it through an environment variable from a mode-600 .env (`$${REDIS_PASSWORD}` for the container shell, or `${REDIS_PASSWORD}` for Compose) or a file under `secrets:`. If the file was ever committed or copied, rotate the credential.';

/** A value came from the file itself (not `${VAR}`) when its raw text shows it. */
function writtenIn(value: string, raw: string | undefined): boolean {
  if (value.includes('$')) return false;
  return raw === undefined || raw.includes(value);
}

function envFindings(st: StackView, svc: Service, src: SourceText): Finding[] {
  const out: Finding[] = [];
  for (const [key, value] of Object.entries(svc.inlineEnvironment)) {
    if (value === null || value === '') continue;
    const where = locSvc(st, svc.name, 'environment', key);
    const line = src.keyLine(where, key);
    if (isCredentialName(key) && !isSettingValue(value)) {
      if (line !== undefined && line.includes('$')) continue;
      out.push(
        secret(st, svc, where, `environment variable ${key} is written in plain text in the compose file`, HINT_ENV),
      );
    } else if (urlPasswords(value).some((p) => writtenIn(p, line))) {
      out.push(
        secret(
          st,
          svc,
          where,
          `environment variable ${key} holds a URL with a password written in plain text`,
          HINT_ENV,
        ),
      );
    }
  }
  return out;
}

function commandFindings(st: StackView, svc: Service, src: SourceText): Finding[] {
  const fields: [string[], string | string[] | undefined, string][] = [
    [['command'], svc.command, 'command'],
    [['entrypoint'], svc.entrypoint, 'entrypoint'],
    [['healthcheck', 'test'], svc.healthcheck?.test, 'healthcheck test'],
  ];
  const out: Finding[] = [];
  for (const [path, cmd, label] of fields) {
    if (cmd === undefined) continue;
    const where = locSvc(st, svc.name, ...path);
    const raw = src.block(where)?.join('\n');
    const found = commandCredentials(words(cmd)).filter((c) => writtenIn(c.value, raw));
    const labels = [...new Set(found.map((c) => c.label))];
    if (labels.length === 0) continue;
    out.push(
      secret(st, svc, where, `its ${label} has a credential written in plain text (${labels.join(', ')})`, HINT_CMD),
    );
  }
  return out;
}

function secret(st: StackView, svc: Service, where: Where, what: string, hint: string): Finding {
  return finding('plaintext-secret', 'warning', `${st.name}/${svc.name}: ${what}`, where, hint, ids(st, svc.name));
}

export function plaintextSecret(fleet: LoadedFleet, ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    const src = new SourceText(ctx, st.project);
    for (const svc of st.project.services) out.push(...envFindings(st, svc, src), ...commandFindings(st, svc, src));
  }
  return out;
}
