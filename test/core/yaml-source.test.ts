import { describe, expect, it } from 'vitest';
import { loadDocument, setDocumentMemoLimit } from '../../agent/core/repo/documents.js';
import { indexPositions, locate, MAX_DOCUMENT_BYTES, parseSource, toJson } from '../../agent/core/repo/yaml-source.js';

describe('parseSource and positions', () => {
  it('indexes where every key and value starts', () => {
    const src = parseSource('a.yaml', 'version: 2\nframe_capture:\n  fps: 15\n  zones:\n    - name: x\n');
    const idx = indexPositions(src.doc, src.lineCounter);
    expect(idx.values.get('/frame_capture/fps')).toEqual({ line: 3, column: 8 });
    expect(idx.keys.get('/frame_capture/fps')).toEqual({ line: 3, column: 3 });
    expect(idx.values.get('/frame_capture/zones/0/name')).toEqual({ line: 5, column: 13 });
    // a path that is not in the file falls back to its closest ancestor's key
    expect(locate(idx, '/frame_capture/width')).toEqual({ line: 2, column: 1 });
  });

  it('reports duplicate keys with their location', () => {
    const d = parseSource('a.yaml', 'a: 1\nb: 2\na: 3\n');
    expect(d.doc).toBeUndefined();
    expect(d.diagnostics[0]).toMatchObject({ code: 'duplicate-key', file: 'a.yaml', line: 3, severity: 'error' });
    expect(d.diagnostics[0]!.hint).toMatch(/once per mapping/);
  });

  it('reports a tab used for indentation', () => {
    const d = parseSource('a.yaml', 'a:\n\tb: 1\n');
    expect(d.diagnostics.length).toBeGreaterThan(0);
    expect(d.diagnostics[0]).toMatchObject({ code: 'yaml-syntax', line: 2 });
    expect(d.diagnostics.map((x) => x.hint).join(' ')).toMatch(/spaces/);
  });

  it('reports malformed YAML with a location instead of throwing', () => {
    const d = parseSource('a.yaml', 'a: [1, 2\nb: "open\n');
    expect(d.doc).toBeUndefined();
    expect(d.diagnostics.every((x) => x.line !== undefined && x.file === 'a.yaml')).toBe(true);
  });

  it('stops an alias bomb quickly with a diagnostic', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill('*' + String.fromCharCode(96 + i))
          .join(',')}]`,
      );
    const started = Date.now();
    const src = parseSource('bomb.yaml', lines.join('\n') + '\n');
    const { value, diagnostics } = toJson(src);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(value).toBeUndefined();
    expect(diagnostics[0]).toMatchObject({ code: 'yaml-alias-limit', file: 'bomb.yaml' });
  });

  it('refuses a 5 MB file without parsing it', () => {
    const big = 'a: "' + 'x'.repeat(5 * 1024 * 1024) + '"\n';
    expect(big.length).toBeGreaterThan(MAX_DOCUMENT_BYTES);
    const d = parseSource('big.yaml', big);
    expect(d.diagnostics).toEqual([expect.objectContaining({ code: 'file-too-large', line: 1, column: 1 })]);
    expect(d.diagnostics[0]!.message).toMatch(/5\.0 MiB/);
  });
});

describe('loadDocument', () => {
  it('requires a format version', () => {
    const d = loadDocument('config/x.yaml', 'frame_capture:\n  fps: 1\n');
    expect(d.diagnostics).toEqual([
      expect.objectContaining({ code: 'missing-version', hint: expect.stringMatching(/version: 2/) }),
    ]);
  });

  it('refuses a version newer than it understands', () => {
    const d = loadDocument('config/x.yaml', 'version: 9\n');
    expect(d.diagnostics[0]).toMatchObject({ code: 'version-too-new', line: 1, column: 10 });
  });

  it('rejects a document that is not a mapping, or is empty', () => {
    expect(loadDocument('a.yaml', '- 1\n- 2\n').diagnostics[0]).toMatchObject({ code: 'not-a-mapping' });
    expect(loadDocument('a.yaml', '# only a comment\n').diagnostics[0]).toMatchObject({ code: 'empty-document' });
  });

  it('reuses the parse of the same file and text, as many as its limit keeps', () => {
    const a = loadDocument('a.yaml', 'version: 2\n');
    expect(loadDocument('a.yaml', 'version: 2\n')).toBe(a);
    try {
      setDocumentMemoLimit(1);
      loadDocument('b.yaml', 'version: 2\n');
      expect(loadDocument('a.yaml', 'version: 2\n')).not.toBe(a);
      setDocumentMemoLimit(2);
      const b = loadDocument('b.yaml', 'version: 2\n');
      loadDocument('a.yaml', 'version: 2\n');
      expect(loadDocument('b.yaml', 'version: 2\n')).toBe(b);
    } finally {
      setDocumentMemoLimit(512);
    }
  });
});
