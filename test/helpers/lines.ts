import { EventEmitter } from 'node:events';

/**
 * The lines a process (or a logger) wrote, as they arrive, and a wait for the first one that
 * matches: the one way tests wait on output. Text may come in chunks that split lines.
 */
export class Lines extends EventEmitter {
  readonly all: string[] = [];
  private partial = '';
  private ended = false;

  /** A chunk of output; complete lines are recorded, the rest waits for its newline. */
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) if (line) this.add(line);
  }

  /** One whole line (from readline). */
  add(line: string): void {
    this.all.push(line);
    this.emit('line', line);
  }

  /** The source is gone (the process exited): pending waits fail at once instead of timing out. */
  end(why = 'the output ended'): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
    this.ended = true;
    this.emit('end', why);
  }

  /** The first line (seen or future) containing `text` or matching it. */
  waitFor(text: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const hit = (l: string) => (typeof text === 'string' ? l.includes(text) : text.test(l));
    const seen = this.all.find(hit);
    if (seen) return Promise.resolve(seen);
    const failure = (why: string) => new Error(`no line matching ${text} ${why}; output:\n${this.all.join('\n')}`);
    if (this.ended) return Promise.reject(failure('before the output ended'));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.off('line', onLine);
        this.off('end', onEnd);
      };
      const timer = setTimeout(() => (done(), reject(failure(`within ${timeoutMs} ms`))), timeoutMs);
      const onLine = (l: string) => hit(l) && (done(), resolve(l));
      const onEnd = (why: string) => (done(), reject(failure(`before ${why}`)));
      this.on('line', onLine);
      this.on('end', onEnd);
    });
  }

  matching(text: string | RegExp): string[] {
    return this.all.filter((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));
  }
}
