/**
 * Preloaded (`--import`) into every child process the worker forks, before BullMQ's child code:
 * a child must not outlive its worker. The fault suite found children of a SIGKILLed worker
 * still alive minutes later, idle or spinning, whether or not they had loaded a task yet.
 */
process.once('disconnect', () => process.exit(0));
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent || !process.connected) process.exit(0);
}, 1_000).unref();
