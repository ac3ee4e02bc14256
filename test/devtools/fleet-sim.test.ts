// The simulated fleet at a small size (npm run fleet-sim runs it at 1,000): real agents in this
// process polling a real git http-backend and pushing to a real Prometheus, the rollout driven by
// the library `gitops rollout advance` runs, its gate reading that Prometheus.

import { describe, expect, it } from 'vitest';
import { runFleetSim } from '../../devtools/fleet-sim/main.js';
import { which } from '../helpers/tools.js';

const prometheus = which('prometheus');

describe.runIf(prometheus)('a simulated fleet of 24 doorbells', () => {
  it('a good commit reaches every wave; a bad one halts at the canary; a device offline catches up; a ref moved back is refused by all', async () => {
    const lines: string[] = [];
    const r = await runFleetSim({
      devices: 24,
      // a canary of several devices at this size; bakes and polls scaled down
      waves: [
        { name: 'canary', share: 25, bakeSeconds: 2 },
        { name: 'early', share: 25, bakeSeconds: 2 },
        { name: 'rest', bakeSeconds: 0 },
      ],
      pollSeconds: 3,
      telemetrySeconds: 1,
      log: (l) => lines.push(l),
    }).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${lines.slice(-20).join('\n')}`);
    });
    const canary = r.waves.find((w) => w.name === 'canary')!.devices;
    expect(canary).toBeGreaterThan(0);
    // every wave had the good commit, in order
    expect(Object.keys(r.good.waves_reached_s)).toEqual(expect.arrayContaining(['canary', 'early']));
    expect(r.good.waves_reached_s.canary!).toBeLessThanOrEqual(r.good.waves_reached_s.early!);
    expect(r.offline.wave).toBe('rest');
    // the bad commit: halted by the canary's gate, on that commit; nobody outside the canary had it
    expect(r.bad).toMatchObject({ halted_wave: 'canary', halted_commit: r.bad.bad_commit, later_waves_reached: false });
    expect(r.bad.rolled_back).toBeGreaterThan(0);
    expect(r.bad.exposed).toBeLessThanOrEqual(canary);
    // the forced move back: refused by every device, none of which changed what it runs
    expect(r.forced).toEqual({ refused: 24, of: 24, still_running_good: 24 });
    // a no-change poll is one request to the git server (test/io/git-store.test.ts counts exactly
    // one); a device that rebooted, or whose last ls-refs failed, asks for the advertisement once more
    expect(r.polls.requests_per_poll).toBeGreaterThanOrEqual(1);
    expect(r.polls.requests_per_poll).toBeLessThan(1.25);
    // the same polls served by git upload-pack itself: one request each
    expect(r.polls_upload_pack.requests_per_poll).toBeGreaterThanOrEqual(1);
    expect(r.polls_upload_pack.requests_per_poll).toBeLessThan(1.25);
    expect(r.prometheus.pushed_per_s).toBeGreaterThan(0);
  }, 900_000);
});
