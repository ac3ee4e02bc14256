// The JSON outputs of the command line and their schemas (schemas/cli/*.output.json): every
// command that takes --output json has one (a new command cannot forget it) and no schema names a
// command that does not exist; every schema compiles and describes every field; and the real
// built CLI's JSON of the commands that need no server matches its schema (render, rollout plan).
// The others are checked where a test already runs what they need: experiment assign in
// experiment.test.ts; experiment report and tune report against the real Prometheus of
// tune.test.ts; rollout status and advance in rollout-gate.test.ts; the agent subcommands against
// the real agent of agent-tune.test.ts; validate, diff, explain, audit, verify, migrate in
// cli-behaviour.test.ts.

import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../scripts/commands.js';
import type { CommandSpec } from '../../scripts/commands.js';
import { gitops } from '../helpers/cli.js';
import { CLI_SCHEMAS, expectValid, outputSchemaFile, outputSchemas } from '../helpers/output-schemas.js';
import { PROJECT, readText } from '../helpers/project.js';

const every: CommandSpec[] = COMMANDS.flatMap((c) => [c, ...(c.subcommands ?? [])]);
const printsJson = every.filter((s) => s.flags.some((f) => f.name === 'output' && f.choices?.includes('json')));

/** Every `properties` entry of a schema without a description, as JSON pointers. */
function undescribed(node: unknown, at = ''): string[] {
  if (typeof node !== 'object' || node === null) return [];
  const found: string[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && typeof v === 'object' && v !== null)
      for (const [name, p] of Object.entries(v as Record<string, unknown>))
        if (typeof (p as { description?: unknown }).description !== 'string') found.push(`${at}/properties/${name}`);
    found.push(...undescribed(v, `${at}/${k}`));
  }
  return found;
}

describe('the output schemas', () => {
  it('every command that takes --output json has a schema, and every schema is of such a command', () => {
    expect(printsJson.length).toBeGreaterThan(15);
    const files = new Set(readdirSync(CLI_SCHEMAS));
    for (const spec of printsJson)
      expect(files.has(outputSchemaFile(spec.name)), `${spec.name}: ${outputSchemaFile(spec.name)}`).toBe(true);
    const named = new Set(printsJson.map((s) => outputSchemaFile(s.name)));
    for (const f of files) expect(named.has(f), `${f} is the schema of no command that takes --output json`).toBe(true);
  });

  it('every schema compiles, has the $id of its file, and describes every field', () => {
    const ajv = outputSchemas();
    for (const f of readdirSync(CLI_SCHEMAS)) {
      const schema = JSON.parse(readText(`${CLI_SCHEMAS}/${f}`)) as { $id: string; description?: string };
      expect(schema.$id).toBe(`https://doorbell-gitops.local/schemas/cli/${f}`);
      expect(ajv.getSchema(schema.$id), f).toBeDefined();
      expect(typeof schema.description, f).toBe('string');
      expect(undescribed(schema), f).toEqual([]);
    }
  });
});

describe('the JSON of the real CLI against its schema', () => {
  const run = (args: string[]) => {
    const r = gitops([...args, '--root', PROJECT]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  it('render: the configuration, and with --show-origin the configuration and the origin of each value', () => {
    const plain = expectValid(
      'render',
      run(['render', '--env', 'production', '--device', 'prod-berlin-001', '-o', 'json']),
    ) as {
      frame_capture: { password: string };
    };
    expect(plain.frame_capture.password).toBe('<redacted>');
    const origins = expectValid('render', run(['render', '--env', 'staging', '--output', 'json', '--show-origin'])) as {
      origins: Record<string, Array<{ layer: string }>>;
    };
    expect(origins.origins['frame_capture.fps']![0]!.layer).toMatch(/^(base|environment|device)$/);
  });

  it('rollout plan: a declared rollout and an environment without one', () => {
    const declared = expectValid('rollout plan', run(['rollout', 'plan', '--env', 'production', '--json']));
    expect(declared).toMatchObject({ declared: true });
    const implicit = expectValid('rollout plan', run(['rollout', 'plan', '--env', 'development', '--format', 'json']));
    expect(implicit).toMatchObject({ declared: false, devices: [{ by: null }] });
  });
});
