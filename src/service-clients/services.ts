import type { Got } from 'got';
import { serviceNames, services, type ServiceName } from '../../services.config.ts';
import type { FlowRuntime } from '../core/flow/runtime.ts';
import { createServiceClient } from './service-client.ts';

/** `ctx.http`: one got client per service of services.config.ts. */
export type ServiceClients = Record<ServiceName, Got>;

/** Base URL per service, e.g. read from the environment by serviceUrlsFrom. */
export type ServiceUrls = Record<ServiceName, string>;

/** Each service's URL from its variable in an already parsed environment. */
export const serviceUrlsFrom = (env: Readonly<Record<string, unknown>>): ServiceUrls =>
  Object.fromEntries(serviceNames.map((name) => [name, String(env[services[name].urlEnv])])) as ServiceUrls;

/** With `flow`, the services that have limits or a pool take their turn from Redis before each call. */
export const createServiceClients = (urls: ServiceUrls, timeoutMs: number, flow?: FlowRuntime): ServiceClients =>
  Object.fromEntries(
    serviceNames.map((name) => {
      const pool = flow?.config.services[name]?.pool;
      const serviceFlow = flow && { gate: flow.gates[name], pool: pool === undefined ? undefined : flow.pools[pool], metrics: flow.metrics };
      return [name, createServiceClient(name, urls[name], timeoutMs, serviceFlow)];
    }),
  ) as ServiceClients;
