// A load_governor section for the governor's tests: the example's thermal signal (hot after 30 s above
// 78 C, normal after 300 s below 70 C) and a four-step ladder, with the schema's defaults elsewhere.

import type { LoadGovernor } from '../../agent/core/config/schema-types.js';

export const SOC_TEMP: LoadGovernor['signals'][string] = {
  source: 'soc_temp_c',
  enter_above: 78,
  exit_below: 70,
  enter_for_seconds: 30,
  exit_for_seconds: 300,
};

export function governorSection(over: Partial<LoadGovernor> = {}): LoadGovernor {
  return {
    enabled: true,
    tick_seconds: 1,
    degrade_interval_seconds: 30,
    restore_interval_seconds: 300,
    max_transitions_per_hour: 12,
    lease_ttl_seconds: 120,
    signals: { soc_temp: SOC_TEMP },
    ladder: [
      { name: 'faces_off', set: { 'face_recognition.enabled': false } },
      { name: 'fps_10', set: { 'frame_capture.fps': 10 } },
      { name: 'skip', set: { 'detectors.person.frame_interval': 2 } },
      { name: 'fps_5', set: { 'frame_capture.fps': 5 } },
    ],
    protected: ['notifications', 'web_interface', 'storage'],
    ...over,
  };
}
