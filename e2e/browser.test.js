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

  it('data-sb-auto: a page with no script of its own stays in sync', T, async () => {
    const { token } = await server.token('Dora');
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    const fetches = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/rooms/auto/messages')) fetches.push(request.url());
    });
    // A server-rendered page, as an app would write it: attributes and one import.
    await page.goto(`${server.http}/rooms/auto/messages`); // any page of the server's origin
    await page.setContent(`<!doctype html><body data-sb-auto data-sb-token="${token}">
      <ul id="auto" data-sb-channel="room.auto" data-sb-on="message"
          data-sb-refresh="/rooms/auto/messages" data-sb-load></ul>
      <script type="module" src="/switchboard.js"></script></body>`);
    await page.waitForSelector('#auto[data-sb-state="live"] li.empty');
    const loaded = fetches.length;

    // A burst of five signals is coalesced into far fewer fetches.
    await Promise.all([1, 2, 3, 4, 5].map((n) =>
      server.post('/rooms/auto/messages', { from: 'Alice', message: `burst ${n}` })));
    await page.locator('#auto li', { hasText: 'burst 5' }).waitFor();
    await sleep(300);
    assert.equal(await page.locator('#auto li').count(), 5);
    assert.ok(fetches.length - loaded <= 3, `${fetches.length - loaded} fetches for a burst of 5`);

    // An element added later binds too (MutationObserver), sharing the subscription.
    await page.evaluate(() => {
      const late = document.createElement('ol');
      late.id = 'late';
      late.dataset.sbChannel = 'room.auto';
      late.dataset.sbRefresh = '/rooms/auto/messages';
      document.body.append(late);
    });
    await page.waitForSelector('#late[data-sb-state="live"]', { state: 'attached' });
    await server.post('/rooms/auto/messages', { from: 'Alice', message: 'for both lists' });
    await page.locator('#late li', { hasText: 'for both lists' }).waitFor();
    await page.locator('#auto li', { hasText: 'for both lists' }).waitFor();
    await page.context().close();
  });

  it('declarative mode ignores a response older than the one shown', T, async () => {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    const { token } = await server.token('Dora');
    let served = 0;
    // The first fetch is answered late, after the second one.
    await page.route(`${server.http}/slow/fragment`, async (route) => {
      served += 1;
      if (served === 1) {
        await sleep(800);
        await route.fulfill({ contentType: 'text/html', body: '<li>stale</li>' });
      } else {
        await route.fulfill({ contentType: 'text/html', body: '<li>fresh</li>' });
      }
    });
    await page.goto(`${server.http}/rooms/ooo/messages`);
    await page.setContent(`<!doctype html><body data-sb-auto data-sb-token="${token}">
      <ul id="ooo" data-sb-channel="room.ooo" data-sb-refresh="/slow/fragment"
          data-sb-debounce="0"></ul>
      <script type="module" src="/switchboard.js"></script></body>`);
    await page.waitForSelector('#ooo[data-sb-state="live"]', { state: 'attached' });
    await server.post('/rooms/ooo/messages', { from: 'Alice', message: 'one' });
    await sleep(200);
    await server.post('/rooms/ooo/messages', { from: 'Alice', message: 'two' });
    await page.locator('#ooo li', { hasText: 'fresh' }).waitFor();
    await sleep(1_000); // the stale answer has arrived by now, and was dropped
    assert.equal(served, 2);
    assert.equal(await page.textContent('#ooo'), 'fresh');
    await page.context().close();
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
