'use strict';
/*
 * Preloaded (--require) into every child process the worker forks: a child must not outlive its
 * worker. When the worker dies, the IPC channel closes and the child exits.
 *
 * Plain CommonJS on purpose, loaded with --require rather than --import: Node runs it before any
 * loader, so under tsx it is in place while tsx and BullMQ's child code are still loading (a
 * TypeScript watchdog loaded after tsx missed workers killed in that window, and their children
 * lived on). Its 'disconnect' listener is registered before the event loop first turns, so the
 * close cannot pass unseen. Preloads also run in worker threads (tsx's loader thread among them),
 * which have no IPC channel of their own and must be left alone.
 */
const { isMainThread } = require('node:worker_threads');

if (isMainThread && process.channel) process.once('disconnect', () => process.exit(0));
