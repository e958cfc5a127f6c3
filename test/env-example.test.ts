import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvSchema, loadEnv } from '../src/config/env.ts';

const COMPOSE_ONLY = '# --- docker compose only';

/** `KEY=value` lines of .env.example, split at the compose-only marker. */
const readExample = () => {
  const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const [hub = '', composeOnly = ''] = text.split(COMPOSE_ONLY);
  const entries = (part: string) =>
    [...part.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
  return { text, hub: entries(hub), composeOnly: entries(composeOnly) };
};

describe('.env.example', () => {
  const example = readExample();
  const schemaKeys = Object.keys(EnvSchema.shape).sort();
  const hubKeys = example.hub.map(([k]) => k);

  it('lists every variable of EnvSchema, and nothing EnvSchema does not read', () => {
    const missing = schemaKeys.filter((k) => !hubKeys.includes(k));
    const unknown = hubKeys.filter((k) => !schemaKeys.includes(k));
    expect(missing, 'in EnvSchema (src/config/env.ts) but not in .env.example: add them, with a comment').toEqual([]);
    expect(unknown, 'in .env.example but not in EnvSchema: add them to the schema, or below the compose-only marker').toEqual([]);
  });

  it('lists each variable once', () => {
    const all = [...hubKeys, ...example.composeOnly.map(([k]) => k)];
    expect(all.filter((k, i) => all.indexOf(k) !== i)).toEqual([]);
  });

  it('holds values the schema accepts (a copied .env starts a local hub as is)', () => {
    expect(() => loadEnv(Object.fromEntries(example.hub))).not.toThrow();
  });

  it('fills in no secret', () => {
    const secrets = [...example.hub, ...example.composeOnly].filter(([k, v]) => /PASS|TOKEN|SECRET|KEY$/.test(k) && v !== '');
    expect(secrets.map(([k]) => k), 'leave secrets empty in .env.example').toEqual([]);
    expect(example.hub.find(([k]) => k === 'REDIS_URL')?.[1] ?? '', 'REDIS_URL must not carry a password').not.toMatch(/:[^/]*@/);
  });

  it('has compose-only variables that docker-compose.yml actually uses', () => {
    const compose = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');
    const unused = example.composeOnly.map(([k]) => k).filter((k) => !new RegExp(`\\$\\{${k}[:?}-]`).test(compose));
    expect(example.composeOnly.length).toBeGreaterThan(0);
    expect(unused, 'below the compose-only marker but not used in docker-compose.yml').toEqual([]);
  });

  it('says something about each variable (a comment in its group)', () => {
    const lines = example.text.split('\n');
    const groupsWithoutComment = lines
      .map((line, i) => ({ line, i }))
      .filter(({ line, i }) => /^[A-Z_]+=/.test(line) && !/^[A-Z_]+=/.test(lines[i - 1] ?? '') && !(lines[i - 1] ?? '').startsWith('#'))
      .map(({ line }) => line.split('=')[0]);
    expect(groupsWithoutComment).toEqual([]);
  });
});
