// `npm run coverage`: the coverage of the whole product, in-process and in the child processes the tests start.
//
// vitest's own coverage (@vitest/coverage-v8) sees only the code that runs inside its workers. The daemon and
// the CLI run as child processes (`node dist/scripts/gitops.js ...`); for those, vitest.config.ts sets
// NODE_V8_COVERAGE in the workers' environment (when GITOPS_CHILD_COVERAGE names a directory), every node
// process the tests start inherits it and writes its raw V8 coverage there when it exits. This script runs
// vitest, merges the child processes' raw coverage per script, maps it through the build's source maps onto
// the TypeScript sources with the same converter vitest uses (ast-v8-to-istanbul), merges that with vitest's
// report, prints the table and holds the whole product to the thresholds. It reports even when a test fails,
// and fails when a test failed or a threshold is not met.
//
// Usage: node dist/devtools/coverage.js [vitest arguments, e.g. test/scripts] | --report-only

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mergeProcessCovs } from '@bcoe/v8-coverage';
import type { ProcessCov, ScriptCov } from '@bcoe/v8-coverage';
import astV8ToIstanbul from 'ast-v8-to-istanbul';
import libCoverage from 'istanbul-lib-coverage';
import type { CoverageMap, CoverageSummary } from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';
import { parseAstAsync } from 'vitest/node';

/** The product: what the thresholds hold (test support in devtools/ and bench/ is not product). */
export const PRODUCT = ['agent/', 'scripts/', 'examples/pipeline/'];
export const THRESHOLDS = { lines: 95, branches: 85 };
/** The rows of the per-directory summary. */
const AREAS = ['agent/core/', 'agent/io/', 'agent/daemon/', 'agent/client/', 'scripts/', 'examples/pipeline/'];

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(PROJECT, 'coverage');
const CHILDREN = join(OUT, 'children');
const VITEST_OUT = join(OUT, 'vitest');
const DIST = join(PROJECT, 'dist');

const isProduct = (path: string): boolean => PRODUCT.some((p) => relative(PROJECT, path).startsWith(p));

/** Runs vitest with coverage, the child processes writing theirs to CHILDREN; returns its exit status. */
function runVitest(args: string[]): number {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(CHILDREN, { recursive: true });
  const r = spawnSync(
    process.execPath,
    [join(PROJECT, 'node_modules/vitest/vitest.mjs'), 'run', '--coverage', ...args],
    {
      cwd: PROJECT,
      stdio: 'inherit',
      env: { ...process.env, GITOPS_CHILD_COVERAGE: CHILDREN },
    },
  );
  return r.status ?? 1;
}

/** The product's compiled scripts in one child process's coverage file. */
function productScripts(file: string): ScriptCov[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { result?: ScriptCov[] };
  const prefix = pathToFileURL(DIST).href + '/';
  return (parsed.result ?? []).filter(
    (s) => s.url.startsWith(prefix) && s.url.endsWith('.js') && isProduct(join(PROJECT, s.url.slice(prefix.length))),
  );
}

/** All child processes' coverage of the product, merged per script (block counts added). */
function mergedChildCoverage(): ProcessCov {
  let merged: ProcessCov = { result: [] };
  const files = existsSync(CHILDREN) ? readdirSync(CHILDREN).filter((f) => f.endsWith('.json')) : [];
  const batch: ProcessCov[] = [];
  const flush = (): void => {
    merged = mergeProcessCovs([merged, ...batch]);
    batch.length = 0;
  };
  for (const f of files) {
    try {
      batch.push({ result: productScripts(join(CHILDREN, f)) });
    } catch {
      // a process that died while writing leaves a partial file: it counts for nothing
      continue;
    }
    if (batch.length >= 50) flush();
  }
  flush();
  process.stdout.write(`child processes: ${files.length} coverage files, ${merged.result.length} product scripts\n`);
  return merged;
}

type Range = libCoverage.Range;

/**
 * The two conversions map the same statement onto the same start but not always the same end column (vitest's
 * transform maps many ends to no column, tsc's to the last one); istanbul merges locations by their exact
 * start and end, so the end columns are dropped on both sides and one statement counts once.
 */
function withoutEndColumns(data: libCoverage.CoverageMapData): libCoverage.CoverageMapData {
  const strip = (r: Range | undefined): void => {
    if (r?.end) (r.end as { column: number | null }).column = null;
  };
  for (const fc of Object.values(data)) {
    for (const s of Object.values(fc.statementMap)) strip(s);
    for (const f of Object.values(fc.fnMap)) [f.loc, f.decl].forEach(strip);
    for (const b of Object.values(fc.branchMap)) [b.loc, ...b.locations].forEach(strip);
  }
  return data;
}

/** One compiled script's block coverage, mapped onto its TypeScript source. */
async function toIstanbul(script: ScriptCov): Promise<CoverageMap> {
  const jsPath = fileURLToPath(script.url);
  const code = readFileSync(jsPath, 'utf8');
  const mapPath = `${jsPath}.map`;
  if (!existsSync(mapPath)) {
    // built without source maps after the tests ran (npm run coverage builds with them): not mapped, said so
    process.stderr.write(`coverage: ${relative(PROJECT, mapPath)} is missing; its child processes are not counted\n`);
    return libCoverage.createCoverageMap({});
  }
  const sourceMap = JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[] };
  sourceMap.sources = sourceMap.sources.map((s) => new URL(s, script.url).href);
  const data = await astV8ToIstanbul({
    code,
    sourceMap: sourceMap as Parameters<typeof astV8ToIstanbul>[0]['sourceMap'],
    ast: parseAstAsync(code),
    coverage: { url: script.url, functions: script.functions },
  });
  return libCoverage.createCoverageMap(withoutEndColumns(data as libCoverage.CoverageMapData));
}

function pct(s: CoverageSummary, key: 'lines' | 'branches' | 'functions' | 'statements'): string {
  const m = s[key];
  return `${m.pct.toFixed(2).padStart(6)} % (${m.covered}/${m.total})`;
}

function summaryOf(map: CoverageMap, prefix: string): CoverageSummary {
  const summary = libCoverage.createCoverageSummary();
  for (const f of map.files())
    if (relative(PROJECT, f).startsWith(prefix)) summary.merge(map.fileCoverageFor(f).toSummary());
  return summary;
}

async function main(): Promise<void> {
  // --report-only: the report of the last run again (its coverage files), without running the tests
  const reportOnly = process.argv[2] === '--report-only';
  const status = reportOnly ? 0 : runVitest(process.argv.slice(2));

  const finalJson = join(VITEST_OUT, 'coverage-final.json');
  const map = libCoverage.createCoverageMap(
    withoutEndColumns(
      existsSync(finalJson) ? (JSON.parse(readFileSync(finalJson, 'utf8')) as libCoverage.CoverageMapData) : {},
    ),
  );
  for (const script of mergedChildCoverage().result) map.merge(await toIstanbul(script));
  map.filter((f) => isProduct(f) && existsSync(f));

  const context = libReport.createContext({ dir: OUT, coverageMap: map });
  reports.create('html', { subdir: 'html' } as never).execute(context);
  reports.create('json').execute(context);
  reports.create('json-summary').execute(context);
  reports.create('text').execute(context);

  const total = summaryOf(map, '');
  const rows = [...AREAS.map((a) => [a, summaryOf(map, a)] as const), ['whole product', total] as const];
  process.stdout.write(`\n${'area'.padEnd(20)}${'lines'.padEnd(26)}${'branches'.padEnd(26)}functions\n`);
  for (const [name, s] of rows)
    process.stdout.write(
      `${name.padEnd(20)}${pct(s, 'lines').padEnd(26)}${pct(s, 'branches').padEnd(26)}${pct(s, 'functions')}\n`,
    );

  const failures = (['lines', 'branches'] as const)
    .filter((k) => total[k].pct < THRESHOLDS[k])
    .map((k) => `${k} ${total[k].pct.toFixed(2)} % is below the threshold of ${THRESHOLDS[k]} %`);
  for (const f of failures) process.stderr.write(`coverage: the whole product's ${f}\n`);
  if (status !== 0) process.stderr.write(`coverage: vitest exited with status ${status}\n`);
  process.stdout.write(`the report: ${relative(PROJECT, join(OUT, 'html/index.html'))}\n`);
  process.exitCode = status !== 0 || failures.length > 0 ? 1 : 0;
}

await main();
