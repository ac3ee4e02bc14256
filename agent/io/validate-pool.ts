// `gitops validate` over many targets on every core: a pool of worker threads (piscina), each
// validating one part of the targets (ValidateOptions.part) in a repository of its own, the
// first part also checking the repository as a whole. The parts merge into the report the
// single-threaded path gives (a test compares the two).

import { availableParallelism } from 'node:os';
import type { RepoFiles } from '../core/repo/layout.js';
import type { RenderTarget } from '../core/config/render.js';
import type { Diagnostic } from '../core/validate/diagnostics.js';
import { countTargets, mergeParts, validatePart } from '../core/validate/validate.js';
import type { ValidateOptions } from '../core/validate/validate.js';
import { openRepository } from '../core/repo/repository.js';
import { diffTargets, openSides, sortTargetDiffs } from '../core/change/diff.js';
import type { DiffScope, TargetDiff } from '../core/change/diff.js';
import { fileSchemaCache } from './schema-cache.js';

/** What a worker sends back: plain data (a rendered result holds functions and stays in the worker). */
export interface PartReport {
  diagnostics: Diagnostic[];
  targets: Array<{ target: RenderTarget; diagnostics: Diagnostic[] }>;
  /** With PartTask.diff: the target diffs of the same part. */
  diffs?: TargetDiff[];
}

export interface PartTask {
  files: RepoFiles;
  options: Omit<ValidateOptions, 'part'>;
  part: { index: number; count: number };
  /** `files` are the head of a diff from `base`: the part's targets are diffed too, in the same repository. */
  diff?: { base: RepoFiles; scope: DiffScope };
}

/** What pooledValidation gives: the validation, and with a diff the target diffs in their order. */
export interface PooledReport {
  valid: boolean;
  diagnostics: Diagnostic[];
  targets: PartReport['targets'];
  diffs?: TargetDiff[];
}

/** Below this many targets one thread is quicker than starting workers. */
const POOL_MIN_TARGETS = 200;

/** The worker's task: one part of the validation. */
export function validateInWorker(task: PartTask): PartReport {
  // a diff's head is validated in the repository it is diffed in: what both read is parsed once
  const sides = task.diff && openSides(task.diff.base, task.files, fileSchemaCache());
  const repo = sides?.head ?? openRepository(task.files, fileSchemaCache());
  // each target's render is let go as soon as it is checked
  const report = validatePart(repo, { ...task.options, part: task.part }, (t) => ({
    target: t.target,
    diagnostics: t.diagnostics,
  }));
  return sides ? { ...report, diffs: diffTargets(sides, task.diff!.scope, task.part) } : report;
}

export default validateInWorker;

/** Validates in `jobs` worker threads; the report is the single-threaded one's, without the rendered results. */
async function validateInPool(
  files: RepoFiles,
  options: Omit<ValidateOptions, 'part'>,
  jobs: number,
  diff: PartTask['diff'],
): Promise<PooledReport> {
  // loaded only for a pool: a small repository's validation never pays for it
  const { Piscina } = await import('piscina');
  const pool = new Piscina<PartTask, PartReport>({
    filename: new URL(import.meta.url).href,
    minThreads: jobs,
    maxThreads: jobs,
    idleTimeout: 0,
  });
  // a plain Map of every text: a tree read lazily is read whole before it is copied to the workers
  const copy = new Map(files);
  try {
    const parts = await Promise.all(
      Array.from({ length: jobs }, (_, index) =>
        pool.run({ files: copy, options, part: { index, count: jobs }, ...(diff ? { diff } : {}) }),
      ),
    );
    return { ...mergeParts(parts), ...(diff ? { diffs: sortTargetDiffs(parts.flatMap((p) => p.diffs!)) } : {}) };
  } finally {
    await pool.destroy();
  }
}

/**
 * The validation of `files` in a pool of `jobs` threads (default: one per core) when it is large
 * enough and there is more than one, else undefined: the caller validates in its own thread.
 * With `diff`, `files` are the head of a diff from `diff.base`, and the workers diff their targets too.
 */
export async function pooledValidation(
  files: RepoFiles,
  options: Omit<ValidateOptions, 'part'>,
  jobs = availableParallelism(),
  diff?: PartTask['diff'],
): Promise<PooledReport | undefined> {
  // counted with the compiled schemas of the on-disk cache, as the workers open them
  if (jobs < 2 || countTargets(openRepository(files, fileSchemaCache()), options) < POOL_MIN_TARGETS) return undefined;
  return validateInPool(files, options, jobs, diff);
}
