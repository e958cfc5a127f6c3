import { randomBytes, randomUUID } from 'node:crypto';
import type { PayloadOf, TaskName } from '../../src/contracts/index.ts';
import { serviceNames, type ServiceName } from '../../services.config.ts';
import { spawnRole, type RoleProcess } from '../helpers/spawn-role.ts';
import { StubService } from '../helpers/stub-service.ts';
import { stubEnv } from '../helpers/test-hub.ts';
import { clusterNodes } from './cluster-env.ts';

export const ADMIN: [string, string] = ['admin', 'cluster-admin-pass'];
export const API_TOKEN = randomBytes(24).toString('hex');

const uuid = () => randomUUID();
/** One payload per task: the compiler asks for a line here when a task is added. */
export const payloads: { [N in TaskName]: PayloadOf<N> } = {
  'auth.sendVerificationEmail': { userId: uuid(), email: 'ada@example.com' },
  'auth.sendPasswordResetEmail': { userId: uuid(), email: 'ada@example.com', resetToken: 'r'.repeat(32) },
  'auth.sendPasswordChangedEmail': { userId: uuid(), email: 'ada@example.com' },
  'auth.purgeExpiredSessions': {},
  'auth.revokeUserSessions': { userId: uuid(), reason: 'password-changed' },
  'cart.sendAbandonedCartReminder': { cartId: uuid() },
  'cart.remindAbandonedCarts': { idleHours: 24 },
  'cart.purgeExpiredCarts': {},
  'cart.recalculateTotals': { cartId: uuid() },
  'cart.markCheckedOut': { cartId: uuid(), orderId: uuid() },
  'order.sendConfirmation': { orderId: uuid(), email: 'ada@example.com' },
  'order.generateInvoice': { orderId: uuid() },
  'order.cancelUnpaidOrders': { olderThanMinutes: 30 },
  'order.summarizeResults': { results: [{ index: 0, ok: true, result: null }] },
  'product.processImages': { productId: uuid() },
  'product.reindex': { productIds: [uuid()] },
  'product.syncPrices': { productIds: [uuid(), uuid()], regions: ['eu', 'us'] },
};

/** An answer every task's service call accepts (tasks read only the fields they need). */
const everything = {
  id: uuid(),
  emailVerified: false,
  deleted: 1,
  revoked: 1,
  status: 'active',
  itemCount: 2,
  cartIds: [uuid(), uuid()],
  purged: 1,
  total: 10,
  currency: 'EUR',
  invoiceId: 'INV-cluster',
  cancelled: 0,
  indexed: 1,
  images: [{ id: uuid(), url: 'https://img.example.com/a.png', width: 1_600, height: 1_200 }],
};

export const startStubs = async (): Promise<Record<ServiceName, StubService>> => {
  const stubs = {} as Record<ServiceName, StubService>;
  for (const name of serviceNames) {
    stubs[name] = await StubService.start();
    stubs[name].fallback = { status: 200, body: everything };
  }
  stubs.pricing.fallback = { status: 200, body: { amount: 12.5, currency: 'EUR' } };
  return stubs;
};

/** The environment every role of the suite's hub reads: the cluster, the stubs, the tick schedule. */
export const hubEnv = (prefix: string, stubs: Record<ServiceName, StubService>): Record<string, string> => ({
  REDIS_CLUSTER_NODES: clusterNodes(),
  HUB_PREFIX: prefix,
  ...stubEnv(stubs),
  DASHBOARD_PORT: '0',
  DASHBOARD_USER: ADMIN[0],
  DASHBOARD_PASSWORD: ADMIN[1],
  HUB_API_TOKENS: `cluster-suite:${API_TOKEN}:*`,
  BEAT_SCHEDULE: 'test/cluster/fixtures/cluster-schedule.ts',
  BEAT_RECONCILE_MS: '500',
  WORKER_GRACE_MS: '2000',
  // The provider's real quota (40 a minute) would make every syncPrices run take seconds; still limited, through the cluster.
  PRICING_API_RATE_LIMIT: '600/1000',
});

/** `npm start` (worker, beat and dashboard in one process) on the cluster; resolves with its dashboard's URL. */
export const startHub = async (env: Record<string, string>): Promise<{ hub: RoleProcess; url: string }> => {
  const hub = spawnRole('src/launcher/start.ts', env);
  await hub.waitForLine(/^hub: running/, 60_000);
  const line = await hub.waitForLine(/dashboard on http/);
  return { hub, url: /(http:\/\/[^ ]+)/.exec(line)![1]! };
};

/** Stops a role as an orchestrator would (SIGTERM) and waits for it to exit. */
export const stopRole = async (role: RoleProcess) => {
  if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGTERM');
  return role.exited;
};

export const basic = (): Record<string, string> => ({ authorization: `Basic ${Buffer.from(ADMIN.join(':')).toString('base64')}` });
export const bearer = (): Record<string, string> => ({ authorization: `Bearer ${API_TOKEN}` });
