import { describe, expect, it } from 'vitest';
import { variantsOf } from './image-variants.ts';

describe('variantsOf', () => {
  it('keeps the aspect ratio and never upscales', () => {
    const variants = variantsOf({ id: 'i', url: 'https://cdn.example.com/a.jpg', width: 3200, height: 1600 });
    expect(variants.map((v) => [v.name, v.width, v.height])).toEqual([
      ['thumb', 200, 100],
      ['medium', 800, 400],
      ['large', 1600, 800],
    ]);
  });
  it('a small source gets only a thumb, at most its own size', () => {
    const variants = variantsOf({ id: 'i', url: 'https://cdn.example.com/a.jpg', width: 120, height: 90 });
    expect(variants).toEqual([{ name: 'thumb', width: 120, height: 90, url: 'https://cdn.example.com/a.jpg?w=120&h=90' }]);
  });
});
