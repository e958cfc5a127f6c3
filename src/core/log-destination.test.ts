import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'hub-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the batched log destination', () => {
  it('holds lines back, then writes them in order once 100 ms passed', async () => {
    const file = join(dir, 'timer.log');
    const log = createLogger({ name: 'worker', destination: openSync(file, 'w') });
    const started = performance.now();
    for (let i = 0; i < 5; i++) log.info({ i }, 'line');
    expect(readFileSync(file, 'utf8')).toBe('');
    // Nothing to wait on but the file itself: poll it.
    while (lines(file).length < 5 && performance.now() - started < 5_000) await new Promise((r) => setTimeout(r, 5));
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(lines(file).map((l) => l.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it('writes as soon as 16 KiB are pending, and flush() writes the rest', () => {
    const file = join(dir, 'size.log');
    const log = createLogger({ name: 'worker', destination: openSync(file, 'w') });
    const pad = 'x'.repeat(1_000);
    for (let i = 0; i < 20; i++) log.info({ i, pad }, 'line');
    const written = lines(file).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(20);
    log.flush();
    expect(lines(file).map((l) => l.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('loses no line when the process exits right after logging', () => {
    const script = `
      import { createLogger } from './src/core/logger.ts';
      const log = createLogger({ name: 'worker' });
      for (let i = 0; i < 1000; i++) log.info({ i }, 'before exit');
      process.exit(3);`;
    let out = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    } catch (err) {
      const e = err as { status: number; stdout: string };
      expect(e.status).toBe(3);
      out = e.stdout;
    }
    const seen = out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { i: number }).i);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});
