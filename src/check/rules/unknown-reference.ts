/**
 * `unknown-reference` inside a compose project: `depends_on` a service that isn't there
 * (warning when an inactive profile left it out), `network_mode: service:X`, and named
 * volumes, networks, secrets and configs that aren't declared at the top level.
 */
import { finding, type Finding, type Severity, type Where } from '../../core/finding.js';
import type { Service } from '../../model/compose.js';
import type { LoadedFleet } from '../../model/loaded.js';
import type { CheckContext } from '../context.js';
import { ids, loadedStacks, locSvc, type StackView } from '../common.js';
import { SourceText } from '../source-text.js';

function ref(st: StackView, svc: Service, severity: Severity, message: string, where: Where, hint: string): Finding {
  return finding('unknown-reference', severity, `${st.name}/${svc.name}: ${message}`, where, hint, ids(st, svc.name));
}

/** Profiles a disabled service declares, read from its source (`profiles: [debug]` or a block list). */
export function declaredProfiles(st: StackView, name: string, src: SourceText): string[] {
  const block = src.block(st.project.locate(['services', name, 'profiles']));
  if (!block || !/^\s*profiles\s*:/.test(block[0] ?? '')) return [];
  const text = block.join('\n').replace(/^\s*profiles\s*:/, '');
  return [...text.matchAll(/[\w.-]+/g)].map((m) => m[0]);
}

/** The stack's service names, active and disabled, looked up once per stack rather than per service. */
interface Names {
  active: Set<string>;
  disabled: Set<string>;
}

function dependencyRefs(st: StackView, svc: Service, src: SourceText, { active: names, disabled }: Names): Finding[] {
  const out: Finding[] = [];
  for (const [dep, d] of Object.entries(svc.dependsOn)) {
    if (names.has(dep)) continue;
    const where = locSvc(st, svc.name, 'depends_on', dep);
    if (!disabled.has(dep)) {
      out.push(
        ref(
          st,
          svc,
          'error',
          `depends_on names service ${dep}, which does not exist`,
          where,
          'Fix the name or add the service; Compose refuses the project as it is.',
        ),
      );
    } else if (d.required) {
      const profiles = declaredProfiles(st, dep, src);
      const which = profiles.length > 0 ? `profile ${profiles.join(' or ')}` : 'a profile that is not active';
      out.push(
        ref(
          st,
          svc,
          'warning',
          `depends_on service ${dep}, which is disabled: only ${which} enables it`,
          where,
          `Activate the profile for this stack (\`profiles:\` in ferry.yml or COMPOSE_PROFILES), drop the profile from ${dep}, or mark the dependency \`required: false\`.`,
        ),
      );
    }
  }
  const mode = /^service:(.+)$/.exec(svc.networkMode ?? '');
  if (mode && !names.has(mode[1] ?? '')) {
    out.push(
      ref(
        st,
        svc,
        'error',
        `network_mode names service ${mode[1]}, which does not exist`,
        locSvc(st, svc.name, 'network_mode'),
        'Fix the service name, or use a network instead.',
      ),
    );
  }
  return out;
}

function resourceRefs(st: StackView, svc: Service): Finding[] {
  const p = st.project;
  const out: Finding[] = [];
  const missing = (kind: string, top: string, name: string, where: Where): void => {
    out.push(
      ref(
        st,
        svc,
        'error',
        `${kind} ${name} is not declared in the top-level \`${top}:\``,
        where,
        `Declare it under top-level \`${top}:\` (with \`external: true\` if it is created outside this project), or fix the name.`,
      ),
    );
  };
  for (const m of svc.volumes) {
    if (m.type === 'volume' && m.source && !Object.hasOwn(p.volumes, m.source))
      missing('volume', 'volumes', m.source, locSvc(st, svc.name, 'volumes', m.index));
  }
  for (const n of Object.keys(svc.networks)) {
    if (n !== 'default' && !Object.hasOwn(p.networks, n))
      missing('network', 'networks', n, locSvc(st, svc.name, 'networks', n));
  }
  svc.secrets.forEach((s, i) => {
    if (!Object.hasOwn(p.secrets, s.source)) missing('secret', 'secrets', s.source, locSvc(st, svc.name, 'secrets', i));
  });
  svc.configs.forEach((c, i) => {
    if (!Object.hasOwn(p.configs, c.source)) missing('config', 'configs', c.source, locSvc(st, svc.name, 'configs', i));
  });
  return out;
}

export function unknownReference(fleet: LoadedFleet, ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    const src = new SourceText(ctx, st.project);
    const names = {
      active: new Set(st.project.services.map((s) => s.name)),
      disabled: new Set(st.project.disabledServices),
    };
    for (const svc of st.project.services) out.push(...dependencyRefs(st, svc, src, names), ...resourceRefs(st, svc));
  }
  return out;
}
