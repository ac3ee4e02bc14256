// The logger: levels, JSON and text lines, and every line through its redactor instance.

import { describe, expect, it } from 'vitest';
import { streamLogger } from '../../agent/io/logger.js';
import { Redactor } from '../../agent/io/redactor.js';

function collect(): { stream: { write(t: string): void }; lines: string[] } {
  const lines: string[] = [];
  return { stream: { write: (t: string) => void lines.push(t) }, lines };
}

const now = (): Date => new Date('2026-12-01T10:00:00.000Z');

describe('streamLogger', () => {
  it('writes one JSON object a line, with time, level, message and fields', () => {
    const { stream, lines } = collect();
    const log = streamLogger({ stream, redactor: new Redactor(), now });
    log.info('applied', { commit: 'abc123', generation: 4 });
    expect(lines).toEqual([
      '{"time":"2026-12-01T10:00:00.000Z","level":"info","msg":"applied","commit":"abc123","generation":4}\n',
    ]);
  });

  it('drops lines below its level', () => {
    const { stream, lines } = collect();
    const log = streamLogger({ stream, redactor: new Redactor(), level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn', 'error']);
  });

  it('writes text lines with bare words bare and other values as JSON', () => {
    const { stream, lines } = collect();
    const log = streamLogger({ stream, redactor: new Redactor(), format: 'text', now });
    log.warn('component is slow', { component: 'detector', took: 1.5, why: 'two words' });
    expect(lines).toEqual([
      '2026-12-01T10:00:00.000Z WARN  component is slow component=detector took=1.5 why="two words"\n',
    ]);
  });

  it('redacts every line with its own instance, in messages and in fields, JSON-escaped too', () => {
    const { stream, lines } = collect();
    const redactor = new Redactor();
    redactor.register('s3cr"et-value');
    const log = streamLogger({ stream, redactor });
    log.error('login with s3cr"et-value failed', { sent: 's3cr"et-value' });
    expect(lines.join('')).not.toContain('s3cr');
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'error', msg: 'login with <redacted> failed', sent: '<redacted>' });
    streamLogger({ stream, redactor: new Redactor(), format: 'text' }).info('s3cr"et-value');
    expect(lines[1]).toContain('s3cr"et-value'); // another instance knows no secrets
  });

  it('child loggers add their fields; an Error field keeps its name, message and code', () => {
    const { stream, lines } = collect();
    const log = streamLogger({ stream, redactor: new Redactor(), fields: { app: 'agent' } }).child({ component: 'x' });
    log.error('failed', { error: Object.assign(new Error('boom'), { code: 'git-failed' }) });
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'error',
      msg: 'failed',
      app: 'agent',
      component: 'x',
      error: { name: 'Error', message: 'boom', code: 'git-failed' },
    });
  });

  it('plain lines are the prefix, the message and the fields, without time or level', () => {
    const { stream, lines } = collect();
    const redactor = new Redactor();
    redactor.register('hunter2-token');
    const log = streamLogger({ stream, redactor, format: 'plain', prefix: '[agent] ', now, level: 'debug' });
    log.debug('API on http://127.0.0.1:8420');
    log.warn('token hunter2-token refused', { from: '10.0.0.2' });
    expect(lines).toEqual([
      '[agent] API on http://127.0.0.1:8420\n',
      '[agent] token <redacted> refused from=10.0.0.2\n',
    ]);
  });
});
