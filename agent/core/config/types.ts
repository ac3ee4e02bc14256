// Typed views of a rendered configuration and of a hardware profile. Rules run only on
// configurations that passed the schema, so these shapes hold (optional fields stay optional).

import type { Severity } from '../validate/diagnostics.js';

export interface FrameCapture {
  source: 'v4l2' | 'csi' | 'rtsp';
  device: string;
  url?: string;
  username?: string;
  password?: string;
  pixel_format: string;
  width: number;
  height: number;
  fps: number;
}

export interface Detector {
  enabled: boolean;
  runtime: 'cpu' | 'cuda' | 'coral' | 'hailo' | 'openvino';
  model_path: string;
  model_sha256?: string;
  labels: string[];
  gpu_memory_mb: number;
}

export interface Component {
  sections: string[];
  depends_on?: string[];
  listen_port?: number;
  reload: { method: 'http' | 'signal' | 'command' | 'file'; url?: string; pid_file?: string; command?: string[] };
  health?: { url?: string };
}

export interface Config {
  frame_capture: FrameCapture;
  motion: { enabled: boolean };
  detectors: Record<string, Detector>;
  face_recognition: { enabled: boolean; detector: string; runtime: 'cpu' | 'cuda'; model_path: string };
  notifications: Record<string, unknown> & {
    telegram?: { enabled?: boolean; bot_token?: string; chat_id?: string };
    webhook?: { enabled?: boolean; url?: string };
    email?: { enabled?: boolean; smtp_host?: string; username?: string; password?: string; to?: string[] };
    push?: { enabled?: boolean; server_url?: string; topic?: string };
  };
  storage: {
    path: string;
    retention_days: number;
    max_size_gb: number;
    clip_seconds: number;
    bitrate_kbps: number;
    expected_events_per_day: number;
  };
  web_interface: {
    enabled: boolean;
    port: number;
    tls?: { enabled?: boolean; cert_file?: string; key_file?: string; client_ca_file?: string };
    auth?: { mode?: 'none' | 'basic' | 'client_certificate'; users?: Record<string, { password_hash?: string }> };
  };
  logging: { level: LogLevel; destination: string; file?: string };
  hardware: { min_ram_mb: number; min_free_disk_mb: number; min_cuda_version: string };
  components: Record<string, Component>;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

export interface CameraMode {
  width: number;
  height: number;
  fps: number[];
}

export interface CameraFormat {
  fourcc: string;
  description?: string;
  modes: CameraMode[];
  stepwise?: {
    min_width: number;
    max_width: number;
    step_width: number;
    min_height: number;
    max_height: number;
    step_height: number;
  } | null;
}

export interface Camera {
  device: string;
  name?: string;
  formats: CameraFormat[];
}

export interface HardwareProfile {
  model: string;
  memory_mb: number;
  memory_available_mb?: number;
  disk?: { total_mb: number; free_mb?: number };
  gpu?: {
    name: string;
    platform: 'desktop' | 'jetson';
    memory_mib?: number;
    driver_version?: string;
    cuda_version?: string | null;
    l4t_version?: string;
  } | null;
  accelerators?: Array<{ type: string; device?: string }>;
  cameras: Camera[];
  streams?: Array<{
    url: string;
    codec?: string | null;
    width?: number | null;
    height?: number | null;
    fps?: number | null;
    error?: string;
  }>;
  model_files?: Array<{ path: string; present: boolean; sha256?: string | null }>;
  unknown?: Record<string, string>;
}

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
