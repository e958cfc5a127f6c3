import { pino } from 'pino';

type Sink = ReturnType<typeof pino.destination>;

// One exit listener for every destination, held weakly: loggers come and go (tests make many).
const live = new Set<WeakRef<BatchedLines>>();
let listening = false;
const flushAtExit = (destination: BatchedLines) => {
  if (!listening) process.once('exit', () => live.forEach((ref) => ref.deref()?.flushSync()));
  listening = true;
  for (const ref of live) if (!ref.deref()) live.delete(ref);
  live.add(new WeakRef(destination));
};

/**
 * A pino destination that gathers lines in an array and hands them to pino's own synchronous
 * destination (sonic-boom: partial writes, EAGAIN, EPIPE) 16 KiB at a time, or 100 ms after
 * the first line at the latest.
 *
 * Why not sonic-boom's own buffering (`minLength`): it appends each line to one growing string
 * and measures that string's byte length on every write, a copy of the whole pending buffer per
 * line. At thousands of lines a second that copying, and the garbage it made, was the largest
 * part of the hub's cost per job in worker CPU profiles. Here a line costs an array push; a
 * write costs one join and one write(2) per 16 KiB.
 */
export class BatchedLines {
  private lines: string[] = [];
  private length = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly out: Sink;

  constructor(
    fd: number,
    private readonly maxLength = 16_384,
    private readonly maxDelayMs = 100,
  ) {
    this.out = pino.destination({ dest: fd, sync: true });
    flushAtExit(this);
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.length += line.length;
    if (this.length >= this.maxLength) this.flushSync();
    else this.timer ??= setTimeout(this.flushSync, this.maxDelayMs).unref();
    return true;
  }

  /** Writes what is pending now; pino calls it after a fatal line. */
  readonly flushSync = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.lines.length) return;
    const chunk = this.lines.join('');
    this.lines = [];
    this.length = 0;
    this.out.write(chunk);
  };

  /** pino's logger.flush(cb). */
  flush(cb?: (err?: Error) => void): void {
    try {
      this.flushSync();
    } catch (err) {
      cb?.(err as Error);
      return;
    }
    cb?.();
  }
}
