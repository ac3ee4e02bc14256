// What ships for the operators of a fleet: the Prometheus alerting rules (checked and unit-tested
// by promtool) and the Grafana dashboard (checked against deploy/grafana/dashboard.schema.json,
// each panel's PromQL answered by a real Prometheus).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { usePrometheus } from '../helpers/prometheus.js';
import { PROJECT } from '../helpers/project.js';
import { which } from '../helpers/tools.js';

const RULES = join(PROJECT, 'deploy/prometheus/doorbell-fleet.rules.yml');
const RULE_TESTS = join(PROJECT, 'deploy/prometheus/doorbell-fleet.rules.test.yml');
const promtool = which('promtool');

interface Dashboard {
  templating: { list: Array<{ name: string }> };
  panels: Array<{ id: number; type: string; title: string; targets?: Array<{ expr: string }> }>;
}
const dashboard = JSON.parse(
  readFileSync(join(PROJECT, 'deploy/grafana/doorbell-fleet.dashboard.json'), 'utf8'),
) as Dashboard;
const schema = JSON.parse(readFileSync(join(PROJECT, 'deploy/grafana/dashboard.schema.json'), 'utf8')) as object;

/** A panel's expression as Grafana sends it: every variable chosen as All, the rate interval a minute. */
const expand = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '1m').replaceAll('$environment', '.*').replaceAll('$wave', '.*');

describe('the alerting rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool, 'promtool (Debian package prometheus) is needed').toBeDefined();
    const r = spawnSync(promtool!, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS: 6 rules found');
    expect(r.status).toBe(0);
  });

  it('fire as their unit tests expect (promtool test rules)', () => {
    const r = spawnSync(promtool!, ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('the Grafana dashboard', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  const validate = ajv.compile(schema);

  it('is what its schema describes, every panel with its queries, the variables it uses declared', () => {
    expect(validate(dashboard), JSON.stringify(validate.errors)).toBe(true);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const declared = new Set(dashboard.templating.list.map((v) => v.name));
    for (const p of dashboard.panels)
      for (const t of p.targets ?? [])
        for (const [, name] of t.expr.matchAll(/\$(?!__)(\w+)/g))
          expect(declared, `${p.title}: $${name}`).toContain(name);
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Devices per commit and wave',
        'Refusals by reason',
        'Rollbacks',
        'Telemetry queue (batches waiting)',
      ]),
    );
  });

  it('the schema refuses a panel without a query and a uid Grafana does not take', () => {
    const broken = structuredClone(dashboard) as unknown as { uid: string; panels: Array<{ targets?: unknown[] }> };
    broken.panels.find((p) => p.targets)!.targets = [{ refId: 'A' }];
    expect(validate(broken)).toBe(false);
    expect(validate({ ...dashboard, uid: 'not a uid!' })).toBe(false);
  });

  describe('against a real Prometheus', () => {
    const prom = usePrometheus();

    it("answers every panel's expression (status success)", async () => {
      const exprs = dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ panel: p.title, expr: expand(t.expr) })),
      );
      expect(exprs.length).toBeGreaterThan(8);
      for (const { panel, expr } of exprs) {
        const r = await fetch(`${prom().url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await r.json()) as { status: string; error?: string };
        expect({ panel, status: body.status, error: body.error }).toEqual({
          panel,
          status: 'success',
          error: undefined,
        });
      }
    });
  });
});
