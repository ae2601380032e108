// Grayscale image batches from the engine (base64 of count × width × height bytes) drawn on canvases.

export function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Draws image `index` of a batch onto a canvas at its natural size (CSS scales it, pixelated). */
export function drawGray(canvas: HTMLCanvasElement, bytes: Uint8Array, index: number, width: number, height: number, invert = false): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(width, height);
  const size = width * height;
  const offset = index * size;
  for (let p = 0; p < size; p++) {
    const raw = bytes[offset + p] ?? 0;
    const v = invert ? 255 - raw : raw;
    img.data[p * 4] = v;
    img.data[p * 4 + 1] = v;
    img.data[p * 4 + 2] = v;
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
