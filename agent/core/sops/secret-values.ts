// Before secrets are written: the values of an environment's secrets.sops.yaml must fit the
// configuration schema at their paths (they are layer 5 of the render). Required properties are
// not asked for: the secrets file holds only some of the configuration.

import { schemaDiagnostics } from '../schema/diagnostics.js';
import { loadSchemas } from '../schema/schema-set.js';
import type { RepoFiles } from '../repo/layout.js';
import type { MapNode } from './tree.js';
import { toPlain } from './tree.js';

/** Whether a repository-relative path is an environment's secrets file. */
export const isEnvironmentSecretsFile = (relativePath: string): boolean =>
  /^environments\/[^/]+\/secrets\.sops\.yaml$/.test(relativePath);

/**
 * Problems with the secret values `branches` of the file at `relativePath` of the repository
 * `files`, one line each; none for a file that is not an environment's secrets file.
 */
export function secretValueProblems(relativePath: string, files: RepoFiles, branches: readonly MapNode[]): string[] {
  if (!isEnvironmentSecretsFile(relativePath)) return [];
  const { set } = loadSchemas(files);
  if (!set) return ['the repository schemas do not compile; run gitops validate'];
  const errors = set.validate('config', toPlain(branches[0]!)).filter((e) => e.keyword !== 'required');
  return schemaDiagnostics(errors, () => undefined).map((d) => `${d.message}${d.hint ? ` (${d.hint})` : ''}`);
}
