// gitops explain PATH --env E [--device D] [--output text|json|yaml]: the value, its schema and the
// chain of files that set it. With --agent URL (token from --token-file or the environment, as
// for `gitops agent`), also every runtime layer of the field on that running agent and the one
// that wins; the environment and device default to the agent's.

import { GitopsError } from '../agent/core/errors.js';
import { describeOrigin } from '../agent/core/format/render.js';
import { provenanceChain } from '../agent/core/config/merge.js';
import { parseDotted, toPointer } from '../agent/core/json/pointer.js';
import { getAt, isObject } from '../agent/core/json/value.js';
import { originFor, REDACTED, render } from '../agent/core/config/render.js';
import { matchesSegments } from '../agent/core/schema/schema-set.js';
import { validateFor } from '../agent/core/validate/validate.js';
import { targetTunables } from '../agent/core/tunables/narrowing.js';
import { describeSpec } from '../agent/core/tunables/spec.js';
import { closest } from '../agent/core/format/suggest.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  openTree,
  out,
  outputOf,
  outputOptions,
  parse,
  printData,
  reportInvalid,
  rootOption,
} from './cli.js';
import { pickTarget } from './target.js';
import { connect } from './agent-client.js';
import type { AgentApi } from '../agent/io/api-client.js';
import type { TunableEntry } from '../agent/core/contracts/api.js';
import type { Json } from '../agent/core/json/value.js';
import { formatRuntimeLayers } from '../agent/core/format/tunables.js';

const USAGE =
  'gitops explain PATH --env E [--device D] [--output text|json|yaml] [--root DIR] [--agent URL [--token-file F]]';

/** What the running agent has of one path: the value that runs and, when it is tunable there, its layers. */
interface RuntimeFacts {
  commit: string;
  /** null: the running release does not set the path. */
  value: Json | null;
  tunable: TunableEntry | null;
}

async function runtimeFacts(api: AgentApi, path: string): Promise<RuntimeFacts> {
  try {
    const a = await api.config({ path, explain: true });
    const value = 'value' in a ? a.value : null;
    return { commit: a.commit, value, tunable: a.explain?.find((t) => t.path === path) ?? null };
  } catch (e) {
    if (!(e instanceof GitopsError) || e.code !== 'no-such-path') throw e;
    const t = await api.config({ explain: true });
    return { commit: t.commit, value: null, tunable: t.explain?.find((x) => x.path === path) ?? null };
  }
}

export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'explain',
    args,
    {
      ...rootOption,
      env: { type: 'string', short: 'e' },
      device: { type: 'string', short: 'd' },
      ...outputOptions,
      agent: { type: 'string' },
      'token-file': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return (out(USAGE), EXIT_OK);
  const format = outputOf('explain', values, ['text', 'json', 'yaml'] as const, 'text');
  if (positionals.length !== 1)
    throw new GitopsError('usage', 'explain takes exactly one PATH, e.g. frame_capture.fps', `usage: ${USAGE}`);
  const path = positionals[0]!;
  const segments = parseDotted(path);
  if (!segments)
    throw new GitopsError(
      'usage',
      `"${path}" is not a configuration path`,
      'write it with dots, e.g. detectors.person.runtime',
    );
  const { repo } = openTree(values.root);
  const api = values.agent !== undefined ? connect(values.agent, values['token-file']) : undefined;
  // with an agent and no --env, the agent's own environment and device
  const running = api && values.env === undefined ? await api.status() : undefined;
  const target = pickTarget(
    repo,
    values.env ?? running?.environment,
    values.device ?? (values.env === undefined ? running?.device : undefined),
    USAGE,
  );
  const schemas = repo.schemas;
  if (!schemas)
    throw new GitopsError('schemas-invalid', 'the repository schemas do not compile', 'run gitops validate to see why');
  const schema = schemas.nodeAt(segments);
  if (!schema) {
    const parent = schemas.nodeAt(segments.slice(0, -1));
    const names =
      parent && isObject(parent.properties)
        ? Object.keys(parent.properties)
        : segments.length === 1
          ? schemas.sections()
          : [];
    const guess = closest(segments[segments.length - 1]!, names);
    throw new GitopsError(
      'unknown-path',
      `${path} is not a configuration path${guess ? `. Did you mean "${[...segments.slice(0, -1), guess].join('.')}"?` : ''}`,
      names.length > 0 ? `keys here: ${names.join(', ')}` : 'see schemas/ for the configuration paths',
    );
  }
  const report = validateFor(repo, target, { env: process.env });
  const result = report.targets[0]?.result ?? render(repo, target, { env: process.env });
  const secret = schemas.annotated('x-secret').some((s) => matchesSegments(s.segments, segments));
  const value = getAt(result.config, segments);
  const entry = originFor(result.provenance, toPointer(segments));
  const chain = entry
    ? provenanceChain(entry).map((e) => ({ ...e, ...(secret && 'value' in e ? { value: REDACTED } : {}) }))
    : [];
  const shown = secret && value !== undefined ? REDACTED : value;
  const tunable = targetTunables(repo, target)?.at(segments);
  const facts = {
    path,
    environment: target.environment,
    device: target.device ?? null,
    value: shown ?? null,
    description: schema.description ?? null,
    type: schema.type ?? (schema.enum ? 'enum' : null),
    default: schema.default ?? null,
    minimum: schema.minimum ?? schema.exclusiveMinimum ?? null,
    maximum: schema.maximum ?? schema.exclusiveMaximum ?? null,
    enum: schema.enum ?? null,
    env: schema['x-env'] ?? null,
    secret,
    tunable: tunable ?? null,
    origins: chain,
  };
  const runtime = api ? await runtimeFacts(api, path) : undefined;
  const done = (): number => (reportInvalid(report) ? EXIT_INVALID : EXIT_OK);
  if (format !== 'text') return (printData(format, { ...facts, ...(runtime ? { runtime } : {}) }, () => ''), done());
  const lines = [
    `${path} = ${value === undefined ? '(not set)' : JSON.stringify(shown)}    ` +
      `[${target.device ? `${target.environment}/${target.device}` : target.environment}]`,
  ];
  if (schema.description) lines.push(`  ${String(schema.description)}`);
  const bits: string[] = [];
  if (facts.type) bits.push(`type ${Array.isArray(facts.type) ? facts.type.join('|') : String(facts.type)}`);
  if (schema.enum) bits.push(`one of ${(schema.enum as unknown[]).map(String).join(', ')}`);
  if (schema.minimum !== undefined || schema.exclusiveMinimum !== undefined)
    bits.push(schema.minimum !== undefined ? `>= ${String(schema.minimum)}` : `> ${String(schema.exclusiveMinimum)}`);
  if (schema.maximum !== undefined || schema.exclusiveMaximum !== undefined)
    bits.push(schema.maximum !== undefined ? `<= ${String(schema.maximum)}` : `< ${String(schema.exclusiveMaximum)}`);
  if (schema.default !== undefined) bits.push(`default ${JSON.stringify(schema.default)}`);
  if (bits.length > 0) lines.push(`  ${bits.join(', ')}`);
  if (facts.env) {
    const allowed =
      Array.isArray(result.environment?.policy.allowed_env_overrides) &&
      result.environment.policy.allowed_env_overrides.includes(facts.env as string);
    lines.push(
      `  environment variable: ${String(facts.env)} (${allowed ? 'allowed' : 'not allowed'} by the ${target.environment} policy)`,
    );
  }
  if (tunable) lines.push(`  tunable at runtime within ${describeSpec(tunable)}`);
  if (secret) lines.push(`  secret: only from environments/${target.environment}/secrets.sops.yaml`);
  lines.push('');
  if (chain.length === 0) lines.push('  not set by any layer');
  chain.forEach((e, i) => {
    const v = 'value' in e ? `  = ${JSON.stringify(e.value)}` : '';
    lines.push(`  ${i === 0 ? 'set by ' : 'overrode'} ${describeOrigin(e)}${v}`);
  });
  if (runtime) {
    lines.push('');
    if (runtime.tunable) lines.push(formatRuntimeLayers(runtime.tunable, runtime.commit, Date.now()));
    else
      lines.push(
        `  on the agent (release ${runtime.commit.slice(0, 12)}): ${runtime.value === null ? '(not set)' : JSON.stringify(runtime.value)}` +
          `${tunable ? '' : '; not tunable at runtime: the signed value runs'}`,
      );
  }
  out(lines.join('\n'));
  return done();
}
