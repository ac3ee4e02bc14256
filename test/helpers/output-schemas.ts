// The JSON schemas of the command line's outputs (schemas/cli/*.output.json) with the
// repository's own schemas they refer to (schemas/*.schema.json), compiled once; a command's
// JSON checked against the schema of its name ("rollout status" -> rollout-status.output.json).

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { PROJECT } from './project.js';

export const CLI_SCHEMAS = join(PROJECT, 'schemas/cli');
const SCHEMAS = join(PROJECT, 'schemas');

/** The file of a command's output schema: its words joined by "-". */
export const outputSchemaFile = (command: string): string => `${command.split(' ').join('-')}.output.json`;

let compiled: Ajv2020 | undefined;

/** Every output schema and the schemas they refer to, in one validator. */
export function outputSchemas(): Ajv2020 {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  for (const f of readdirSync(SCHEMAS).filter((n) => n.endsWith('.schema.json')))
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')) as object);
  for (const f of readdirSync(CLI_SCHEMAS))
    ajv.addSchema(JSON.parse(readFileSync(join(CLI_SCHEMAS, f), 'utf8')) as object);
  return (compiled = ajv);
}

/** The command's standard output, parsed, after checking it against its schema. */
export function expectValid(command: string, stdout: string): unknown {
  const check = outputSchemas().getSchema(`https://doorbell-gitops.local/schemas/cli/${outputSchemaFile(command)}`);
  expect(check, command).toBeDefined();
  const data: unknown = JSON.parse(stdout);
  expect(check!(data), `${command}: ${JSON.stringify(check!.errors?.slice(0, 5), null, 2)}`).toBe(true);
  return data;
}
