import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;
const started = Date.now();

/** Collects each scenario's line and prints them together at the end of the run. */
export function setup() {
  dir = mkdtempSync(join(tmpdir(), 'hub-fault-report-'));
  process.env.FAULT_REPORT = join(dir, 'lines.txt');
  writeFileSync(process.env.FAULT_REPORT, '');
}

export function teardown() {
  if (!dir) return;
  // In scenario order, whatever order the files ran in.
  const order = (l: string) => /^(?:PASS|FAIL|LOSS DETECTED \(expected\)|FAIL: the checker saw no loss)\s+(\d+)([a-z]?)/.exec(l)?.slice(1).join('') ?? `~${l}`;
  const lines = readFileSync(join(dir, 'lines.txt'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .sort((a, b) => order(a).localeCompare(order(b), 'en', { numeric: true }))
    .join('\n');
  process.stdout.write(`\nfault scenarios (${Math.round((Date.now() - started) / 1_000)} s):\n${lines}\n`);
  rmSync(dir, { recursive: true, force: true });
}
