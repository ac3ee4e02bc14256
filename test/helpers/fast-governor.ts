// The example's load governor made quick for process tests: on, a step every 2 s down and 4 s up,
// and one signal, the detector's own latency (hot after 2 s above 90 ms).

import { parseDocument } from 'yaml';

/** config/load_governor.yaml's text, changed as above. */
export function fastGovernor(text: string): string {
  const doc = parseDocument(text);
  doc.setIn(['load_governor', 'enabled'], true);
  doc.setIn(['load_governor', 'degrade_interval_seconds'], 2);
  doc.setIn(['load_governor', 'restore_interval_seconds'], 4);
  doc.setIn(['load_governor', 'max_transitions_per_hour'], 60);
  doc.setIn(['load_governor', 'signals'], {
    inference_latency: {
      source: 'detector.inference_latency_ms',
      enter_above: 90,
      exit_below: 50,
      enter_for_seconds: 2,
      exit_for_seconds: 3,
    },
  });
  return doc.toString();
}
