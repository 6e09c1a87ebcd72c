// Streams in the browser client, under Node, against the demo server (whose rooms keep
// their last 100 messages): a lost connection is recovered with `since`, a restart
// (a new epoch on the memory backplane) is told as a resync; the same for a user's
// notifications (the demo keeps them: a user stream).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { SocketClient } from '../framework/static/switchboard.js';
import { DemoServer, next, until } from './support/server.js';

const T = { timeout: 30_000 };

describe('streams', () => {
  /** @type {DemoServer} */
  let server;
  const clients = [];
  before(async () => {
    server = await new DemoServer().start();
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server.stop();
  });

  /** A connected client that waits `delay` ms before reconnecting. */
  async function connected(name, delay) {
    const { token } = await server.token(name);
    const client = new SocketClient(server.ws, {
      WebSocket,
      token: async () => (await server.token(name)).token,
      minReconnectDelay: delay,
      maxReconnectDelay: delay,
    });
    clients.push(client);
    assert.ok(token);
    await client.connect();
    return client;
  }

  const post = (room, message) => server.post(`/rooms/${room}/messages`, { message }, { as: 'Alice' });

  it('a lost connection is recovered: the listeners get exactly what was missed, in order', T, async () => {
    const bob = await connected('Bob', 600);
    const room = await bob.subscribe('room.recover');
    assert.deepEqual(room.position?.offset, 0, 'a stream answers with its position');
    const heard = [];
    room.listen('message', ({ seq }) => heard.push(seq));
    const resyncs = [];
    bob.on('resync', (channel, why) => resyncs.push(why));
    await post('recover', 'one');
    await until(() => heard.length === 1, 5_000, 'the first message');
    assert.equal(room.position.offset, 1);

    const recovered = next((cb) => bob.on('recovered', (channel, missed) => cb({ name: channel.name, missed })), 10_000, 'recovered');
    bob._ws.terminate(); // the network drops; the client reconnects 600 ms later
    for (const text of ['two', 'three', 'four']) assert.equal((await post('recover', text)).status, 201);
    assert.deepEqual(await recovered, { name: 'room.recover', missed: 3 });
    await until(() => heard.length === 4, 5_000, 'the missed messages');
    assert.deepEqual(heard, [1, 2, 3, 4]);
    assert.equal(room.recovered, true);
    assert.equal(room.position.offset, 4);
    await post('recover', 'five');
    await until(() => heard.length === 5, 5_000, 'a live one');
    assert.deepEqual(heard, [1, 2, 3, 4, 5], 'nothing twice');
    assert.deepEqual(resyncs, []);
  });

  it("a device that was offline gets the user's notifications it missed, once each", T, async () => {
    const dana = await connected('Dana', 600);
    assert.equal(dana.userPosition?.offset, 0, 'ready gives the user stream position');
    const heard = [];
    dana.listen('notification', ({ message }) => heard.push(message));
    const resyncs = [];
    dana.on('user-resync', (why) => resyncs.push(why));
    const notify = (message) => server.post('/api/notify/dana', { message }, { as: 'Dana' });
    assert.equal((await notify('one')).status, 200);
    await until(() => heard.length === 1, 5_000, 'the first notification');
    assert.equal(dana.userPosition.offset, 1);

    const back = next((cb) => dana.on('ready', cb), 10_000, 'ready');
    dana._ws.terminate(); // offline; back 600 ms later, with since_offset/since_epoch
    for (const text of ['two', 'three']) assert.equal((await notify(text)).status, 200);
    const ready = await back;
    assert.deepEqual([ready.recovered, ready.missed], [true, 2]);
    await until(() => heard.length === 3, 5_000, 'the missed notifications');
    assert.equal(dana.userPosition.offset, 3);
    assert.equal((await notify('four')).status, 200);
    await until(() => heard.length === 4, 5_000, 'a live one');
    assert.deepEqual(heard, ['one', 'two', 'three', 'four'], 'in order, nothing twice');
    assert.deepEqual(resyncs, []);
  });

  it('after a restart the history is gone: the channel gets resync and the client re-fetches', T, async () => {
    const carol = await connected('Carol', 100);
    const room = await carol.subscribe('room.restart');
    await post('restart', 'before');
    await until(() => room.position?.offset === 1, 5_000, 'the first message');
    const before = room.position.epoch;
    const resync = next((cb) => room.listen('resync', cb), 20_000, 'resync');
    await server.stop();
    await server.start(); // same port and secret; a new epoch for every room
    const lost = await resync;
    assert.equal(lost.reason, 'not_recovered');
    assert.notEqual(lost.epoch, before);
    assert.equal(room.recovered, false);
    assert.equal(room.position.epoch, lost.epoch, 'following the new history');
  });
});
