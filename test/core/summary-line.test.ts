// The one-line summary of a rendered target, for configurations that are partial or odd: no devices, no
// sections at all, a disabled web interface, no detectors or channels on, an error among the diagnostics.

import { describe, expect, it } from 'vitest';
import { summariseTarget } from '../../agent/core/format/summary.js';
import type { JsonObject } from '../../agent/core/json/value.js';
import type { TargetReport } from '../../agent/core/validate/validate.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { exampleFiles } from '../helpers/project.js';

const report = validateRepository(exampleFiles(), { environments: ['staging'] }).targets[0]!;
const withConfig = (config: JsonObject, over: Partial<TargetReport> = {}): TargetReport => ({
  ...report,
  ...over,
  result: { ...report.result, config, ...over.result },
});

describe('summariseTarget', () => {
  it('an environment without devices, with nothing rendered: the parts it has', () => {
    const line = summariseTarget(
      withConfig({}, { target: { environment: 'lab' }, result: { ...report.result, config: {}, device: undefined } }),
    );
    expect(line).toBe(`✓ ${'lab (no devices)'.padEnd(30)} detectors none, notify none`);
  });

  it('a web interface without TLS or auth, detectors off, channels off or not objects, and an error', () => {
    const line = summariseTarget(
      withConfig(
        {
          detectors: { person: { enabled: false, runtime: 'cpu' } },
          notifications: { telegram: { enabled: false }, min_interval_seconds: 30, webhook: { enabled: true } },
          web_interface: { enabled: true, port: 8080 },
          face_recognition: { enabled: false },
          logging: { level: 'debug' },
        },
        { diagnostics: [{ severity: 'error', code: 'x', message: 'm' }] },
      ),
    );
    expect(line).toMatch(/^✗ /);
    expect(line).toContain('detectors none, notify webhook, web :8080 auth=none, log debug');
  });

  it('a disabled web interface is left out', () => {
    expect(summariseTarget(withConfig({ web_interface: { enabled: false, port: 80 } }))).not.toContain('web :');
  });
});
