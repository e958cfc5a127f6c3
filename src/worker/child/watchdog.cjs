'use strict';
/*
 * Preloaded (--require) into every child process the worker forks: a child must not outlive its
 * worker. When the worker dies, the IPC channel closes and the child exits; when its job keeps
 * the event loop from seeing that, a watching thread ends it.
 *
 * Plain CommonJS on purpose, loaded with --require rather than --import: Node runs it before any
 * loader, so under tsx it is in place while tsx and BullMQ's child code are still loading (a
 * TypeScript watchdog loaded after tsx missed workers killed in that window, and their children
 * lived on). Its 'disconnect' listener is registered before the event loop first turns, so the
 * close cannot pass unseen. Preloads also run in worker threads (tsx's loader thread among them),
 * which have no IPC channel of their own and must be left alone.
 */
const { isMainThread, Worker } = require('node:worker_threads');

if (isMainThread && process.channel) {
  process.once('disconnect', () => process.exit(0));
  // A job that keeps the main thread busy (CPU-bound, or a synchronous loop) never lets the
  // 'disconnect' run, and would spin on as an orphan. A thread of its own (about 9 MB) watches the
  // parent pid instead: once the worker is gone the child is reparented, and it kills its process.
  const guard = new Worker(
    `const { workerData: parent } = require('node:worker_threads');
     setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 250);`,
    { eval: true, workerData: process.ppid, execArgv: [] },
  );
  guard.on('error', () => {}); // never take the child down with it
  guard.unref();
}
