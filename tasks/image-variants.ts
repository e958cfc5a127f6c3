export interface SourceImage {
  id: string;
  url: string;
  width: number;
  height: number;
}

const VARIANTS = [
  { name: 'thumb', longEdge: 200 },
  { name: 'medium', longEdge: 800 },
  { name: 'large', longEdge: 1600 },
] as const;

/**
 * Variants for a URL-transforming image CDN: never upscaled, aspect ratio kept. A variant the
 * source is too small for is left out (the thumb always exists).
 */
export const variantsOf = (image: SourceImage) => {
  const longEdge = Math.max(image.width, image.height);
  return VARIANTS.filter((v) => v.name === 'thumb' || v.longEdge <= longEdge).map((v) => {
    const scale = Math.min(1, v.longEdge / longEdge);
    const width = Math.max(1, Math.round(image.width * scale));
    const height = Math.max(1, Math.round(image.height * scale));
    const url = new URL(image.url);
    url.searchParams.set('w', String(width));
    url.searchParams.set('h', String(height));
    return { name: v.name, width, height, url: url.toString() };
  });
};
