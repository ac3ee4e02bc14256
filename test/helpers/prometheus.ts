// A real Prometheus (devtools/prometheus-server.ts) for the tests of one describe block: started
// before them, stopped after.

import { afterAll, beforeAll } from 'vitest';
import { startPrometheus } from '../../devtools/prometheus-server.js';
import type { PrometheusOptions, PrometheusServer } from '../../devtools/prometheus-server.js';

/** The server, once started (call it inside a test or a later hook). */
export function usePrometheus(options: PrometheusOptions = {}): () => PrometheusServer {
  let prom: PrometheusServer | undefined;
  beforeAll(async () => {
    prom = await startPrometheus(options);
  }, 90_000);
  afterAll(async () => {
    await prom?.close();
  });
  return () => {
    if (!prom) throw new Error('Prometheus has not started');
    return prom;
  };
}
