import type { ParseArgsConfig } from 'node:util';
import type { Control } from '../control/control.ts';

/** What a command gets: the control operations, who runs it (the audit's `cli:<user>`), and where to print. */
export interface CliContext {
  control: Control;
  who: string;
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  /** The usage lines and option descriptions `--help` prints. */
  help: string;
  options?: ParseArgsConfig['options'];
  /** Runs the command; the number is the exit code (0 ok, 3 nothing found). Throws CliUsageError or ControlError. */
  run(ctx: CliContext, values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** A wrong command line: exit 2, with the command's usage. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

export const print = (ctx: CliContext, value: unknown, human: () => string): void => ctx.out(ctx.json ? `${JSON.stringify(value, null, 2)}\n` : human());

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
