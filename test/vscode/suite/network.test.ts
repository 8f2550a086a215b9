// No network unless the user starts a download, in the real extension host: after the engine, chat, completion and
// attention suites ran, the extension host holds no internet socket (AF_INET/AF_INET6) that it did not hold when the
// tests began. (A socket opened and closed in between is not seen here; test/unit/no-network.test.ts traces every
// socket call of the engine with strace.) Runs before the model-download suite, which uses HTTP on purpose.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';

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

/** Taken when the test bundle loads, before any suite runs. */
export const socketsAtStart = internetSockets();

export function networkSuite(): void {
  describe('Attentive: no network', () => {
    it('the extension host holds no new internet socket after chat, completion and attention ran', () => {
      const now = internetSockets();
      const opened = [...now].filter((socket) => !socketsAtStart.has(socket));
      assert.deepEqual(opened, [], `internet sockets opened during the tests: ${opened.join(', ')}`);
    });
  });
}
