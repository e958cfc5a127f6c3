import { defineServices } from './src/contracts/services.ts';

/**
 * The services tasks call, as data: handlers reach each one as `ctx.http.<name>`. The
 * environment schema (src/config/env.ts), the clients and the tests' stub services derive
 * from this list; the endpoints each task calls are in INTEGRATION.md.
 *
 * Limits (README, "Flow control") hold over the whole fleet, however many workers run:
 * `rateLimit: { max, perMs }` (at most max calls in any perMs window) and `maxInFlight`. Each
 * is overridden by `<URL variable without _URL>_RATE_LIMIT=max/perMs` and `..._MAX_IN_FLIGHT`.
 * A service without limits costs nothing per call.
 */
export const services = defineServices({
  auth: { description: 'Accounts, sessions and account e-mails.', urlEnv: 'AUTH_SERVICE_URL', defaultUrl: 'http://127.0.0.1:4001' },
  cart: { description: 'Carts and cart reminders.', urlEnv: 'CART_SERVICE_URL', defaultUrl: 'http://127.0.0.1:4002' },
  order: { description: 'Orders, confirmations and invoices.', urlEnv: 'ORDER_SERVICE_URL', defaultUrl: 'http://127.0.0.1:4003' },
  product: { description: 'Catalogue, images, search index and prices.', urlEnv: 'PRODUCT_SERVICE_URL', defaultUrl: 'http://127.0.0.1:4004' },
  pricing: {
    description: 'The external pricing provider (a third party): list prices per product and region.',
    urlEnv: 'PRICING_API_URL',
    defaultUrl: 'http://127.0.0.1:4005',
    // The provider's quota for our account; exceeding it gets the account banned.
    rateLimit: { max: 40, perMs: 60_000 },
  },
});

export type ServiceName = keyof typeof services;
export const serviceNames = Object.keys(services) as ServiceName[];
