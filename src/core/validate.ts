import { z } from 'zod';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { didYouMean } from './did-you-mean.ts';
import { InvalidPayloadError, PayloadTooLargeError, UnknownTaskError } from './errors.ts';

const contracts: Readonly<Record<string, AnyContract>> = catalog;

export const DEFAULT_MAX_PAYLOAD_BYTES = 512 * 1024;

export const contractOf = (name: string): AnyContract => {
  // Callers in plain JS (or from JSON) can pass anything: answer with the same error, never a TypeError.
  if (typeof name !== 'string') throw new UnknownTaskError(String(name), ': a task name is a string like "order.sendConfirmation"');
  const contract = Object.hasOwn(contracts, name) ? contracts[name] : undefined;
  if (!contract) throw new UnknownTaskError(name, didYouMean(name, Object.keys(contracts)));
  return contract;
};

/** Parses a payload against its contract; the error names every failing field. */
export const parsePayload = (contract: AnyContract, payload: unknown): unknown => {
  const result = contract.schema.safeParse(payload);
  if (!result.success) throw new InvalidPayloadError(contract.name, z.prettifyError(result.error));
  return result.data;
};

export const assertPayloadSize = (name: string, payload: unknown, limit: number): void => {
  let json: string;
  try {
    json = JSON.stringify(payload) ?? '';
  } catch (err) {
    // BigInt, circular references: what Redis would get is not what the caller meant.
    throw new InvalidPayloadError(name, `the payload is not JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  // Cheap upper bound first: most payloads are a few ids.
  if (json.length * 3 <= limit) return;
  const bytes = Buffer.byteLength(json);
  if (bytes > limit) throw new PayloadTooLargeError(name, bytes, limit);
};

/** The edge check shared by the producer lib, the HTTP API and beat. */
export const validateTask = (name: string, payload: unknown, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES) => {
  const contract = contractOf(name);
  assertPayloadSize(name, payload, maxBytes);
  return { contract, payload: parsePayload(contract, payload) };
};
