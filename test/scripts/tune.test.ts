// gitops tune report | propose, through the built command, on a git repository (the example
// repository with three more rpi4-camv2 doorbells in staging) with a bare remote, a real Prometheus
// holding the trial series the devices' tuners push (agent/daemon/tuner.ts: doorbell_tuning_trial and
// doorbell_tuning_trials, with the device label the pusher adds) and a local server answering like
// the GitHub API. Four rpi4-camv2 devices tried three candidates, each device with its own offset,
// one candidate the known best (the hottest device did not try it); one edge-p4-c920 device tried two (too few devices for a best).
// The report finds the best; --dry-run shows the change and touches nothing; propose opens the pull
// request that writes it into the model's device files (comments kept) and the branch validates;
// no data, too few devices, an unknown run, model or candidate are refused by code.

import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { prometheusQuery } from '../../agent/io/prometheus-query.js';
import { encodeWriteRequest, pushWriteRequest } from '../../agent/io/remote-write.js';
import type { TimeSeries } from '../../agent/io/remote-write.js';
import { readTrialSummaries } from '../../agent/io/tune-report.js';
import { tuneCommand } from '../../scripts/tune.js';
import { parse as parseYaml } from 'yaml';
import { gitops, gitopsAsync } from '../helpers/cli.js';
import { withCode } from '../helpers/codes.js';
import { run } from '../helpers/git.js';
import type { Repo } from '../helpers/git.js';
import { exampleCopy, PROJECT, tempDir } from '../helpers/project.js';
import { committedFleet, pullRecorder } from '../helpers/pull-requests.js';
import { expectValid } from '../helpers/output-schemas.js';
import { usePrometheus } from '../helpers/prometheus.js';

const TUNING = 'person-detector';
const MODEL = 'rpi4-camv2';
const key = (size: number, interval: number): string =>
  `detectors.person.input_size=${size},detectors.person.frame_interval=${interval}`;
const BEST = key(320, 2);
/** The objective (CPU ratio) of each candidate before a device's offset; BEST is the lowest. */
const CPU: Record<string, number> = { [BEST]: 0.3, [key(416, 2)]: 0.36, [key(512, 1)]: 0.5 };
const SIMS = ['stg-sim-1', 'stg-sim-2', 'stg-sim-3'];
const RPI = ['stg-office-01', ...SIMS];
const OFFICE = 'environments/staging/devices/stg-office-01.yaml';

function series(labels: Record<string, string>, value: number, at: number): TimeSeries {
  return {
    labels: Object.keys(labels)
      .sort()
      .map((name) => ({ name, value: labels[name]! })),
    samples: [{ timestamp: at, value }],
  };
}

/** What the tuners of the devices push: every rpi4 device tried every candidate (offset per device). */
function trialSeries(at: number): TimeSeries[] {
  const out: TimeSeries[] = [];
  const push = (device: string, model: string, candidate: string, mean: number, feasible: number, failed = 0) => {
    const base = { device, environment: 'staging', job: 'doorbell-agent', instance: device, tuning: TUNING, model };
    out.push(series({ ...base, __name__: 'doorbell_tuning_trial', candidate }, mean, at));
    for (const [outcome, n] of [
      ['feasible', feasible],
      ['infeasible', failed],
      ['aborted', 0],
    ] as const)
      out.push(series({ ...base, __name__: 'doorbell_tuning_trials', candidate, outcome }, n, at));
  };
  // a hot device (+0.2) tried only the worst candidates: without the offsets it would make them look worse still
  RPI.forEach((device, i) => {
    const offset = [0.0, 0.05, -0.03, 0.2][i]!;
    for (const [candidate, cpu] of Object.entries(CPU))
      if (offset < 0.2 || candidate !== BEST) push(device, MODEL, candidate, cpu + offset + 0.002 * i, 2);
  });
  push('dev-bench-01', 'edge-p4-c920', key(416, 2), 0.2, 3);
  push('dev-bench-01', 'edge-p4-c920', key(512, 1), 0.25, 2, 1);
  return out;
}

/** The example repository with three more rpi4-camv2 doorbells in staging. */
function tuneRepo(dir: string): void {
  for (const sub of ['config', 'environments', 'schemas', 'experiments', 'tuning', '.sops.yaml'])
    cpSync(join(PROJECT, sub), join(dir, sub), { recursive: true });
  const template = readFileSync(join(PROJECT, OFFICE), 'utf8');
  for (const id of SIMS)
    writeFileSync(join(dir, `environments/staging/devices/${id}.yaml`), template.replaceAll('stg-office-01', id));
}

describe('gitops tune', () => {
  const prom = usePrometheus();
  const { pulls, env } = pullRecorder(9);
  let repo: Repo;
  let origin = '';

  beforeAll(async () => {
    ({ repo, origin } = committedFleet(tuneRepo));
    const body = encodeWriteRequest(trialSeries(Date.now() - 60_000));
    const r = await pushWriteRequest({ url: prom().writeUrl, body, timeoutMs: 30_000 });
    expect(r, prom().log()).toMatchObject({ ok: true });
  }, 90_000);

  const report = (...more: string[]) =>
    gitopsAsync(['tune', 'report', TUNING, '--root', repo.dir, '--prometheus', prom().url, ...more], { env: env() });
  const propose = (...more: string[]): string[] => [
    'tune',
    'propose',
    TUNING,
    '--root',
    repo.dir,
    '--prometheus',
    prom().url,
    '--remote',
    'upstream',
    '--repo',
    'fleet/config',
    ...more,
  ];
  const untouched = (): void => {
    expect(repo.git(['status', '--porcelain'])).toBe('');
    expect(repo.git(['branch', '--list', '--format=%(refname:short)', 'tuning/*']).split('\n').filter(Boolean)).toEqual(
      pulls.map((p) => p.head).sort(),
    );
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main');
  };

  it('reads every device summary of the run from Prometheus', async () => {
    const read = await readTrialSummaries(
      { name: TUNING, hardware_models: [MODEL, 'edge-p4-c920'] },
      { prometheus: prometheusQuery(prom().url) },
    );
    expect(read.warnings).toEqual([]);
    expect(read.summaries).toHaveLength(RPI.length * 3 - 1 + 2);
    expect(read.summaries).toContainEqual({
      model: 'edge-p4-c920',
      device: 'dev-bench-01',
      candidate: key(512, 1),
      mean: 0.25,
      trials: 2,
      failed: 1,
    });
    // a model the run does not target is left out, and said so
    const other = await readTrialSummaries(
      { name: TUNING, hardware_models: [MODEL] },
      { prometheus: prometheusQuery(prom().url) },
    );
    expect(other.summaries.every((s) => s.model === MODEL)).toBe(true);
    expect(other.warnings[0]).toContain('a model the tuning run does not target');
  });

  it('report pools per hardware model and finds the known best; the model with one device has none', async () => {
    const r = await report('--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = expectValid('tune report', r.stdout) as {
      models: Array<{
        model: string;
        best: string | null;
        candidates: Array<{ candidate: string; devices: number; estimate: number }>;
      }>;
    };
    const rpi = json.models.find((m) => m.model === MODEL)!;
    expect(rpi.best).toBe(BEST);
    expect(rpi.candidates.map((c) => c.devices)).toEqual([3, 4, 4]);
    // device-adjusted: the hot device that skipped the best does not widen the gap (raw means would: 0.11)
    const est = Object.fromEntries(rpi.candidates.map((c) => [c.candidate, c.estimate]));
    expect(est[key(416, 2)]! - est[BEST]!).toBeCloseTo(0.06, 5);
    expect(json.models.find((m) => m.model === 'edge-p4-c920')!.best).toBeNull();
    const md = await report('--format', 'markdown'); // --format: the alias of --output
    expect(md.stdout).toContain(`| ${BEST} (best) | 3 | 6 | 0 |`);
    const text = await report();
    expect(text.stdout).toMatch(new RegExp(`${MODEL}: best: ${BEST.replace(/[.]/g, '\\.')}`));
    expect(text.stdout).toContain('edge-p4-c920: no candidate has 3 devices');
    // the same data as YAML and through the aliases
    const yaml = await report('--output', 'yaml');
    expect(parseYaml(yaml.stdout)).toEqual(json);
    expect(JSON.parse((await report('--json')).stdout)).toEqual(json);
    expect(JSON.parse((await report('-f', 'json')).stdout)).toEqual(json);
  });

  it('experiment report reads the same Prometheus: its JSON matches its schema, YAML is the same data', async () => {
    const args = ['experiment', 'report', 'motion-sensitivity', '--root', repo.dir, '--prometheus', prom().url];
    const json = await gitopsAsync([...args, '--output', 'json']);
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    const data = expectValid('experiment report', json.stdout) as { experiment: string; at: string };
    expect(data.experiment).toBe('motion-sensitivity');
    const at = ['--at', data.at];
    const again = JSON.parse((await gitopsAsync([...args, ...at, '--json'])).stdout) as unknown;
    expect(parseYaml((await gitopsAsync([...args, ...at, '--output', 'yaml'])).stdout)).toEqual(again);
    expect((await gitopsAsync([...args, '--format', 'json', '--output', 'markdown'])).status).toBe(2);
  });

  it('propose --dry-run shows the change and the evidence, and touches nothing', async () => {
    const r = await gitopsAsync(propose('--model', MODEL, '--dry-run'), { env: env() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const d of RPI) expect(r.stdout).toContain(`would write  environments/staging/devices/${d}.yaml`);
    expect(r.stdout).not.toContain('dev-bench-01.yaml');
    expect(r.stdout).toMatch(/~ detectors\.person\.input_size: 300 -> 320/);
    expect(r.stdout).toContain(`| ${BEST} (best) | 3 |`);
    expect(r.stdout).not.toContain('Not the pooled best');
    untouched();
    expect(pulls).toHaveLength(0);
  });

  it("opens the pull request: the best in the model's device files (comments kept), the evidence table as its body", async () => {
    const r = await gitopsAsync(propose('--model', MODEL), { env: env() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('opened https://github.example/fleet/config/pull/1');
    expect(pulls).toHaveLength(1);
    const pull = pulls[0]!;
    expect(pull).toMatchObject({ title: `tuning ${TUNING}: ${BEST} for ${MODEL}`, base: 'main', draft: false });
    expect(pull.head).toMatch(new RegExp(`^tuning/${TUNING}-${MODEL}-`));
    expect(pull.body).toContain(`## Tuning \`${TUNING}\`: \`${BEST}\` for ${MODEL}`);
    expect(pull.body).toContain(`| ${BEST} (best) | 3 | 6 | 0 |`);
    expect(pull.body).toContain('`detectors.person.input_size` | `300` | `320`');
    const show = (path: string): string => run('git', ['--git-dir', origin, 'show', `${pull.head}:${path}`]).toString();
    expect(show(OFFICE)).toMatch(/^ {4}input_size: 320$/m);
    expect(show(OFFICE)).toMatch(/^ {4}frame_interval: 2$/m);
    expect(show(OFFICE)).toContain('# The office entrance: a Raspberry Pi doorbell');
    const changed = run('git', ['--git-dir', origin, 'diff', '--name-only', 'main', pull.head])
      .toString()
      .trim()
      .split('\n');
    expect(changed.sort()).toEqual(RPI.map((d) => `environments/staging/devices/${d}.yaml`).sort());
    const branch = join(tempDir('branch-'), 'tree');
    run('git', ['clone', '-q', '--branch', pull.head, origin, branch]);
    const validate = gitops(['validate', '--root', branch]);
    expect(validate.status, validate.stdout).toBe(0);
    untouched();
  });

  it('no data or too few devices: the report holds and propose refuses (tuning-no-best) unless --candidate', async () => {
    const empty = await gitopsAsync([
      'tune',
      'report',
      TUNING,
      '--root',
      repo.dir,
      '--prometheus',
      '',
      '--output',
      'json',
    ]);
    expect(empty.status).toBe(0);
    expect(empty.stderr).toContain('no telemetry');
    const json = expectValid('tune report', empty.stdout) as { models: Array<{ best: null; verdict: string }> };
    expect(json.models.map((m) => [m.best, m.verdict])).toEqual([
      [null, 'no trials reported: hold'],
      [null, 'no trials reported: hold'],
    ]);
    const inProcess = (...more: string[]) => tuneCommand(propose(...more).slice(1));
    await expect(inProcess('--model', 'edge-p4-c920')).rejects.toThrow(
      withCode('tuning-no-best', 'no candidate has 3 devices'),
    );
    const none = await gitopsAsync(
      ['tune', 'propose', TUNING, '--root', repo.dir, '--prometheus', '', '--model', MODEL],
      {
        env: env(),
      },
    );
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no trials reported: hold');
    expect(none.stderr).toContain('--candidate');
    // a person may name one: the body says it is not the pooled best
    const given = await gitopsAsync(propose('--model', 'edge-p4-c920', '--candidate', key(416, 2), '--dry-run'), {
      env: env(),
    });
    expect(given.stderr).toBe('');
    expect(given.status).toBe(0);
    expect(given.stdout).toContain('would write  environments/development/devices/dev-bench-01.yaml');
    expect(given.stdout).toContain('**Not the pooled best** (`--candidate`)');
    untouched();
    expect(pulls).toHaveLength(1);
  });

  it('refuses an unknown run, model and candidate, and a bad command line, by code', async () => {
    const inProcess = (...args: string[]) => tuneCommand(args);
    const root = ['--root', repo.dir, '--prometheus', prom().url];
    await expect(inProcess('report', 'person-detektor', ...root)).rejects.toThrow(
      withCode('unknown-tuning', 'Did you mean "person-detector"?'),
    );
    await expect(inProcess('propose', TUNING, ...root, '--model', 'rpi4-camv3')).rejects.toThrow(
      withCode('tuning-unknown-model', 'Did you mean "rpi4-camv2"?'),
    );
    await expect(
      inProcess('propose', TUNING, ...root, '--model', MODEL, '--candidate', 'detectors.person.input_size=320'),
    ).rejects.toThrow(withCode('tuning-bad-candidate', 'has no value for detectors.person.frame_interval'));
    await expect(inProcess('propose', TUNING, ...root)).rejects.toThrow(withCode('usage'));
    await expect(inProcess('report', TUNING, '--root', repo.dir)).rejects.toThrow(withCode('usage'));
    await expect(inProcess('reprot', TUNING)).rejects.toThrow(withCode('usage', 'Did you mean "report"?'));
    // a value the device's bounds or the governor refuse does not validate: nothing is committed
    const refused = await gitopsAsync(propose('--model', MODEL, '--candidate', key(320, 3)), { env: env() });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('the proposal would not validate');
    untouched();
  });

  it('the command line: help, usage errors (exit 2, code usage) and a repository that does not validate (exit 1)', async () => {
    const cli = (...args: string[]) => gitopsAsync(['tune', ...args]);
    const source = ['--root', repo.dir, '--prometheus', prom().url];
    // the dispatcher answers --help itself (scripts/help.ts); the command's own help, in process
    const printed = async (...args: string[]): Promise<{ code: number; text: string }> => {
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        const code = await tuneCommand(args);
        return { code, text: write.mock.calls.map((c) => String(c[0])).join('') };
      } finally {
        write.mockRestore();
      }
    };
    for (const args of [
      ['--help'],
      ['report', '--help'],
      ['report', TUNING, '--help', ...source],
      ['propose', TUNING, '-h'],
    ]) {
      const h = await printed(...args);
      expect(h.code, args.join(' ')).toBe(0);
      expect(h.text).toMatch(/^usage: gitops tune /);
      expect(h.text).toContain('examples:');
    }
    expect((await gitopsAsync(['tune', 'report', '--help'])).stdout).toContain('gitops tune report: ');
    const usage: Array<[string[], string]> = [
      [[], 'tune needs a subcommand'],
      [['frobnicate', TUNING], 'unknown tune subcommand "frobnicate"'],
      [['report'], "tune report needs the tuning run's NAME"],
      [['report', '--output', 'json'], "tune report needs the tuning run's NAME"],
      [['report', TUNING, 'extra', ...source], 'takes one NAME, got also "extra"'],
      [['report', TUNING, ...source, '--output', 'xml'], '--output must be one of text, json, yaml, markdown'],
      [['report', TUNING, ...source, '--format', 'html'], '--format must be one of'],
      [['report', TUNING, ...source, '--output', 'json', '--format', 'markdown'], 'say different things'],
      [['report', TUNING, ...source, '--json', '--output', 'text'], 'say different things'],
      [['report', TUNING, '--root', repo.dir, '--prometheus', 'prometheus.example'], 'is not an http(s) URL'],
      [['report', TUNING, ...source, '--window', '30 days'], '--window 30 days is not a duration'],
      [['report', TUNING, ...source, '--windw', '30d'], 'unknown flag --windw. Did you mean --window?'],
      [['propose', TUNING, ...source, '--model', ''], 'tune propose needs --model M'],
      [['propose', TUNING, ...source, '--model', MODEL, '--repo', 'fleet'], '--repo fleet is not OWNER/NAME'],
    ];
    const results = await Promise.all(usage.map(([args]) => cli(...args)));
    usage.forEach(([args, message], i) => {
      expect(results[i]!.status, args.join(' ')).toBe(2);
      expect(results[i]!.stderr, args.join(' ')).toContain(message);
      expect(results[i]!.stdout, args.join(' ')).toBe('');
    });
    // in process: the same refusals carry their code
    await expect(tuneCommand([])).rejects.toThrow(withCode('usage'));
    await expect(tuneCommand(['report', TUNING, ...source, '--output', 'json', '-f', 'text'])).rejects.toThrow(
      withCode('usage', 'say different things'),
    );
    await expect(tuneCommand(['propose', TUNING, ...source])).rejects.toThrow(withCode('usage', 'needs --model M'));
    // a repository without the run, or without any: the hint lists them or says where to create one
    const bare = exampleCopy();
    await expect(tuneCommand(['report', TUNING, '--root', bare, '--prometheus', ''])).rejects.toThrow(
      withCode('unknown-tuning', `there is no tuning run "${TUNING}"`),
    );
    const unknown = await cli('report', 'zzz', ...source);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(`tuning runs: ${TUNING}`);
    const none = await cli('report', TUNING, '--root', bare, '--prometheus', '');
    expect(none.status).toBe(1);
    expect(none.stderr).toContain(`create tuning/${TUNING}.yaml`);
    // a run that does not pass its schema: its errors, exit 1, nothing printed on standard output
    const broken = tempDir('tune-broken-');
    cpSync(repo.dir, broken, { recursive: true });
    const file = join(broken, `tuning/${TUNING}.yaml`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('direction: minimize', 'direction: sideways'));
    for (const verb of [['report'], ['propose', '--model', MODEL]]) {
      const r = await cli(verb[0]!, TUNING, '--root', broken, '--prometheus', '', ...verb.slice(1));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('the repository does not validate');
    }
  });

  it('propose says so and exits 0 when every device of the model has the candidate already; markdown without trials holds', async () => {
    const current = key(300, 1);
    const dir = tempDir('tune-current-');
    cpSync(repo.dir, dir, { recursive: true });
    const bench = join(dir, 'environments/development/devices/dev-bench-01.yaml');
    const text = readFileSync(bench, 'utf8');
    expect(text).toContain('\n  person:\n');
    writeFileSync(bench, text.replace('\n  person:\n', '\n  person:\n    input_size: 300\n    frame_interval: 1\n'));
    const r = await gitopsAsync(
      ['tune', 'propose', TUNING, '--root', dir, '--prometheus', '', '--model', 'edge-p4-c920', '--candidate', current],
      { env: env() },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `every edge-p4-c920 device of tuning ${TUNING} has ${current} already: nothing to propose`,
    );
    untouched();
    const md = await gitopsAsync(['tune', 'report', TUNING, '--root', repo.dir, '--prometheus', '', '-o', 'markdown']);
    expect(md.status).toBe(0);
    expect(md.stdout).toMatch(/^### tuning person-detector: minimize detector\.cpu_ratio\n/);
    expect(md.stdout).toContain('#### rpi4-camv2\n\nno trials reported: hold');
  });
});
