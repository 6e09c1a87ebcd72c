// The demo's room page in headless Chromium, across a network cut and a server restart:
// rooms are streams (Demo.toml's room_history), so a page that lost its connection gets
// the messages it missed from the room's history, and a page whose server restarted (a
// new epoch on the memory backplane) is told so and re-fetches.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DemoServer, sleep } from './support/server.js';
import { demoInChromium, stopDemoInChromium, seen, settled, signIn, submit } from './support/browser.js';

const T = { timeout: 60_000 };

/**
 * A page signed in as `name` whose WebSocket goes through Playwright, so the test can
 * cut it: `cut()` closes it and refuses every reconnect until `restore()`.
 * @param {import('playwright-core').Browser} browser
 * @param {string} baseUrl
 * @param {string} name
 */
async function cuttablePage(browser, baseUrl, name) {
  let down = false;
  /** @type {import('playwright-core').WebSocketRoute[]} */
  const live = [];
  const page = await signIn(browser, baseUrl, name, {
    prepare: (context) => context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
      if (down) {
        ws.close({ code: 4000, reason: 'network cut' });
        return;
      }
      ws.connectToServer();
      live.push(ws);
    }),
  });
  assert.equal(live.length, 1, 'the page connected through the route');
  const network = {
    async cut() {
      down = true;
      await Promise.all(live.splice(0).map((ws) => ws.close({ code: 4000, reason: 'network cut' })));
    },
    restore() {
      down = false;
    },
  };
  return { page, network };
}

/** Puts `page` in room `id` and waits until its list shows the room, bound and loaded. */
async function enterRoom(page, id) {
  await submit(page, '#room-picker', { '#room-id': id });
  await page.waitForSelector(`#room-messages[data-sb-channel="room.${id}"][data-sb-state="live"]`);
}

/** What the page's client reported: `resync` events (channel and reason), in order. */
async function watchResyncs(page) {
  await page.evaluate(() => {
    window.resyncs = [];
    window.demo.client.on('resync', (channel, why) => window.resyncs.push([channel.name, why.reason]));
  });
}

describe('the demo room page across a network cut and a restart', () => {
  /** @type {DemoServer} */
  let server;
  /** @type {import('playwright-core').Browser} */
  let browser;

  before(async () => ({ server, browser } = await demoInChromium()), T);
  after(() => stopDemoInChromium({ server, browser }), T);

  const post = (room, message) => server.post(`/rooms/${room}/messages`, { message }, { as: 'Alice' });

  it('messages posted while the network was cut are recovered, not re-fetched after a resync', T, async () => {
    const { page, network } = await cuttablePage(browser, server.http, 'Dora');
    await enterRoom(page, 'cut');
    await watchResyncs(page);
    /** Every GET of the room's fragment: the declarative element re-fetching. */
    const fetches = [];
    page.on('request', (request) => {
      if (request.url().includes('/rooms/cut/messages') && request.method() === 'GET') fetches.push(request.url());
    });

    await network.cut();
    await page.waitForSelector('#state[data-state="reconnecting"]');
    for (const text of ['Posted during the cut', 'Also during the cut']) assert.equal((await post('cut', text)).status, 201);
    network.restore();
    await page.waitForSelector('#state[data-state="connected"]', { timeout: 20_000 });
    await seen(page, '#room-messages', 'Posted during the cut');
    await seen(page, '#room-messages', 'Also during the cut');
    const room = await page.evaluate(() => {
      const channel = window.demo.client.channel('room.cut');
      return { recovered: channel.recovered, offset: channel.position?.offset };
    });
    assert.deepEqual(room, { recovered: true, offset: 2 }, 'the missed messages came from the history');
    assert.deepEqual(await page.evaluate(() => window.resyncs), []);

    // A cut with nothing missed: recovered, and nothing to re-fetch.
    await sleep(500); // the refresh the missed messages asked for is done
    const before = fetches.length;
    assert.ok(before >= 1, 'the missed messages refreshed the list');
    await network.cut();
    await page.waitForSelector('#state[data-state="reconnecting"]');
    network.restore();
    await page.waitForSelector('#state[data-state="connected"]', { timeout: 20_000 });
    await settled(page);
    await sleep(500);
    assert.equal(await page.evaluate(() => window.demo.client.channel('room.cut').recovered), true);
    assert.equal(fetches.length, before, 'a recovered reconnect with nothing missed fetches nothing');
    assert.deepEqual(page.errors.map(String), []);
    await page.context().close();
  });

  it('messages posted while the server restarted show after a re-fetch (a new epoch)', T, async () => {
    const { page, network } = await cuttablePage(browser, server.http, 'Eve');
    await enterRoom(page, 'reboot');
    assert.equal((await post('reboot', 'Before the restart')).status, 201);
    await seen(page, '#room-messages', 'Before the restart');
    await watchResyncs(page);
    const epoch = await page.evaluate(() => window.demo.client.channel('room.reboot').position?.epoch);

    await network.cut(); // the page stays away until the restarted server has the new message
    await server.stop();
    await server.start(); // same port and secret; the room's history (and store) are gone
    assert.equal((await post('reboot', 'Posted while the page was away')).status, 201);
    network.restore();
    await page.waitForSelector('#state[data-state="connected"]', { timeout: 20_000 });
    await seen(page, '#room-messages', 'Posted while the page was away');
    const room = await page.evaluate(() => {
      const channel = window.demo.client.channel('room.reboot');
      return { recovered: channel.recovered, epoch: channel.position?.epoch };
    });
    assert.equal(room.recovered, false, 'another epoch cannot be recovered');
    assert.notEqual(room.epoch, epoch);
    assert.deepEqual(await page.evaluate(() => window.resyncs), [['room.reboot', 'not_recovered']]);
    assert.equal(await page.locator('#room-messages li', { hasText: 'Before the restart' }).count(), 0,
      'the list is what the restarted server has');
    assert.deepEqual(page.errors.map(String), []);
    await page.context().close();
  });
});
