// A real Prometheus server on 127.0.0.1 (tests, the fleet simulation): Debian's `prometheus` with
// its remote-write receiver on, a fresh data directory, optionally scraping some targets. Started
// on a free port and waited for through its own readiness endpoint, never a fixed sleep.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrometheusServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The remote-write endpoint: `${url}/api/v1/write`. */
  writeUrl: string;
  child: ChildProcess;
  /** What the server printed (its log), for a test's failure message. */
  log(): string;
  /** An instant query through the HTTP API: the result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  close(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port targets scraped at `/metrics`. */
  scrape?: string[];
  scrapeIntervalSeconds?: number;
  /** Give up waiting for readiness after this long. */
  readyTimeoutMs?: number;
  /** Accept pushed samples this far behind the newest (e.g. `12h`): hours of a backlog, as a switchback test writes. */
  outOfOrderWindow?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function startPrometheus(o: PrometheusOptions = {}): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const interval = `${o.scrapeIntervalSeconds ?? 1}s`;
  const port = await freePort();
  // itself too: what it ingests (prometheus_tsdb_head_samples_appended_total) is one of the figures
  const jobs = [`  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`];
  if ((o.scrape ?? []).length)
    jobs.push(
      `  - job_name: scraped\n    static_configs:\n      - targets: [${o.scrape!.map((t) => `'${t}'`).join(', ')}]\n`,
    );
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\nscrape_configs:\n${jobs.join('')}` +
      (o.outOfOrderWindow ? `storage:\n  tsdb:\n    out_of_order_time_window: ${o.outOfOrderWindow}\n` : ''),
  );
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      // samples pushed with a device's own timestamps may be a little old: accept them
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (b: Buffer): void => {
    output = (output + b.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = performance.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${output}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prometheus was not ready in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    child,
    log: () => output,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; data?: { result: never }; error?: string };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error ?? res.status}`);
      return body.data!.result;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
