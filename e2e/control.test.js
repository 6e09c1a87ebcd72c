// Server-side control seen by the browser client (under Node): a subscription the server
// made creates the channel object and delivers its events; a disconnect that asks the
// client not to come back closes it for good.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { SocketClient } from '../framework/static/switchboard.js';
import { DemoServer, next } from './support/server.js';

const KEY = 'an-api-key-for-the-control-e2e-test';

describe('server-side control', () => {
  /** @type {DemoServer} */
  let server;
  before(async () => {
    server = await new DemoServer({
      env: { SWITCHBOARD__HTTP_API__ENABLED: 'true', SWITCHBOARD__HTTP_API__KEY: KEY },
    }).start();
  });
  after(() => server.stop());

  it('a subscription made by the server creates the channel and a disconnect ends the client', { timeout: 20_000 }, async () => {
    const client = new SocketClient(server.ws, {
      WebSocket,
      token: async () => (await server.token('Sam')).token,
    });
    const ready = await client.connect();
    const user = ready.userId;
    assert.ok(user, 'a signed-in user');

    const subscribed = next((cb) => client.on('subscribed', cb), 5_000, 'subscribed');
    const made = await server.post(`/switchboard/api/users/${user}/subscribe`, { channel: 'room.by-server' }, { bearer: KEY });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    const channel = await subscribed;
    assert.equal(channel.name, 'room.by-server');
    assert.equal(channel.state, 'subscribed');
    assert.equal(await client.subscribe('room.by-server'), channel, 'the same object, already joined');

    const heard = next((cb) => channel.listen('message', cb), 5_000, 'a message on it');
    const other = new SocketClient(server.ws, { WebSocket, token: async () => (await server.token('Ola')).token });
    await other.connect();
    const room = await other.subscribe('room.by-server');
    await room.emit('message', { message: 'hello' }, { ack: true });
    assert.equal((await heard).message, 'hello');
    other.disconnect();

    const closed = next((cb) => client.on('close', cb), 5_000, 'close');
    const failed = next((cb) => client.on('error', cb), 5_000, 'the final error');
    const cut = await server.post(`/switchboard/api/users/${user}/disconnect`, { code: 4403, reason: 'banned' }, { bearer: KEY });
    assert.equal(cut.status, 202, JSON.stringify(cut.body));
    assert.equal((await closed).code, 4403);
    const error = await failed;
    assert.equal(error.code, 'disconnected');
    assert.equal(error.message, 'banned');
    assert.equal(client.state, 'closed', 'no reconnect after a ban');
  });
});
