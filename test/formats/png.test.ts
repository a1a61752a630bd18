import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/core/errors.js';
import { crc32, encodePng, pngDataUri } from '../../src/formats/png.js';

/** Splits a PNG into chunks, checking the signature and every CRC; inflates IDAT and removes filter bytes (type 0 only). */
function decode(png: Uint8Array): {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlace: number;
  types: string[];
  pixels: Uint8Array;
} {
  const buf = Buffer.from(png);
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const types: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | null = null;
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    expect(buf.readUInt32BE(at + 8 + len)).toBe(crc32(buf.subarray(at + 4, at + 8 + len)));
    types.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  if (ihdr === null) throw new Error('no IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const channels = { 0: 1, 2: 3, 6: 4 }[ihdr[9]] as number;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0);
    pixels.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  expect([ihdr[10], ihdr[11]]).toEqual([0, 0]);
  return { width, height, bitDepth: ihdr[8], colourType: ihdr[9], interlace: ihdr[12], types, pixels };
}

describe('crc32(bytes)', () => {
  it('matches the standard check value of "123456789" and the IEND chunk CRC', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });
});

describe('encodePng(pixels, width, height, channels)', () => {
  it.each([1, 3, 4] as const)('round-trips a 5×3 image with %i channel(s) through zlib inflate', (channels) => {
    const w = 5;
    const h = 3;
    const px = Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 37 + 11) % 256);
    const d = decode(encodePng(px, w, h, channels));
    expect(d.types).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect({ width: d.width, height: d.height, bitDepth: d.bitDepth, interlace: d.interlace }).toEqual({
      width: 5,
      height: 3,
      bitDepth: 8,
      interlace: 0,
    });
    expect(d.colourType).toBe({ 1: 0, 3: 2, 4: 6 }[channels]);
    expect([...d.pixels]).toEqual([...px]);
  });

  it('encodes a 1×1 image', () => {
    const d = decode(encodePng(Uint8Array.of(200), 1, 1, 1));
    expect([d.width, d.height, ...d.pixels]).toEqual([1, 1, 200]);
  });

  it('rejects a pixel buffer of the wrong length, a zero size and 2 channels', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2, 3)).toThrow(ShapeError);
    expect(() => encodePng(new Uint8Array(10), 2, 2, 3)).toThrow(/10 bytes for 2×2×3: expected 12/);
    expect(() => encodePng(new Uint8Array(0), 0, 2, 1)).toThrow(/positive integers/);
    expect(() => encodePng(new Uint8Array(8), 2, 2, 2 as 1)).toThrow(/2 channels/);
  });
});

describe('pngDataUri(pixels, width, height, channels)', () => {
  it('is the base64 of encodePng behind the image/png prefix', () => {
    const px = Uint8Array.of(0, 64, 128, 255);
    const uri = pngDataUri(px, 2, 2, 1);
    expect(uri.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64')).toEqual(
      Buffer.from(encodePng(px, 2, 2, 1)),
    );
  });
});
