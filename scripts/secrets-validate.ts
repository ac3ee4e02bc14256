// Before secrets are written: when the file belongs to an environment of a configuration
// repository, its values must fit the configuration schema at their paths (core/sops/secret-values).

import { dirname, join, relative } from 'node:path';
import { isEnvironmentSecretsFile, secretValueProblems } from '../agent/core/sops/secret-values.js';
import type { MapNode } from '../agent/core/sops/tree.js';
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
  if (root === undefined) return [];
  const rel = relative(root, file).split('\\').join('/');
  return isEnvironmentSecretsFile(rel) ? secretValueProblems(rel, readWorkingTree(root), branches) : [];
}
