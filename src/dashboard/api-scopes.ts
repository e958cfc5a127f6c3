import { catalog } from '../contracts/index.ts';
import { events } from '../../events.ts';

/**
 * What an API token may do, from its scopes (HUB_API_TOKENS):
 * - `*`, a domain (`order`) or a task (`order.sendConfirmation`): enqueue those tasks, read their jobs;
 * - `events` or `event:<name>` (`event:order.created`): publish those events and read their jobs (a
 *   domain scope does not cover events; `*` does);
 * - `<domain|task|*>:cancel`, `<domain|task|*>:replay`: cancel / replay those tasks' jobs (and read them);
 * - `replay`: replay any failed job; `schedules`: pause, resume, trigger schedule entries;
 *   `queues`: pause, resume and limit queues;
 * - `admin`: all of the above, and the audit log.
 * Enqueueing grants no control: a token for `order` cannot cancel, replay or pause anything.
 */
export const TASK_ACTIONS = ['cancel', 'replay'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];
export const GLOBAL_SCOPES = ['replay', 'schedules', 'queues', 'admin'] as const;
export type Control = 'schedules' | 'queues' | 'audit';

const taskNames = Object.keys(catalog);
const domains = [...new Set(Object.values(catalog).map((c) => c.domain))];
const eventScopes = ['events', ...Object.keys(events).map((name) => `event:${name}`)];

/** Every scope a token may name, for "did you mean". */
export const knownScopes = (): string[] => [
  '*',
  ...domains,
  ...taskNames,
  ...eventScopes,
  ...TASK_ACTIONS.flatMap((a) => ['*', ...domains].map((d) => `${d}:${a}`)),
  ...GLOBAL_SCOPES,
];

const isTaskScope = (s: string) => s === '*' || domains.includes(s) || taskNames.includes(s);

export const isScope = (s: string): boolean => {
  if (isTaskScope(s) || eventScopes.includes(s) || (GLOBAL_SCOPES as readonly string[]).includes(s)) return true;
  const colon = s.lastIndexOf(':');
  return colon > 0 && (TASK_ACTIONS as readonly string[]).includes(s.slice(colon + 1)) && isTaskScope(s.slice(0, colon));
};

const covers = (scope: string, task: string) => scope === '*' || scope === task || scope === task.slice(0, task.indexOf('.'));

interface Scoped {
  scopes: readonly string[];
}

const isAdmin = (c: Scoped) => c.scopes.includes('admin');

export const mayEnqueue = (c: Scoped, task: string): boolean => isAdmin(c) || c.scopes.some((s) => covers(s, task));

export const mayPublish = (c: Scoped, event: string): boolean => isAdmin(c) || c.scopes.some((s) => s === '*' || s === 'events' || s === `event:${event}`);

export const mayAct = (c: Scoped, action: TaskAction, task: string): boolean =>
  isAdmin(c) ||
  (action === 'replay' && c.scopes.includes('replay')) ||
  c.scopes.some((s) => s.endsWith(`:${action}`) && covers(s.slice(0, -action.length - 1), task));

/** Reading a task's jobs comes with any scope over the task. */
export const mayRead = (c: Scoped, task: string): boolean => mayEnqueue(c, task) || TASK_ACTIONS.some((a) => mayAct(c, a, task));

export const mayControl = (c: Scoped, what: Control): boolean => isAdmin(c) || (what !== 'audit' && c.scopes.includes(what));
