// Masks as bitmaps (one byte per natural pixel) while they are painted, and as uncompressed
// row-major RLE in the value: counts alternate background/foreground runs, starting with
// background, and add up to height * width.

// A mask is drawn from a cached canvas; on very large images the cache is smaller than the
// image so that each mask costs at most this many pixels on a side.
const MAX_CACHE_SIDE = 4096;

// Runs are found with indexOf, which scans natively: a 48-megapixel mask encodes in a few ms.
export function encodeRle(bits, width, height) {
  const counts = [];
  let current = 0;
  for (let i = 0; i < bits.length;) {
    const next = bits.indexOf(current ^ 1, i);
    const end = next < 0 ? bits.length : next;
    counts.push(end - i);
    i = end;
    current ^= 1;
  }
  if (!counts.length) counts.push(0);
  return { size: [height, width], counts };
}

export function decodeRle(rle) {
  const [height, width] = rle.size;
  const bits = new Uint8Array(height * width);
  let position = 0;
  rle.counts.forEach((n, i) => {
    if (i % 2 === 1) bits.fill(1, position, position + n);
    position += n;
  });
  return bits;
}

export function hasForeground(rle) {
  return rle.counts.some((n, i) => i % 2 === 1 && n > 0);
}

// Sets every pixel whose centre lies within `radius` of the segment a-b; returns the changed
// rectangle [left, right) x [top, bottom) in pixels, or null when the brush misses the image.
export function stampSegment(bits, width, height, a, b, radius, value) {
  const left = Math.max(0, Math.floor(Math.min(a.x, b.x) - radius));
  const right = Math.min(width, Math.ceil(Math.max(a.x, b.x) + radius));
  const top = Math.max(0, Math.floor(Math.min(a.y, b.y) - radius));
  const bottom = Math.min(height, Math.ceil(Math.max(a.y, b.y) + radius));
  if (left >= right || top >= bottom) return null;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length2 = dx * dx + dy * dy;
  const r2 = radius * radius;
  for (let y = top; y < bottom; y++) {
    const py = y + 0.5;
    for (let x = left; x < right; x++) {
      const px = x + 0.5;
      const t = length2 ? Math.min(1, Math.max(0, ((px - a.x) * dx + (py - a.y) * dy) / length2)) : 0;
      const ex = px - (a.x + t * dx);
      const ey = py - (a.y + t * dy);
      if (ex * ex + ey * ey <= r2) bits[y * width + x] = value;
    }
  }
  return { left, top, right, bottom };
}

// Any CSS colour as one RGBA pixel packed for a Uint32Array view of ImageData (little-endian).
const probe = document.createElement("canvas").getContext("2d");
export function packedColour(colour) {
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = colour;
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function cacheCanvas(width, height) {
  const scale = Math.min(1, MAX_CACHE_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  return canvas;
}

// Draws an RLE into a fresh cache canvas, walking runs rather than pixels.
export function canvasFromRle(rle, colour) {
  const [height, width] = rle.size;
  const canvas = cacheCanvas(width, height);
  const sx = canvas.width / width;
  const sy = canvas.height / height;
  const image = new ImageData(canvas.width, canvas.height);
  const pixels = new Uint32Array(image.data.buffer);
  let position = 0;
  rle.counts.forEach((n, i) => {
    const end = position + n;
    if (i % 2 === 1 && n > 0) {
      for (let row = Math.floor(position / width); row <= Math.floor((end - 1) / width); row++) {
        const x0 = Math.max(position - row * width, 0);
        const x1 = Math.min(end - row * width, width) - 1;
        const base = Math.floor(row * sy) * canvas.width;
        pixels.fill(colour, base + Math.floor(x0 * sx), base + Math.floor(x1 * sx) + 1);
      }
    }
    position = end;
  });
  canvas.getContext("2d").putImageData(image, 0, 0);
  return canvas;
}

// Repaints the part of a cache canvas that covers a changed rectangle of the bitmap.
export function refreshCanvas(canvas, bits, width, height, rect, colour) {
  const sx = canvas.width / width;
  const sy = canvas.height / height;
  const left = Math.floor(rect.left * sx);
  const top = Math.floor(rect.top * sy);
  const right = Math.min(canvas.width, Math.ceil(rect.right * sx));
  const bottom = Math.min(canvas.height, Math.ceil(rect.bottom * sy));
  if (left >= right || top >= bottom) return;
  const image = new ImageData(right - left, bottom - top);
  const pixels = new Uint32Array(image.data.buffer);
  for (let cy = top; cy < bottom; cy++) {
    const row = Math.min(height - 1, Math.floor((cy + 0.5) / sy)) * width;
    for (let cx = left; cx < right; cx++) {
      const x = Math.min(width - 1, Math.floor((cx + 0.5) / sx));
      if (bits[row + x]) pixels[(cy - top) * image.width + (cx - left)] = colour;
    }
  }
  canvas.getContext("2d").putImageData(image, left, top);
}
