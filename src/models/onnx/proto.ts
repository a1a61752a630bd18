/**
 * ONNX models as plain objects: decode a `.onnx` file's bytes into a ModelProto and encode one back,
 * through protobufjs and the schema in schema.ts. The interfaces below type the fields husai reads
 * or writes (snake_case, as in onnx.proto); everything else a model carries rides along untyped.
 * int64 fields come back as JS numbers (exact below 2^53: dims, opset versions, attribute ints);
 * `bytes` fields (raw_data) are views into the input buffer, not copies, so decoding a 500 MB model
 * costs its node list, not its weights.
 *
 * Used to read graphs (graph.ts, hooks.ts) and to write the test fixture; graph surgery on a user's
 * model does not re-encode it (surgery.ts edits the wire bytes, so no unknown field is dropped).
 */
import { DataError } from '../../core/errors.js';
import { onnxType } from './schema.js';

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

interface TensorShapeDim {
  dim_value?: number;
  dim_param?: string;
}

export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: TensorShapeDim[] } };
  [other: string]: unknown;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
}

export interface TensorProto {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  external_data?: StringStringEntryProto[];
  /** 1 = EXTERNAL: the bytes live in another file named by external_data `location`. */
  data_location?: number;
  [other: string]: unknown;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  graphs?: GraphProto[];
  [other: string]: unknown;
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
  [other: string]: unknown;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  [other: string]: unknown;
}

export interface ModelProto {
  ir_version?: number;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProto;
  [other: string]: unknown;
}

const TO_OBJECT = { longs: Number, enums: Number, defaults: false, arrays: false, oneofs: false } as const;

/**
 * Decodes one ONNX message (default ModelProto) from its protobuf bytes. `file` names the source in
 * errors: bytes that are not a valid protobuf of that type give a DataError.
 */
export function decodeMessage<T>(bytes: Uint8Array, typeName: string, file: string): T {
  const type = onnxType(typeName);
  try {
    return type.toObject(type.decode(bytes), TO_OBJECT) as T;
  } catch (err) {
    throw new DataError(
      file,
      typeName,
      `bytes protobufjs cannot decode (${(err as Error).message})`,
      `a valid ONNX ${typeName} protobuf`,
    );
  }
}

/** Decodes a whole `.onnx` model. */
export function decodeModel(bytes: Uint8Array, file = 'model.onnx'): ModelProto {
  const model = decodeMessage<ModelProto>(bytes, 'ModelProto', file);
  if (model.graph === undefined) {
    throw new DataError(
      file,
      'ModelProto.graph',
      'no graph',
      'an ONNX model with a graph (field 7)',
      'Is this an ONNX model file? A .onnx_data or .ort file is not.',
    );
  }
  return model;
}

/** Encodes one ONNX message (default ModelProto) to protobuf bytes. */
export function encodeMessage(message: object, typeName = 'ModelProto'): Uint8Array {
  const type = onnxType(typeName);
  return type.encode(type.fromObject(message)).finish();
}

/** Encodes a model to the bytes of a `.onnx` file. */
export function encodeModel(model: ModelProto): Uint8Array {
  return encodeMessage(model, 'ModelProto');
}

/** The static dims of a value's tensor type: numbers where fixed, the symbol (or null) where not. */
export function valueDims(v: ValueInfoProto | undefined): Array<number | string | null> | null {
  const dims = v?.type?.tensor_type?.shape?.dim;
  if (dims === undefined) return null;
  return dims.map((d) => (d.dim_value !== undefined ? d.dim_value : (d.dim_param ?? null)));
}

/** The element type (TensorProto.DataType) of a value, or 0 when not declared. */
export function valueElemType(v: ValueInfoProto | undefined): number {
  return v?.type?.tensor_type?.elem_type ?? 0;
}
