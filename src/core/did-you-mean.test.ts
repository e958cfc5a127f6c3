import { describe, expect, it } from 'vitest';
import { didYouMean } from './did-you-mean.ts';

const names = ['order.sendConfirmation', 'order.generateInvoice', 'cart.purgeExpiredCarts'];

describe('didYouMean', () => {
  it('suggests the closest known name for a typo', () => {
    expect(didYouMean('order.sendConfirmaton', names)).toBe(' (did you mean "order.sendConfirmation"?)');
    expect(didYouMean('Cart.PurgeExpiredCarts', names)).toBe(' (did you mean "cart.purgeExpiredCarts"?)');
  });
  it('stays quiet when nothing is close', () => {
    expect(didYouMean('shipping.label', names)).toBe('');
  });
});
