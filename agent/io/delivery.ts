// Handing a component its configuration, by the method its definition in components.yaml names:
// http (validate, apply and health endpoints), signal (SIGHUP to the pid in a pid file),
// command (run without a shell, with a timeout), or file (the agent/client protocol). It also
// reads what a component reports of itself (metrics): its metrics.json, or a metrics URL.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FILES, MAX_METRICS_FILE, METRICS_MAX_AGE_MS, readMetrics } from '../core/contracts/protocol.js';
import { readProtocolFile, writeProtocolFile } from './protocol-files.js';
import type { ComponentMetrics, Health, Proposal, Verdict } from '../core/contracts/protocol.js';
import type { Component } from '../core/config/types.js';
import { readRegularFile } from './safe-read.js';
import { failure } from './process.js';
import type { ProcessRunner } from './process.js';

export interface ComponentTarget {
  name: string;
  spec: Component & {
    reload: Component['reload'] & { timeout_ms?: number };
    health?: { url?: string; timeout_ms?: number; bake_seconds?: number };
    /** Where the component answers GET with its own figures ({time?, values}), for any reload method. */
    metrics?: { url?: string; timeout_ms?: number };
  };
}

/** The clock metrics are aged on: wall time (the report's time is the component's) and monotonic time. */
export interface MetricsClock {
  now(): Date;
  monotonic(): number;
}

/**
 * What kind of failure: the component refused the proposal (`vetoed`), did not answer or judge it
 * (`unavailable`: not the configuration's fault), could not be handed it (`reload-failed`), has
 * not reported health for this generation yet (`not-reported`), stopped reporting (`stale`), or
 * reports itself unhealthy (`unhealthy`). Decisions are taken on this code, never on the reason.
 */
export type OutcomeCode = 'vetoed' | 'unavailable' | 'reload-failed' | 'not-reported' | 'stale' | 'unhealthy';

export type Outcome = { ok: true } | { ok: false; code: OutcomeCode; reason: string };

const fail = (code: OutcomeCode, reason: string): Outcome => ({ ok: false, code, reason });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function httpJson(
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

const why = (e: unknown): string =>
  (e as Error).name === 'TimeoutError'
    ? 'did not answer in time'
    : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);

export class Delivery {
  /** Each file component's last health report, and when (monotonic) this process first saw it. */
  private readonly seen = new Map<string, { time: string; at: number }>();

  /** Each component's last metrics report, and when (monotonic) this process first saw it. */
  private readonly seenMetrics = new Map<string, { time: string; at: number }>();

  constructor(
    private readonly componentsDir: string,
    /** Runs `command` reloads. */
    private readonly processes: ProcessRunner,
    private readonly clock: MetricsClock = { now: () => new Date(), monotonic: () => performance.now() },
  ) {}

  dirOf(name: string): string {
    return join(this.componentsDir, name);
  }

  /** The highest generation any component's protocol files mention (0 when there are none). */
  highestGeneration(): number {
    let names: string[];
    try {
      names = readdirSync(this.componentsDir);
    } catch {
      return 0;
    }
    let high = 0;
    for (const name of names) {
      for (const file of Object.values(FILES)) {
        const g = readProtocolFile<{ generation?: unknown }>(this.dirOf(name), file)?.generation;
        if (typeof g === 'number' && Number.isSafeInteger(g) && g > high) high = g;
      }
    }
    return high;
  }

  /** Asks the component whether it accepts the proposal (only http and file can veto). */
  async propose(t: ComponentTarget, p: Proposal): Promise<Outcome> {
    const timeout = t.spec.reload.timeout_ms ?? 5000;
    if (t.spec.reload.method === 'http' && t.spec.reload.url) {
      try {
        const r = await httpJson(`${t.spec.reload.url}/validate`, p, timeout);
        if (r.status >= 200 && r.status < 300) return { ok: true };
        return fail('vetoed', `${t.name} refused it: ${String(r.json?.reason ?? `HTTP ${r.status}`)}`);
      } catch (e) {
        return fail('unavailable', `${t.name} ${why(e)} at ${t.spec.reload.url}/validate`);
      }
    }
    if (t.spec.reload.method === 'file') {
      const dir = this.dirOf(t.name);
      writeProtocolFile(dir, FILES.proposed, p);
      for (const deadline = performance.now() + timeout; performance.now() < deadline; await sleep(10)) {
        const v = readProtocolFile<Verdict>(dir, FILES.verdict);
        if (v?.generation === p.generation)
          return v.accept ? { ok: true } : fail('vetoed', `${t.name} refused it: ${v.reason ?? 'no reason given'}`);
      }
      return fail('unavailable', `${t.name} did not judge the proposal within ${timeout} ms (is it running?)`);
    }
    return { ok: true };
  }

  async apply(t: ComponentTarget, p: Proposal): Promise<Outcome> {
    const r = t.spec.reload;
    const timeout = r.timeout_ms ?? 5000;
    try {
      switch (r.method) {
        case 'http': {
          const res = await httpJson(`${r.url}/apply`, p, timeout);
          return res.status >= 200 && res.status < 300
            ? { ok: true }
            : { ok: false, code: 'reload-failed', reason: `${t.name} answered HTTP ${res.status} to apply` };
        }
        case 'file':
          writeProtocolFile(this.dirOf(t.name), FILES.config, p);
          return { ok: true };
        case 'signal': {
          // never blocks (a FIFO) and never reads much (/dev/zero): a pid is a few digits
          const read = readRegularFile(r.pid_file!, 64, { followLinks: true });
          if (!read.ok)
            return {
              ok: false,
              code: 'reload-failed',
              reason: `${r.pid_file} cannot be read as a pid file (${read.code}${read.errno ? ` ${read.errno}` : ''})`,
            };
          const pid = Number(read.bytes.toString('latin1').trim());
          if (!Number.isInteger(pid) || pid <= 1)
            return { ok: false, code: 'reload-failed', reason: `${r.pid_file} does not hold a process id` };
          process.kill(pid, 'SIGHUP');
          return { ok: true };
        }
        case 'command': {
          const [cmd, ...args] = r.command!;
          const run = await this.processes.run(cmd!, args, { timeoutMs: timeout, maxOutputBytes: 1024 * 1024 });
          const failed = failure(cmd!, run);
          return failed
            ? { ok: false, code: 'reload-failed', reason: `${t.name} could not be reconfigured by command: ${failed}` }
            : { ok: true };
        }
      }
    } catch (e) {
      return {
        ok: false,
        code: 'reload-failed',
        reason: `${t.name} could not be reconfigured by ${r.method}: ${why(e)}`,
      };
    }
  }

  /**
   * One health verdict; for file components, the report must be for this generation and, when
   * `maxAgeMs` is given, no older than that (a component that stopped reporting has stopped).
   */
  async health(t: ComponentTarget, generation: number, maxAgeMs?: number): Promise<Outcome> {
    if (t.spec.reload.method === 'file') {
      const h = readProtocolFile<Health>(this.dirOf(t.name), FILES.health);
      if (!h || h.generation < generation)
        return {
          ok: false,
          code: 'not-reported',
          reason: `${t.name} has not reported health for this configuration yet`,
        };
      // how long the report has stood, on the agent's monotonic clock: a clock set forward or
      // back (no RTC, NTP arriving late) neither ages every report at once nor keeps one fresh
      const prior = this.seen.get(t.name);
      const seen = prior?.time === h.time ? prior : { time: h.time, at: performance.now() };
      this.seen.set(t.name, seen);
      const age = performance.now() - seen.at;
      if (maxAgeMs !== undefined && !(age <= maxAgeMs))
        return {
          ok: false,
          code: 'stale',
          reason: `${t.name} has not reported health for ${Math.round(age / 1000)} s (is it running?)`,
        };
      return h.healthy ? { ok: true } : fail('unhealthy', `${t.name} is unhealthy: ${h.reason ?? 'no reason given'}`);
    }
    const url = t.spec.health?.url;
    if (!url) return { ok: true };
    try {
      const r = await httpJson(url, undefined, t.spec.health?.timeout_ms ?? 2000);
      return r.status >= 200 && r.status < 300
        ? { ok: true }
        : {
            ok: false,
            code: 'unhealthy',
            reason: `${t.name} health check answered HTTP ${r.status}${r.json?.reason ? `: ${String(r.json.reason)}` : ''}`,
          };
    } catch (e) {
      return { ok: false, code: 'unhealthy', reason: `${t.name} health check ${why(e)}` };
    }
  }

  /**
   * The component's latest report of its own figures, or undefined when there is none to use:
   * none written (or no metrics URL), not readable within MAX_METRICS_FILE, not a valid report,
   * or stale. A report counts as stale when its time is more than `maxAgeMs` before now, or when
   * this process has seen the same report for longer than that (a component that stopped
   * reporting leaves its last file behind; the monotonic count holds when the wall clock jumps).
   * A component whose spec names `metrics.url` is asked by HTTP GET; else a file component's
   * metrics.json is read.
   */
  async metrics(t: ComponentTarget, maxAgeMs: number = METRICS_MAX_AGE_MS): Promise<ComponentMetrics | undefined> {
    const now = this.clock.now();
    let report: ComponentMetrics | undefined;
    const url = t.spec.metrics?.url;
    if (url) {
      const body = await httpBoundedText(url, t.spec.metrics?.timeout_ms ?? 2000, MAX_METRICS_FILE).catch(
        () => undefined,
      );
      report = body === undefined ? undefined : readMetrics(parseJson(body), now.toISOString());
    } else if (t.spec.reload.method === 'file') {
      const read = readRegularFile(join(this.dirOf(t.name), FILES.metrics), MAX_METRICS_FILE);
      report = read.ok ? readMetrics(parseJson(read.bytes.toString('utf8'))) : undefined;
    }
    if (!report) return undefined;
    const prior = this.seenMetrics.get(t.name);
    const seen = prior?.time === report.time ? prior : { time: report.time, at: this.clock.monotonic() };
    this.seenMetrics.set(t.name, seen);
    const wallAge = now.getTime() - Date.parse(report.time);
    const heldFor = this.clock.monotonic() - seen.at;
    return wallAge <= maxAgeMs && heldFor <= maxAgeMs ? report : undefined;
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/** The body of a GET, or undefined when it does not answer 2xx or sends more than `maxBytes`. */
async function httpBoundedText(url: string, timeoutMs: number, maxBytes: number): Promise<string | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal, headers: { accept: 'application/json' } });
    if (!res.ok || !res.body || Number(res.headers.get('content-length') ?? 0) > maxBytes) return undefined;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) return undefined;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    clearTimeout(timer);
    controller.abort(); // the rest of an oversized or unread body is not waited for
  }
}
