import { sandboxedProcessor } from '../../src/worker/child/sandboxed.ts';
import { faultRegistry } from './fault-tasks.ts';

/** The sandboxed processor of fault-worker.ts: the production one, with the fault tasks added. */
export default sandboxedProcessor(faultRegistry);
