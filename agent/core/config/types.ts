// Typed views of a rendered configuration and of a hardware profile. Rules run only on
// configurations that passed the schema, so these shapes hold (optional fields stay optional).

import type { Severity } from '../validate/diagnostics.js';
import type { Config, HardwareProfile } from './schema-types.js';

// The shapes themselves are generated from schemas/ (schema-types.ts, `npm run gen:types`): they cannot drift.
export type { AgentSettings, Config, HardwareProfile } from './schema-types.js';

export type FrameCapture = Config['frame_capture'];
export type Detector = Config['detectors'][string];
/** One pipeline process, as the rendered configuration's `components` holds it. */
export type Component = Config['components'][string];
export type LogLevel = Config['logging']['level'];
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

export type Camera = HardwareProfile['cameras'][number];
export type CameraFormat = Camera['formats'][number];
export type CameraMode = CameraFormat['modes'][number];

/** What a rule reports; validation turns it into a located diagnostic. */
export interface Finding {
  severity: Severity;
  code: string;
  message: string;
  /** JSON Pointer into the rendered configuration, or into `file` when that is set. */
  pointer: string;
  file?: string;
  hint?: string;
  suggestion?: string;
}
