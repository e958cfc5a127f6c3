import { z } from 'zod';
import { envStemOf } from '../contracts/services.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { ConfigError } from '../core/errors.ts';
import { pools } from '../../pools.config.ts';
import { services } from '../../services.config.ts';

const RATE = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/** `40/60000` -> at most 40 calls in any 60 s. */
const rateLimit = z
  .string()
  .transform((s, ctx) => {
    const m = RATE.exec(s);
    const [max, perMs] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!m || !(max >= 1) || !(perMs >= 1) || !Number.isSafeInteger(max) || !Number.isSafeInteger(perMs)) {
      ctx.addIssue({ code: 'custom', message: `"${s}": expected <max>/<perMs>, both whole numbers >= 1, e.g. 40/60000 (40 calls a minute); a limit of 0 would stop every call` });
      return z.NEVER;
    }
    return { max, perMs };
  })
  .optional();

const inFlight = z.coerce.number().int().min(1, 'at least 1 (a limit of 0 would stop every call)').optional();

/** `a, b ,c` -> ['a','b','c']; a variable that is set but lists nothing is a mistake, not "off". */
const items = z
  .string()
  .transform((s, ctx) => {
    const list = s.split(',').map((i) => i.trim()).filter(Boolean);
    if (!list.length) ctx.addIssue({ code: 'custom', message: 'the pool lists no item: give comma-separated items, or leave the variable empty to use the default' });
    if (new Set(list).size !== list.length) ctx.addIssue({ code: 'custom', message: 'an item is listed twice' });
    return list;
  })
  .optional();

export const rateLimitEnvOf = (name: keyof typeof services): string => `${envStemOf(services[name])}_RATE_LIMIT`;
export const maxInFlightEnvOf = (name: keyof typeof services): string => `${envStemOf(services[name])}_MAX_IN_FLIGHT`;

type Stem = (typeof services)[keyof typeof services]['urlEnv'] extends infer U ? (U extends `${infer S}_URL` ? S : never) : never;
type ItemsEnv = (typeof pools)[keyof typeof pools]['itemsEnv'];
type FlowFields = Record<`${Stem}_RATE_LIMIT`, typeof rateLimit> & Record<`${Stem}_MAX_IN_FLIGHT`, typeof inFlight> & Record<ItemsEnv, typeof items>;

/** Per service `<STEM>_RATE_LIMIT` and `<STEM>_MAX_IN_FLIGHT`, per pool its items variable. */
export const flowEnvFields: FlowFields = {
  ...Object.fromEntries(
    (Object.keys(services) as (keyof typeof services)[]).flatMap((name) => [
      [rateLimitEnvOf(name), rateLimit],
      [maxInFlightEnvOf(name), inFlight],
    ]),
  ),
  ...Object.fromEntries(Object.values(pools).map((p) => [p.itemsEnv, items])),
} as FlowFields;

const FLOW_VARIABLE = /_(RATE_LIMIT|MAX_IN_FLIGHT)$/;

/**
 * A limit set for a service that services.config.ts does not have (a typo, or a service since
 * renamed) would silently limit nothing: it stops the process instead, naming the variable.
 */
export const checkFlowVariableNames = (source: Readonly<Record<string, string | undefined>>): void => {
  const known = Object.keys(flowEnvFields).filter((k) => FLOW_VARIABLE.test(k));
  const stray = Object.keys(source).filter((k) => FLOW_VARIABLE.test(k) && source[k] !== '' && !known.includes(k));
  if (!stray.length) return;
  const lines = stray.map((k) => `  ${k}: no service in services.config.ts has the URL variable ${k.replace(FLOW_VARIABLE, '_URL')}${didYouMean(k, known)}`);
  throw new ConfigError(`invalid environment: a limit for an unknown service\n${lines.join('\n')}`);
};
