// A tuning file (tuning/<name>.yaml, schemas/tuning.schema.json) as a typed value, after its
// defaults are filled in (agent/core/tuning/spec.ts reads and checks it).

import type { TunableValue } from '../tunables/annotation.js';

export type Direction = 'minimize' | 'maximize';

export interface Constraint {
  metric: string;
  stat: 'mean' | 'p95' | 'max';
  max?: number;
  min?: number;
}

export type MethodSpec =
  | { type: 'successive-halving'; eta: number; candidates?: Array<Record<string, TunableValue>> }
  | { type: 'thompson'; min_trials: number }
  | { type: 'gp-ei'; initial: number };

export interface DimensionSpec {
  path: string;
  /** The values listed, or `grid`: every value of the field's grid within the device's bounds. */
  values: TunableValue[] | 'grid';
}

export interface Tuning {
  /** The file stem. */
  name: string;
  file: string;
  description: string;
  owner: string;
  hardware_models: string[];
  /** Absent: every environment. */
  environments?: string[];
  status: 'running' | 'paused';
  space: DimensionSpec[];
  reference: Record<string, TunableValue>;
  objective: { metric: string; direction: Direction; constraints: Constraint[] };
  conditions: {
    governor_at_rest: boolean;
    healthy: boolean;
    below: Record<string, number>;
    utc_hours?: { from: number; to: number };
  };
  trial: { settle_seconds: number; duration_seconds: number; min_samples: number };
  budget: { max_trials: number };
  method: MethodSpec;
}
