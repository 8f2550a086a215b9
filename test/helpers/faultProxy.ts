// A proxy on 127.0.0.1 in front of a real model server that breaks its answers on purpose, the ways networks and
// servers do: a status of its own (429 with Retry-After, 500), a stream dropped or stalled after some events, a
// malformed event slipped in, an answer padded past any sane size. Streamed answers are forwarded event by event, so
// a fault lands between two of the server's own server-sent events.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer with this status, body and headers, without asking the server. */
  | { kind: 'status'; status: number; body: string; headers?: Record<string, string> }
  /** Forward this many events, then close the connection (before the answer's end). */
  | { kind: 'cut'; afterEvents: number }
  /** Forward this many events, then send nothing more (the connection stays open). */
  | { kind: 'stall'; afterEvents: number }
  /** Forward this many events, then a malformed one, then the rest. */
  | { kind: 'garbage'; afterEvents: number }
  /** Send a server-sent comment of this many bytes before the server's answer. */
  | { kind: 'pad'; bytes: number };

export interface FaultProxy {
  baseUrl: string;
  /** Applied to every POST while set. */
  fault: Fault | undefined;
  close(): Promise<void>;
}

const GARBAGE = 'data: {"choices": [ {broken\n\n';

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const proxy: FaultProxy = { baseUrl: '', fault: undefined, close: () => Promise.resolve() };
  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const fault = incoming.method === 'POST' ? proxy.fault : undefined;
      if (fault?.kind === 'status') {
        outgoing.writeHead(fault.status, { 'Content-Type': 'application/json', ...(fault.headers ?? {}) }).end(fault.body);
        return;
      }
      const forwarded = http.request(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host } },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          if (fault?.kind === 'pad') outgoing.write(`: ${'x'.repeat(fault.bytes)}\n\n`);
          let buffer = '';
          let events = 0;
          let stopped = false;
          answer.setEncoding('utf8');
          answer.on('data', (text: string) => {
            buffer += text;
            for (let end = buffer.indexOf('\n\n'); end >= 0 && !stopped; end = buffer.indexOf('\n\n')) {
              const event = buffer.slice(0, end + 2);
              buffer = buffer.slice(end + 2);
              if (fault && 'afterEvents' in fault && events === fault.afterEvents) {
                if (fault.kind === 'cut') {
                  stopped = true;
                  // A FIN after what was written (a reset could overtake the events still in the socket's buffers).
                  outgoing.socket?.end();
                  forwarded.destroy();
                  return;
                }
                if (fault.kind === 'stall') {
                  stopped = true;
                  return;
                }
                outgoing.write(GARBAGE);
              }
              outgoing.write(event);
              events++;
            }
          });
          answer.on('end', () => {
            if (stopped) return;
            outgoing.end(buffer);
          });
        },
      );
      outgoing.on('close', () => forwarded.destroy());
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  proxy.baseUrl = `http://127.0.0.1:${port}${upstream.pathname.replace(/\/+$/, '')}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
