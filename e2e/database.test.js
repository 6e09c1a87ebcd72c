// The demo with its rooms in PostgreSQL, in headless Chromium: a row inserted with psql
// shows in every page on the room without a reload (the PostgreSQL source signals it),
// and the page that posts is not signalled for its own post (it renders the answer).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DemoServer } from './support/server.js';
import { PostgresServer } from './support/postgres.js';
import { launch, seen, signIn, submit } from './support/browser.js';

const T = { timeout: 60_000 };

/** Puts `page` in room `id` and waits until its list is bound and loaded. */
async function enterRoom(page, id) {
  await submit(page, '#room-picker', { '#room-id': id });
  await page.waitForSelector(`#room-messages[data-sb-channel="room.${id}"][data-sb-state="live"]`);
}

describe('the demo on PostgreSQL, in Chromium', () => {
  /** @type {PostgresServer} */
  let pg;
  /** @type {DemoServer} */
  let server;
  /** @type {import('playwright-core').Browser} */
  let browser;

  before(async () => {
    pg = await new PostgresServer().start();
    server = await new DemoServer({ env: { DATABASE_URL: pg.url } }).start();
    browser = await launch();
  }, T);

  after(async () => {
    await browser?.close();
    await server?.stop();
    pg?.stop();
  }, T);

  it('a row inserted with psql shows in every open room page; the poster gets no signal of its own', T, async () => {
    const [alice, bob] = await Promise.all(['Alice', 'Bob'].map((name) => signIn(browser, server.http, name)));
    await Promise.all([enterRoom(alice, 'db'), enterRoom(bob, 'db')]);
    for (const page of [alice, bob]) {
      await page.evaluate(() => {
        window.roomSignals = 0;
        window.demo.client.channel('room.db').listen('message', () => window.roomSignals++);
      });
    }

    pg.psql("INSERT INTO room_messages (room, author, body) VALUES ('db', 'psql', 'Inserted with psql')");
    await Promise.all([alice, bob].map((page) => seen(page, '#room-messages', 'Inserted with psql')));

    const before = await alice.evaluate(() => window.roomSignals);
    await submit(alice, '#room-form', { '#room-input': 'Posted from the page' });
    await seen(alice, '#room-messages', 'Posted from the page'); // from the answer
    await seen(bob, '#room-messages', 'Posted from the page'); // from the signal
    // Anything on its way to Alice is there once a later signal to both has arrived.
    pg.psql("INSERT INTO room_messages (room, author, body) VALUES ('db', 'psql', 'A marker')");
    await Promise.all([alice, bob].map((page) => seen(page, '#room-messages', 'A marker')));
    assert.equal(await alice.evaluate(() => window.roomSignals), before + 1, 'only the marker signalled Alice');
    assert.ok((await bob.evaluate(() => window.roomSignals)) >= 3, 'Bob was signalled for every row');
    for (const page of [alice, bob]) {
      assert.deepEqual(page.errors.map(String), []);
      await page.context().close();
    }
  });
});
