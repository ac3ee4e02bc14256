// Cross-section rules: what the schema of one section cannot see on its own.

import type { Config, Finding } from '../config/types.js';
import { toPointer } from '../json/pointer.js';
import { closest } from '../format/suggest.js';

const p = (...segments: string[]): string => toPointer(segments);

/** schemas/detectors.schema.json's default of a detector's labels (the renderer fills no defaults inside maps). */
const DEFAULT_LABELS = ['person'];

type Rule = (config: Config, ctx: RuleContext) => Finding[];

export interface RuleContext {
  environment: string;
  sections: readonly string[];
}

const secretHint = (env: string, path: string): string =>
  `add it to the encrypted secrets: gitops secrets set environments/${env}/secrets.sops.yaml ${path} -`;

const faceRecognitionNeedsDetector: Rule = (c) => {
  const fr = c.face_recognition;
  if (!fr.enabled) return [];
  const det = c.detectors[fr.detector];
  if (!det) {
    const guess = closest(fr.detector, Object.keys(c.detectors));
    return [
      {
        severity: 'error',
        code: 'face-recognition-detector',
        pointer: p('face_recognition', 'detector'),
        message: `face_recognition uses detector "${fr.detector}", which is not defined${guess ? `. Did you mean "${guess}"?` : ''}`,
        hint: `define detectors.${fr.detector}, or name one of: ${Object.keys(c.detectors).join(', ') || '(none defined)'}`,
        ...(guess ? { suggestion: guess } : {}),
      },
    ];
  }
  const out: Finding[] = [];
  if (!det.enabled)
    out.push({
      severity: 'error',
      code: 'face-recognition-detector',
      pointer: p('detectors', fr.detector, 'enabled'),
      message: `face_recognition is enabled but its detector "${fr.detector}" is disabled`,
      hint: `enable detectors.${fr.detector}, or disable face_recognition`,
    });
  // a detector without labels reports what the schema defaults them to
  const labels = det.labels ?? DEFAULT_LABELS;
  if (!labels.includes('person') && !labels.includes('face'))
    out.push({
      severity: 'warning',
      code: 'face-recognition-detector',
      pointer: p('detectors', fr.detector, 'labels'),
      message: `detector "${fr.detector}" reports neither "person" nor "face", so face_recognition will find nothing`,
      hint: `add "person" to detectors.${fr.detector}.labels`,
    });
  return out;
};

const channelNeeds: Array<
  [channel: 'telegram' | 'webhook' | 'email' | 'push', Array<{ key: string; secret: boolean }>]
> = [
  [
    'telegram',
    [
      { key: 'bot_token', secret: true },
      { key: 'chat_id', secret: false },
    ],
  ],
  ['webhook', [{ key: 'url', secret: false }]],
  [
    'email',
    [
      { key: 'smtp_host', secret: false },
      { key: 'username', secret: false },
      { key: 'password', secret: true },
      { key: 'to', secret: false },
    ],
  ],
  [
    'push',
    [
      { key: 'server_url', secret: false },
      { key: 'topic', secret: false },
    ],
  ],
];

const notificationCredentials: Rule = (c, ctx) => {
  const out: Finding[] = [];
  for (const [channel, needs] of channelNeeds) {
    const cfg: Record<string, unknown> | undefined = c.notifications[channel];
    if (!cfg?.enabled) continue;
    for (const need of needs) {
      if (cfg[need.key] !== undefined && cfg[need.key] !== '') continue;
      const path = `notifications.${channel}.${need.key}`;
      out.push({
        severity: 'error',
        code: 'notification-credentials',
        pointer: p('notifications', channel, 'enabled'),
        message: `notifications.${channel} is enabled but has no ${need.key}`,
        hint: need.secret ? secretHint(ctx.environment, path) : `set ${path}, or disable notifications.${channel}`,
      });
    }
  }
  return out;
};

const webSecurity: Rule = (c, ctx) => {
  const w = c.web_interface;
  if (!w.enabled) return [];
  const out: Finding[] = [];
  const tls = w.tls ?? {};
  if (tls.enabled) {
    for (const key of ['cert_file', 'key_file'] as const) {
      if (!tls[key])
        out.push({
          severity: 'error',
          code: 'tls-files',
          pointer: p('web_interface', 'tls', 'enabled'),
          message: `web_interface.tls is enabled but web_interface.tls.${key} is not set`,
          hint: `set web_interface.tls.${key} to the PEM file's path on the device`,
        });
    }
  }
  const mode = w.auth?.mode ?? 'none';
  if (mode === 'client_certificate') {
    if (!tls.enabled)
      out.push({
        severity: 'error',
        code: 'auth-needs-tls',
        pointer: p('web_interface', 'auth', 'mode'),
        message: 'web_interface.auth.mode client_certificate needs web_interface.tls.enabled',
        hint: 'enable TLS with cert_file and key_file',
      });
    if (!tls.client_ca_file)
      out.push({
        severity: 'error',
        code: 'auth-client-ca',
        pointer: p('web_interface', 'auth', 'mode'),
        message: 'web_interface.auth.mode client_certificate needs web_interface.tls.client_ca_file',
        hint: 'set web_interface.tls.client_ca_file to the CA bundle client certificates chain to',
      });
  }
  if (mode === 'basic') {
    const users = Object.entries(w.auth?.users ?? {});
    if (users.length === 0)
      out.push({
        severity: 'error',
        code: 'auth-users',
        pointer: p('web_interface', 'auth', 'mode'),
        message: 'web_interface.auth.mode is basic but no users are defined',
        hint: secretHint(ctx.environment, 'web_interface.auth.users.<name>.password_hash'),
      });
    for (const [name, u] of users)
      if (!u.password_hash)
        out.push({
          severity: 'error',
          code: 'auth-users',
          pointer: p('web_interface', 'auth', 'users', name),
          message: `web interface user "${name}" has no password_hash`,
          hint: secretHint(ctx.environment, `web_interface.auth.users.${name}.password_hash`),
        });
  }
  return out;
};

const portConflicts: Rule = (c) => {
  const users = new Map<number, string[]>();
  const claims: Array<{ port: number; who: string; pointer: string }> = [];
  if (c.web_interface.enabled)
    claims.push({ port: c.web_interface.port, who: 'web_interface.port', pointer: p('web_interface', 'port') });
  for (const [name, comp] of Object.entries(c.components))
    if (comp.listen_port !== undefined)
      claims.push({
        port: comp.listen_port,
        who: `components.${name}.listen_port`,
        pointer: p('components', name, 'listen_port'),
      });
  const out: Finding[] = [];
  for (const claim of claims) {
    const prior = users.get(claim.port) ?? [];
    if (prior.length > 0)
      out.push({
        severity: 'error',
        code: 'port-conflict',
        pointer: claim.pointer,
        message: `${claim.who} uses port ${claim.port}, already taken by ${prior.join(', ')}`,
        hint: 'give each listening process its own port',
      });
    users.set(claim.port, [...prior, claim.who]);
  }
  return out;
};

const storageFits: Rule = (c) => {
  const s = c.storage;
  const perDayGb = (s.expected_events_per_day * s.clip_seconds * s.bitrate_kbps) / 8 / 1024 / 1024;
  const needGb = perDayGb * s.retention_days;
  if (needGb <= s.max_size_gb) return [];
  const days = Math.max(1, Math.floor(s.max_size_gb / perDayGb));
  return [
    {
      severity: 'error',
      code: 'storage-retention',
      pointer: p('storage', 'retention_days'),
      message: `storage.retention_days ${s.retention_days} needs about ${needGb.toFixed(1)} GB (${s.expected_events_per_day} events/day x ${s.clip_seconds} s at ${s.bitrate_kbps} kbps), more than storage.max_size_gb ${s.max_size_gb}`,
      hint: `lower storage.retention_days to ${days}, raise storage.max_size_gb to ${Math.ceil(needGb)}, or lower storage.bitrate_kbps`,
    },
  ];
};

const componentsWellFormed: Rule = (c, ctx) => {
  const out: Finding[] = [];
  const names = Object.keys(c.components);
  for (const [name, comp] of Object.entries(c.components)) {
    comp.sections.forEach((section, i) => {
      if (ctx.sections.includes(section) && section !== 'components') return;
      const guess = closest(section, ctx.sections);
      out.push({
        severity: 'error',
        code: 'component-section',
        pointer: p('components', name, 'sections', String(i)),
        message: `component "${name}" consumes "${section}", which is not a configuration section${guess ? `. Did you mean "${guess}"?` : ''}`,
        hint: `sections: ${ctx.sections.filter((s) => s !== 'components').join(', ')}`,
        ...(guess ? { suggestion: guess } : {}),
      });
    });
    (comp.depends_on ?? []).forEach((dep, i) => {
      if (names.includes(dep)) return;
      const guess = closest(dep, names);
      out.push({
        severity: 'error',
        code: 'component-dependency',
        pointer: p('components', name, 'depends_on', String(i)),
        message: `component "${name}" depends on "${dep}", which is not a component${guess ? `. Did you mean "${guess}"?` : ''}`,
        hint: `components: ${names.join(', ')}`,
        ...(guess ? { suggestion: guess } : {}),
      });
    });
    const r = comp.reload;
    const need =
      r.method === 'http' ? 'url' : r.method === 'signal' ? 'pid_file' : r.method === 'command' ? 'command' : undefined;
    if (need && r[need] === undefined)
      out.push({
        severity: 'error',
        code: 'component-reload',
        pointer: p('components', name, 'reload', 'method'),
        message: `component "${name}" reloads by ${r.method} but has no reload.${need}`,
        hint: `set components.${name}.reload.${need}`,
      });
  }
  const cycle = findCycle(c.components);
  if (cycle)
    out.push({
      severity: 'error',
      code: 'component-cycle',
      pointer: p('components', cycle[0]!, 'depends_on'),
      message: `components depend on each other in a cycle: ${cycle.join(' -> ')}`,
      hint: 'remove one of these depends_on entries',
    });
  return out;
};

function findCycle(components: Config['components']): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of components[n]?.depends_on ?? []) {
      if (!components[d]) continue;
      const hit = visit(d);
      if (hit) return hit;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of Object.keys(components)) {
    const hit = visit(n);
    if (hit) return hit;
  }
  return undefined;
}

const sourceNeeds: Rule = (c) => {
  const out: Finding[] = [];
  if (c.frame_capture.source === 'rtsp' && !c.frame_capture.url)
    out.push({
      severity: 'error',
      code: 'capture-source',
      pointer: p('frame_capture', 'source'),
      message: 'frame_capture.source is rtsp but frame_capture.url is not set',
      hint: 'set frame_capture.url to the camera stream, e.g. rtsp://camera.local:554/stream1',
    });
  if (c.logging.destination === 'file' && !c.logging.file)
    out.push({
      severity: 'error',
      code: 'logging-file',
      pointer: p('logging', 'destination'),
      message: 'logging.destination is file but logging.file is not set',
      hint: 'set logging.file, e.g. /var/log/doorbell/pipeline.log',
    });
  return out;
};

export const RULES: readonly Rule[] = [
  faceRecognitionNeedsDetector,
  notificationCredentials,
  webSecurity,
  portConflicts,
  storageFits,
  componentsWellFormed,
  sourceNeeds,
];

export function checkRules(config: Config, ctx: RuleContext): Finding[] {
  return RULES.flatMap((rule) => rule(config, ctx));
}
