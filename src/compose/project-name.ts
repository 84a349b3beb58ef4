/**
 * The project name, as Compose picks it: the stack's `project:` in ferry.yml, else
 * COMPOSE_PROJECT_NAME, else the top-level `name:`, else the directory of the first file;
 * normalized to lower-case letters, digits, `-` and `_`, starting with a letter or digit.
 * A name that normalizes to nothing is refused (Compose refuses it: "project name must not
 * be empty"); a name written explicitly that normalizing changes is said, not hidden.
 */
import { finding, type Finding } from '../core/finding.js';

/** Compose's project name rule: lower case, letters, digits, `-` and `_`, starting with a letter or digit. */
export function projectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

export interface NameSource {
  name: string;
  /** Where it was written: `name:` in a compose file, or a description (`COMPOSE_PROJECT_NAME`). */
  from: string;
  where: Finding['where'];
  /** Written by someone (not the directory's name). */
  explicit: boolean;
}

const HINT =
  'Set a top-level `name:` in the compose file (or COMPOSE_PROJECT_NAME, or `project:` for the stack in ferry.yml) made of lower-case letters, digits, "-" and "_", starting with a letter or digit.';

/** The normalized name, and a finding when it is empty (error) or not what was written (warning). */
export function checkedProjectName(src: NameSource): { name: string; finding?: Finding } {
  const name = projectName(src.name);
  const shown = src.name.length > 80 ? `of ${src.name.length} characters` : JSON.stringify(src.name);
  if (name === '')
    return {
      name,
      finding: finding(
        'invalid-project-name',
        'error',
        `the project name ${shown} (${src.from}) has no letter or digit Compose can keep; Compose refuses an empty project name`,
        src.where,
        HINT,
      ),
    };
  if (src.explicit && name !== src.name)
    return {
      name,
      finding: finding(
        'invalid-project-name',
        'warning',
        `the project name ${shown} (${src.from}) is not a valid Compose project name; it is used as "${name}"`,
        src.where,
        HINT,
      ),
    };
  return { name };
}
