// The demo page in headless Chromium: two (and three) people in separate browser
// contexts, chatting through a real server that is also stopped and restarted.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DemoServer, sleep } from './support/server.js';
import { launch, seen, settled, signIn, submit } from './support/browser.js';

const T = { timeout: 60_000 };

describe('the demo page in Chromium', () => {
  /** @type {DemoServer} */
  let server;
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {import('playwright-core').Page} */
  let alice;
  /** @type {import('playwright-core').Page} */
  let bob;
  /** @type {import('playwright-core').Page} */
  let carol;

  before(async () => {
    server = await new DemoServer().start();
    browser = await launch();
    [alice, bob, carol] = await Promise.all(
      ['Alice', 'Bob', 'Carol'].map((name) => signIn(browser, server.http, name)));
  }, T);

  after(async () => {
    await browser?.close();
    await server?.stop();
  }, T);

  it('shows the signed-in user and a connected state', T, async () => {
    assert.equal(await bob.textContent('#me-name'), 'Bob');
    assert.equal(await bob.textContent('#state'), 'connected');
    assert.equal(await bob.textContent('#private-channel'), 'user:chat.bob');
  });

  it('a global chat message from Alice reaches Bob, as text', T, async () => {
    await submit(alice, '#global-form', { '#global-input': 'Hello everyone, Alice here' });
    await seen(bob, '#global-messages', 'Hello everyone, Alice here');
    await seen(alice, '#global-messages', 'Hello everyone, Alice here');

    const hostile = '<img src=x onerror="window.pwned=1"> <b>bold?</b>';
    await submit(alice, '#global-form', { '#global-input': hostile });
    await seen(bob, '#global-messages', 'bold?');
    assert.equal(await bob.locator('#global-messages img, #global-messages b').count(), 0);
    assert.equal(await bob.evaluate(() => window.pwned), undefined);
  });

  it('a private message reaches Bob only, not Carol', T, async () => {
    await submit(alice, '#private-form', { '#private-to': 'bob', '#private-input': 'Psst Bob, just for you' });
    await seen(bob, '#private-messages', 'Psst Bob, just for you');
    await seen(alice, '#private-messages', 'Psst Bob, just for you'); // the sender's copy
    await sleep(500);
    assert.equal(await carol.locator('li', { hasText: 'Psst Bob' }).count(), 0);
  });

  it('the declarative room element refreshes in Bob’s page when Alice posts', T, async () => {
    assert.equal(await bob.getAttribute('#room-messages', 'data-sb-state'), 'live');
    await submit(alice, '#room-form', { '#room-input': 'Room post from Alice' });
    await seen(bob, '#room-messages', 'Room post from Alice');
    assert.match(await bob.textContent('#room-messages li:last-child'), /Alice\s*Room post from Alice/);
  });

  it('switching rooms re-binds the element to the new channel', T, async () => {
    await submit(bob, '#room-picker', { '#room-id': 'side' });
    await bob.waitForSelector('#room-messages[data-sb-channel="room.side"][data-sb-state="live"]');
    await submit(alice, '#room-picker', { '#room-id': 'side' });
    await alice.waitForSelector('#room-messages[data-sb-state="live"] li.empty');
    await submit(alice, '#room-form', { '#room-input': 'Over in the side room' });
    await seen(bob, '#room-messages', 'Over in the side room');
    assert.equal(await bob.locator('#room-messages li', { hasText: 'Room post from Alice' }).count(), 0);
    assert.equal(await bob.evaluate(() => window.demo.client.channel('room.lobby')), undefined, 'left room.lobby');
  });

  it('a notification from POST /api/notify/{user} shows as a toast', T, async () => {
    const { status } = await server.post('/api/notify/bob', { message: 'Your build passed' });
    assert.equal(status, 200);
    await bob.locator('#toasts .toast', { hasText: 'Your build passed' }).waitFor();
    assert.equal(await carol.locator('#toasts .toast', { hasText: 'Your build passed' }).count(), 0);
  });

  it('a server restart shows "reconnecting", then recovers with its subscriptions', T, async () => {
    await server.stop();
    await bob.waitForSelector('#state[data-state="reconnecting"]');
    assert.equal(await bob.textContent('#state'), 'reconnecting');
    await alice.waitForSelector('#state[data-state="reconnecting"]');
    await sleep(500);

    await server.start(); // same port, same secret
    await Promise.all([alice, bob].map((page) => page.waitForSelector('#state[data-state="connected"]', { timeout: 20_000 })));
    await Promise.all([alice, bob].map((page) => settled(page)));
    assert.equal(await bob.textContent('#state'), 'connected');

    // Every subscription is back: global chat, the private channel and the room.
    await submit(alice, '#global-form', { '#global-input': 'Still here after the restart' });
    await seen(bob, '#global-messages', 'Still here after the restart');
    await submit(alice, '#private-form', { '#private-to': 'bob', '#private-input': 'Private, after the restart' });
    await seen(bob, '#private-messages', 'Private, after the restart');
    await submit(alice, '#room-form', { '#room-input': 'Room, after the restart' });
    await seen(bob, '#room-messages', 'Room, after the restart');
  });

  it('no page threw', T, () => {
    for (const page of [alice, bob, carol]) assert.deepEqual(page.errors.map(String), []);
  });
});
