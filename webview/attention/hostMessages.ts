// What arrives from the host through window.postMessage: the guard for AttentionHostMessages and the typed arrays
// they carry, which may come as typed arrays, bare buffers or JSON-ified arrays/objects depending on the transport.

import type { AttentionHostMessage } from '../../src/protocol/attention';

// A record, so that a new message type cannot be left out.
const HOST_MESSAGE_TYPES: Record<AttentionHostMessage['type'], true> = { loading: true, error: true, data: true, details: true, matrix: true, rows: true, selectToken: true, stale: true };

/** The host is trusted, but a stray window message must not break the view. */
export function isHostMessage(value: unknown): value is AttentionHostMessage {
  return typeof value === 'object' && value !== null && Object.hasOwn(HOST_MESSAGE_TYPES, String((value as { type?: unknown }).type));
}

/** A Float32Array from what postMessage delivered (a typed array, its buffer, or a JSON-ified array/object). */
export function toFloat32(value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value instanceof ArrayBuffer) return new Float32Array(value);
  if (ArrayBuffer.isView(value)) return new Float32Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (Array.isArray(value)) return Float32Array.from(value as number[]);
  if (typeof value === 'object' && value !== null) return Float32Array.from(Object.values(value as Record<string, number>));
  return new Float32Array(0);
}

/** A Uint16Array from what postMessage delivered (see toFloat32). */
export function toUint16(value: unknown): Uint16Array {
  if (value instanceof Uint16Array) return value;
  if (value instanceof ArrayBuffer) return new Uint16Array(value);
  if (ArrayBuffer.isView(value)) return new Uint16Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (Array.isArray(value)) return Uint16Array.from(value as number[]);
  if (typeof value === 'object' && value !== null) return Uint16Array.from(Object.values(value as Record<string, number>));
  return new Uint16Array(0);
}
