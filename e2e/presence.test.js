// Presence with the browser client: who is in a room, kept live. Under Node, two demo
// nodes on Redis, one of them SIGKILLed (its members leave once its lease runs out);
// in Chromium, the demo page's member list of a room.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { SocketClient } from '../framework/static/switchboard.js';
import { startRedis } from './support/redis.js';
import { DemoServer, next, until } from './support/server.js';
import { launch, signIn } from './support/browser.js';

const T = { timeout: 60_000 };
/** The nodes' presence lease: a killed node's members go within it. */
const LEASE_SECS = 2;

describe('presence across two demo nodes, one of them killed', () => {
  let redis;
  let nodeA;
  let nodeB;
  const clients = [];

  before(async () => {
    redis = await startRedis();
    const env = {
      SWITCHBOARD__BACKPLANE__KIND: 'redis',
      SWITCHBOARD__BACKPLANE__URL: redis.url,
      SWITCHBOARD__PRESENCE__LEASE_SECS: String(LEASE_SECS),
    };
    nodeA = await new DemoServer({ env }).start();
    nodeB = await new DemoServer({ env }).start();
  }, T);

  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    redis?.child.kill('SIGKILL');
  });

  async function on(node, name) {
    const { token } = await node.token(name);
    const client = new SocketClient(node.ws, { WebSocket, token });
    clients.push(client);
    await client.connect();
    return client;
  }

  it('lists members with their names, and drops those of a SIGKILLed node within the lease', T, async () => {
    const alice = await on(nodeA, 'Alice');
    const room = await alice.subscribe('room-members.kill');
    // Alice's own join may still be on its way (it goes through Redis): wait for Bob's.
    const bobJoined = next(
      (cb) => room.on('join', (member) => {
        if (member.user_id === 'bob') cb(member);
      }),
      5_000,
      "Bob's join",
    );
    const bob = await on(nodeB, 'Bob');
    await bob.subscribe('room-members.kill');
    assert.deepEqual(await bobJoined, { user_id: 'bob', info: { name: 'Bob' } });

    const seen = await room.presence();
    assert.deepEqual(seen, {
      count: 2,
      connections: 2,
      members: [
        { user_id: 'alice', info: { name: 'Alice' } },
        { user_id: 'bob', info: { name: 'Bob' } },
      ],
    });
    assert.deepEqual([...room.members.keys()].sort(), ['alice', 'bob']);

    const bobLeft = next((cb) => room.on('leave', cb), (LEASE_SECS + 3) * 1000, "Bob's leave");
    const killedAt = Date.now();
    nodeB.child.kill('SIGKILL'); // no clean-up: only the lease tells
    assert.deepEqual(await bobLeft, { user_id: 'bob' });
    const took = Date.now() - killedAt;
    assert.ok(took < (LEASE_SECS + 2) * 1000, `the leave took ${took} ms`);
    assert.deepEqual([...room.members.keys()], ['alice']);
    assert.equal((await room.presence()).count, 1);
  });
});

describe("the demo page's room members in Chromium", () => {
  let server;
  let browser;

  before(async () => {
    server = await new DemoServer().start();
    browser = await launch();
  }, T);

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const names = (page) => page.locator('#room-members li').allTextContents();

  it('shows who is in the room, and a member leaving disappears', T, async () => {
    const alice = await signIn(browser, server.http, 'Alice');
    const bob = await signIn(browser, server.http, 'Bob');
    const bobsSecondTab = await signIn(browser, server.http, 'Bob'); // another window, same user

    await until(async () => JSON.stringify(await names(alice)) === '["Alice","Bob"]', 10_000, 'Alice sees Alice and Bob');
    await until(async () => JSON.stringify(await names(bob)) === '["Alice","Bob"]', 10_000, 'Bob sees Alice and Bob');
    assert.equal(await alice.locator('#room-members li[data-user="bob"]').count(), 1, 'Bob once, with two tabs');

    await bobsSecondTab.context().close();
    await alice.waitForTimeout(300);
    assert.deepEqual(await names(alice), ['Alice', 'Bob'], 'Bob still has a window open');
    await bob.context().close();
    await until(async () => JSON.stringify(await names(alice)) === '["Alice"]', 10_000, 'Bob disappears');
    assert.deepEqual(alice.errors, []);
  });
});
