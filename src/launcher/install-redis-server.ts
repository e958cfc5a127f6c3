import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Installs redis-server with scripts/ensure-system-deps.sh when it may (apt-get, as root or with
 * passwordless sudo), relaying its progress. False when it may not or could not: the caller then
 * says how to get one. apt-get's output is shown only when it failed.
 */
export const installRedisServer = (say: (line: string) => void): Promise<boolean> =>
  new Promise((resolve) => {
    // npm start runs in the repository's root, as the launcher's .hub-data does (no scripts/ in the image).
    const child = spawn('bash', [join(process.cwd(), 'scripts', 'ensure-system-deps.sh'), 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout! }).on('line', say);
    let errors = '';
    child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
    child.once('error', () => resolve(false));
    child.once('close', (code) => {
      if (code === 1) errors.trimEnd().split('\n').forEach(say);
      resolve(code === 0);
    });
  });
