import { describe, expectTypeOf, it } from 'vitest';
import type { Producer, StartedWorkflow } from '../src/producer/index.ts';

declare const hub: Producer;

describe('workflow steps are typed like enqueue', () => {
  it('accepts steps whose payloads fit their tasks, and mappings onto payload fields', () => {
    expectTypeOf(
      hub.chain([
        { task: 'order.generateInvoice', payload: { orderId: 'x' } },
        { task: 'cart.markCheckedOut', payload: { cartId: 'c' }, from: { orderId: 'invoiceId' } },
      ]),
    ).resolves.toEqualTypeOf<StartedWorkflow>();
    void hub.group([{ task: 'order.generateInvoice', payload: { orderId: 'x' } }, { task: 'cart.recalculateTotals', payload: { cartId: 'c' } }]);
    void hub.chord([{ task: 'order.generateInvoice', payload: { orderId: 'x' } }], { task: 'order.summarizeResults', payload: {}, from: { results: '$' } }, { onMemberFailure: 'continue' });
  });

  it('rejects wrong payloads, unknown tasks and mappings onto fields the task does not take', () => {
    // @ts-expect-error orderId must be a string
    void hub.group([{ task: 'order.generateInvoice', payload: { orderId: 42 } }]);
    // @ts-expect-error unknown task name
    void hub.group([{ task: 'order.generateInvoce', payload: { orderId: 'x' } }]);
    void hub.chain([
      { task: 'order.generateInvoice', payload: { orderId: 'x' } },
      // @ts-expect-error cart.markCheckedOut has no field invoiceId
      { task: 'cart.markCheckedOut', payload: { cartId: 'c' }, from: { invoiceId: 'invoiceId' } },
    ]);
    // @ts-expect-error the first step of a chain takes no previous result
    void hub.chain([{ task: 'order.generateInvoice', payload: {}, from: { orderId: 'x' } }]);
    // @ts-expect-error onMemberFailure is stop or continue
    void hub.chord([{ task: 'order.generateInvoice', payload: { orderId: 'x' } }], { task: 'order.summarizeResults', payload: { results: [] } }, { onMemberFailure: 'ignore' });
  });
});
