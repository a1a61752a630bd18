/**
 * A minimal PNG writer (W3C PNG spec, 3rd ed.): 8-bit greyscale, RGB or RGBA, one IDAT chunk
 * compressed with node:zlib's deflate, filter type 0 (None) on every scanline, no interlace. For the
 * small image patches of feature cards (inspect/cards.ts), inlined into HTML as data URIs; written by
 * hand because it is ~60 lines and a library would bring a decoder and a native build we do not need.
 */
import zlib from 'node:zlib';
import { ShapeError } from '../core/errors.js';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** PNG colour type per channel count: 1 greyscale, 3 RGB, 4 RGBA. */
const COLOUR_TYPE: Record<number, number> = { 1: 0, 3: 2, 4: 6 };

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320) of `bytes`, as PNG chunks use it. */
export function crc32(bytes: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes `pixels` [height, width, channels] (C order, uint8) as PNG bytes. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ShapeError(`encodePng: size ${width}×${height}: expected positive integers`);
  if (COLOUR_TYPE[channels] === undefined)
    throw new ShapeError(`encodePng: ${channels} channels: expected 1 (grey), 3 (RGB) or 4 (RGBA)`);
  const stride = width * channels;
  if (pixels.length !== stride * height)
    throw new ShapeError(
      `encodePng: ${pixels.length} bytes for ${height}×${width}×${channels}: expected ${stride * height}`,
    );
  const raw = new Uint8Array((stride + 1) * height); // each scanline: filter byte 0, then its pixels
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOUR_TYPE[channels];
  // compression 0, filter method 0, interlace 0
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** `data:image/png;base64,…` of {@link encodePng}. */
export function pngDataUri(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): string {
  return `data:image/png;base64,${Buffer.from(encodePng(pixels, width, height, channels)).toString('base64')}`;
}
