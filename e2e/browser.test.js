// The demo page in headless Chromium: two (and three) people in separate browser
// contexts, chatting through a real server that is also stopped and restarted.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DemoServer, sleep } from './support/server.js';
import { launch, seen, settled, signIn, submit } from './support/browser.js';

const T = { timeout: 60_000 };

/**
 * Shows a toast in `page` (signed in as `user`) through the server, after everything
 * else the test sent: what has not reached the page by the time it shows never will.
 */
async function marker(server, page, user) {
  const text = `marker ${Math.random()}`;
  const { status } = await server.post(`/api/notify/${user}`, { message: text }, { as: user });
  assert.equal(status, 200);
  await page.locator('#toasts .toast', { hasText: text }).waitFor();
}

/** Puts `page` in room `id` and waits until its list is bound to the room's channel. */
async function enterRoom(page, id) {
  await submit(page, '#room-picker', { '#room-id': id });
  await page.waitForSelector(`#room-messages[data-sb-channel="room.${id}"][data-sb-state="live"]`);
}

// Each test sets up the room state it needs, so any one of them can run alone
// (node --test --test-name-pattern ...) or in any order.
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
    await marker(server, carol, 'carol');
    assert.equal(await carol.locator('li', { hasText: 'Psst Bob' }).count(), 0);
  });

  it('the declarative room element refreshes in Bob’s page when Alice posts', T, async () => {
    await Promise.all([enterRoom(alice, 'lobby'), enterRoom(bob, 'lobby')]);
    assert.equal(await bob.getAttribute('#room-messages', 'data-sb-state'), 'live');
    await submit(alice, '#room-form', { '#room-input': 'Room post from Alice' });
    await seen(bob, '#room-messages', 'Room post from Alice');
    assert.match(await bob.textContent('#room-messages li:last-child'), /Alice\s*Room post from Alice/);
  });

  it('switching rooms re-binds the element to the new channel', T, async () => {
    await Promise.all([enterRoom(alice, 'lobby'), enterRoom(bob, 'lobby')]);
    await submit(alice, '#room-form', { '#room-input': 'Room post from Alice' });
    await seen(bob, '#room-messages', 'Room post from Alice');
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
    const { status } = await server.post('/api/notify/bob', { message: 'Your build passed' }, { as: 'bob' });
    assert.equal(status, 200);
    await bob.locator('#toasts .toast', { hasText: 'Your build passed' }).waitFor();
    await marker(server, carol, 'carol');
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
      <script type="module" src="/switchboard/switchboard.js"></script></body>`);
    await page.waitForSelector('#auto[data-sb-state="live"] li.empty');
    const loaded = fetches.length;

    // A burst of five signals is coalesced into far fewer fetches.
    await Promise.all([1, 2, 3, 4, 5].map((n) =>
      server.post('/rooms/auto/messages', { message: `burst ${n}` }, { as: 'Alice' })));
    await page.locator('#auto li', { hasText: 'burst 5' }).waitFor();
    // A later signal's fetch comes after any the burst still had scheduled.
    await server.post('/rooms/auto/messages', { message: 'after the burst' }, { as: 'Alice' });
    await page.locator('#auto li', { hasText: 'after the burst' }).waitFor();
    assert.equal(await page.locator('#auto li').count(), 6);
    assert.ok(fetches.length - loaded <= 4, `${fetches.length - loaded - 1} fetches for a burst of 5`);

    // An element added later binds too (MutationObserver), sharing the subscription.
    await page.evaluate(() => {
      const late = document.createElement('ol');
      late.id = 'late';
      late.dataset.sbChannel = 'room.auto';
      late.dataset.sbRefresh = '/rooms/auto/messages';
      document.body.append(late);
    });
    await page.waitForSelector('#late[data-sb-state="live"]', { state: 'attached' });
    await server.post('/rooms/auto/messages', { message: 'for both lists' }, { as: 'Alice' });
    await page.locator('#late li', { hasText: 'for both lists' }).waitFor();
    await page.locator('#auto li', { hasText: 'for both lists' }).waitFor();
    await page.context().close();
  });

  it('declarative mode ignores a response older than the one shown', T, async () => {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    const { token } = await server.token('Dora');
    const fragment = `${server.http}/slow/fragment`;
    let served = 0;
    let firstArrived;
    const firstRequested = new Promise((resolve) => (firstArrived = resolve));
    let secondAnswered;
    const secondServed = new Promise((resolve) => (secondAnswered = resolve));
    let staleSent;
    const staleDelivered = new Promise((resolve) => (staleSent = resolve));
    let overlapped = null;
    // The first fetch is held until the second has been answered. A client that fetches
    // one after another never sends the second while the first is out: then the hold
    // gives up and the test fails on `overlapped`.
    await page.route(fragment, async (route) => {
      served += 1;
      if (served === 1) {
        firstArrived();
        overlapped = await Promise.race([secondServed.then(() => true), sleep(5_000).then(() => false)]);
        await route.fulfill({ contentType: 'text/html', body: '<li>stale</li>' });
        staleSent();
      } else {
        await route.fulfill({ contentType: 'text/html', body: served === 2 ? '<li>fresh</li>' : '<li>third</li>' });
        secondAnswered();
      }
    });
    await page.goto(`${server.http}/rooms/ooo/messages`);
    await page.setContent(`<!doctype html><body data-sb-auto data-sb-token="${token}">
      <ul id="ooo" data-sb-channel="room.ooo" data-sb-refresh="/slow/fragment"
          data-sb-debounce="0"></ul>
      <script type="module" src="/switchboard/switchboard.js"></script></body>`);
    await page.waitForSelector('#ooo[data-sb-state="live"]', { state: 'attached' });
    // Everything the element ever shows.
    await page.evaluate(() => {
      const element = document.getElementById('ooo');
      window.shown = [];
      new MutationObserver(() => window.shown.push(element.textContent)).observe(element, { childList: true, subtree: true });
    });
    await server.post('/rooms/ooo/messages', { message: 'one' }, { as: 'Alice' });
    await firstRequested;
    await server.post('/rooms/ooo/messages', { message: 'two' }, { as: 'Alice' });
    await page.locator('#ooo li', { hasText: 'fresh' }).waitFor();
    await staleDelivered;
    assert.equal(overlapped, true, 'the second fetch went out while the first was pending');
    // A third refresh, issued after the stale answer was delivered, shows up only once
    // the page has handled everything before it.
    await server.post('/rooms/ooo/messages', { message: 'three' }, { as: 'Alice' });
    await page.locator('#ooo li', { hasText: 'third' }).waitFor();
    assert.equal(served, 3);
    assert.deepEqual(await page.evaluate(() => window.shown), ['fresh', 'third'], 'stale was never shown');
    await page.context().close();
  });

  it('declarative mode refuses a data-sb-refresh on another origin and never fetches it', T, async () => {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    const { token } = await server.token('Dora');
    const foreign = [];
    await page.route('http://elsewhere.invalid/**', (route) => {
      foreign.push(route.request().url());
      return route.fulfill({ status: 200, body: '<li><img src=x onerror="window.pwned=1"></li>' });
    });
    await page.goto(`${server.http}/rooms/xo/messages`);
    await page.setContent(`<!doctype html><body>
      <ul id="foreign" data-sb-channel="room.xo" data-sb-refresh="http://elsewhere.invalid/fragment" data-sb-load></ul>
      <ul id="local" data-sb-channel="room.xo" data-sb-refresh="/rooms/xo/messages" data-sb-load></ul>
      <script type="module">
        import { SocketClient } from '/switchboard/switchboard.js';
        window.errors = [];
        document.getElementById('foreign').addEventListener('sb:error', (e) => window.errors.push(String(e.detail?.message)));
        const client = new SocketClient('/ws', { token: ${JSON.stringify(token)} });
        client.connect();
        client.bindDeclarative(document);
      </script></body>`);
    await page.waitForSelector('#foreign[data-sb-state="error"]', { state: 'attached' });
    // The same-origin element works beside it: a signal refreshes it, and after that
    // signal the foreign one has still fetched nothing.
    await page.waitForSelector('#local[data-sb-state="live"]', { state: 'attached' });
    await server.post('/rooms/xo/messages', { message: 'after the refusal' }, { as: 'Alice' });
    await page.locator('#local li', { hasText: 'after the refusal' }).waitFor();
    assert.deepEqual(foreign, []);
    assert.match((await page.evaluate(() => window.errors))[0], /same-origin/);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    await page.context().close();
  });

  it('declarative mode reports a refused channel and a failed refresh with sb:error', T, async () => {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    const { token } = await server.token('Dora');
    await page.route(`${server.http}/broken/fragment`, (route) => route.fulfill({ status: 500, body: 'no' }));
    await page.goto(`${server.http}/rooms/err/messages`);
    await page.setContent(`<!doctype html><body>
      <ul id="theirs" data-sb-channel="user:chat.somebody-else" data-sb-refresh="/rooms/err/messages"></ul>
      <ul id="broken" data-sb-channel="room.err" data-sb-refresh="/broken/fragment" data-sb-debounce="0"></ul>
      <script type="module">
        import { SocketClient } from '/switchboard/switchboard.js';
        window.errors = [];
        for (const id of ['theirs', 'broken']) {
          document.getElementById(id).addEventListener('sb:error', (e) => window.errors.push([id, e.detail?.reason ?? String(e.detail?.message)]));
        }
        const client = new SocketClient('/ws', { token: ${JSON.stringify(token)} });
        client.connect();
        client.bindDeclarative(document);
      </script></body>`);
    await page.waitForSelector('#theirs[data-sb-state="error"]', { state: 'attached' });
    await page.waitForSelector('#broken[data-sb-state="live"]', { state: 'attached' });
    await server.post('/rooms/err/messages', { message: 'signal' }, { as: 'Alice' });
    await page.waitForFunction(() => window.errors.length === 2);
    const errors = await page.evaluate(() => window.errors);
    assert.deepEqual(errors[0], ['theirs', 'unauthorised']);
    assert.equal(errors[1][0], 'broken');
    assert.match(errors[1][1], /HTTP 500/);
    await page.context().close();
  });

  it('a server restart shows "reconnecting", then recovers with its subscriptions', T, async () => {
    await server.stop();
    await bob.waitForSelector('#state[data-state="reconnecting"]');
    assert.equal(await bob.textContent('#state'), 'reconnecting');
    await alice.waitForSelector('#state[data-state="reconnecting"]');

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
