import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { createLogger } from './logger.ts';

const capture = () => {
  const lines: string[] = [];
  const log = createLogger({ name: 'test', destination: new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) }) });
  return { log, lines };
};

describe('log redaction', () => {
  const sensitive = [...new Set(Object.values(catalog as Record<string, AnyContract>).flatMap((c) => c.sensitive))];

  it('covers every field a contract marks sensitive, at the top and nested', () => {
    expect(sensitive.length).toBeGreaterThan(0);
    const { log, lines } = capture();
    for (const field of sensitive) {
      log.info({ [field]: 'SECRET-TOP', payload: { [field]: 'SECRET-NESTED' }, job: { data: { [field]: 'SECRET-DEEP' } } }, 'line');
    }
    expect(lines).toHaveLength(sensitive.length);
    for (const line of lines) {
      expect(line).not.toMatch(/SECRET/);
      expect(line).toContain('[redacted]');
    }
  });

  it('keeps the usual secret names out too, and leaves other fields alone', () => {
    const { log, lines } = capture();
    log.info({ password: 'p4ss', headers: { authorization: 'Bearer t0ken' }, orderId: 'o-1' }, 'line');
    expect(lines[0]).not.toMatch(/p4ss|t0ken/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ orderId: 'o-1' });
  });
});

describe('LOG_FORMAT=pretty', () => {
  it('writes lines for a person (pino-pretty), not JSON, with the message and the fields', () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'test', format: 'pretty', destination: new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) }) });
    log.info({ jobId: 'order.1', password: 'p4ss' }, 'task succeeded');
    const text = lines.join('');
    expect(text).toMatch(/INFO.*task succeeded/);
    expect(text).toMatch(/jobId: "order\.1"/);
    expect(text).not.toMatch(/p4ss/);
    expect(() => JSON.parse(text)).toThrow();
  });
});
