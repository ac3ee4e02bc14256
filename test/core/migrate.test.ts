import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CURRENT_VERSION, MIGRATIONS, migrateDocument } from '../../agent/core/schema/migrate.js';
import { v1ToV2 } from '../../agent/core/schema/migrations/v1-to-v2.js';

describe('migration steps are ordered and end at the current version', () => {
  it('chains from version 1 to the current one', () => {
    let v = 1;
    for (const step of MIGRATIONS) {
      expect(step.from).toBe(v);
      v = step.to;
    }
    expect(v).toBe(CURRENT_VERSION);
  });
});

describe('v1 -> v2: frame_capture.resolution becomes width and height', () => {
  const cases: Array<{ name: string; input: string; output: string }> = [
    {
      name: 'a quoted string, comments kept',
      input: 'version: 1\nframe_capture:\n  # the size\n  resolution: "1920x1080" # w x h\n  fps: 15\n',
      output: 'version: 2\nframe_capture:\n  # the size\n  width: 1920\n  height: 1080 # w x h\n  fps: 15\n',
    },
    {
      name: 'a plain scalar with spaces and a capital X',
      input: 'version: 1\nframe_capture:\n  resolution: 640 X 480\n',
      output: 'version: 2\nframe_capture:\n  width: 640\n  height: 480\n',
    },
    {
      name: 'a document without frame_capture only gets its version raised',
      input: '# motion\nversion: 1\nmotion:\n  enabled: true\n',
      output: '# motion\nversion: 2\nmotion:\n  enabled: true\n',
    },
    {
      name: 'frame_capture without resolution is left alone',
      input: 'version: 1\nframe_capture:\n  fps: 5\n',
      output: 'version: 2\nframe_capture:\n  fps: 5\n',
    },
  ];
  it.each(cases)('$name', ({ input, output }) => {
    const doc = parseDocument(input);
    const before = doc.toString();
    const result = migrateDocument(doc, 1, 'x.yaml');
    expect(result.doc.toString()).toBe(output);
    expect(result.notes).toEqual([]);
    expect(doc.toString()).toBe(before); // the input document is untouched
  });

  it('reports a resolution it cannot read instead of guessing', () => {
    const result = migrateDocument(parseDocument('version: 1\nframe_capture:\n  resolution: full-hd\n'), 1, 'x.yaml');
    expect(result.notes).toEqual([
      {
        path: 'frame_capture.resolution',
        message:
          'x.yaml: frame_capture.resolution "full-hd" is not WIDTHxHEIGHT; set frame_capture.width and frame_capture.height by hand',
      },
    ]);
  });

  it('is a no-op for a document already current', () => {
    const doc = parseDocument('version: 2\n');
    expect(migrateDocument(doc, 2, 'x.yaml').doc).toBe(doc);
  });

  it('describes itself', () => {
    expect(v1ToV2.description).toMatch(/resolution/);
  });
});
