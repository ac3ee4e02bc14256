// The example pipeline's simulated load: what a frame costs the detector stage under a given
// configuration, and a bounded queue in front of that stage, stepped in time. Nothing is burnt
// on the CPU: the figures are computed, so that a test or a demo on any machine sees load grow
// with the configuration and fall when the load governor steps down. Pure: time is passed in.
//
// Per captured frame, in milliseconds of one simulated worker:
//   capture    0.5 x (width x height) / (1280 x 720)
//   detector   8 x (input_size / 300)^2 x runtime / frame_interval, for each enabled detector
//   faces      12 x runtime / frame_interval of its detector, when face recognition is on and
//              that detector runs
// where runtime is 1 on the CPU and 0.25 on an accelerator (cuda, coral, hailo, openvino);
// the whole is multiplied by the synthetic load factor (1 unless an operator or a test raises it).
//
// What the tuner and experiments measure (detectionFigures), each report drawn from a seeded noise model:
//   cpu_ratio                 the busy share of the one worker, min(1, cost x fps / 1000), times
//                             exp(0.05 N) (N a standard normal draw)
//   inference_latency_p95_ms  the p95 of the frames' latencies in the report's second: the mean
//                             latency times exp(1.645 x 0.2) (per-frame latencies lognormal, σ 0.2),
//                             times exp(0.05 N)
//   agreement                 the share of the reference configuration's person detections this one
//                             finds (REFERENCE, as tuning/person-detector.yaml names it), scored on
//                             sampled frames: 1 - 0.07 ((640 - input_size) / 384)^2
//                             - 0.0048 (frame_interval - 1)^2 (416 / input_size)^2, plus 0.008 N;
//                             0 when the person detector is off
// so that in tuning/person-detector.yaml's space (input_size 256..512, frame_interval 1..4) the
// least CPU with agreement of at least 0.95 is input_size 416 every 3rd frame (agreement 0.957,
// cpu_ratio 0.084 at 15 fps on the CPU), 12 % below the next feasible candidate (512, every 4th).

export interface LoadSections {
  frame_capture?: { fps?: number; width?: number; height?: number; buffer_frames?: number };
  detectors?: Record<string, { enabled?: boolean; runtime?: string; input_size?: number; frame_interval?: number }>;
  face_recognition?: { enabled?: boolean; detector?: string; runtime?: string };
}

export interface FrameCost {
  /** Frames arriving per second. */
  fps: number;
  /** Work per frame (ms), the synthetic load factor included. */
  costMs: number;
  /** Frames the queue in front of the detectors holds (frame_capture.buffer_frames, default 4). */
  queueCapacity: number;
  /** The parts of costMs before the load factor, for the log. */
  parts: Record<string, number>;
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const runtimeFactor = (runtime: unknown): number => (runtime === undefined || runtime === 'cpu' ? 1 : 0.25);
const interval = (v: unknown): number => Math.max(1, Math.round(num(v, 1)));

export function frameCost(s: LoadSections, loadFactor = 1): FrameCost {
  const fc = s.frame_capture ?? {};
  const parts: Record<string, number> = {
    capture: (0.5 * num(fc.width, 1280) * num(fc.height, 720)) / (1280 * 720),
  };
  const detectors = s.detectors ?? {};
  for (const [name, d] of Object.entries(detectors)) {
    if (d.enabled === false) continue;
    parts[name] = (8 * (num(d.input_size, 320) / 300) ** 2 * runtimeFactor(d.runtime)) / interval(d.frame_interval);
  }
  const face = s.face_recognition;
  const host = face?.detector !== undefined ? detectors[face.detector] : undefined;
  if (face?.enabled && host && host.enabled !== false)
    parts.face_recognition = (12 * runtimeFactor(face.runtime)) / interval(host.frame_interval);
  const base = Object.values(parts).reduce((a, b) => a + b, 0);
  return {
    fps: Math.max(0, num(fc.fps, 0)),
    costMs: base * Math.max(0, loadFactor),
    queueCapacity: Math.max(1, Math.round(num(fc.buffer_frames, 4))),
    parts,
  };
}

/** The queue in front of the detectors, and what happened to frames since the last report. */
export interface QueueState {
  /** Frames waiting (fractional: a fluid model). */
  queue: number;
  /** Frames dropped since the last report, because the queue was full. */
  dropped: number;
  /** Milliseconds simulated since the last report. */
  elapsedMs: number;
  /** Sum over steps of latency x duration, for the mean latency of the report. */
  latencyMsTimesMs: number;
}

export const emptyQueue = (): QueueState => ({ queue: 0, dropped: 0, elapsedMs: 0, latencyMsTimesMs: 0 });

/**
 * Moves the queue on by `dtMs`: frames arrive at `fps`, one worker serves `dtMs / costMs` of
 * them, what does not fit in the queue is dropped. A frame's latency is its own cost plus the
 * cost of the frames waiting before it.
 */
export function stepQueue(state: QueueState, cost: FrameCost, dtMs: number): QueueState {
  const dt = Math.max(0, dtMs);
  const arrivals = (cost.fps * dt) / 1000;
  const served = cost.costMs > 0 ? dt / cost.costMs : Infinity;
  let queue = Math.max(0, state.queue + arrivals - served);
  let dropped = state.dropped;
  if (queue > cost.queueCapacity) {
    dropped += queue - cost.queueCapacity;
    queue = cost.queueCapacity;
  }
  const latency = cost.fps > 0 ? cost.costMs * (1 + queue) : 0;
  return { queue, dropped, elapsedMs: state.elapsedMs + dt, latencyMsTimesMs: state.latencyMsTimesMs + latency * dt };
}

export interface PipelineFigures {
  inference_latency_ms: number;
  dropped_frames_per_s: number;
  queue_depth: number;
}

/** The figures of the period since the last report, and the state to go on from (counters reset). */
export function takeFigures(state: QueueState, cost: FrameCost): { figures: PipelineFigures; next: QueueState } {
  const round = (x: number): number => Math.round(x * 100) / 100;
  const seconds = state.elapsedMs / 1000;
  const latency = state.elapsedMs > 0 ? state.latencyMsTimesMs / state.elapsedMs : cost.fps > 0 ? cost.costMs : 0;
  return {
    figures: {
      inference_latency_ms: round(latency),
      dropped_frames_per_s: round(seconds > 0 ? state.dropped / seconds : 0),
      queue_depth: round(state.queue),
    },
    next: { ...emptyQueue(), queue: state.queue },
  };
}

/** The configuration detection agreement is scored against (tuning/person-detector.yaml's `reference`). */
export const REFERENCE = { input_size: 640, frame_interval: 1 } as const;

/** The noise-free expectation of what detectionFigures reports. */
export function expectedDetection(s: LoadSections, cost: FrameCost): { cpuRatio: number; agreement: number } {
  const person = s.detectors?.person;
  const size = num(person?.input_size, 320);
  const k = interval(person?.frame_interval);
  const agreement =
    person && person.enabled !== false
      ? Math.max(
          0,
          1 -
            0.07 * (Math.max(0, REFERENCE.input_size - size) / 384) ** 2 -
            0.0048 * (k - REFERENCE.frame_interval) ** 2 * (416 / size) ** 2,
        )
      : 0;
  return { cpuRatio: Math.min(1, (cost.costMs * cost.fps) / 1000), agreement };
}

export interface DetectionFigures {
  cpu_ratio: number;
  inference_latency_p95_ms: number;
  agreement: number;
}

/** One report's cpu_ratio, latency p95 and agreement (see the top of this file): `normal` draws standard normal numbers (seeded). */
export function detectionFigures(
  s: LoadSections,
  cost: FrameCost,
  meanLatencyMs: number,
  normal: () => number,
): DetectionFigures {
  const e = expectedDetection(s, cost);
  const round = (x: number): number => Math.round(x * 10_000) / 10_000;
  return {
    cpu_ratio: round(Math.min(1, e.cpuRatio * Math.exp(0.05 * normal()))),
    inference_latency_p95_ms: round(meanLatencyMs * Math.exp(1.645 * 0.2 + 0.05 * normal())),
    agreement: round(Math.min(1, Math.max(0, e.agreement + (e.agreement > 0 ? 0.008 * normal() : 0)))),
  };
}

/** A synthetic load factor as written in the `synthetic-load` file: a number from 0 to 1000. */
export function parseLoadFactor(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return undefined;
  const v = Number(t);
  return v <= 1000 ? v : undefined;
}
