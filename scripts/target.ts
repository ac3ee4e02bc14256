// Picking one environment (and device) on the command line, with "Did you mean" when wrong.

import { GitopsError } from '../agent/core/errors.js';
import type { Repository } from '../agent/core/repo/repository.js';
import type { RenderTarget } from '../agent/core/config/render.js';
import { closest } from '../agent/core/format/suggest.js';

export function pickTarget(
  repo: Pick<Repository, 'environments' | 'devices'>,
  env: unknown,
  device: unknown,
  usage: string,
): RenderTarget {
  if (typeof env !== 'string') throw new GitopsError('usage', '--env is required', `usage: ${usage}`);
  const envs = repo.environments();
  if (!envs.includes(env)) {
    const guess = closest(env, envs);
    throw new GitopsError(
      'unknown-environment',
      `there is no environment "${env}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      `environments: ${envs.join(', ')}`,
    );
  }
  if (device === undefined) return { environment: env };
  const devices = repo.devices(env);
  if (typeof device !== 'string' || !devices.includes(device)) {
    const guess = closest(String(device), devices);
    throw new GitopsError(
      'unknown-device',
      `there is no device "${String(device)}" in ${env}${guess ? `. Did you mean "${guess}"?` : ''}`,
      `devices in ${env}: ${devices.join(', ') || '(none)'}`,
    );
  }
  return { environment: env, device };
}
