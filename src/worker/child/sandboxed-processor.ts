import { handlers } from '../../../tasks/index.ts';
import { buildRegistry } from '../registry.ts';
import { sandboxedProcessor } from './sandboxed.ts';

/** Loaded by BullMQ in each child process of a `sandboxed: true` queue. */
export default sandboxedProcessor(() => buildRegistry(handlers));
