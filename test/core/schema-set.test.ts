import { describe, expect, it } from 'vitest';
import { loadSchemas, matchesSegments } from '../../agent/core/schema/schema-set.js';
import type { CompiledSchemaCache } from '../../agent/core/schema/schema-set.js';
import { edit, exampleFiles, withFiles } from '../helpers/project.js';

describe('the repository schemas', () => {
  const { set, diagnostics } = loadSchemas(exampleFiles());

  it('compile under ajv strict mode', () => {
    expect(diagnostics).toEqual([]);
    expect(set).toBeDefined();
  });

  it('give defaults for every section', () => {
    const defaults = set!.defaults();
    expect(Object.keys(defaults).sort()).toEqual([
      'components',
      'detectors',
      'face_recognition',
      'frame_capture',
      'hardware',
      'load_governor',
      'logging',
      'motion',
      'notifications',
      'storage',
      'web_interface',
    ]);
    expect(defaults.frame_capture).toMatchObject({ fps: 15, width: 1280, pixel_format: 'MJPG' });
  });

  it('name one environment variable per x-env field', () => {
    const envs = set!.annotated('x-env').map((a) => [a.segments.join('.'), a.schema['x-env']]);
    expect(envs).toContainEqual(['frame_capture.fps', 'DOORBELL_CAMERA_FPS']);
    expect(new Set(envs.map(([, v]) => v)).size).toBe(envs.length);
  });

  it('mark the secrets, including inside maps', () => {
    const secrets = set!.annotated('x-secret').map((a) => a.segments.join('.'));
    expect(secrets).toContain('notifications.telegram.bot_token');
    expect(secrets).toContain('web_interface.auth.users.*.password_hash');
    expect(
      matchesSegments(
        ['web_interface', 'auth', 'users', '*', 'password_hash'],
        ['web_interface', 'auth', 'users', 'ana', 'password_hash'],
      ),
    ).toBe(true);
  });

  it('describe every field', () => {
    const missing: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const n = node as Record<string, unknown>;
      if (
        path.includes('/properties/') &&
        !('$ref' in n) &&
        typeof n.description !== 'string' &&
        path.split('/').at(-2) === 'properties'
      )
        missing.push(path);
      for (const [k, v] of Object.entries(n)) if (k !== 'default' && k !== 'enum') walk(v, `${path}/${k}`);
    };
    for (const [file, text] of exampleFiles()) if (file.startsWith('schemas/')) walk(JSON.parse(text), file);
    expect(missing).toEqual([]);
  });

  it('find the schema node of a configuration path', () => {
    expect(set!.nodeAt(['detectors', 'person', 'runtime'])?.enum).toContain('cuda');
    expect(set!.nodeAt(['frame_capture', 'nope'])).toBeUndefined();
    expect(set!.fileOf(['frame_capture', 'fps'])).toBe('schemas/frame_capture.schema.json');
  });
});

describe('broken schemas are diagnostics', () => {
  it('a schema file that is not JSON', () => {
    const { set, diagnostics } = loadSchemas(withFiles({ 'schemas/motion.schema.json': '{ nope' }));
    expect(set).toBeUndefined();
    expect(diagnostics[0]).toMatchObject({ code: 'schema-invalid', file: 'schemas/motion.schema.json' });
  });

  it('a wrong $id', () => {
    const { diagnostics } = loadSchemas(
      edit(exampleFiles(), 'schemas/motion.schema.json', 'schemas/motion.schema.json"', 'schemas/other.schema.json"'),
    );
    expect(diagnostics[0]!.message).toMatch(
      /expected "https:\/\/doorbell-gitops\.local\/schemas\/motion\.schema\.json"/,
    );
  });

  it('a keyword ajv strict mode does not know', () => {
    const { diagnostics } = loadSchemas(
      edit(exampleFiles(), 'schemas/motion.schema.json', '"title": "motion",', '"title": "motion", "x-unknown": 1,'),
    );
    expect(diagnostics[0]).toMatchObject({ code: 'schema-invalid', file: 'schemas/motion.schema.json' });
  });

  it('a missing schema file', () => {
    const { diagnostics } = loadSchemas(withFiles({ 'schemas/environment.schema.json': undefined }));
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ code: 'schema-missing', file: 'schemas/environment.schema.json' }),
    );
  });
});

describe('the compiled-validator cache', () => {
  it('is asked first and given standalone code on a miss', () => {
    const stored = new Map<string, string>();
    const asked: string[] = [];
    const cache: CompiledSchemaCache = {
      load: (key) => void asked.push(key) as undefined,
      store: (key, code) => void stored.set(key, code),
    };
    // a text the in-process memo has not seen, so that compilation really happens
    const files = edit(
      exampleFiles(),
      'schemas/motion.schema.json',
      '"title": "motion"',
      '"title": "motion (cache test)"',
    );
    expect(loadSchemas(files, cache).diagnostics).toEqual([]);
    expect(asked).toHaveLength(1);
    expect([...stored.keys()]).toEqual(asked);
    expect(stored.get(asked[0]!)).toMatch(/exports\.config = /);
  });
});
