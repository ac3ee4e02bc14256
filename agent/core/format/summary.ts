// One line per rendered target, for people: what each device will run.

import type { Config } from '../config/types.js';
import type { TargetReport } from '../validate/validate.js';

export function summariseTarget(report: TargetReport): string {
  const { target, result, diagnostics } = report;
  const name = target.device ? `${target.environment}/${target.device}` : `${target.environment} (no devices)`;
  const c = result.config as unknown as Partial<Config>;
  const parts: string[] = [];
  if (result.device) parts.push(result.device.model);
  const fc = c.frame_capture;
  if (fc) parts.push(`${fc.width}x${fc.height} ${fc.pixel_format} @ ${fc.fps} fps`);
  const detectors = Object.entries(c.detectors ?? {})
    .filter(([, d]) => d.enabled)
    .map(([n, d]) => `${n}[${d.runtime}]`);
  parts.push(`detectors ${detectors.join(' ') || 'none'}`);
  if (c.face_recognition?.enabled) parts.push(`faces[${c.face_recognition.runtime}]`);
  const channels = Object.entries(c.notifications ?? {})
    .filter(([, v]) => typeof v === 'object' && v !== null && (v as { enabled?: boolean }).enabled)
    .map(([k]) => k);
  parts.push(`notify ${channels.join(',') || 'none'}`);
  const web = c.web_interface;
  if (web?.enabled) parts.push(`web :${web.port}${web.tls?.enabled ? ' tls' : ''} auth=${web.auth?.mode ?? 'none'}`);
  if (c.logging) parts.push(`log ${c.logging.level}`);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return `${errors > 0 ? '✗' : '✓'} ${name.padEnd(30)} ${parts.join(', ')}`;
}
