// The cross-section rules one by one, on the rendered configuration of a real example device changed in one
// place each: what each rule reports (its code, where, the suggestion) and what it leaves alone.

import { describe, expect, it } from 'vitest';
import type { Config, Finding } from '../../agent/core/config/types.js';
import { checkRules } from '../../agent/core/validate/rules.js';
import { validateRepository } from '../../agent/core/validate/validate.js';
import { exampleFiles } from '../helpers/project.js';

const report = validateRepository(exampleFiles(), { environments: ['development'] });
const base = report.targets[0]!.result.config as unknown as Config;
const sections = Object.keys(base);

/** The rules' findings on the example configuration after `change`. */
function findings(change: (c: Config) => void): Finding[] {
  const c = structuredClone(base);
  change(c);
  return checkRules(c, { environment: 'development', sections });
}
const codes = (change: (c: Config) => void): string[] => findings(change).map((f) => f.code);

describe('the example configuration', () => {
  it('breaks no rule', () => {
    expect(findings(() => {})).toEqual([]);
  });
});

describe('face recognition and its detector', () => {
  it('an undefined detector gets the nearest name, or says none is defined', () => {
    const [near] = findings((c) => {
      c.face_recognition.enabled = true;
      c.face_recognition.detector = 'persn';
    });
    expect(near).toMatchObject({ code: 'face-recognition-detector', pointer: '/face_recognition/detector' });
    expect(near!.suggestion).toBe('person');
    const [none] = findings((c) => {
      c.face_recognition.enabled = true;
      c.face_recognition.detector = 'person';
      c.detectors = {};
    });
    expect(none!.hint).toContain('(none defined)');
    expect(none!.suggestion).toBeUndefined();
  });

  it('a disabled detector is an error; labels without person or face a warning; no labels is the default person', () => {
    const detector = Object.keys(base.detectors)[0]!;
    const use = (c: Config): void => {
      c.face_recognition.enabled = true;
      c.face_recognition.detector = detector;
    };
    expect(
      findings((c) => {
        use(c);
        c.detectors[detector]!.enabled = false;
      }).map((f) => [f.code, f.severity, f.pointer]),
    ).toEqual([['face-recognition-detector', 'error', `/detectors/${detector}/enabled`]]);
    expect(
      findings((c) => {
        use(c);
        c.detectors[detector]!.labels = ['car'];
      }).map((f) => [f.severity, f.pointer]),
    ).toEqual([['warning', `/detectors/${detector}/labels`]]);
    expect(
      findings((c) => {
        use(c);
        delete c.detectors[detector]!.labels;
      }),
    ).toEqual([]);
  });
});

describe('notifications', () => {
  it('an enabled channel without its credentials: secrets point at the secrets file, the rest at the key', () => {
    const out = findings((c) => {
      c.notifications.telegram = { enabled: true, chat_id: '1' };
      c.notifications.webhook = { ...c.notifications.webhook, enabled: true };
      delete c.notifications.webhook.url;
      c.notifications.push = { ...c.notifications.push, enabled: false };
    });
    expect(out.map((f) => [f.code, f.pointer])).toEqual([
      ['notification-credentials', '/notifications/telegram/enabled'],
      ['notification-credentials', '/notifications/webhook/enabled'],
    ]);
    expect(out[0]!.hint).toContain('gitops secrets set environments/development/secrets.sops.yaml');
    expect(out[1]!.hint).toBe('set notifications.webhook.url, or disable notifications.webhook');
  });
});

describe('the web interface', () => {
  const web = (change: (w: Config['web_interface']) => void) =>
    codes((c) => {
      c.web_interface.enabled = true;
      c.web_interface.tls = { enabled: true, cert_file: '/c.pem', key_file: '/k.pem', client_ca_file: '/ca.pem' };
      c.web_interface.auth = { ...c.web_interface.auth, mode: 'none' };
      change(c.web_interface);
    });

  it('TLS without its files, client certificates without TLS or a CA, basic auth without users or hashes', () => {
    expect(web(() => {})).toEqual([]);
    expect(web((w) => (w.tls = { enabled: true }))).toEqual(['tls-files', 'tls-files']);
    expect(web((w) => ((w.tls = { enabled: false }), (w.auth.mode = 'client_certificate')))).toEqual([
      'auth-needs-tls',
      'auth-client-ca',
    ]);
    expect(web((w) => ((w.auth.mode = 'basic'), delete w.auth.users))).toEqual(['auth-users']);
    expect(web((w) => ((w.auth.mode = 'basic'), (w.auth.users = { ana: {}, ben: { password_hash: 'x' } })))).toEqual([
      'auth-users',
    ]);
    expect(web((w) => (w.tls = { enabled: false }))).toEqual([]);
  });

  it('nothing is checked of a disabled web interface, and its port is free for others', () => {
    expect(
      codes((c) => {
        c.web_interface.enabled = false;
        c.web_interface.tls = { enabled: true };
        c.web_interface.port = c.components.capture!.listen_port!;
      }),
    ).toEqual([]);
    const [clash] = findings((c) => {
      c.web_interface.enabled = true;
      c.web_interface.port = c.components.capture!.listen_port!;
    });
    expect(clash).toMatchObject({ code: 'port-conflict', pointer: '/components/capture/listen_port' });
    expect(clash!.message).toContain('already taken by web_interface.port');
  });
});

describe('storage', () => {
  it('a retention the space cannot hold says how many days fit', () => {
    const [f] = findings((c) => {
      c.storage.retention_days = 365;
      c.storage.max_size_gb = 1;
    });
    expect(f).toMatchObject({ code: 'storage-retention', pointer: '/storage/retention_days' });
    expect(f!.hint).toMatch(/^lower storage\.retention_days to \d+, raise storage\.max_size_gb to \d+/);
  });
});

describe('components', () => {
  it('unknown sections and dependencies get the nearest name; components is no section to consume', () => {
    const out = findings((c) => {
      c.components.capture!.sections = ['frame_captur', 'components'];
      c.components.recorder!.depends_on = ['captur'];
    });
    expect(out.map((f) => [f.code, f.pointer, f.suggestion])).toEqual([
      ['component-section', '/components/capture/sections/0', 'frame_capture'],
      ['component-section', '/components/capture/sections/1', 'components'],
      ['component-dependency', '/components/recorder/depends_on/0', 'capture'],
    ]);
  });

  it('each reload method needs its own field; file needs none', () => {
    const out = findings((c) => {
      c.components.capture!.reload = { method: 'http' };
      c.components.notifier!.reload = { method: 'signal' };
      c.components.recorder!.reload = { method: 'command' };
      c.components.detector!.reload = { method: 'file' };
    });
    expect(out.map((f) => f.message)).toEqual([
      'component "capture" reloads by http but has no reload.url',
      'component "notifier" reloads by signal but has no reload.pid_file',
      'component "recorder" reloads by command but has no reload.command',
    ]);
  });

  it('a cycle of dependencies is named from where it starts', () => {
    const [f] = findings((c) => {
      c.components.capture!.depends_on = ['notifier'];
    });
    expect(f).toMatchObject({ code: 'component-cycle', pointer: '/components/capture/depends_on' });
    expect(f!.message).toContain('capture -> notifier -> detector -> capture');
  });
});

describe('sources', () => {
  it('an RTSP source without a URL, a log file destination without a file', () => {
    expect(
      codes((c) => {
        c.frame_capture.source = 'rtsp';
        delete c.frame_capture.url;
        c.logging.destination = 'file';
        delete c.logging.file;
      }),
    ).toEqual(['capture-source', 'logging-file']);
    expect(
      codes((c) => {
        c.frame_capture.source = 'rtsp';
        c.frame_capture.url = 'rtsp://camera.local/stream';
      }),
    ).toEqual([]);
  });
});
