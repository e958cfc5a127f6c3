import { runCli } from './run-cli.ts';

/** `task-hub ...` (bin/task-hub.js): the exit code says how it went (README, "The task-hub CLI"). */
const code = await runCli(process.argv.slice(2), { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) });
process.exitCode = code;
