// The browser client's protocol handling, under Node, against the real demo server.
// Node 20 has no global WebSocket: the `ws` package's is injected (`{ WebSocket }`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';

import { SocketClient, SocketError, backoffDelay } from '../framework/static/switchboard.js';
import { DemoServer, ROOT, freePort, next, sleep, until } from './support/server.js';
import { recording, seenRaw } from './support/raw.js';

/** Every test is bounded. */
const T = { timeout: 30_000 };
/** Fast retries so restarts are quick to recover from. */
const FAST = { minReconnectDelay: 50, maxReconnectDelay: 300 };

const clients = new Set();

/** A client for `server`, signed in as `name`, not connected yet. */
async function clientFor(server, name, options = {}) {
  const { token } = await server.token(name);
  const client = new SocketClient(server.ws, { WebSocket, token, ...options });
  clients.add(client);
  return client;
}

/** A connected client. */
async function connected(server, name, options = {}) {
  const client = await clientFor(server, name, options);
  await client.connect();
  return client;
}

/** Collects `client`'s state changes. */
function states(client) {
  const seen = [];
  client.on('state', (state) => seen.push(state));
  return seen;
}

/**
 * Asserts the server sent `record` (see support/raw.js) nothing matching `unwanted`
 * from index `from` on: sends `user` a notification through the server after
 * everything else and waits for it, so what has not arrived by then never will.
 */
async function nothingBefore(server, user, record, from, unwanted) {
  const marker = `marker-${Math.random()}`;
  const { status } = await server.post(`/api/notify/${user}`, { message: marker }, { as: user });
  assert.equal(status, 200);
  const at = await seenRaw(record, (p) => p.event === 'notification' && p.data?.message === marker, from);
  const stray = record.packets.slice(from, at).filter(unwanted);
  assert.deepEqual(stray, [], 'nothing of this kind before the marker');
}

after(() => {
  for (const client of clients) client.disconnect();
});

describe('against one server', () => {
  /** @type {DemoServer} */
  let server;
  before(async () => {
    server = await new DemoServer().start();
  }, T);
  after(async () => {
    await server.stop();
  }, T);

  it('sends the token as the subprotocol, never in the URL, unless told to use the query', T, async () => {
    const raw = recording();
    const client = await connected(server, 'Tess', { WebSocket: raw.WebSocket });
    const [{ url, protocols }] = raw.record.handshakes;
    assert.ok(!url.includes('token'), `the URL carries no token: ${url}`);
    assert.equal(protocols.length, 1);
    assert.equal(protocols[0].split('.').length, 3, 'a JWT');
    assert.equal(client.state, 'connected');

    const old = recording();
    await connected(server, 'Quinn', { WebSocket: old.WebSocket, tokenIn: 'query' });
    const [viaQuery] = old.record.handshakes;
    assert.match(viaQuery.url, /[?&]token=/);
    assert.equal(viaQuery.protocols, undefined);
  });

  it('serves the client module at /switchboard/switchboard.js', T, async () => {
    const response = await fetch(`${server.http}/switchboard/switchboard.js`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const onDisk = await readFile(path.join(ROOT, 'framework/static/switchboard.js'), 'utf8');
    assert.equal(await response.text(), onDisk);
  });

  it('connect() resolves on ready and reports its states', T, async () => {
    const client = await clientFor(server, 'Alice');
    const seen = states(client);
    assert.equal(client.state, 'idle');
    const ready = await client.usingJwt((await server.token('Alice')).token).connect();
    assert.equal(ready.userId, 'alice');
    assert.equal(ready.reconnected, false);
    assert.match(ready.connectionId, /.+/);
    assert.equal(client.connectionId, ready.connectionId);
    assert.deepEqual(seen, ['connecting', 'connected']);
    assert.deepEqual(await client.connect(), ready, 'connect() again is a no-op');
    client.disconnect();
    assert.equal(client.state, 'closed');
  });

  it('subscribe() resolves with the channel, or rejects with the server reason', T, async () => {
    const alice = await connected(server, 'Alice');
    const [one, two] = await Promise.all([alice.subscribe('global-chat'), alice.subscribe('global-chat')]);
    assert.equal(one, two, 'one channel object per name');
    assert.equal(one.name, 'global-chat');
    assert.equal(one.subscribed, true);

    const refused = await alice.subscribe('user:chat.bob').then(
      () => assert.fail('joined someone else’s private channel'),
      (error) => error,
    );
    assert.ok(refused instanceof SocketError);
    assert.equal(refused.reason, 'unauthorised');
    assert.equal(refused.channel, 'user:chat.bob');
    assert.match(refused.message, /.+/);
    assert.equal(alice.channel('user:chat.bob'), undefined);

    const unknown = await alice.subscribe('no-such-channel').catch((e) => e);
    assert.equal(unknown.reason, 'unknown_channel');

    // Envuso style: a callback with (error, channel).
    const viaCallback = await new Promise((resolve) =>
      alice.subscribe('user:chat.alice', (error, channel) => resolve({ error, channel })));
    assert.equal(viaCallback.error, null);
    assert.equal(viaCallback.channel.name, 'user:chat.alice');
    const refusedViaCallback = await new Promise((resolve) =>
      alice.subscribe('user:chat.carol', (error, channel) => resolve({ error, channel })));
    assert.equal(refusedViaCallback.channel, null);
    assert.equal(refusedViaCallback.error.reason, 'unauthorised');
  });

  it('emit() sends on a channel, listen() receives, { ack: true } awaits the ack', T, async () => {
    const alice = await connected(server, 'Alice');
    const bob = await connected(server, 'Bob');
    const [aliceChat, bobChat] = await Promise.all([alice.subscribe('global-chat'), bob.subscribe('global-chat')]);
    const heard = next((cb) => bobChat.listen('message', cb), 5_000, 'global message');
    const echoed = next((cb) => aliceChat.listen('message', (data, packet) => cb({ data, packet })));
    const ack = await aliceChat.emit('message', { message: 'hello bob' }, { ack: true });
    assert.equal(ack, null, 'the event returns ()');
    assert.deepEqual(await heard, { message: 'hello bob', from: 'Alice' });
    const { packet } = await echoed;
    assert.equal(packet.channel, 'global-chat', 'the broadcast reaches the sender too');
    assert.equal(await aliceChat.emit('message', { message: 'no ack' }), undefined);
  });

  it('a refused packet rejects its ack with the error code and emits `error`', T, async () => {
    const alice = await connected(server, 'Alice');
    const chat = await alice.subscribe('global-chat');
    const refused = await chat.emit('no-such-event', {}, { ack: true }).catch((e) => e);
    assert.ok(refused instanceof SocketError);
    assert.equal(refused.code, 'unknown_event');
    assert.equal(refused.channel, 'global-chat');

    const error = next((cb) => alice.on('error', cb), 5_000, 'error packet');
    await chat.emit('message', { wrong: 'shape' });
    const packet = await error;
    assert.equal(packet.code, 'bad_payload');
    assert.equal(packet.channel, 'global-chat');

    const direct = await alice.emit('no-such-listener', {}, { ack: true }).catch((e) => e);
    assert.equal(direct.code, 'unknown_event');
  });

  it('listen() on the client receives direct events', T, async () => {
    const alice = await connected(server, 'Alice');
    const pong = next((cb) => alice.listen('pong-back', cb), 5_000, 'pong-back');
    await alice.emit('echo', { n: 1 });
    assert.deepEqual(await pong, { n: 1 });

    const note = next((cb) => alice.listen('notification', cb), 5_000, 'notification');
    const { status, body } = await server.post('/api/notify/alice', { message: 'ding' }, { as: 'alice' });
    assert.equal(status, 200);
    assert.ok(body.delivered >= 1);
    assert.deepEqual(await note, { message: 'ding' });
  });

  it('private-message reaches the recipient and the sender’s own devices, nobody else', T, async () => {
    const carolRaw = recording();
    const [alice, alicePhone, bob, carol] = await Promise.all(
      ['Alice', 'Alice', 'Bob', 'Carol'].map((name) =>
        connected(server, name, name === 'Carol' ? { WebSocket: carolRaw.WebSocket } : {})));
    const inbox = async (client) => client.subscribe(`user:chat.${client.userId}`);
    const [aliceBox, phoneBox, bobBox, carolBox] = await Promise.all([alice, alicePhone, bob, carol].map(inbox));

    const toBob = next((cb) => bobBox.listen('message', cb), 5_000, 'private message');
    const onPhone = next((cb) => phoneBox.listen('message', cb), 5_000, 'copy on the other device');
    const onSender = next((cb) => aliceBox.listen('message', cb), 5_000, 'copy for the sender');
    const receipt = await alice.emit('private-message', { to: 'bob', message: 'psst' }, { ack: true });
    assert.deepEqual(receipt, { delivered: 1 });
    const expected = { message: 'psst', from: 'Alice', from_id: 'alice', to: 'bob' };
    assert.deepEqual(await toBob, expected);
    assert.deepEqual(await onPhone, expected);
    assert.deepEqual(await onSender, expected);
    const carolHeard = [];
    carolBox.listen('message', (data) => carolHeard.push(data));
    await nothingBefore(server, 'carol', carolRaw.record, 0, (p) => p.event === 'message');
    assert.deepEqual(carolHeard, []);

    const bad = await alice.emit('private-message', { to: 'not a user', message: 'x' }, { ack: true }).catch((e) => e);
    assert.equal(bad.code, 'bad_payload');
  });

  it('POST /rooms/{id}/messages stores the message and signals the room', T, async () => {
    const bob = await connected(server, 'Bob');
    const room = await bob.subscribe('room.node-1');
    const signal = next((cb) => room.listen('message', cb), 5_000, 'room signal');
    const { status } = await server.post('/rooms/node-1/messages', { message: '<i>hi</i> & bye' }, { as: 'Alice' });
    assert.equal(status, 201);
    const data = await signal;
    assert.equal(data.seq, 1);
    const fragment = await (await fetch(`${server.http}/rooms/node-1/messages`)).text();
    assert.match(fragment, /&lt;i&gt;hi&lt;\/i&gt; &amp; bye/);
    assert.doesNotMatch(fragment, /<i>/);
    assert.equal((await server.post('/rooms/bad.id/messages', { message: 'b' }, { as: 'a' })).status, 400);
  });

  it('unsubscribe() leaves the channel: no more events, emits refused locally', T, async () => {
    // The client drops packets for channels it has left, so its listeners alone cannot
    // tell whether the server stopped sending: the raw socket can.
    const raw = recording();
    const bob = await connected(server, 'Bob', { WebSocket: raw.WebSocket });
    const room = await bob.subscribe('room.node-2');
    const heard = [];
    room.listen('message', (data) => heard.push(data));
    await room.unsubscribe();
    assert.equal(room.state, 'unsubscribed');
    assert.equal(bob.channel('room.node-2'), undefined);
    const left = raw.record.packets.length;
    await server.post('/rooms/node-2/messages', { message: 'anyone?' }, { as: 'Alice' });
    await nothingBefore(server, 'bob', raw.record, left, (p) => p.channel === 'room.node-2');
    assert.deepEqual(heard, []);
    const refused = await room.emit('message', { message: 'x' }).catch((e) => e);
    assert.equal(refused.code, 'not_subscribed');
    // Joining again works, with a new channel object.
    const again = await bob.subscribe('room.node-2');
    assert.notEqual(again, room);
    assert.equal(again.subscribed, true);
  });

  it('subscribe() needs connect() first, and waits for ready while connecting', T, async () => {
    const client = await clientFor(server, 'Dave');
    const early = await client.subscribe('global-chat').catch((e) => e);
    assert.equal(early.code, 'not_connected');
    const connecting = client.connect();
    const joined = client.subscribe('global-chat');
    assert.equal(client.state, 'connecting');
    await connecting;
    assert.equal((await joined).subscribed, true);
    const notConnected = await new SocketClient(server.ws, { WebSocket }).emit('echo', {}).catch((e) => e);
    assert.equal(notConnected.code, 'not_connected');
  });

  it('a refused token without a supplier: connect() rejects with the server’s code', T, async () => {
    const client = new SocketClient(server.ws, { WebSocket, token: 'not-a-jwt', ...FAST });
    clients.add(client);
    const errors = [];
    client.on('error', (e) => errors.push(e));
    const refused = await client.connect().catch((e) => e);
    assert.ok(refused instanceof SocketError);
    assert.equal(refused.code, 'malformed_token');
    assert.equal(refused.status, 401);
    assert.equal(client.state, 'closed');
    assert.equal(errors[0], refused);
  });

  it('a token supplier is asked again when the token is refused', T, async () => {
    const { token } = await server.token('Erin');
    const asked = [];
    const client = new SocketClient(server.ws, {
      WebSocket,
      ...FAST,
      token: ({ reason }) => {
        asked.push(reason);
        return reason === 'refused' ? token : 'stale-token';
      },
    });
    clients.add(client);
    const ready = await client.connect();
    assert.equal(ready.userId, 'erin');
    assert.deepEqual(asked, ['connect', 'refused']);
  });

  it('a supplier that returns the refused token again is given up on', T, async () => {
    const client = new SocketClient(server.ws, { WebSocket, ...FAST, token: () => 'always-bad' });
    clients.add(client);
    const refused = await client.connect().catch((e) => e);
    assert.equal(refused.code, 'malformed_token');
    assert.equal(client.state, 'closed');
  });

  it('a refused supplier is asked at most three times: four refusals in a row end it', T, async () => {
    const raw = recording();
    const asked = [];
    let n = 0;
    const client = new SocketClient(server.ws, {
      WebSocket: raw.WebSocket,
      ...FAST,
      token: ({ reason }) => {
        asked.push(reason);
        n += 1;
        return `bad-token-${n}`; // a new token each time, refused each time
      },
    });
    clients.add(client);
    const refused = await client.connect().catch((e) => e);
    assert.equal(refused.code, 'malformed_token');
    assert.deepEqual(asked, ['connect', 'refused', 'refused', 'refused']);
    assert.equal(raw.record.opened, 4);
    assert.equal(client.state, 'closed');
  });

  it('maxReconnectAttempts bounds retries against a dead port', T, async () => {
    const dead = new DemoServer(); // never started
    dead.port = await freePort();
    const raw = recording();
    const client = new SocketClient(dead.ws, { WebSocket: raw.WebSocket, token: 'x', ...FAST, maxReconnectAttempts: 2 });
    clients.add(client);
    const seen = states(client);
    const error = await client.connect().catch((e) => e);
    assert.equal(error.code, 'unreachable');
    assert.equal(raw.record.opened, 3, 'the first attempt and two more');
    assert.deepEqual(seen, ['connecting', 'closed']);
  });
});

/**
 * A server that answers every connection with `ready`, then closes it with `code`;
 * resolves with it and the times connections arrived.
 */
async function flappingServer(code) {
  const opened = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket) => {
    opened.push(Date.now());
    socket.send(JSON.stringify({ event: 'ready', data: { connection_id: 'x-1', user_id: null } }));
    setTimeout(() => socket.close(code, 'bye'), 5);
  });
  return { url: `ws://127.0.0.1:${wss.address().port}/ws`, opened, close: () => wss.close() };
}

describe('reconnect pacing (servers of their own)', () => {
  it('a server that accepts then closes at once is retried ever more slowly', T, async () => {
    const server = await flappingServer(1000);
    try {
      // Full jitter at its ceiling: waits of 100, 200, then 300 ms (the cap).
      const client = new SocketClient(server.url, { WebSocket, ...FAST, random: () => 1 });
      clients.add(client);
      await client.connect();
      await until(() => server.opened.length >= 5, 10_000);
      client.disconnect();
      const gaps = server.opened.slice(1).map((t, i) => t - server.opened[i]);
      // A counter reset on every `ready` would make every gap about 100 ms.
      assert.ok(gaps[3] >= 250, `the backoff grew: gaps ${gaps}`);
    } finally {
      server.close();
    }
  });

  it('reconnects after a 1001 are spread over goingAwayWindow', T, async () => {
    const server = await flappingServer(1001);
    try {
      const client = new SocketClient(server.url, {
        WebSocket, ...FAST, random: () => 0.9, goingAwayWindow: 1_000,
      });
      clients.add(client);
      await client.connect();
      await until(() => server.opened.length >= 2, 10_000);
      client.disconnect();
      const gap = server.opened[1] - server.opened[0];
      assert.ok(gap >= 850, `the first retry after 1001 waited ${gap} ms (0.9 of a 1 s window)`);
    } finally {
      server.close();
    }
  });
});

describe('heartbeat and reconnection (servers of their own)', () => {
  it('answers the server’s ping, so a quiet connection stays open', T, async () => {
    const server = await new DemoServer({
      env: { SWITCHBOARD__HEARTBEAT__INTERVAL_SECS: '1', SWITCHBOARD__HEARTBEAT__TIMEOUT_SECS: '2' },
    }).start();
    try {
      const client = await connected(server, 'Alice');
      const closes = [];
      client.on('close', (event) => closes.push(event));
      await sleep(3_500); // past the 2 s timeout: only pongs keep it open
      assert.deepEqual(closes, []);
      assert.equal(client.state, 'connected');
      const pong = next((cb) => client.listen('pong-back', cb));
      await client.emit('echo', { still: 'here' });
      assert.deepEqual(await pong, { still: 'here' });
    } finally {
      await server.stop();
    }
  });

  it('a lost connection rejects pending acks and emits, then reconnects and re-joins', T, async () => {
    const server = await new DemoServer().start();
    try {
      const alice = await connected(server, 'Alice', { ...FAST, subscribeTimeout: 500 });
      const seen = states(alice);
      const chat = await alice.subscribe('global-chat');
      const rejoined = [];
      alice.on('subscribed', (channel) => rejoined.push(channel.name));
      const heard = [];
      chat.listen('message', (data) => heard.push(data.message));

      // Freeze the server so the ack cannot come, then kill it: the socket closes.
      await server.freeze();
      const pending = chat.emit('message', { message: 'into the void' }, { ack: true }).catch((e) => e);
      await server.stop();
      const lost = await pending;
      assert.equal(lost.code, 'disconnected');
      await until(() => alice.state === 'reconnecting', 5_000, 'reconnecting');
      assert.equal(chat.subscribed, false);
      const offline = await chat.emit('message', { message: 'offline' }).catch((e) => e);
      assert.equal(offline.code, 'not_connected');
      const direct = await alice.emit('echo', {}).catch((e) => e);
      assert.equal(direct.code, 'not_connected');
      // Joining while reconnecting waits for the connection, however long it takes.
      const later = alice.subscribe('room.later');
      await sleep(800); // longer than subscribeTimeout

      const back = next((cb) => alice.on('ready', cb), 15_000, 'ready after restart');
      // Connected again but not re-joined yet: the channel refuses at once.
      const whileRejoining = next((cb) => alice.on('ready', () => cb(chat.emit('message', { message: 'early' }).catch((e) => e))), 15_000);
      await server.start(); // same port, same secret: the old token still works
      assert.equal((await back).reconnected, true);
      assert.equal((await whileRejoining).code, 'not_subscribed');
      await until(() => chat.subscribed, 5_000, 're-subscribed');
      assert.equal(alice.channel('global-chat'), chat, 'the same channel object, listeners kept');
      assert.equal((await later).subscribed, true);
      assert.deepEqual(rejoined.sort(), ['global-chat', 'room.later']);

      const bob = await connected(server, 'Bob');
      await (await bob.subscribe('global-chat')).emit('message', { message: 'after restart' }, { ack: true });
      await until(() => heard.includes('after restart'), 5_000, 'message after restart');
      assert.deepEqual(seen.slice(-2), ['reconnecting', 'connected']);
    } finally {
      await server.stop();
    }
  });

  it('a 403 is final: the supplier is not asked again', T, async () => {
    const server = await new DemoServer({ env: { SWITCHBOARD__AUTH__ALLOWED_ORIGINS: '["https://chat.example"]' } }).start();
    try {
      const origin = 'https://evil.example';
      const raw = recording({ origin });
      const asked = [];
      const { token } = await server.token('Alice');
      const client = new SocketClient(server.ws, {
        WebSocket: raw.WebSocket,
        // The client asks over plain HTTP why the handshake failed: from the same origin.
        fetch: (url, init = {}) => fetch(url, { ...init, headers: { ...init.headers, Origin: origin } }),
        ...FAST,
        token: ({ reason }) => {
          asked.push(reason);
          return token;
        },
      });
      clients.add(client);
      const refused = await client.connect().catch((e) => e);
      assert.equal(refused.code, 'forbidden_origin');
      assert.equal(refused.status, 403);
      assert.deepEqual(asked, ['connect']);
      assert.equal(raw.record.opened, 1);
      assert.equal(client.state, 'closed');
    } finally {
      await server.stop();
    }
  });

  it('acks time out, and at most 256 wait at once', T, async () => {
    const server = await new DemoServer().start();
    try {
      const alice = await connected(server, 'Alice', { ackTimeout: 60_000 });
      await server.freeze(); // nothing is answered while it is stopped
      const started = Date.now();
      const timedOut = alice.emit('echo', {}, { ack: true, timeout: 300 }).catch((e) => e);
      const waiting = [];
      for (let i = 1; i < 256; i++) waiting.push(alice.emit('echo', { i }, { ack: true }).catch((e) => e));
      const refused = await alice.emit('echo', {}, { ack: true }).catch((e) => e);
      assert.equal(refused.code, 'too_many_pending', 'the 257th');
      const timeout = await timedOut;
      assert.equal(timeout.code, 'timeout');
      assert.ok(Date.now() - started >= 290, 'not before its timeout');
      // The timed-out ack's slot is free again.
      const again = alice.emit('echo', {}, { ack: true }).catch((e) => e);
      const full = await alice.emit('echo', {}, { ack: true }).catch((e) => e);
      assert.equal(full.code, 'too_many_pending');
      // Every pending ack is settled when the client leaves (the server never answers).
      alice.disconnect();
      const settled = await Promise.all([again, ...waiting]);
      assert.ok(settled.every((e) => e instanceof SocketError), 'all rejected');
    } finally {
      server.child?.kill('SIGCONT');
      await server.stop();
    }
  });

  it('declares a silent connection dead (idle watchdog) and recovers', T, async () => {
    const server = await new DemoServer().start();
    try {
      const alice = await connected(server, 'Alice', { ...FAST, idleTimeout: 1_000, openTimeout: 1_000 });
      await server.freeze(); // no ping, no FIN: a half-open connection
      await until(() => alice.state === 'reconnecting', 5_000, 'watchdog fired');
      const back = next((cb) => alice.on('ready', cb), 15_000, 'ready after resume');
      server.child.kill('SIGCONT');
      assert.equal((await back).reconnected, true);
    } finally {
      await server.stop();
    }
  });

  it('after a restart with a new secret, the supplier’s fresh token reconnects', T, async () => {
    const server = await new DemoServer({ secret: 'first-secret-0123456789abcdef0123456789' }).start();
    try {
      const reasons = [];
      let token = (await server.token('Alice')).token;
      const alice = new SocketClient(server.ws, {
        WebSocket,
        ...FAST,
        // Keep the token until it is refused, as a page would.
        token: async ({ reason }) => {
          reasons.push(reason);
          if (reason === 'refused') token = (await server.token('Alice')).token;
          return token;
        },
      });
      clients.add(alice);
      await alice.connect();
      await server.stop();
      server.secret = 'second-secret-0123456789abcdef012345678';
      const back = next((cb) => alice.on('ready', cb), 15_000, 'ready with a fresh token');
      await server.start();
      await back;
      assert.ok(reasons.includes('refused'), `asked: ${reasons.join(', ')}`);
      assert.equal(alice.userId, 'alice');
    } finally {
      await server.stop();
    }
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with full jitter between the floor and a capped ceiling', T, () => {
    const opts = { minReconnectDelay: 250, maxReconnectDelay: 10_000 };
    assert.equal(backoffDelay(1, opts, () => 0), 250);
    assert.equal(backoffDelay(1, opts, () => 1), 500);
    assert.equal(backoffDelay(3, opts, () => 1), 2_000);
    assert.equal(backoffDelay(6, opts, () => 1), 10_000);
    assert.equal(backoffDelay(60, opts, () => 1), 10_000);
    assert.equal(backoffDelay(60, opts, () => 0.5), 5_125);
    for (let attempt = 1; attempt < 20; attempt++) {
      const delay = backoffDelay(attempt, opts);
      assert.ok(delay >= 250 && delay <= 10_000, `${delay}`);
    }
  });
});
