#!/usr/bin/env node
// `node scripts/check-lockfile.mjs [package-lock.json]`: finds, before `npm ci` runs, the lock
// entries it will refuse to do without. Plain JS with no dependencies: .ci/run calls it before
// node_modules exists.
//
// Why: npm leaves an optional dependency out of the lock, without a word, when the registry it
// resolves against cannot serve that package. msgpackr-extract (bullmq -> msgpackr) lists its
// native builds for every platform as optional dependencies; a registry or mirror that carries
// only the linux ones gives a lock without the darwin/win32/arm entries, and `npm ci` then stops
// with "Missing: @msgpackr-extract/msgpackr-extract-darwin-arm64@3.0.7 from lock file".
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Node's lookup from a lock path: its own node_modules, then each enclosing one, then the root's. */
const resolves = (packages, from, name) => {
  for (let dir = from; ; ) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
};

/** Every dependency a lock entry declares (optional ones and non-optional peers included) that no entry provides. */
export const missingLockEntries = (lock) => {
  const packages = lock.packages ?? {};
  const missing = [];
  for (const [path, entry] of Object.entries(packages)) {
    if (entry.link) continue;
    const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n);
    const declared = {
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...(path === '' ? entry.devDependencies : {}),
      ...Object.fromEntries(Object.entries(entry.peerDependencies ?? {}).filter(([n]) => !optionalPeers.includes(n))),
    };
    for (const [name, spec] of Object.entries(declared)) {
      if (!resolves(packages, path, name)) missing.push({ name, spec, of: path || 'package.json', optional: name in (entry.optionalDependencies ?? {}) });
    }
  }
  return missing;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? 'package-lock.json';
  const missing = missingLockEntries(JSON.parse(readFileSync(file, 'utf8')));
  if (missing.length) {
    const lines = missing.map((m) => `  ${m.name}@${m.spec}  (${m.optional ? 'optional ' : ''}dependency of ${m.of})`);
    process.stderr.write(
      [
        `${file} lacks entries that npm ci needs, so npm ci will refuse it ("Missing: ... from lock file"):`,
        ...lines,
        'npm leaves an optional dependency out of the lock without a word when the registry it used cannot serve',
        'that package (a mirror without other platforms\' native builds, say): hand-written entries do not survive',
        'the next npm install that re-resolves them there. Put them back from a registry that serves them',
        `(check: npm view ${missing[0].name}@${missing[0].spec} version), then commit the lock:`,
        '  npm install --package-lock-only --no-audit --no-fund',
        '',
      ].join('\n'),
    );
    process.exit(1);
  }
}
