// Declarative actions in headless Chromium: `data-sb-action` (any method, URL templated
// from the signal), `data-sb-target` / `data-sb-swap` (a `morph` that keeps what the
// user is typing), the same-origin-HTML-only rule, and `X-Socket-Id` on the requests
// the client makes (declarative ones and `client.fetch`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import WebSocket from 'ws';

import { SocketClient } from '../framework/static/switchboard.js';
import { DemoServer } from './support/server.js';
import { demoInChromium, stopDemoInChromium, signIn, submit } from './support/browser.js';

const T = { timeout: 60_000 };
/** Another origin, answered only by page.route (nothing resolves it). */
const FOREIGN = 'http://elsewhere.invalid';

/** Puts the demo `page` in room `id` and waits until its summary card is loaded. */
async function enterRoom(page, id) {
  await submit(page, '#room-picker', { '#room-id': id });
  await page.waitForSelector(`#room-summary[data-sb-channel="room.${id}"][data-sb-state="live"]`);
  await page.locator('#room-summary code', { hasText: `room.${id}` }).waitFor();
}

/**
 * A page of the demo's origin whose body is `html`, with its own client connected as
 * `name` (`window.client`) and bound to the document. Every element's `sb:error` and
 * `sb:refreshed` land in `window.events` as `[id, type, message or URL]`.
 * @param {import('playwright-core').Browser} browser
 * @param {DemoServer} server
 * @param {string} html
 * @param {{name?: string, prepare?: (page: import('playwright-core').Page) => Promise<void>}} [options]
 *   `prepare` runs before the page's script (routes must be in place by then)
 */
async function testPage(browser, server, html, options = {}) {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(10_000);
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error));
  const { token } = await server.token(options.name ?? 'Dora');
  await page.goto(`${server.http}/rooms/none/messages`); // any page of the server's origin
  await options.prepare?.(page);
  await page.setContent(`<!doctype html><body>${html}
    <script type="module">
      import { SocketClient } from '/switchboard/switchboard.js';
      window.events = [];
      for (const type of ['sb:error', 'sb:refreshed']) {
        // Capture: these events do not bubble.
        document.addEventListener(type, (e) =>
          window.events.push([e.target.id, type, String(e.detail?.message ?? e.detail?.url)]), true);
      }
      const client = new SocketClient('/ws', { token: ${JSON.stringify(token)} });
      window.client = client;
      client.connect();
      client.bindDeclarative(document);
    </script></body>`);
  return page;
}

/** The events recorded by {@link testPage} for element `id`. */
async function eventsOf(page, id) {
  return (await page.evaluate(() => window.events)).filter(([target]) => target === id);
}

describe('declarative actions in Chromium', () => {
  /** @type {DemoServer} */
  let server;
  /** @type {import('playwright-core').Browser} */
  let browser;

  before(async () => ({ server, browser } = await demoInChromium()), T);
  after(() => stopDemoInChromium({ server, browser }), T);

  const post = (room, message, as = 'Alice') => server.post(`/rooms/${room}/messages`, { message }, { as });

  it('the demo’s summary card (morph) keeps the draft being typed, its focus and caret, while others post', T, async () => {
    const bob = await signIn(browser, server.http, 'Bob');
    await enterRoom(bob, 'morph');
    assert.equal(await bob.getAttribute('#room-summary', 'data-sb-swap'), 'morph');
    await bob.evaluate(() => { window.note = document.getElementById('room-note'); });
    await bob.click('#room-note');
    await bob.keyboard.type('half a thought');
    for (let i = 0; i < 7; i++) await bob.keyboard.press('ArrowLeft'); // after "half a "
    for (let i = 0; i < 2; i++) await bob.keyboard.press('Shift+ArrowLeft'); // "a " selected

    assert.equal((await post('morph', 'Alice was here')).status, 201);
    await bob.locator('#summary-last', { hasText: 'Alice was here' }).waitFor();
    const note = () => bob.evaluate(() => {
      const input = /** @type {HTMLInputElement} */ (document.getElementById('room-note'));
      return {
        same: input === window.note,
        value: input.value,
        focused: document.activeElement === input,
        selection: [input.selectionStart, input.selectionEnd, input.selectionDirection],
        count: document.getElementById('summary-count')?.textContent,
        last: document.querySelector('#summary-last .from')?.textContent,
      };
    });
    assert.deepEqual(await note(), {
      same: true,
      value: 'half a thought',
      focused: true,
      selection: [5, 7, 'backward'],
      count: '1',
      last: 'Alice',
    });
    // Typing goes on where it was: over the selection.
    await bob.keyboard.type('one ');
    assert.equal((await note()).value, 'half one thought');

    // Someone else again, with Bob's caret elsewhere; then the list around it changed too.
    assert.equal((await post('morph', '<b>Carol</b> too', 'Carol')).status, 201);
    await bob.locator('#summary-count', { hasText: '2' }).waitFor();
    const after = await note();
    assert.deepEqual([after.same, after.value, after.focused, after.last], [true, 'half one thought', true, 'Carol']);
    assert.equal(await bob.locator('#summary-last b').count(), 0, 'the fragment is escaped');
    assert.deepEqual(bob.errors.map(String), []);
    await bob.context().close();
  });

  // Chromium has moveBefore, which moves a node keeping its focus and scroll offset;
  // other browsers move with insertBefore, which loses both: morph puts them back.
  for (const moveBefore of [true, false]) {
  it(`morph${moveBefore ? '' : ' (without moveBefore)'}: by id, else position and tag; keeps changed and focused controls and scroll offsets`, T, async () => {
    let served = 0;
    const v1 = `<p id="a">A1</p><input id="focused" value="server 1">
      <input id="typed" value="server 1"><input id="untouched" value="server 1">
      <input id="box" type="checkbox"><textarea id="area">server 1</textarea>
      <select id="pick"><option value="x" selected>x1</option><option value="y">y1</option></select>
      <select id="pick2"><option value="x" selected>x1</option><option value="y">y1</option></select>
      <ul><li>one</li></ul><span id="gone">bye</span>
      <div id="log" style="height: 40px; overflow: auto">${'<p>line</p>'.repeat(30)}</div>`;
    // The log and #focused move to the front (by id), #a's text and every value change.
    const v2 = `<div id="log" style="height: 40px; overflow: auto">${'<p>line 2</p>'.repeat(30)}</div>
      <input id="focused" value="server 2"><p id="a">A2</p>
      <input id="typed" value="server 2"><input id="untouched" value="server 2">
      <input id="box" type="checkbox" checked><textarea id="area">server 2</textarea>
      <select id="pick"><option value="x" selected>x2</option><option value="y">y2</option></select>
      <select id="pick2"><option value="x">x2</option><option value="y" selected>y2</option></select>
      <ul><li>one</li><li>two</li></ul><b id="new">new</b><script>window.ran = true</script>`;
    const page = await testPage(browser, server, `
      <div id="m" data-sb-channel="room.mu" data-sb-action="GET /morph/fragment"
           data-sb-swap="morph" data-sb-debounce="0" data-sb-load></div>`, {
      prepare: async (p) => {
        if (!moveBefore) {
          // setContent keeps the window (document.open does not replace it).
          await p.evaluate(() => {
            for (const type of [Element, Document, DocumentFragment]) delete type.prototype.moveBefore;
          });
        }
        await p.route(`${server.http}/morph/fragment`, (route) => {
          served += 1;
          return route.fulfill({ contentType: 'text/html', body: served === 1 ? v1 : v2 });
        });
      },
    });
    assert.equal(await page.evaluate(() => typeof document.body.moveBefore), moveBefore ? 'function' : 'undefined');
    await page.waitForSelector('#m #log');
    await page.fill('#typed', 'mine');
    await page.fill('#area', 'my text');
    await page.check('#box');
    await page.selectOption('#pick', 'y');
    await page.evaluate(() => {
      window.kept = ['focused', 'typed', 'area', 'log', 'a'].map((id) => document.getElementById(id));
      document.getElementById('log').scrollTop = 100;
    });
    await page.focus('#focused');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight'); // caret at 1, value untouched: focus alone keeps it

    assert.equal((await post('mu', 'refresh')).status, 201);
    await page.waitForSelector('#m #new');
    const state = await page.evaluate(() => {
      const $ = (id) => /** @type {any} */ (document.getElementById(id));
      return {
        same: window.kept.map((element, i) => element === $(['focused', 'typed', 'area', 'log', 'a'][i])),
        focused: [$('focused').value, document.activeElement?.id, $('focused').selectionStart],
        typed: [$('typed').value, $('typed').defaultValue],
        untouched: $('untouched').value,
        box: $('box').checked,
        area: $('area').value,
        pick: [$('pick').value, $('pick').options[1].textContent],
        pick2: $('pick2').value,
        log: [$('log').scrollTop, $('log').firstElementChild.textContent],
        order: [...$('m').children].map((e) => e.id || e.localName),
        items: [...document.querySelectorAll('#m li')].map((li) => li.textContent),
        a: $('a').textContent,
        gone: $('gone'),
        ran: window.ran ?? null,
      };
    });
    assert.deepEqual(state, {
      same: [true, true, true, true, true],
      focused: ['server 1', 'focused', 1],
      typed: ['mine', 'server 2'],
      untouched: 'server 2',
      box: true,
      area: 'my text',
      pick: ['y', 'y2'],
      pick2: 'y',
      log: [100, 'line 2'],
      order: ['log', 'focused', 'a', 'typed', 'untouched', 'box', 'area', 'pick', 'pick2', 'ul', 'new', 'script'],
      items: ['one', 'two'],
      a: 'A2',
      gone: null,
      ran: null,
    });
    assert.deepEqual(await eventsOf(page, 'm'), [
      ['m', 'sb:refreshed', '/morph/fragment'],
      ['m', 'sb:refreshed', '/morph/fragment'],
    ]);
    assert.deepEqual(page.errors.map(String), []);
    await page.context().close();
  });
  }

  it('templating: {data.field}, {data.a.b} and {offset} fill the action URL from the signal', T, async () => {
    /** @type {import('playwright-core').WebSocketRoute[]} */
    const sockets = [];
    /** @type {{method: string, url: string}[]} */
    const requests = [];
    const page = await testPage(browser, server, `
      <div id="real" data-sb-channel="room.tpl" data-sb-on="message" data-sb-debounce="0"
           data-sb-action="POST /tpl/real/{data.from}?seq={data.seq}&amp;text={data.message}&amp;none={data.nope}&amp;at={offset}"></div>
      <div id="nested" data-sb-channel="room.tpl" data-sb-on="receipt-changed" data-sb-debounce="0"
           data-sb-action="/tpl/nested?at={data.at}&amp;id={data.receipt.id}&amp;deep={data.receipt.none.x}&amp;obj={data.receipt}&amp;proto={data.constructor}"></div>
      <div id="burst" data-sb-channel="room.tpl" data-sb-on="receipt-burst" data-sb-debounce="300"
           data-sb-action="patch /tpl/burst?at={data.at}"></div>`, {
      prepare: async (p) => {
        // The page's socket goes through Playwright, which can hand it packets as the
        // server would send them.
        await p.routeWebSocket(/\/ws(\?|$)/, (ws) => {
          ws.connectToServer();
          sockets.push(ws);
        });
        await p.route(`${server.http}/tpl/**`, (route) => {
          requests.push({ method: route.request().method(), url: route.request().url().slice(server.http.length) });
          return route.fulfill({ contentType: 'text/html', body: `<p>${requests.length}</p>` });
        });
      },
    });
    await page.waitForFunction(() => ['real', 'nested', 'burst'].every((id) =>
      document.getElementById(id).dataset.sbState === 'live'));

    // A real signal: the demo's `message` on a room (a stream: offset 1).
    assert.equal((await post('tpl', 'a b&c/d?#')).status, 201);
    await page.locator('#real p').waitFor();
    assert.deepEqual(requests, [
      { method: 'POST', url: '/tpl/real/Alice?seq=1&text=a%20b%26c%2Fd%3F%23&none=&at=1' },
    ]);

    // A data-change signal as the server sends them, with nested data.
    const signal = (event, data) => sockets[0].send(JSON.stringify({ event, channel: 'room.tpl', data }));
    signal('receipt-changed', { at: 1764662400123, count: 3, receipt: { id: 'r 42/x' } });
    await page.locator('#nested p').waitFor();
    // A burst is one request, templated from its last signal.
    for (const at of [1, 2, 3]) signal('receipt-burst', { at });
    await page.locator('#burst p').waitFor();
    assert.deepEqual(requests, [
      { method: 'POST', url: '/tpl/real/Alice?seq=1&text=a%20b%26c%2Fd%3F%23&none=&at=1' },
      { method: 'GET', url: '/tpl/nested?at=1764662400123&id=r%2042%2Fx&deep=&obj=&proto=' },
      { method: 'PATCH', url: '/tpl/burst?at=3' },
    ]);
    assert.deepEqual(page.errors.map(String), []);
    await page.context().close();
  });

  it('only same-origin HTML is swapped in: JSON, a foreign URL or a redirect elsewhere replace nothing', T, async (t) => {
    // Another origin that really answers, with HTML anyone may read: only what it
    // received tells whether a request went out (Chromium reports a redirect it then
    // refuses to follow as a request too).
    const foreign = [];
    const other = http.createServer((request, response) => {
      foreign.push(request.url);
      response.writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' });
      response.end('<p>foreign</p>');
    });
    await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
    t.after(() => other.close());
    const OTHER = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (other.address()).port}`;
    const page = await testPage(browser, server, `
      <div id="json" data-sb-channel="room.only" data-sb-action="POST /only/json" data-sb-load><p>original</p></div>
      <div id="plain" data-sb-channel="room.only" data-sb-refresh="/only/plain" data-sb-load><p>original</p></div>
      <div id="foreign" data-sb-channel="room.only" data-sb-action="POST ${OTHER}/action" data-sb-load><p>original</p></div>
      <div id="redirect" data-sb-channel="room.only" data-sb-action="GET /only/redirect" data-sb-load><p>original</p></div>
      <div id="html" data-sb-channel="room.only" data-sb-action="GET /only/html" data-sb-load><p>original</p></div>`, {
      prepare: async (p) => {
        await p.route(`${server.http}/only/*`, (route) => {
          const name = new URL(route.request().url()).pathname.split('/').pop();
          if (name === 'json') return route.fulfill({ contentType: 'application/json', body: '{"html": "<p>replaced</p>"}' });
          if (name === 'plain') return route.fulfill({ contentType: 'text/plain', body: '<p>replaced</p>' });
          if (name === 'redirect') return route.fulfill({ status: 302, headers: { location: `${OTHER}/landing` } });
          return route.fulfill({ contentType: 'text/html; charset=utf-8', body: '<p>replaced</p>' });
        });
      },
    });
    await page.locator('#html p', { hasText: 'replaced' }).waitFor();
    // Each element has been answered (or refused), whichever way.
    const answered = (id) => page.evaluate((id) => window.events.filter(([target]) => target === id).length, id);
    await page.waitForFunction(() => ['json', 'plain', 'redirect', 'foreign'].every((id) =>
      window.events.some(([target]) => target === id)));
    // And after a signal too (the load was not the only chance).
    assert.equal((await post('only', 'signal')).status, 201);
    await page.waitForFunction(() => ['html', 'json', 'plain', 'redirect'].every((id) =>
      window.events.filter(([target]) => target === id).length === 2));
    assert.equal(await answered('foreign'), 1, 'refused once, when bound');
    for (const id of ['json', 'plain', 'foreign', 'redirect']) {
      assert.equal(await page.textContent(`#${id}`), 'original', `#${id} kept its content`);
    }
    for (const id of ['json', 'plain', 'redirect', 'foreign']) {
      assert.deepEqual((await eventsOf(page, id)).map(([, type]) => type), id === 'foreign' ? ['sb:error'] : ['sb:error', 'sb:error']);
    }
    assert.match((await eventsOf(page, 'json'))[0][2], /not HTML \(application\/json\)/);
    assert.match((await eventsOf(page, 'plain'))[0][2], /not HTML \(text\/plain\)/);
    assert.match((await eventsOf(page, 'foreign'))[0][2], /same-origin/);
    assert.equal(await page.getAttribute('#foreign', 'data-sb-state'), 'error');
    assert.equal(await page.getAttribute('#redirect', 'data-sb-state'), 'live');
    assert.deepEqual(foreign, [], 'nothing was requested from another origin');
    assert.deepEqual(page.errors.map(String), []);
    await page.context().close();
  });

  it('a response whose final URL is another origin replaces nothing (a fetch that followed a redirect)', T, async () => {
    // A bare page: its only client is the one below.
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.http}/rooms/none/messages`);
    await page.setContent('<!doctype html><body><main></main></body>');
    const { token } = await server.token('Dora');
    // A `fetch` as one without `mode` enforcement would behave: the redirect was
    // followed, and the answer is HTML from another origin.
    const result = await page.evaluate(async ({ token, foreign }) => {
      const { SocketClient } = await import('/switchboard/switchboard.js');
      const answer = (url) => ({
        ok: true, status: 200, url, headers: new Headers({ 'content-type': 'text/html' }), text: async () => '<p>replaced</p>',
      });
      const fetch = async (input) => (String(input).includes('/away') ? answer(`${foreign}/landing`) : answer(new URL(String(input), location.href).href));
      const client = new SocketClient('/ws', { token, fetch });
      await client.connect();
      document.querySelector('main').insertAdjacentHTML('beforeend', `
        <div id="away" data-sb-channel="room.final" data-sb-action="GET /final/away" data-sb-load><p>original</p></div>
        <div id="home" data-sb-channel="room.final" data-sb-action="GET /final/home" data-sb-load><p>original</p></div>`);
      const seen = [];
      for (const id of ['away', 'home']) {
        for (const type of ['sb:error', 'sb:refreshed']) {
          document.getElementById(id).addEventListener(type, (e) => seen.push([id, type, String(e.detail?.message ?? e.detail?.url)]));
        }
      }
      const binding = client.bindDeclarative(document.querySelector('main'));
      while (seen.length < 2) await new Promise((r) => setTimeout(r, 20));
      binding.stop();
      client.disconnect();
      return { seen: seen.sort(), away: document.getElementById('away').textContent, home: document.getElementById('home').textContent };
    }, { token, foreign: FOREIGN });
    assert.deepEqual(result.seen.map(([id, type]) => [id, type]), [['away', 'sb:error'], ['home', 'sb:refreshed']]);
    assert.match(result.seen[0][2], /redirected to another origin/);
    assert.deepEqual([result.away, result.home], ['original', 'replaced']);
    await page.context().close();
  });

  it('data-sb-target names what is replaced; data-sb-swap="outerHTML" replaces it whole', T, async () => {
    let served = 0;
    const page = await testPage(browser, server, `
      <div id="src" data-sb-channel="room.target" data-sb-action="POST /target/card"
           data-sb-target="#card" data-sb-swap="outerHTML" data-sb-debounce="0"><span>the binding</span></div>
      <section id="card" class="old">old card</section>
      <div id="typo" data-sb-channel="room.target" data-sb-action="POST /target/card" data-sb-swap="sideways"
           data-sb-debounce="0">typo</div>`, {
      prepare: (p) => p.route(`${server.http}/target/card`, (route) => {
        served += 1;
        return route.fulfill({ contentType: 'text/html', body: `<section id="card" class="new">card ${served}</section>` });
      }),
    });
    await page.waitForSelector('#src[data-sb-state="live"]', { state: 'attached' });
    assert.equal((await post('target', 'one')).status, 201);
    await page.locator('#card', { hasText: 'card 1' }).waitFor();
    // Replaced whole, the new card is found by the selector again.
    assert.equal((await post('target', 'two')).status, 201);
    await page.locator('#card', { hasText: 'card 2' }).waitFor();
    assert.equal(await page.getAttribute('#card', 'class'), 'new');
    assert.equal(await page.locator('#card').count(), 1);
    assert.equal(await page.textContent('#src'), 'the binding');
    // An unknown swap is refused before anything is requested.
    assert.equal(served, 2);
    const typo = await eventsOf(page, 'typo');
    assert.equal(typo.length, 2);
    assert.match(typo[0][2], /data-sb-swap must be/);
    await page.context().close();
  });

  it('X-Socket-Id carries the connection id on declarative requests and same-origin client.fetch, never elsewhere', T, async () => {
    /** @type {{url: string, method: string, id: string | undefined, extra?: string}[]} */
    const seen = [];
    const bob = await signIn(browser, server.http, 'Bob', {
      prepare: async (context) => {
        const record = async (route) => {
          const request = route.request();
          const headers = await request.allHeaders();
          seen.push({ url: request.url(), method: request.method(), id: headers['x-socket-id'], extra: headers['x-extra'] });
        };
        await context.route(/\/rooms\/hdr\//, async (route) => {
          await record(route);
          return route.continue();
        });
        await context.route(`${FOREIGN}/**`, async (route) => {
          await record(route);
          return route.fulfill({ headers: { 'access-control-allow-origin': '*' }, body: 'ok' });
        });
      },
    });
    const id = await bob.evaluate(() => window.demo.client.connectionId);
    assert.ok(id, 'connected');
    await enterRoom(bob, 'hdr');
    await bob.waitForSelector('#room-messages li.empty');
    const declarative = seen.filter((r) => r.url.startsWith(server.http));
    assert.deepEqual(declarative.map((r) => [r.method, r.url.slice(server.http.length), r.id]).sort(), [
      ['GET', '/rooms/hdr/messages', id],
      ['POST', '/rooms/hdr/summary', id],
    ]);

    seen.length = 0;
    const results = await bob.evaluate(async (foreign) => {
      const client = window.demo.client;
      const status = async (response) => (await response).status;
      return [
        await status(client.fetch('/rooms/hdr/messages')),
        await status(client.fetch(new Request(`${location.origin}/rooms/hdr/messages?req`, { headers: { 'x-extra': 'kept' } }))),
        await status(client.fetch(new URL('/rooms/hdr/messages?url', location.href), { headers: { 'x-extra': 'init' } })),
        await status(client.fetch(`${foreign}/api`)).catch((error) => String(error)),
      ];
    }, FOREIGN);
    assert.deepEqual(results, [200, 200, 200, 200]);
    assert.deepEqual(seen.map((r) => [r.url.replace(server.http, ''), r.id, r.extra]), [
      ['/rooms/hdr/messages', id, undefined],
      ['/rooms/hdr/messages?req', id, 'kept'],
      ['/rooms/hdr/messages?url', id, 'init'],
      [`${FOREIGN}/api`, undefined, undefined],
    ]);

    // Not connected: there is no id to send.
    seen.length = 0;
    await bob.evaluate(async () => {
      window.demo.client.disconnect();
      await window.demo.client.fetch('/rooms/hdr/messages?offline');
    });
    assert.deepEqual(seen.map((r) => [r.url.replace(server.http, ''), r.id]), [['/rooms/hdr/messages?offline', undefined]]);
    assert.deepEqual(bob.errors.map(String), []);
    await bob.context().close();
  });

  it('client.fetch under Node: the WebSocket server’s origin is the own one', T, async () => {
    const calls = [];
    const fetch = async (input, init) => {
      calls.push([String(input), new Headers(init?.headers).get('x-socket-id')]);
      return new Response('ok');
    };
    const { token } = await server.token('Nod');
    const client = new SocketClient(server.ws, { WebSocket, token, fetch });
    await client.fetch(`${server.http}/before`);
    const { connectionId } = await client.connect();
    await client.fetch(`${server.http}/during`);
    await client.fetch(`${FOREIGN}/during`);
    client.disconnect();
    assert.deepEqual(calls, [
      [`${server.http}/before`, null],
      [`${server.http}/during`, connectionId],
      [`${FOREIGN}/during`, null],
    ]);
  });
});
