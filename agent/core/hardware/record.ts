// gitops hardware probe and capture, the pure part: what a device's rendered configuration asks
// the probe to look at, and a probed profile turned into the recorded profile of a device model.

import { Document } from 'yaml';
import { isObject } from '../json/value.js';
import type { JsonObject } from '../json/value.js';

/** The storage path, model files and camera streams a rendered configuration names. */
export function probeTargets(config: JsonObject): { storagePath?: string; modelFiles: string[]; streams: string[] } {
  const c = config as JsonObject & {
    storage?: { path?: string };
    detectors?: Record<string, { enabled?: boolean; model_path?: string }>;
    face_recognition?: { enabled?: boolean; model_path?: string };
    frame_capture?: { source?: string; url?: string };
  };
  const modelFiles: string[] = [];
  const streams: string[] = [];
  for (const d of Object.values(c.detectors ?? {})) if (d.enabled && d.model_path) modelFiles.push(d.model_path);
  if (c.face_recognition?.enabled && c.face_recognition.model_path) modelFiles.push(c.face_recognition.model_path);
  if (c.frame_capture?.source === 'rtsp' && c.frame_capture.url) streams.push(c.frame_capture.url);
  return { ...(c.storage?.path !== undefined ? { storagePath: c.storage.path } : {}), modelFiles, streams };
}

/** A recorded profile describes the model, not this moment: the probed profile without its live-only facts. */
export function recordedProfile(profile: JsonObject, model: string): JsonObject {
  const recorded: JsonObject = { ...profile, description: `${model}, recorded with gitops hardware capture` };
  for (const key of ['probed_at', 'memory_available_mb', 'model_files', 'streams']) delete recorded[key];
  if (isObject(recorded.disk))
    recorded.disk = Object.fromEntries(Object.entries(recorded.disk).filter(([k]) => k !== 'free_mb'));
  return recorded;
}

/** The text of config/hardware/<model>.yaml for a recorded profile, probed on `probedAt`. */
export function recordedProfileText(recorded: JsonObject, model: string, probedAt: string): string {
  const doc = new Document(recorded);
  doc.commentBefore = ` yaml-language-server: $schema=../../schemas/hardware-profile.schema.json\n Hardware profile of model "${model}", recorded by gitops hardware capture on ${probedAt.slice(0, 10)}.\n CI validates every device of this model against these facts.`;
  return doc.toString({ lineWidth: 0 });
}
