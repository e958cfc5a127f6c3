import { catalog, type AnyContract } from '../contracts/index.ts';
import { EVENT_NAME, type AnyEvents } from '../contracts/events.ts';
import { didYouMean } from './did-you-mean.ts';
import { ConfigError } from './errors.ts';

const checked = new WeakSet<object>();

/**
 * events.ts as every role reads it at start (worker, beat, dashboard, and each producer): the
 * compiler types the mappings, this catches what it cannot (a JS caller, a cast, a task renamed
 * since): names, unknown tasks, a task subscribed twice. One ConfigError listing every problem,
 * each naming its event and subscriber. Checked once per events object per process.
 */
export const checkEvents = (events: AnyEvents, contracts: Readonly<Record<string, AnyContract>> = catalog): void => {
  if (checked.has(events)) return;
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(events)) {
    if (!EVENT_NAME.test(name)) problems.push(`event "${name}": the name must be <domain>.<event>, letters and digits (e.g. order.created)`);
    if (typeof spec?.schema?.safeParse !== 'function') problems.push(`event "${name}": schema must be a zod schema`);
    if (!Array.isArray(spec?.subscribers)) {
      problems.push(`event "${name}": subscribers must be a list of { task, map }`);
      continue;
    }
    const seen = new Set<string>();
    spec.subscribers.forEach((sub, i) => {
      const task = String(sub?.task);
      const where = `event "${name}", subscriber ${i + 1} (${task})`;
      if (!Object.hasOwn(contracts, task)) problems.push(`${where}: unknown task${didYouMean(task, Object.keys(contracts))}`);
      else if (seen.has(task)) problems.push(`${where}: ${task} is subscribed twice; one event gives a task one job`);
      if (typeof sub?.map !== 'function') problems.push(`${where}: map must be a function (event) => payload`);
      seen.add(task);
    });
  }
  if (problems.length) throw new ConfigError(`events.ts: ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  checked.add(events);
};
