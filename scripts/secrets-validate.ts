// Before secrets are written: when the file belongs to an environment of a configuration
// repository, its values must fit the configuration schema at their paths.

import { dirname, join, relative } from 'node:path';
import { schemaDiagnostics } from '../agent/core/schema/diagnostics.js';
import { loadSchemas } from '../agent/core/schema/schema-set.js';
import type { MapNode } from '../agent/core/sops/tree.js';
import { toPlain } from '../agent/core/sops/tree.js';
import { fileExists } from '../agent/io/local-files.js';
import { readWorkingTree } from '../agent/io/repo-files.js';

function repoRootOf(file: string): string | undefined {
  let dir = dirname(file);
  for (let i = 0; i < 20; i++) {
    if (fileExists(join(dir, 'schemas', 'config.schema.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

export function secretsProblems(file: string, branches: readonly MapNode[]): string[] {
  const root = repoRootOf(file);
  if (!root || !/^environments\/[^/]+\/secrets\.sops\.yaml$/.test(relative(root, file).split('\\').join('/')))
    return [];
  const { set } = loadSchemas(readWorkingTree(root));
  if (!set) return ['the repository schemas do not compile; run gitops validate'];
  const value = toPlain(branches[0]!);
  const errors = set.validate('config', value).filter((e) => e.keyword !== 'required');
  return schemaDiagnostics(errors, () => undefined).map((d) => `${d.message}${d.hint ? ` (${d.hint})` : ''}`);
}
