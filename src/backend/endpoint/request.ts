// One HTTP request to a model server, with what a first-class client needs: connect and idle timeouts, a cap on the
// response size, cancellation, no redirects (so an API key never reaches another host), and every failure turned into
// an EngineError whose message says what went wrong in the user's terms.

import * as http from 'node:http';
import * as https from 'node:https';
import { EngineError } from '../../protocol/engine';

export interface EndpointRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  connectTimeoutMs: number;
  /** Longest silence while waiting for the answer or between streamed chunks. */
  idleTimeoutMs: number;
  /** Response bytes at most (a misbehaving server cannot fill the extension host's memory). */
  maxBytes: number;
}

export interface EndpointResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as it arrives; throws EngineError on timeouts, a cut connection or too many bytes. */
  chunks: AsyncIterable<Buffer>;
}

/**
 * Starts the request; resolves once the status line and headers are in. Error statuses resolve too (see failure()).
 * A kept-alive connection that the server closed meanwhile fails at once: that request is sent again, once, on a
 * new connection (nothing reached the server).
 */
export async function send(request: EndpointRequest): Promise<EndpointResponse> {
  try {
    return await attempt(request, false);
  } catch (error) {
    if (error instanceof StaleConnection) return attempt(request, true);
    throw error;
  }
}

/** A reused connection was already closed by the server. */
class StaleConnection extends Error {}

function attempt(request: EndpointRequest, freshConnection: boolean): Promise<EndpointResponse> {
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
  return new Promise((resolve, reject) => {
    if (request.signal?.aborted) return reject(cancelled());
    const outgoing = transport.request(url, {
      method: request.method,
      ...(freshConnection ? { agent: false } : {}),
      headers: { Accept: 'application/json, text/event-stream', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}), ...request.headers },
    });
    const connectTimer = setTimeout(() => outgoing.destroy(new EngineError(`No connection to ${url.host} within ${request.connectTimeoutMs / 1000} s`, 'timeout')), request.connectTimeoutMs);
    outgoing.on('socket', (socket) => {
      const connected = () => {
        clearTimeout(connectTimer);
        // From here on, silence longer than the idle timeout ends the request (waiting for the answer or mid-stream).
        outgoing.setTimeout(request.idleTimeoutMs, () => outgoing.destroy(new EngineError(`${url.host} sent nothing for ${request.idleTimeoutMs / 1000} s`, 'timeout')));
      };
      if ((socket as { connecting?: boolean }).connecting) socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
      else connected();
    });
    // Destroyed without an error object: an error would be emitted on the socket too, which may have no listener by
    // then (the answer complete, the socket back with the agent): an uncaught exception. The reader and the
    // handlers below see the signal and say 'cancelled'.
    const abort = () => outgoing.destroy();
    request.signal?.addEventListener('abort', abort, { once: true });
    const cleanUp = () => {
      clearTimeout(connectTimer);
      request.signal?.removeEventListener('abort', abort);
    };
    outgoing.on('error', (error) => {
      cleanUp();
      if (request.signal?.aborted) return reject(cancelled());
      const code = (error as NodeJS.ErrnoException).code;
      if (outgoing.reusedSocket && !freshConnection && (code === 'ECONNRESET' || code === 'EPIPE')) reject(new StaleConnection());
      else reject(networkError(error, url));
    });
    outgoing.on('response', (incoming) => {
      clearTimeout(connectTimer);
      // Stop can destroy the request while nothing reads the answer (before the first read, or after its last chunk,
      // once the reader's own listeners are gone): an 'error' with no listener would be an uncaught exception. The
      // reader still learns of it: a destroyed answer is not complete, and its iterator throws.
      incoming.on('error', () => undefined);
      resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, chunks: body(incoming, outgoing, request, url, cleanUp) });
    });
    outgoing.end(payload);
  });
}

async function* body(incoming: http.IncomingMessage, outgoing: http.ClientRequest, request: EndpointRequest, url: URL, cleanUp: () => void): AsyncIterable<Buffer> {
  let received = 0;
  let failed: Error | undefined;
  outgoing.on('error', (error) => (failed = error));
  try {
    for await (const chunk of incoming) {
      received += (chunk as Buffer).length;
      if (received > request.maxBytes) {
        outgoing.destroy();
        const limit = request.maxBytes >= 2 ** 20 ? `${Math.round(request.maxBytes / 2 ** 20)} MB` : `${Math.round(request.maxBytes / 2 ** 10)} KB`;
        throw new EngineError(`${url.host} sent more than ${limit}: stopped reading`, 'server-error');
      }
      yield chunk as Buffer;
    }
  } catch (error) {
    if (request.signal?.aborted) throw cancelled();
    throw error instanceof EngineError ? error : networkError(failed ?? (error as Error), url);
  } finally {
    cleanUp();
    if (!incoming.complete) outgoing.destroy();
  }
  if (request.signal?.aborted) throw cancelled();
  if (failed) throw networkError(failed, url);
  if (!incoming.complete) throw new EngineError(`The connection to ${url.host} was cut before the answer was complete`, 'interrupted');
}

/** The whole body as text (after `send`), for JSON answers and error bodies. */
export async function readText(response: EndpointResponse): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of response.chunks) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

const cancelled = () => new EngineError('Cancelled', 'cancelled');

/** A socket-level failure in the user's terms. */
function networkError(error: Error, url: URL): EngineError {
  if (error instanceof EngineError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'ECONNREFUSED') return new EngineError(`Cannot connect to ${url.host}: connection refused (is the server running?)`, 'unreachable');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new EngineError(`Cannot find the host ${url.hostname} (DNS: ${code})`, 'unreachable');
  if (code === 'ECONNRESET' || code === 'EPIPE') return new EngineError(`${url.host} closed the connection`, 'interrupted');
  if (/CERT|SSL|TLS|SELF_SIGNED/i.test(code) || /certificate|tls|ssl/i.test(error.message)) return new EngineError(`TLS error with ${url.host}: ${error.message}`, 'unreachable');
  return new EngineError(`Request to ${url.host} failed: ${error.message}`, 'unreachable');
}

/** An error status as an EngineError; `serverMessage` is the server's own error text when it sent one. */
export function failure(status: number, headers: http.IncomingHttpHeaders, serverMessage: string, url: string, location?: string): EngineError {
  const host = new URL(url).host;
  const detail = serverMessage ? `: ${serverMessage}` : '';
  if (status >= 300 && status < 400) return new EngineError(`${host} redirects to ${location ?? 'another address'} (HTTP ${status}); set the endpoint's URL to where it points`, 'server-error');
  if (status === 401 || status === 403) return new EngineError(`${host} refused the request (HTTP ${status}): the API key is missing or wrong${detail}`, 'unauthorized');
  if (status === 404) return new EngineError(`${host} has no such model or route (HTTP 404)${detail}`, 'not-found');
  if (status === 429 || status === 503) {
    const retryAfter = retryAfterSeconds(headers['retry-after']);
    return new EngineError(`${host} is busy (HTTP ${status})${retryAfter !== undefined ? `; it asks to retry after ${retryAfter} s` : ''}${detail}`, 'rate-limited', retryAfter);
  }
  if (status === 400 && /context|too long|maximum.*length|max_tokens/i.test(serverMessage)) return new EngineError(`The prompt is longer than the model's context on ${host}${detail}`, 'prompt-too-long');
  if (status >= 400 && status < 500) return new EngineError(`${host} rejected the request (HTTP ${status})${detail}`, 'bad-request');
  return new EngineError(`${host} failed (HTTP ${status})${detail}`, 'server-error');
}

function retryAfterSeconds(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - Date.now()) / 1000));
}

/** The `error.message` of an OpenAI-style error body, or the start of whatever the server sent. */
export function serverErrorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message ?? parsed.detail);
    if (typeof message === 'string') return message.slice(0, 500);
  } catch {
    // Not JSON: plain text or HTML.
  }
  return text.trim().slice(0, 200);
}
