// Schema findings about a secret never quote its value (nor guess at it with "Did you mean"):
// the messages go to the journal, the status API, the event stream and the log, where a short
// value could not be redacted safely.

import { describe, expect, it } from 'vitest';
import { schemaDiagnostics } from '../../agent/core/schema/diagnostics.js';
import { loadSchemas } from '../../agent/core/schema/schema-set.js';
import type { SchemaSet } from '../../agent/core/schema/schema-set.js';
import { edit, exampleFiles } from '../helpers/project.js';

type Tree = Record<string, unknown>;

/** A configuration with `value` at `segments` (`*` becomes a key of its own). */
function configWith(segments: readonly string[], value: unknown): Tree {
  const root: Tree = {};
  let at = root;
  segments.forEach((s, i) => {
    const key = s === '*' ? 'bench' : s;
    if (i === segments.length - 1) at[key] = value;
    else at = (at[key] ??= {}) as Tree;
  });
  return root;
}

const texts = (set: SchemaSet, config: Tree, secretPaths?: string[][]): string[] =>
  schemaDiagnostics(set.validate('config', config), () => undefined, secretPaths ? { secretPaths } : {}).map(
    (d) => `${d.message} ${d.hint ?? ''} ${d.suggestion ?? ''}`,
  );

describe('schema messages about secrets', () => {
  const { set } = loadSchemas(exampleFiles());

  it('no x-secret field of the repository schemas has its wrong value quoted; other fields still do', () => {
    const secrets = set!.annotated('x-secret');
    expect(secrets.length).toBeGreaterThan(5);
    for (const { segments } of secrets) {
      for (const bad of [98765, true, ['zq']]) {
        const messages = texts(set!, configWith(segments, bad)).filter((m) =>
          m.startsWith(segments.map((s) => (s === '*' ? 'bench' : s)).join('.')),
        );
        expect(messages.length, segments.join('.')).toBeGreaterThan(0);
        for (const m of messages) {
          expect(m).not.toContain('98765');
          expect(m).not.toContain('zq');
        }
      }
    }
    expect(texts(set!, configWith(['frame_capture', 'fps'], 'fast')).join('\n')).toContain('"fast"');
  });

  it('enum, pattern and range findings on a secret say what is wrong without the value or a guess', () => {
    let files = edit(
      exampleFiles(),
      'schemas/frame_capture.schema.json',
      '"description": "RTSP user name.",\n      "type": "string",',
      '"description": "RTSP user name.",\n      "enum": ["alice", "bob"],',
    );
    files = edit(
      files,
      'schemas/frame_capture.schema.json',
      '"description": "RTSP password.",\n      "type": "string",',
      '"description": "RTSP password.",\n      "type": "string",\n      "pattern": "^[a-z]{8,}$",',
    );
    files = edit(
      files,
      'schemas/frame_capture.schema.json',
      '"type": "integer",\n      "minimum": 160,',
      '"type": "integer",\n      "x-secret": true,\n      "minimum": 160,',
    );
    const { set: edited, diagnostics } = loadSchemas(files);
    expect(diagnostics).toEqual([]);
    const found = schemaDiagnostics(
      edited!.validate('config', { frame_capture: { username: 'alicf', password: 'ab', width: 99999 } }),
      () => undefined,
    );
    const byPath = new Map(found.map((d) => [d.path, d]));
    expect(byPath.get('frame_capture.username')).toMatchObject({ code: 'schema-enum' });
    expect(byPath.get('frame_capture.username')!.suggestion).toBeUndefined();
    expect(byPath.get('frame_capture.password')).toMatchObject({ code: 'schema-format' });
    expect(byPath.get('frame_capture.width')).toMatchObject({ code: 'schema-range' });
    for (const d of found) expect(JSON.stringify(d)).not.toMatch(/alicf|"ab"|99999/);
    // the same findings on a field that is not secret quote the value and guess
    const open = loadSchemas(
      edit(
        exampleFiles(),
        'schemas/frame_capture.schema.json',
        '"description": "RTSP user name.",\n      "type": "string",\n      "x-secret": true',
        '"description": "RTSP user name.",\n      "enum": ["alice", "bob"]',
      ),
    ).set!;
    const plain = schemaDiagnostics(
      open.validate('config', { frame_capture: { username: 'alicf' } }),
      () => undefined,
    ).find((d) => d.path === 'frame_capture.username');
    expect(plain).toMatchObject({ code: 'schema-enum', suggestion: 'alice' });
    expect(plain!.message).toContain('"alicf"');
  });

  it('a caller can name secret subtrees (a $ref target, a whole map): nothing under them is quoted', () => {
    const messages = texts(set!, { frame_capture: { fps: 'zq', width: 98765 } }, [['frame_capture']]);
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const m of messages) expect(m).not.toMatch(/zq|98765/);
    expect(texts(set!, { frame_capture: { fps: 'zq' } }, [['notifications', '*']]).join('\n')).toContain('"zq"');
  });
});
