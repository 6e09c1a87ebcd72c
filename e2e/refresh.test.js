// Token refresh without reconnecting: the browser client, under Node, against the demo
// server issuing 3-second tokens. Node 20 has no global WebSocket: `ws`'s is injected.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer } from 'ws';

import { SocketClient } from '../framework/static/switchboard.js';
import { DemoServer, next, sleep } from './support/server.js';

describe('token refresh', () => {
  /** @type {DemoServer} */
  let server;
  before(async () => {
    server = await new DemoServer({
      // No leeway: a token is refused, and the connection closed, the second it expires.
      env: { SWITCHBOARD_DEMO__TOKEN_TTL_SECS: '3', SWITCHBOARD__JWT__LEEWAY_SECS: '0' },
    }).start();
  });
  after(() => server.stop());

  it('a client on 3-second tokens runs 15 s with no close and no missed message', { timeout: 40_000 }, async () => {
    const reasons = [];
    const client = new SocketClient(server.ws, {
      WebSocket,
      token: async ({ reason }) => {
        reasons.push(reason);
        return (await server.token('Rita')).token;
      },
    });
    const closes = [];
    const refreshed = [];
    client.on('close', (close) => closes.push(close));
    client.on('refreshed', (info) => refreshed.push(info));
    const ready = await client.connect();
    assert.ok(ready.expiresAt > Date.now() / 1000, `ready.expiresAt ${ready.expiresAt}`);

    const room = await client.subscribe('room.refresh');
    const heard = [];
    room.listen('message', ({ seq }) => heard.push(seq));
    let sent = 0;
    const started = Date.now();
    while (Date.now() - started < 15_000) {
      const { status } = await server.post('/rooms/refresh/messages', { message: `m${sent}` }, { as: 'Poster' });
      assert.equal(status, 201);
      sent += 1;
      await sleep(250);
    }
    await sleep(500);
    assert.deepEqual(closes, [], 'never closed');
    assert.deepEqual(reasons.filter((r) => r !== 'refresh'), ['connect'], 'one connection');
    assert.ok(refreshed.length >= 4, `refreshed ${refreshed.length} times in 15 s`);
    assert.equal(heard.length, sent, 'every message heard');
    assert.deepEqual(heard, [...heard].sort((a, b) => a - b));
    client.disconnect();
  });

  it('a fixed token is not refreshed: the server closes with 4001 at its expiry', { timeout: 20_000 }, async () => {
    const { token } = await server.token('Sam');
    const client = new SocketClient(server.ws, { WebSocket, token, reconnect: false });
    const closed = next((cb) => client.on('close', cb), 10_000, 'close');
    await client.connect();
    assert.equal((await closed).code, 4001);
    client.disconnect();
  });

  it('an unsubscribed packet leaves the channel and tells its listeners', { timeout: 20_000 }, async () => {
    // A stand-in server: it accepts the join, then takes the connection out of it.
    const fake = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => fake.once('listening', resolve));
    fake.on('connection', (ws) => {
      ws.send(JSON.stringify({ event: 'ready', data: { connection_id: 'f-1', user_id: 'vic' } }));
      ws.on('message', (raw) => {
        const packet = JSON.parse(String(raw));
        if (packet.event !== 'subscribe-channel-request') return;
        const channel = packet.data.channel;
        ws.send(JSON.stringify({ event: 'subscribe-channel-response', data: { channel, successful: true } }));
        const evict = { event: 'unsubscribed', channel, data: { reason: 'unauthorised', message: 'removed from the project' } };
        setTimeout(() => ws.send(JSON.stringify(evict)), 200); // later, as after a refresh
      });
    });
    try {
      const { port } = /** @type {import('node:net').AddressInfo} */ (fake.address());
      const client = new SocketClient(`ws://127.0.0.1:${port}/ws`, { WebSocket, reconnect: false });
      const onClient = next((cb) => client.on('unsubscribed', (channel, data) => cb([channel.name, data.reason])), 5_000, 'client event');
      await client.connect();
      const project = client.subscribe('project.7');
      const channel = await project;
      const onChannel = next((cb) => channel.listen('unsubscribed', cb), 5_000, 'channel event');
      assert.deepEqual(await onClient, ['project.7', 'unauthorised']);
      assert.equal((await onChannel).message, 'removed from the project');
      assert.equal(channel.state, 'unsubscribed');
      assert.equal(client.channel('project.7'), undefined, 'not re-joined after a reconnect');
      client.disconnect();
    } finally {
      fake.close();
    }
  });
});
