/**
 * The protobuf wire format, at the level of whole fields: split a message's bytes into its fields
 * (number, wire type, byte range) and write length-delimited fields back. This is what lets graph
 * surgery (surgery.ts) drop or add a graph's outputs, nodes and initializers by copying the other
 * fields' bytes verbatim — no decode/encode of a 500 MB model, and no field lost because our schema
 * does not know it. Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 (groups, 3/4,
 * are not used by ONNX and are rejected). See https://protobuf.dev/programming-guides/encoding/.
 */
import { DataError } from '../../core/errors.js';

export const WIRE_LEN = 2;

/** One field of a message: bytes [start, end) hold tag and value; the value starts at valueStart. */
export interface WireField {
  no: number;
  wire: number;
  start: number;
  valueStart: number;
  end: number;
}

/** Reads a varint at `pos`; returns [value, next position]. Exact up to 2^53. */
function readVarint(buf: Uint8Array, pos: number, file: string): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw wireError(file, pos, 'a varint running past the end of the message');
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  throw wireError(file, pos, 'a varint longer than 10 bytes');
}

/** The fields of the message held in buf[start, end), in order. */
export function wireFields(buf: Uint8Array, file: string, start = 0, end = buf.length): WireField[] {
  const out: WireField[] = [];
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [tag, afterTag] = readVarint(buf, pos, file);
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if (no === 0) throw wireError(file, fieldStart, 'field number 0');
    let valueStart = afterTag;
    let fieldEnd: number;
    switch (wire) {
      case 0:
        fieldEnd = readVarint(buf, afterTag, file)[1];
        break;
      case 1:
        fieldEnd = afterTag + 8;
        break;
      case 2: {
        const [len, afterLen] = readVarint(buf, afterTag, file);
        valueStart = afterLen;
        fieldEnd = afterLen + len;
        break;
      }
      case 5:
        fieldEnd = afterTag + 4;
        break;
      default:
        throw wireError(file, fieldStart, `wire type ${wire} (field ${no})`);
    }
    if (fieldEnd > end)
      throw wireError(file, fieldStart, `field ${no} running ${fieldEnd - end} bytes past the end of its message`);
    out.push({ no, wire, start: fieldStart, valueStart, end: fieldEnd });
    pos = fieldEnd;
  }
  return out;
}

/** The first length-delimited field `no` of a message, decoded as UTF-8 (e.g. a tensor's name), or null. */
export function wireString(buf: Uint8Array, field: WireField, no: number, file: string): string | null {
  for (const f of wireFields(buf, file, field.valueStart, field.end)) {
    if (f.no === no && f.wire === WIRE_LEN)
      return Buffer.from(buf.buffer, buf.byteOffset + f.valueStart, f.end - f.valueStart).toString('utf8');
  }
  return null;
}

/** The bytes of a varint. */
function varintBytes(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`varintBytes: ${value} is not a non-negative safe integer`);
  const bytes: number[] = [];
  let v = value;
  while (v >= 128) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

/** Tag and length prefix of a length-delimited field `no` whose value is `length` bytes long. */
export function lenPrefix(no: number, length: number): Uint8Array {
  const tag = varintBytes(no * 8 + WIRE_LEN);
  const len = varintBytes(length);
  const out = new Uint8Array(tag.length + len.length);
  out.set(tag);
  out.set(len, tag.length);
  return out;
}

/** Concatenates byte chunks. */
export function concatBytes(parts: ReadonlyArray<Uint8Array>): Uint8Array {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function wireError(file: string, pos: number, found: string): DataError {
  return new DataError(
    file,
    `protobuf at byte ${pos}`,
    found,
    'a valid ONNX protobuf',
    'The file may be truncated or not an ONNX model.',
  );
}
