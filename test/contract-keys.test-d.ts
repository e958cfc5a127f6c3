import { expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { task, type TaskSpec } from '../src/contracts/index.ts';

test('business keys are checked against the payload schema where the contract is written', () => {
  const schema = z.strictObject({ orderId: z.uuid(), email: z.email() });
  const spec = task({ description: 'x', schema, keys: ['orderId'], timeoutMs: 1_000 });
  expectTypeOf(spec).toExtend<TaskSpec>();
  // @ts-expect-error: not a field of the payload
  task({ description: 'x', schema, keys: ['orderID'], timeoutMs: 1_000 });
});
