// On-disk cache of compiled schema validators (ajv standalone code), so that a cold
// `gitops validate` does not recompile unchanged schemas. Keyed by the schemas' digest; a
// corrupt or unreadable entry is ignored and rebuilt.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { CompiledSchemaCache, SchemaName } from '../core/schema/schema-set.js';
import { writeFileAtomic } from './repo-files.js';

const requireForCode = createRequire(import.meta.url);

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOORBELL_GITOPS_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'doorbell-gitops');
}

export function fileSchemaCache(dir: string = defaultCacheDir()): CompiledSchemaCache {
  const path = (key: string): string => join(dir, `validators-${key}.cjs`);
  return {
    load(key) {
      let code: string;
      try {
        code = readFileSync(path(key), 'utf8');
      } catch {
        return undefined;
      }
      try {
        const mod: { exports: Partial<Record<SchemaName, ValidateFunction>> } = { exports: {} };
        new Function('module', 'exports', 'require', code)(mod, mod.exports, requireForCode);
        return mod.exports;
      } catch {
        return undefined;
      }
    },
    store(key, code) {
      // At most the cache folder and its parent are created: a missing home (HOME=/nonexistent
      // for a service user) means no cache, not a new home.
      if (!existsSync(dirname(dirname(dir)))) return;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileAtomic(path(key), code);
      } catch {
        // a cache that cannot be written only costs time
      }
    },
  };
}
