// Types for @bcoe/v8-coverage (it ships none): the raw V8 coverage format, the part devtools/coverage.ts uses.

declare module '@bcoe/v8-coverage' {
  import type { Profiler } from 'node:inspector';
  export type ScriptCov = Profiler.ScriptCoverage;
  export interface ProcessCov {
    result: ScriptCov[];
  }
  /** Adds up the block counts of the same scripts in several processes' coverage. */
  export function mergeProcessCovs(processCovs: readonly ProcessCov[]): ProcessCov;
}
