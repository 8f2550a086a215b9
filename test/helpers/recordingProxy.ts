// A proxy on 127.0.0.1 in front of a model server that records each request and the answer's body as it passed, so a
// test can check what Attentive sent and what came back (the real server still answers).

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  path: string;
  request: Record<string, unknown> | undefined;
  authorization: string | undefined;
  status: number;
  /** The response body as received (server-sent events included). */
  response: string;
  /** The client closed its connection before the server's answer ended (Stop). */
  clientClosedEarly: boolean;
}

export interface RecordingProxy {
  /** The proxy's API base, ending in /v1. */
  baseUrl: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const exchange: Exchange = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        request: body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : undefined,
        authorization: incoming.headers.authorization,
        status: 0,
        response: '',
        clientClosedEarly: false,
      };
      let answered = false;
      exchanges.push(exchange);
      const forwarded = http.request(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host } },
        (answer) => {
          exchange.status = answer.statusCode ?? 0;
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.on('data', (chunk: Buffer) => {
            exchange.response += chunk.toString('utf8');
            outgoing.write(chunk);
          });
          answer.on('end', () => {
            answered = true;
            outgoing.end();
          });
        },
      );
      // The client went away (Stop): the upstream request goes too.
      outgoing.on('close', () => {
        if (!answered) exchange.clientClosedEarly = true;
        forwarded.destroy();
      });
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${upstream.pathname.replace(/\/+$/, '')}`,
    exchanges,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
