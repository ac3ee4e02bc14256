// agent/client: the small library a Node component embeds to receive its configuration from
// the agent. Register a callback per section; veto a proposal with a reason; report health.
//
//   const c = createClient({ dir: '/var/lib/doorbell-agent/components/capture' });
//   c.validate((sections) => sections.frame_capture.fps > 60 ? 'too fast for this process' : undefined);
//   c.on('frame_capture', (fc) => camera.reconfigure(fc));
//   c.start();
//   setInterval(() => c.report({ inference_latency_ms: 42, dropped_frames_per_s: 0, queue_depth: 1 }), 1000);

import { mkdirSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { checkMetrics, FILES } from '../core/contracts/protocol.js';
import { readProtocolFile, writeProtocolFile } from '../io/protocol-files.js';
import type { ComponentMetrics, Health, Proposal, Verdict } from '../core/contracts/protocol.js';

export type SectionHandler = (value: unknown, all: Record<string, unknown>) => void | Promise<void>;
/** Returns a reason to refuse the proposal, or undefined to accept it. */
export type Validator = (sections: Record<string, unknown>) => string | undefined | Promise<string | undefined>;
/** Returns a reason when the component cannot run the applied configuration. */
export type HealthCheck = (sections: Record<string, unknown>) => string | undefined | Promise<string | undefined>;

export interface Client {
  on(section: string, handler: SectionHandler): Client;
  validate(check: Validator): Client;
  health(check: HealthCheck): Client;
  /**
   * Reports the component's own figures (dropped frames per second, inference latency in ms,
   * queue depth, ...) for the agent's load governor; call it about once a second, as a report
   * older than a few seconds counts as none. At most 64 names like `inference_latency_ms`, each a
   * finite number: anything else throws a GitopsError (bad-metrics) and nothing is written. True
   * when the report was written (false on a full disk: the component runs on regardless).
   */
  report(metrics: Record<string, number>): boolean;
  /** Sections as last applied. */
  current(): Record<string, unknown> | undefined;
  start(): Client;
  stop(): void;
}

export interface ClientOptions {
  dir: string;
  pollMs?: number;
  /** Told once when writing a verdict or a health report fails (a full disk), and once when it works again. */
  onWriteProblem?: (problem: string | undefined) => void;
}

export function createClient(options: ClientOptions): Client {
  const { dir } = options;
  const handlers = new Map<string, SectionHandler[]>();
  const validators: Validator[] = [];
  const checks: HealthCheck[] = [];
  let applied: Proposal | undefined;
  let judged = -1;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let busy = Promise.resolve();
  let writeProblem: string | undefined;
  const tell =
    options.onWriteProblem ??
    ((p) =>
      process.stderr.write(
        p
          ? `agent/client: cannot write to ${dir} (${p}); keeping the configuration that runs\n`
          : `agent/client: writing to ${dir} works again\n`,
      ));

  /** A protocol file written, or false on a full disk or a read-only directory: the component runs on regardless. */
  const write = (name: string, value: unknown): boolean => {
    try {
      writeProtocolFile(dir, name, value);
      if (writeProblem !== undefined) tell((writeProblem = undefined));
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (writeProblem !== code) tell((writeProblem = code));
      return false;
    }
  };

  const reportHealth = async (generation: number): Promise<void> => {
    let reason: string | undefined;
    for (const c of checks) reason ??= await c(applied?.sections ?? {});
    const h: Health = {
      generation,
      healthy: reason === undefined,
      ...(reason ? { reason } : {}),
      time: new Date().toISOString(),
    };
    write(FILES.health, h);
  };

  const step = async (): Promise<void> => {
    const proposal = readProtocolFile<Proposal>(dir, FILES.proposed);
    if (proposal && proposal.generation > judged) {
      let reason: string | undefined;
      for (const v of validators) reason ??= await v(proposal.sections);
      const verdict: Verdict = {
        generation: proposal.generation,
        accept: reason === undefined,
        ...(reason ? { reason } : {}),
      };
      if (write(FILES.verdict, verdict)) judged = proposal.generation; // else judged again next time
    }
    const config = readProtocolFile<Proposal>(dir, FILES.config);
    if (config && config.generation !== applied?.generation) {
      const before = applied?.sections ?? {};
      applied = config;
      for (const [section, fns] of handlers) {
        if (JSON.stringify(before[section]) === JSON.stringify(config.sections[section])) continue;
        for (const fn of fns) await fn(config.sections[section], config.sections);
      }
      await reportHealth(config.generation);
    }
  };

  const kick = (): void => {
    busy = busy.then(step).catch(() => undefined);
  };

  const client: Client = {
    on(section, handler) {
      handlers.set(section, [...(handlers.get(section) ?? []), handler]);
      return client;
    },
    validate(check) {
      validators.push(check);
      return client;
    },
    health(check) {
      checks.push(check);
      return client;
    },
    report(metrics) {
      const report: ComponentMetrics = { time: new Date().toISOString(), values: checkMetrics(metrics) };
      return write(FILES.metrics, report);
    },
    current: () => applied?.sections,
    start() {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      try {
        watcher = watch(dir, kick);
      } catch {
        // no inotify: the poll below still delivers
      }
      timer = setInterval(() => {
        kick();
        if (applied) void reportHealth(applied.generation).catch(() => undefined); // a heartbeat the agent can watch during the bake
      }, options.pollMs ?? 250);
      kick();
      return client;
    },
    stop() {
      watcher?.close();
      if (timer) clearInterval(timer);
    },
  };
  return client;
}
