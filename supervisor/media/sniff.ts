/**
 * What an uploaded file is, from its first bytes (magic numbers), never from what the client declared:
 * a browser's type comes from the file name, and a lie about it must not make us store or serve HTML.
 * Only the formats X accepts in posts: JPEG, PNG, WebP, GIF and MP4 (ISO base media with an MP4 brand;
 * QuickTime's `qt  ` is not MP4). Width and height are read when the header holds them (PNG, GIF, WebP,
 * and JPEG when its frame header is within the sniffed bytes); a video's would need parsing its boxes.
 */

export type MediaKind = 'image' | 'gif' | 'video';

export interface SniffedType {
  kind: MediaKind;
  mime: 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'video/mp4';
  ext: 'jpg' | 'png' | 'webp' | 'gif' | 'mp4';
}

/** Bytes that decide the type (the longest signature is 16). */
export const SNIFF_BYTES = 16;
/** Bytes looked through for dimensions (a JPEG's frame header follows its EXIF, usually well within this). */
export const DIMENSION_BYTES = 64 * 1024;

const MP4_BRANDS = new Set(['isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'avc1', 'M4V ', 'MSNV', 'dash', 'mmp4']);

/** The type of a file starting with `head`, or null when it is none we accept. */
export function sniffType(head: Uint8Array): SniffedType | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'image', mime: 'image/jpeg', ext: 'jpg' };
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return { kind: 'image', mime: 'image/png', ext: 'png' };
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return { kind: 'image', mime: 'image/webp', ext: 'webp' };
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return { kind: 'gif', mime: 'image/gif', ext: 'gif' };
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp' && MP4_BRANDS.has(b.toString('latin1', 8, 12))) return { kind: 'video', mime: 'video/mp4', ext: 'mp4' };
  return null;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height in pixels when the header holds them, else null. */
export function dimensions(type: SniffedType, head: Uint8Array): { width: number; height: number } | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const size = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : null);
  try {
    switch (type.ext) {
      case 'png':
        // The first chunk is IHDR: width and height as big-endian 32-bit integers.
        return b.toString('latin1', 12, 16) === 'IHDR' ? size(b.readUInt32BE(16), b.readUInt32BE(20)) : null;
      case 'gif':
        return size(b.readUInt16LE(6), b.readUInt16LE(8));
      case 'webp':
        return webpSize(b);
      case 'jpg':
        return jpegSize(b);
      default:
        return null;
    }
  } catch {
    // A header cut short by the sniff window: the size is simply not known.
    return null;
  }
}

function webpSize(b: Buffer): { width: number; height: number } | null {
  const chunk = b.toString('latin1', 12, 16);
  if (chunk === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
  if (chunk === 'VP8L' && b[20] === 0x2f) {
    const bits = b.readUInt32LE(21);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  if (chunk === 'VP8 ' && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  return null;
}

/** Walks the JPEG segments to the first start-of-frame marker (SOF0–SOF15 but DHT, JPG and DAC). */
function jpegSize(b: Buffer): { width: number; height: number } | null {
  let offset = 2;
  while (offset + 9 < b.length) {
    if (b[offset] !== 0xff) return null;
    const marker = b[offset + 1]!;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: b.readUInt16BE(offset + 5), width: b.readUInt16BE(offset + 7) };
    }
    if (marker === 0xd9 || marker === 0xda) return null;
    offset += 2 + b.readUInt16BE(offset + 2);
  }
  return null;
}
