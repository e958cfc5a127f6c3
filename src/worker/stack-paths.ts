import { fileURLToPath } from 'node:url';

/** The hub's root: the repository under tsx, dist/ in the image. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FRAME = /^\s+at /;
/** A frame's location: after `at `, `at async ` or `(`; a file path or a file: URL. */
const LOCATION = /(\(|\bat (?:async )?)(?:file:\/\/)?(\/[^\s():]+)/g;

const shorten = (path: string): string => {
  if (path.startsWith(ROOT)) return path.slice(ROOT.length);
  const modules = path.indexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + 1);
  return path.slice(path.lastIndexOf('/') + 1);
};

/**
 * A stack as it may be stored on a job and shown on the board: every frame kept (the frames below
 * a handler, in got or BullMQ, say where a failure arose), but its file named relative to the
 * hub's root (`src/worker/dispatch.ts:84:19`, `node_modules/got/...`) instead of where the hub is
 * installed. Only `at` lines are touched: the message line may name an HTTP path.
 */
export const relativeStack = (stack: string): string =>
  stack
    .split('\n')
    .map((line) => (FRAME.test(line) ? line.replace(LOCATION, (_m, lead: string, path: string) => lead + shorten(path)) : line))
    .join('\n');
