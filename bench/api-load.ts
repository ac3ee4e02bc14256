// A small load generator for the agent's local API on loopback: keep-alive connections, a fixed
// concurrency, bounded in requests and in time; and a set of open event streams.

import { Agent, get } from 'node:http';
import type { ClientRequest } from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

export async function loadTest(
  url: string,
  headers: Record<string, string>,
  o: { concurrency: number; maxRequests: number; maxSeconds: number },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  const deadline = performance.now() + o.maxSeconds * 1000;
  const t0 = performance.now();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t = performance.now();
      get(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t);
          else errors++;
          resolve();
        });
      }).on('error', () => {
        errors++;
        resolve();
      });
    });
  const worker = async (): Promise<void> => {
    while (started < o.maxRequests && performance.now() < deadline) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50ms: latencies[Math.floor(latencies.length / 2)] ?? NaN,
    p99ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
  };
}

export interface Streams {
  /** Events of each type received, over all streams. */
  received: Map<string, number>;
  close(): void;
}

/** Opens `n` event streams and resolves when each has said hello. */
export function openStreams(url: string, headers: Record<string, string>, n: number): Promise<Streams> {
  const received = new Map<string, number>();
  const requests: ClientRequest[] = [];
  const hellos = Array.from(
    { length: n },
    () =>
      new Promise<void>((resolve, reject) => {
        const req = get(url, { headers: { ...headers, accept: 'text/event-stream' } }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`event stream: HTTP ${res.statusCode}`));
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            for (const m of chunk.matchAll(/^event: (.*)$/gm)) {
              received.set(m[1]!, (received.get(m[1]!) ?? 0) + 1);
              if (m[1] === 'hello') resolve();
            }
          });
        });
        req.on('error', () => undefined);
        requests.push(req);
      }),
  );
  return Promise.all(hellos).then(() => ({ received, close: () => requests.forEach((r) => r.destroy()) }));
}
