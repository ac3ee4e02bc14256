// Whether a repository's environments ask for signed commits, read from their parsed policies
// (environments/<env>/environment.yaml) with the policy defaults applied: a policy that does not
// say, or a document that does not parse, requires them. Only an explicit `false` opts out.

import { isObject } from '../json/value.js';
import { loadDocument } from '../repo/documents.js';
import { environmentFile, listEnvironments } from '../repo/layout.js';
import type { RepoFiles } from '../repo/layout.js';
import { DEFAULT_POLICY } from './policy.js';

/** The environments whose policy requires signed commits, sorted. */
export function environmentsRequiringSignedCommits(files: RepoFiles): string[] {
  return listEnvironments(files).filter((env) => {
    const file = environmentFile(env);
    const text = files.get(file);
    const value = text === undefined ? undefined : loadDocument(file, text).value;
    const policy = isObject(value?.policy) ? value.policy : {};
    return (policy.require_signed_commits ?? DEFAULT_POLICY.require_signed_commits) !== false;
  });
}
