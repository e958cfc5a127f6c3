import { readFileSync } from 'node:fs';

/**
 * The image's HEALTHCHECK. One image runs every role, so the check asks PID 1 which one it is:
 * the dashboard must answer /healthz; worker and beat have no port, and a container whose node
 * process died has stopped anyway (Docker restarts it), so they are healthy while they run.
 */
const commandLine = (): string => {
  try {
    return readFileSync('/proc/1/cmdline', 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

const check = async (): Promise<number> => {
  if (!/dashboard\/main\.js/.test(commandLine())) return 0;
  const port = process.env.DASHBOARD_PORT?.trim() || '5555';
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4_000) });
    if (res.ok) return 0;
    process.stderr.write(`healthcheck: /healthz answered ${res.status}\n`);
  } catch (err) {
    process.stderr.write(`healthcheck: /healthz did not answer: ${(err as Error).message}\n`);
  }
  return 1;
};

process.exitCode = await check();
