import { describe, expect, it } from 'vitest';
import { newPrefix } from '../helpers/test-hub.ts';
import { masterAddresses, nodeClient, ownerOf } from './cluster-env.ts';
import { auditSlots, commandTable, keySlot, parseMonitorLine, startMonitor } from './slot-audit.ts';

describe('the slot audit (the check flow.cluster.ts ends with) sees what the cluster lets through', () => {
  it('parses MONITOR lines, escapes included', () => {
    expect(parseMonitorLine('1700000000.123456 [0 127.0.0.1:5000] "EVALSHA" "ab" "1" "{t-order}:x" "say \\"hi\\"\\n\\x01"')).toEqual({
      source: '127.0.0.1:5000',
      args: ['EVALSHA', 'ab', '1', '{t-order}:x', 'say "hi"\n\x01'],
    });
    expect(parseMonitorLine('1700000000.1 [0 lua] "hget" "k" "f"')).toEqual({ source: 'lua', args: ['hget', 'k', 'f'] });
  });

  it('flags a script that touches two slots of one node (Redis 7 runs it) and a key outside any hub tag', async () => {
    const prefix = newPrefix();
    const first = `{${prefix}-a}:x`;
    const home = await ownerOf(first);
    // Another tag of the prefix whose slot the same master serves.
    let second = '';
    for (let i = 0; !second; i++) if ((await ownerOf(`{${prefix}-b${i}}`)) === home && keySlot(`{${prefix}-b${i}}`) !== keySlot(first)) second = `{${prefix}-b${i}}:y`;
    let plain = '';
    for (let i = 0; !plain; i++) if ((await ownerOf(`${prefix}-plain${i}`)) === home) plain = `${prefix}-plain${i}`;
    const masters = await masterAddresses();
    const monitors = masters.map((m) => startMonitor(m.slice(0, m.lastIndexOf(':')), Number(m.slice(m.lastIndexOf(':') + 1))));
    await Promise.all(monitors.map((m) => m.ready));
    const node = nodeClient(home);
    try {
      await node.eval(`redis.call('SET', KEYS[1], 1); redis.call('SET', ARGV[1], 1); return 1`, 1, first, second);
      await node.set(plain, 1);
      for (const key of [first, second, plain]) await node.unlink(key);
      await new Promise((r) => setTimeout(r, 200)); // the monitors' lines in flight
      const audit = await auditSlots(monitors.map((m) => m.lines), prefix, await commandTable(node), (args) => node.call('COMMAND', 'GETKEYS', ...args) as Promise<string[]>);
      expect(audit.crossSlot.map((op) => [...new Set(op.keys)])).toContainEqual([first, second]);
      expect(audit.untagged).toEqual([plain]);
    } finally {
      for (const m of monitors) m.stop();
      node.disconnect();
    }
  });
});
