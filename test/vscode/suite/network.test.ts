// No network unless the user starts a download or sets up a model server, in the real extension host: every outgoing
// connection this process starts from the moment the test bundle loads is recorded (TCP and IPC through
// net.Socket#connect, which http, https, tls and fetch all go through; UDP through dgram), and after every other suite
// ran (the downloads and the model servers included, both on 127.0.0.1) none may have gone anywhere but loopback or a
// local pipe. The same check also looks for internet sockets still held, which a native module could open without
// Node's net. The engine worker is a thread with its own modules: test/unit/no-network.test.ts traces every socket
// call of the engine with strace.

import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';

/** Inodes of the internet sockets this process holds (Linux: /proc/self/fd joined with /proc/net/tcp*, udp*). */
export function internetSockets(): Set<string> {
  const held = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const match = fs.readlinkSync(`/proc/self/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (match) held.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const internet = new Set<string>();
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const lines = fs.existsSync(`/proc/net/${table}`) ? fs.readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1) : [];
    for (const line of lines) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && held.has(inode)) internet.add(`${table}:${inode}`);
    }
  }
  return internet;
}

interface Connection {
  /** "tcp 127.0.0.1:8080", "ipc /tmp/x.sock", "udp 8.8.8.8:53" */
  to: string;
  local: boolean;
  /** Where it was started from (for a connection beyond this machine: the failure names the code). */
  stack?: string;
}

const LOOPBACK_HOSTS = new Set(['localhost', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']);
const isLoopbackHost = (host: string) => LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Where net.Socket#connect's arguments point: (options[, cb]), (port[, host][, cb]), (path[, cb]), or net.connect's normalized [options, cb]. */
function tcpTarget(args: unknown[]): Connection {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === 'string') return { to: `ipc ${first}`, local: true };
  const options = (typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined }) as { port?: unknown; host?: unknown; path?: unknown };
  if (typeof options.path === 'string') return { to: `ipc ${options.path}`, local: true };
  const host = typeof options.host === 'string' ? options.host : 'localhost';
  return { to: `tcp ${host}:${String(options.port)}`, local: isLoopbackHost(host) };
}

/** Every connection this process started since the test bundle loaded. */
export const connections: Connection[] = [];

function recordConnections(): void {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const target = tcpTarget(args);
    connections.push(target.local ? target : { ...target, stack: new Error().stack });
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    // send(msg[, offset, length], port[, address][, cb]): the port is the first number after the message's own.
    const rest = args.slice(1);
    const portAt = typeof rest[0] === 'number' && typeof rest[1] === 'number' && typeof rest[2] === 'number' ? 2 : 0;
    const host = typeof rest[portAt + 1] === 'string' ? (rest[portAt + 1] as string) : 'localhost';
    connections.push({ to: `udp ${host}:${String(rest[portAt])}`, local: isLoopbackHost(host), ...(isLoopbackHost(host) ? {} : { stack: new Error().stack }) });
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof send;
}

recordConnections();
/** Taken when the test bundle loads, before any suite runs. */
export const socketsAtStart = internetSockets();

export function networkSuite(): void {
  describe('Attentive: no network', () => {
    it('over the whole run, every connection the extension host started went to loopback or a local pipe; no internet socket is held', async () => {
      // The recorder sees connections: one made here to a local server is among them.
      const server = net.createServer((socket) => socket.end()).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const port = (server.address() as net.AddressInfo).port;
      await new Promise<void>((resolve, reject) => net.connect(port, '127.0.0.1').once('close', () => resolve()).once('error', reject));
      server.close();
      assert.ok(connections.some((c) => c.to === `tcp 127.0.0.1:${port}`), `not recorded: ${JSON.stringify(connections.slice(-3))}`);

      const outside = connections.filter((c) => !c.local);
      assert.deepEqual(
        outside.map((c) => c.to),
        [],
        `connections beyond this machine:\n${outside.map((c) => `${c.to} from\n${c.stack}`).join('\n')}`,
      );
      console.log(`      ${connections.length} connections recorded, all local (${[...new Set(connections.map((c) => c.to.replace(/:\d+$/, '')))].join(', ')})`);
      const opened = [...internetSockets()].filter((socket) => !socketsAtStart.has(socket));
      assert.deepEqual(opened, [], `internet sockets opened during the tests: ${opened.join(', ')}`);
    });
  });
}
