// A rendered configuration against what a device's hardware offers: CUDA and its version, GPU
// memory, accelerators, RAM, disk, and the camera's formats, sizes and frame rates. Used by CI
// with recorded model profiles and by the agent with a live probe.

import { checkCameraMode } from './camera-modes.js';
import type { Config, Finding, HardwareProfile } from '../config/types.js';
import { toPointer } from '../json/pointer.js';

const p = (...segments: string[]): string => toPointer(segments);

export interface HardwareSubject {
  environment: string;
  device: string;
  model: string;
}

const acceleratorFor: Record<string, { types: string[]; what: string }> = {
  coral: { types: ['coral-usb', 'coral-pcie'], what: 'a Coral Edge TPU' },
  hailo: { types: ['hailo'], what: 'a Hailo NPU' },
  openvino: { types: ['intel-vaapi'], what: 'Intel graphics' },
};

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function checkHardware(config: Config, profile: HardwareProfile, subject: HardwareSubject): Finding[] {
  const out: Finding[] = [];
  const who = `device ${subject.device} (model ${subject.model})`;
  const gpu = profile.gpu ?? undefined;

  // GPU work: enabled cuda detectors and face recognition on cuda
  const cudaUsers: Array<{ name: string; pointer: string; memory: number }> = [];
  for (const [name, det] of Object.entries(config.detectors)) {
    if (det.enabled && det.runtime === 'cuda')
      cudaUsers.push({
        name: `detector "${name}"`,
        pointer: p('detectors', name, 'runtime'),
        memory: det.gpu_memory_mb ?? 0, // the schema's default (the renderer fills no defaults inside maps)
      });
  }
  if (config.face_recognition.enabled && config.face_recognition.runtime === 'cuda')
    cudaUsers.push({ name: 'face_recognition', pointer: p('face_recognition', 'runtime'), memory: 0 });
  if (cudaUsers.length > 0) {
    if (!gpu && profile.unknown?.gpu) {
      // The probe could not decide (a broken driver, a missing tool): say so, do not guess.
      for (const u of cudaUsers)
        out.push({
          severity: 'warning',
          code: 'hardware-cuda-unknown',
          pointer: u.pointer,
          message: `${u.name} runs on cuda, but whether ${who} has CUDA is unknown: ${profile.unknown.gpu}`,
          hint: 'fix the driver (see the reason) and probe again',
        });
    } else if (!gpu) {
      for (const u of cudaUsers)
        out.push({
          severity: 'error',
          code: 'hardware-no-cuda',
          pointer: u.pointer,
          message: `${u.name} runs on cuda, but ${who} has no NVIDIA GPU and no CUDA`,
          hint: `set its runtime to cpu${(profile.accelerators ?? []).length > 0 ? ` or to the model's accelerator (${(profile.accelerators ?? []).map((a) => a.type).join(', ')})` : ''}, or override it in environments/${subject.environment}/devices/${subject.device}.yaml`,
        });
    } else {
      const need = config.hardware.min_cuda_version;
      const have = gpu.cuda_version ?? undefined;
      const label =
        gpu.platform === 'jetson'
          ? `CUDA ${have ?? 'unknown'} (L4T ${gpu.l4t_version ?? 'unknown'})`
          : `CUDA ${have ?? 'unknown'} (driver ${gpu.driver_version ?? 'unknown'})`;
      if (!have || compareVersions(have, need) < 0) {
        out.push({
          severity: 'error',
          code: 'hardware-cuda-version',
          pointer: p('hardware', 'min_cuda_version'),
          message: `${who} offers ${label}; the configuration needs CUDA ${need} or newer`,
          hint:
            gpu.platform === 'jetson'
              ? 'flash a newer JetPack/L4T release on the model, or lower hardware.min_cuda_version'
              : 'update the NVIDIA driver on the model, or lower hardware.min_cuda_version',
        });
      }
      const total = cudaUsers.reduce((s, u) => s + u.memory, 0);
      const available = gpu.platform === 'jetson' ? profile.memory_mb : gpu.memory_mib;
      if (available !== undefined && total > available) {
        const biggest = [...cudaUsers].sort((a, b) => b.memory - a.memory)[0]!;
        out.push({
          severity: 'error',
          code: 'hardware-gpu-memory',
          pointer: biggest.pointer.replace(/runtime$/, 'gpu_memory_mb'),
          message: `cuda work needs ${total} MiB of GPU memory but ${who} has ${available} MiB${gpu.platform === 'jetson' ? ' (Jetson GPU memory is the system RAM)' : ` on its ${gpu.name}`}`,
          hint: 'disable a cuda detector, use smaller models, or run one of them on cpu',
        });
      }
    }
  }

  for (const [name, det] of Object.entries(config.detectors)) {
    const need = det.enabled ? acceleratorFor[det.runtime] : undefined;
    if (!need) continue;
    const present = (profile.accelerators ?? []).some((a) => need.types.includes(a.type));
    if (!present)
      out.push({
        severity: 'error',
        code: 'hardware-accelerator',
        pointer: p('detectors', name, 'runtime'),
        message: `detector "${name}" runs on ${det.runtime}, but ${who} has no ${need.what}`,
        hint: `set detectors.${name}.runtime to cpu, or add the accelerator to the model and record it in config/hardware/${subject.model}.yaml`,
      });
  }

  if (profile.memory_mb < config.hardware.min_ram_mb) {
    out.push({
      severity: 'error',
      code: 'hardware-ram',
      pointer: p('hardware', 'min_ram_mb'),
      message: `${who} has ${profile.memory_mb} MiB of RAM; the configuration needs ${config.hardware.min_ram_mb} MiB`,
      hint: 'lower hardware.min_ram_mb only if the pipeline really fits; otherwise use a bigger model',
    });
  }

  if (profile.disk) {
    const needMb = Math.ceil(config.storage.max_size_gb * 1024) + config.hardware.min_free_disk_mb;
    const haveMb = profile.disk.total_mb;
    if (needMb > haveMb) {
      out.push({
        severity: 'error',
        code: 'hardware-disk',
        pointer: p('storage', 'max_size_gb'),
        message: `storage.max_size_gb ${config.storage.max_size_gb} plus hardware.min_free_disk_mb ${config.hardware.min_free_disk_mb} needs ${needMb} MiB, but ${who} has a ${haveMb} MiB disk`,
        hint: `lower storage.max_size_gb to at most ${Math.max(0, Math.floor((haveMb - config.hardware.min_free_disk_mb) / 1024))}`,
      });
    }
  }

  if (profile.disk?.free_mb !== undefined && profile.disk.free_mb < config.hardware.min_free_disk_mb) {
    out.push({
      severity: 'error',
      code: 'hardware-disk-free',
      pointer: p('hardware', 'min_free_disk_mb'),
      message: `${who} has ${profile.disk.free_mb} MiB free; the configuration needs at least ${config.hardware.min_free_disk_mb} MiB free`,
      hint: 'free space on the device (old clips, logs), or lower hardware.min_free_disk_mb',
    });
  }

  out.push(...checkModelFiles(config, profile, who));

  const fc = config.frame_capture;
  if (fc.source === 'rtsp') out.push(...checkStream(config, profile, who));
  else {
    const camera = profile.cameras.find((c) => c.device === fc.device);
    if (!camera) {
      const known = profile.cameras.map((c) => c.device);
      out.push({
        severity: 'error',
        code: 'hardware-camera',
        pointer: p('frame_capture', 'device'),
        message: `${who} has no camera at ${fc.device}${known.length > 0 ? `; it has ${known.join(', ')}` : '; its profile lists no camera'}`,
        hint: known[0]
          ? `set frame_capture.device to ${known[0]}`
          : 'record the camera in the model profile (gitops hardware capture)',
        ...(known[0] ? { suggestion: known[0] } : {}),
      });
    } else {
      const verdict = checkCameraMode(camera, {
        pixelFormat: fc.pixel_format,
        width: fc.width,
        height: fc.height,
        fps: fc.fps,
      });
      if (!verdict.ok) {
        const pointer =
          verdict.problem === 'format'
            ? p('frame_capture', 'pixel_format')
            : verdict.problem === 'size'
              ? p('frame_capture', 'width')
              : p('frame_capture', 'fps');
        out.push({
          severity: 'error',
          code: 'hardware-camera-mode',
          pointer,
          message: `${verdict.message} (${who})`,
          hint: verdict.hint,
          ...(verdict.suggestion ? { suggestion: verdict.suggestion } : {}),
        });
      } else if (verdict.warning) {
        out.push({
          severity: 'warning',
          code: 'hardware-camera-mode',
          pointer: p('frame_capture', 'fps'),
          message: `${verdict.warning} (${who})`,
        });
      }
    }
  }
  return out;
}

function checkModelFiles(config: Config, profile: HardwareProfile, who: string): Finding[] {
  if (!profile.model_files) return [];
  const wanted: Array<{ path: string; sha256?: string; pointer: string }> = Object.entries(config.detectors)
    .filter(([, d]) => d.enabled)
    .map(([name, d]) => ({
      path: d.model_path,
      ...(d.model_sha256 ? { sha256: d.model_sha256 } : {}),
      pointer: p('detectors', name, 'model_path'),
    }));
  if (config.face_recognition.enabled)
    wanted.push({ path: config.face_recognition.model_path, pointer: p('face_recognition', 'model_path') });
  const out: Finding[] = [];
  for (const w of wanted) {
    const found = profile.model_files.find((m) => m.path === w.path);
    if (!found) continue;
    if (!found.present)
      out.push({
        severity: 'error',
        code: 'hardware-model-file',
        pointer: w.pointer,
        message: `model file ${w.path} is missing on ${who}`,
        hint: 'install the model on the device before applying this configuration',
      });
    else if (w.sha256 && found.sha256 && found.sha256 !== w.sha256)
      out.push({
        severity: 'error',
        code: 'hardware-model-file',
        pointer: w.pointer.replace(/model_path$/, 'model_sha256'),
        message: `model file ${w.path} on ${who} has sha256 ${found.sha256.slice(0, 12)}…, not the configured ${w.sha256.slice(0, 12)}…`,
        hint: 'install the model the configuration names, or update model_sha256',
      });
  }
  return out;
}

function checkStream(config: Config, profile: HardwareProfile, who: string): Finding[] {
  const fc = config.frame_capture;
  const stream = profile.streams?.find((s) => s.url === fc.url);
  if (!stream) return [];
  if (stream.error)
    return [
      {
        severity: 'warning',
        code: 'hardware-stream',
        pointer: p('frame_capture', 'url'),
        message: `stream ${stream.url} could not be probed from ${who}: ${stream.error}`,
        hint: 'check the camera is reachable and the credentials in the secrets file',
      },
    ];
  const out: Finding[] = [];
  if (stream.fps == null)
    out.push({
      severity: 'warning',
      code: 'hardware-stream',
      pointer: p('frame_capture', 'fps'),
      message: `stream ${stream.url} does not signal its frame rate; ${fc.fps} fps cannot be checked before it runs`,
    });
  else if (fc.fps > stream.fps + 0.01)
    out.push({
      severity: 'error',
      code: 'hardware-stream-fps',
      pointer: p('frame_capture', 'fps'),
      message: `camera sends ${stream.fps} fps on ${stream.url}; frame_capture.fps is ${fc.fps}`,
      hint: `lower frame_capture.fps to ${stream.fps} or raise the camera's frame rate`,
    });
  if (stream.width && stream.height && (stream.width !== fc.width || stream.height !== fc.height))
    out.push({
      severity: 'warning',
      code: 'hardware-stream-size',
      pointer: p('frame_capture', 'width'),
      message: `stream ${stream.url} is ${stream.width}x${stream.height}; frame_capture asks ${fc.width}x${fc.height}, so every frame is scaled`,
      hint: `set frame_capture.width/height to ${stream.width}x${stream.height}, or use the camera's sub-stream`,
    });
  return out;
}
