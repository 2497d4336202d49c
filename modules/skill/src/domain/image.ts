/**
 * What an uploaded spot-the-ball image is, from its bytes alone: PNG or JPEG (by signature, never
 * the client's word) and its pixel dimensions from the header. Pure.
 */
export interface ImageInfo {
  contentType: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
}

export const IMAGE_DIMENSION_MAX = 10_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function png(b: Buffer): ImageInfo | undefined {
  // Signature, then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4).
  if (b.length < 24 || !b.subarray(0, 8).equals(PNG_SIGNATURE) || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { contentType: 'image/png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Start-of-frame markers carry the dimensions (C4 DHT, C8 JPG and CC DAC are not frames). */
const isStartOfFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function jpeg(b: Buffer): ImageInfo | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    // Fill bytes and markers without a length.
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image or scan before any frame header
    const length = b.readUInt16BE(i + 2);
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      if (i + 9 > b.length) return undefined;
      return { contentType: 'image/jpeg', height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  return undefined;
}

/** The image's type and size, or undefined when it is neither a PNG nor a JPEG with a readable header. */
export function readImageInfo(bytes: Buffer): ImageInfo | undefined {
  return png(bytes) ?? jpeg(bytes);
}

export const dimensionsAcceptable = (i: ImageInfo) => i.width >= 1 && i.height >= 1 && i.width <= IMAGE_DIMENSION_MAX && i.height <= IMAGE_DIMENSION_MAX;
