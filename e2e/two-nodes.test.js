// The demo started twice with the Redis backplane: people on different nodes chat.
// The browser client (framework/static/switchboard.js) runs here under Node; the
// browser tests drive the same module in Chromium.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import WebSocket from 'ws';

import { SocketClient } from '../framework/static/switchboard.js';
import { DemoServer, freePort, next } from './support/server.js';

const T = { timeout: 30_000 };

/** A private redis-server on a free port (scripts/test.sh installs it). */
async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return { child, url: `redis://127.0.0.1:${port}` };
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('two demo nodes sharing Redis', () => {
  let redis;
  let nodeA;
  let nodeB;
  const clients = [];

  before(async () => {
    redis = await startRedis();
    const env = { SWITCHBOARD__BACKPLANE__KIND: 'redis', SWITCHBOARD__BACKPLANE__URL: redis.url };
    nodeA = await new DemoServer({ env }).start();
    nodeB = await new DemoServer({ env }).start();
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    redis?.child.kill('SIGKILL');
  });

  /** Signs in on `node` (each node issues tokens; they share the secret) and connects. */
  async function on(node, name) {
    const { token } = await node.token(name);
    const client = new SocketClient(node.ws, { WebSocket, token });
    clients.push(client);
    await client.connect();
    return client;
  }

  it('the global chat and private messages cross nodes', T, async () => {
    const alice = await on(nodeA, 'Alice');
    const bob = await on(nodeB, 'Bob');
    const [aliceChat, bobChat] = await Promise.all([alice.subscribe('global-chat'), bob.subscribe('global-chat')]);

    // The global chat echoes to the sender too: wait for the other person's message.
    const from = (name, cb) => (message) => {
      if (message.from === name) cb(message);
    };
    const atBob = next((cb) => bobChat.listen('message', from('Alice', cb)), 5_000, 'global message on node B');
    await aliceChat.emit('message', { message: 'hello from A' });
    assert.deepEqual(await atBob, { message: 'hello from A', from: 'Alice' });

    const atAlice = next((cb) => aliceChat.listen('message', from('Bob', cb)), 5_000, 'global message on node A');
    await bobChat.emit('message', { message: 'hello from B' });
    assert.deepEqual(await atAlice, { message: 'hello from B', from: 'Bob' });

    const bobInbox = await bob.subscribe('user:chat.bob');
    const privately = next((cb) => bobInbox.listen('message', cb), 5_000, 'private message on node B');
    await alice.emit('private-message', { to: 'bob', message: 'psst' }, { ack: true });
    assert.equal((await privately).message, 'psst');
  });
});
