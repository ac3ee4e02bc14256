// A configuration repository held in memory: its files, compiled schemas, and each document
// parsed at most once. The same object serves CI (files from a working tree or git objects)
// and the device.

import type { Diagnostic } from '../validate/diagnostics.js';
import { loadDocument } from './documents.js';
import type { ParsedDocument } from './documents.js';
import type { RepoFiles } from './layout.js';
import { listDevices, listEnvironments } from './layout.js';
import { loadSchemas } from '../schema/schema-set.js';
import type { CompiledSchemaCache, SchemaSet } from '../schema/schema-set.js';

export interface Repository {
  files: RepoFiles;
  schemas: SchemaSet | undefined;
  schemaDiagnostics: Diagnostic[];
  /** The parsed document, or undefined when the file does not exist. */
  document(file: string): ParsedDocument | undefined;
  environments(): string[];
  devices(env: string): string[];
}

export function openRepository(files: RepoFiles, schemaCache?: CompiledSchemaCache): Repository {
  const { set, diagnostics } = loadSchemas(files, schemaCache);
  const cache = new Map<string, ParsedDocument>();
  return {
    files,
    schemas: set,
    schemaDiagnostics: diagnostics,
    document(file) {
      let hit = cache.get(file);
      if (!hit) {
        const text = files.get(file);
        if (text === undefined) return undefined;
        hit = loadDocument(file, text);
        cache.set(file, hit);
      }
      return hit;
    },
    environments: () => listEnvironments(files),
    devices: (env) => listDevices(files, env),
  };
}
