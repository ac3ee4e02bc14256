// npm run fleet-sim -- --devices N [--poll S] [--telemetry S] [--keep]: the simulated fleet's
// scenarios (sim.ts), a table of what they measured, and the figures in bench/results.json
// (key fleet_sim; `npm run bench` keeps it).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../../agent/daemon/settings.js';
import { FleetSim } from './sim.js';
import type { SimResults } from './sim.js';
import type { SimWave } from './repo.js';

export const DEFAULT_WAVES: SimWave[] = [
  { name: 'canary', share: 2, bakeSeconds: 4 },
  { name: 'early', share: 20, bakeSeconds: 4 },
  { name: 'rest', bakeSeconds: 0 },
];

export async function runFleetSim(o: {
  waves?: SimWave[];
  devices: number;
  pollSeconds: number;
  telemetrySeconds: number;
  log: (l: string) => void;
}): Promise<SimResults> {
  const waves = o.waves ?? DEFAULT_WAVES;
  const sim = new FleetSim({
    root: PACKAGE_ROOT,
    devices: o.devices,
    waves,
    pollSeconds: o.pollSeconds,
    telemetrySeconds: o.telemetrySeconds,
    brokenShare: 0.5,
    // a stuck fleet is found by its stall; the limit only bounds a crawl (a busy host)
    stallMs: Math.max(180_000, 5 * o.pollSeconds * 1000),
    deadlineMs: Math.max(600_000, o.devices * 1800),
    log: o.log,
  });
  const dir = mkdtempSync(join(tmpdir(), 'fleet-sim-'));
  try {
    o.log(
      `fleet simulation: ${o.devices} devices, polls every ${o.pollSeconds} s, telemetry every ${o.telemetrySeconds} s`,
    );
    const enrolled = await sim.setup(dir);
    o.log(`enrolled: every device runs the first commit after ${enrolled.toFixed(1)} s`);
    const { good, offline } = await sim.good();
    o.log(
      `good commit: 100 % after ${good.merge_to_100_s.toFixed(1)} s; the offline device caught up in ${offline.caught_up_s.toFixed(1)} s`,
    );
    const bad = await sim.bad();
    o.log(`bad commit: ${bad.exposed} devices exposed, halted at ${bad.halted_wave}: ${bad.halted}`);
    const forced = await sim.forced();
    o.log(`forced move back: refused by ${forced.refused} of ${forced.of}`);
    const polls = await sim.polls();
    const pollsUploadPack = await sim.polls(true);
    const change = await sim.change();
    const prometheus = await sim.prometheusFigures();
    const host = sim.host();
    return {
      devices: o.devices,
      waves: waves.map((w) => ({
        name: w.name,
        share: w.share ?? null,
        bake_s: w.bakeSeconds,
        devices: sim.devices.filter((d) => sim.waveOf(d.id) === w.name).length,
      })),
      poll_s: o.pollSeconds,
      telemetry_s: o.telemetrySeconds,
      enrolled_s: enrolled,
      good,
      offline,
      bad,
      forced,
      polls,
      polls_upload_pack: pollsUploadPack,
      change,
      prometheus,
      host,
    };
  } finally {
    await sim.close();
  }
}

export function formatFleetSim(r: SimResults): string {
  const rows: Array<[string, string]> = [
    ['devices (waves)', `${r.devices} (${r.waves.map((w) => `${w.name} ${w.devices}`).join(', ')})`],
    ['enrolment: every device on the first commit', `${r.enrolled_s.toFixed(1)} s`],
    [
      'merge to 100 % through every wave',
      `${r.good.merge_to_100_s.toFixed(1)} s (${Object.entries(r.good.waves_reached_s)
        .map(([w, s]) => `${w} ${s.toFixed(1)} s`)
        .join(', ')})`,
    ],
    ['offline device caught up after return', `${r.offline.caught_up_s.toFixed(1)} s`],
    [
      'devices exposed to the bad commit',
      `${r.bad.exposed} (${(100 * r.bad.exposed_share).toFixed(1)} %; canary share ${(100 * r.bad.canary_share).toFixed(1)} %)`,
    ],
    ['bad commit reached a later wave', r.bad.later_waves_reached ? 'YES' : 'no'],
    ['revert to 100 %', `${r.bad.revert_to_100_s.toFixed(1)} s`],
    [
      'forced move back refused by',
      `${r.forced.refused} of ${r.forced.of} (${r.forced.still_running_good} kept what they ran)`,
    ],
    ['git server CPU per 1,000 no-change polls', `${r.polls.server_cpu_s_per_1000.toFixed(2)} s`],
    [
      'bytes per 1,000 no-change polls',
      `${Math.round(r.polls.bytes_per_1000).toLocaleString('en')} B (${r.polls.requests_per_poll.toFixed(2)} requests per poll)`,
    ],
    [
      'devices one server core serves at a 60 s poll',
      `${r.polls.devices_per_core_at_60s.toLocaleString('en')} through git http-backend (CGI);` +
        ` ${r.polls_upload_pack.devices_per_core_at_60s.toLocaleString('en')} with git upload-pack run directly` +
        ` (${r.polls_upload_pack.server_cpu_s_per_1000.toFixed(2)} s per 1,000 polls)`,
    ],
    [
      'git server per device per change',
      `${(r.change.server_cpu_s_per_device * 1000).toFixed(1)} ms CPU, ${Math.round(r.change.bytes_per_device).toLocaleString('en')} B`,
    ],
    [
      'Prometheus samples ingested per second',
      `${r.prometheus.samples_per_s.toFixed(0)} over the last minute (${r.prometheus.series.toLocaleString('en')} series;` +
        ` the agents pushed ${r.prometheus.pushed_per_s.toFixed(0)}/s on average)`,
    ],
    [
      'simulation host: sync waits for a slot',
      `p50 ${(r.host.sync_waits.p50_ms / 1000).toFixed(2)} s, p99 ${(r.host.sync_waits.p99_ms / 1000).toFixed(1)} s,` +
        ` max ${(r.host.sync_waits.max_ms / 1000).toFixed(1)} s over ${r.host.sync_waits.count.toLocaleString('en')} syncs;` +
        ` event loop ${(100 * r.host.event_loop_utilisation).toFixed(0)} % busy`,
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

if (process.argv[1]?.endsWith('fleet-sim/main.js')) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '1000' },
      poll: { type: 'string', default: '20' },
      telemetry: { type: 'string', default: '10' },
    },
  });
  const r = await runFleetSim({
    devices: Number(values.devices),
    pollSeconds: Number(values.poll),
    telemetrySeconds: Number(values.telemetry),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(`\n${formatFleetSim(r)}\n`);
  const file = join(PACKAGE_ROOT, 'bench/results.json');
  const results = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  results.fleet_sim = { date: new Date().toISOString(), cpus: cpus().length, ...r };
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write('\nwritten: bench/results.json (fleet_sim)\n');
  process.exit(0);
}
