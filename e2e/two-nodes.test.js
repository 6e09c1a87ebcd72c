// The demo started twice with the Redis backplane: people on different nodes chat.
// The browser client (framework/static/switchboard.js) runs here under Node; the
// browser tests drive the same module in Chromium.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { SocketClient } from '../framework/static/switchboard.js';
import { startRedis } from './support/redis.js';
import { DemoServer, next } from './support/server.js';
import { recording, seenRaw } from './support/raw.js';

const T = { timeout: 30_000 };

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

  /** Signs in on `node` (each node issues tokens; they share the secret) and connects,
   * recording every packet the server sends (`client.raw`). */
  async function on(node, name) {
    const { token } = await node.token(name);
    const raw = recording();
    const client = new SocketClient(node.ws, { WebSocket: raw.WebSocket, token });
    client.raw = raw.record;
    clients.push(client);
    await client.connect();
    return client;
  }

  /**
   * Every packet `client` received, up to a notification `marker` sent from `node`
   * after everything else. The marker crosses Redis from the other node, the path a
   * duplicate would take, so a duplicate cannot arrive after it.
   */
  async function upToMarker(client, node) {
    const marker = `marker-${Math.random()}`;
    const { status } = await node.post(`/api/notify/${client.userId}`, { message: marker }, { as: client.userId });
    assert.equal(status, 200);
    const at = await seenRaw(client.raw, (p) => p.event === 'notification' && p.data?.message === marker);
    return client.raw.packets.slice(0, at);
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

    // Each message arrived exactly once at each of them: no duplicates.
    const messages = (packets) => packets.filter((p) => p.event === 'message').map((p) => `${p.channel} ${p.data.message}`);
    assert.deepEqual(messages(await upToMarker(alice, nodeB)), ['global-chat hello from A', 'global-chat hello from B']);
    assert.deepEqual(messages(await upToMarker(bob, nodeA)), [
      'global-chat hello from A',
      'global-chat hello from B',
      'user:chat.bob psst',
    ]);
  });
});
