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

/** A synthetic load factor as written in the `synthetic-load` file: a number from 0 to 1000. */
export function parseLoadFactor(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return undefined;
  const v = Number(t);
  return v <= 1000 ? v : undefined;
}
