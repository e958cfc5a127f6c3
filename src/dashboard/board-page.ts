import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Express } from 'express';

// Bull Board finds its UI from @bull-board/api: the same copy is read here.
const fromApi = createRequire(createRequire(import.meta.url).resolve('@bull-board/api'));
const TEMPLATE = join(dirname(fromApi.resolve('@bull-board/ui/package.json')), 'dist', 'index.ejs');

/** Tags that load from another origin (Bull Board links Google Fonts): the board falls back to system fonts. */
const REMOTE_TAG = /<(link|script)\b[^>]*\b(href|src)="(https?:)?\/\/[^"]*"[^>]*>(\s*<\/script>)?\s*/gi;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The Content-Security-Policy of the board: its own origin only. Scripts: nothing inline (the
 * page's inline scripts, if a Bull Board upgrade adds any, by hash). Style attributes: only the
 * page's loading indicator's, by hash, computed from Bull Board's template at start. Style
 * elements: inline ones too, since the board's JSON editor (CodeMirror) injects its theme as
 * <style> at run time and Bull Board gives it no nonce; with images, fonts and connections held
 * to 'self', injected CSS could not send anything anywhere.
 */
export const boardPolicy = (template = readFileSync(TEMPLATE, 'utf8')): string => {
  const page = template.replace(REMOTE_TAG, '');
  const attributes = [...new Set([...page.matchAll(/\sstyle="([^"]*)"/g)].map((m) => sha256(m[1]!)))];
  const scripts = [...page.matchAll(/<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>([^<]+)<\/script>/g)].map((m) => sha256(m[1]!));
  return [
    "default-src 'none'",
    `script-src 'self'${scripts.map((h) => ` ${h}`).join('')}`,
    "style-src 'self' 'unsafe-inline'",
    `style-src-attr ${attributes.length ? `'unsafe-hashes' ${attributes.join(' ')}` : "'none'"}`,
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
};

type Render = (path: string, options: object, callback: (err: Error | null, html?: string) => void) => void;

/** Drops remote tags from what Bull Board's template renders (its express app renders with ejs). */
export const selfContained = (board: Express): void => {
  const engines = (board as unknown as { engines: Record<string, Render> }).engines;
  const render = engines['.ejs'];
  if (!render) throw new Error('Bull Board no longer renders its page with ejs: update board-page.ts');
  board.engine('ejs', (path, options, callback) => render(path, options, (err, html) => callback(err, html?.replace(REMOTE_TAG, ''))));
};
