import { connect, type Socket } from 'node:net';
import type { Redis } from 'ioredis';

/**
 * Watches every command a cluster's masters execute (MONITOR, inner commands of Lua scripts and
 * MULTI blocks included) and checks that each operation touching a prefix's keys stayed within
 * one hash slot. The cluster itself refuses a cross-slot command or MULTI (CROSSSLOT), but Redis
 * 7 lets a script without flags touch keys of several slots on one node; this sees those too.
 */

// CRC16-CCITT (XModem), as Redis Cluster hashes keys.
const TABLE = Array.from({ length: 256 }, (_, i) => {
  let crc = i << 8;
  for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});
const crc16 = (bytes: Buffer) => bytes.reduce((crc, byte) => ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!, 0);

/** The key's hash slot: of its `{tag}` when it has a non-empty one. */
export const keySlot = (key: string): number => {
  const bytes = Buffer.from(key, 'latin1');
  const open = bytes.indexOf(0x7b);
  const close = open === -1 ? -1 : bytes.indexOf(0x7d, open + 1);
  const hashed = close > open + 1 ? bytes.subarray(open + 1, close) : bytes;
  return crc16(hashed) % 16_384;
};

/** One MONITOR line (`1700000000.1 [0 127.0.0.1:5000] "EVALSHA" "ab" "1" "k"`): who ran it, and its arguments unescaped (as bytes in latin1). */
export const parseMonitorLine = (line: string): { source: string; args: string[] } | undefined => {
  const m = /^\d+\.\d+ \[\d+ ([^\]]+)\] /.exec(line);
  if (!m) return undefined;
  const args: string[] = [];
  let i = m[0].length;
  while (i < line.length) {
    if (line[i] !== '"') return undefined;
    let arg = '';
    for (i++; line[i] !== '"'; i++) {
      if (i >= line.length) return undefined;
      if (line[i] !== '\\') {
        arg += line[i];
        continue;
      }
      const next = line[++i]!;
      if (next === 'x') {
        arg += String.fromCharCode(parseInt(line.slice(i + 1, i + 3), 16));
        i += 2;
      } else arg += ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[next] ?? next;
    }
    args.push(arg);
    i += 2; // closing quote and the space
  }
  return { source: m[1]!, args };
};

/** A raw MONITOR connection to one node: its lines as they come. */
export const startMonitor = (host: string, port: number) => {
  const lines: string[] = [];
  let rest = '';
  const socket: Socket = connect({ host, port });
  socket.setEncoding('latin1');
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\r\n');
      rest = parts.pop()!;
      for (const p of parts) {
        if (p === '+OK') resolve();
        else if (p.startsWith('+')) lines.push(p.slice(1));
      }
    });
  });
  socket.write('MONITOR\r\n');
  return { lines, ready, stop: () => socket.destroy() };
};

type Spec = { first: number; last: number; step: number; movable: boolean; subcommands?: Map<string, Spec> };
const SCRIPTS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/** Key positions of every command, from the node's COMMAND table. */
export const commandTable = async (node: Redis): Promise<Map<string, Spec>> => {
  const toSpec = (entry: unknown[]): [string, Spec] => {
    const [name, , flags, first, last, step] = entry as [string, number, string[], number, number, number];
    const subs = entry[9] as unknown[][] | undefined;
    const spec: Spec = { first, last, step, movable: flags.includes('movablekeys') };
    if (subs?.length) spec.subcommands = new Map(subs.map((s) => toSpec(s)));
    return [name.toLowerCase(), spec];
  };
  return new Map(((await node.call('COMMAND')) as unknown[][]).map(toSpec));
};

export interface Operation {
  /** The command, or the script with its inner commands, or the MULTI block, as it ran. */
  what: string;
  keys: string[];
}

export interface Audit {
  operations: number;
  /** Operations (of the prefix) that touched two keys or more. */
  multiKey: number;
  /** Operations whose keys are in more than one slot: must be none. */
  crossSlot: Operation[];
  /** Keys carrying the prefix outside a `{<prefix>-...}` hash tag: must be none. */
  untagged: string[];
}

/** Groups each node's lines into operations and checks those that touch the prefix's keys. */
export const auditSlots = async (linesPerNode: readonly string[][], prefix: string, table: Map<string, Spec>, getKeys: (args: string[]) => Promise<string[]>): Promise<Audit> => {
  const keysOf = async (args: string[]): Promise<string[]> => {
    const name = args[0]!.toLowerCase();
    if (SCRIPTS.has(name)) return args.slice(3, 3 + Number(args[2]));
    let spec = table.get(name);
    if (spec?.subcommands && args[1]) spec = spec.subcommands.get(`${name}|${args[1].toLowerCase()}`) ?? spec;
    if (!spec || (!spec.movable && spec.first === 0)) return [];
    if (spec.movable) return getKeys(args).catch(() => []);
    const last = spec.last < 0 ? args.length + spec.last : spec.last;
    const keys: string[] = [];
    for (let i = spec.first; i <= last && i < args.length; i += spec.step || 1) keys.push(args[i]!);
    return keys;
  };
  const operations: Operation[] = [];
  for (const lines of linesPerNode) {
    let script: Operation | undefined;
    const multi = new Map<string, Operation>();
    for (const line of lines) {
      const parsed = parseMonitorLine(line);
      if (!parsed) continue;
      const { source, args } = parsed;
      const name = args[0]!.toLowerCase();
      const keys = await keysOf(args);
      if (source === 'lua') {
        if (!script) operations.push((script = { what: 'script', keys: [] }));
        script.keys.push(...keys);
        script.what += ` | ${name}`;
        continue;
      }
      script = undefined;
      const open = multi.get(source);
      if (open) {
        if (name === 'exec' || name === 'discard') multi.delete(source);
        else (open.keys.push(...keys), (open.what += ` | ${name}`));
        continue;
      }
      if (name === 'multi') {
        const block = { what: 'multi', keys: [] };
        multi.set(source, block);
        operations.push(block);
        continue;
      }
      const op = { what: `${name}${SCRIPTS.has(name) ? ` ${args[1]?.slice(0, 12)}` : ''}`, keys };
      operations.push(op);
      if (SCRIPTS.has(name)) script = op;
    }
  }
  const ours = operations.filter((op) => op.keys.some((k) => k.includes(prefix)));
  const tag = `{${prefix}-`;
  return {
    operations: ours.length,
    multiKey: ours.filter((op) => new Set(op.keys).size > 1).length,
    crossSlot: ours.filter((op) => new Set(op.keys.map(keySlot)).size > 1),
    untagged: [...new Set(ours.flatMap((op) => op.keys).filter((k) => k.includes(prefix) && !(k.startsWith(tag) && k.indexOf('}') > tag.length)))],
  };
};
