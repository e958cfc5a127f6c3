import { extname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { schedule as defaultSchedule } from '../../schedule.ts';
import { ConfigError } from '../core/errors.ts';

/** The entries beat reconciles, and the file they came from as messages name it. */
export interface LoadedSchedule {
  entries: readonly unknown[];
  source: string;
}

// schedule.ts from a checkout, dist/schedule.js in the built image: the file the import above reads.
const DEFAULT_PATH = fileURLToPath(new URL(`../../schedule${extname(import.meta.url)}`, import.meta.url));

/** Relative to the working directory when that is shorter, else absolute. */
export const shownPath = (path: string, cwd = process.cwd()): string => {
  const absolute = resolve(cwd, path);
  const rel = relative(cwd, absolute);
  return rel && rel.length < absolute.length ? rel : absolute;
};

/** BEAT_SCHEDULE's module when set, else schedule.ts. */
export const loadSchedule = async (path: string | undefined): Promise<LoadedSchedule> => {
  if (!path) return { entries: defaultSchedule, source: shownPath(DEFAULT_PATH) };
  const source = shownPath(path);
  let mod: { schedule?: unknown; default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as typeof mod;
  } catch (err) {
    throw new ConfigError(`BEAT_SCHEDULE=${path}: cannot load ${source}: ${(err as Error).message}`, { cause: err });
  }
  const entries = mod.schedule ?? mod.default;
  if (!Array.isArray(entries)) throw new ConfigError(`BEAT_SCHEDULE=${path}: ${source} must export \`schedule = defineSchedule([...])\``);
  return { entries, source };
};
