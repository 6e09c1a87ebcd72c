// Takes docs/demo.png: Bob's view of the demo while he and Alice chat.
// Usage: node e2e/screenshot.js [output.png]   (after `cargo build -p switchboard-app`)

import path from 'node:path';

import { DemoServer, ROOT, sleep } from './support/server.js';
import { launch, seen, signIn, submit } from './support/browser.js';

const output = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'demo.png'));
const server = await new DemoServer().start();
const browser = await launch();
try {
  const size = { width: 1440, height: 700 };
  const alice = await signIn(browser, server.http, 'Alice', size);
  const bob = await signIn(browser, server.http, 'Bob', size);

  const say = async (page, text) => {
    await submit(page, '#global-form', { '#global-input': text });
    await seen(bob, '#global-messages', text);
  };
  await say(alice, 'Morning all! Deploy went out at 9:00.');
  await say(bob, 'Nice, the dashboard looks fine from here.');
  await say(alice, 'Great. Ping me if anything looks off.');

  const whisper = async (page, to, text) => {
    await submit(page, '#private-form', { '#private-to': to, '#private-input': text });
    await seen(bob, '#private-messages', text);
  };
  await whisper(alice, 'bob', 'Lunch at noon?');
  await whisper(bob, 'alice', 'Sure, the usual place.');

  for (const [page, text] of [
    [alice, 'Agenda: release notes, then the retro.'],
    [bob, 'I will take the release notes.'],
    [alice, 'Thanks Bob!'],
  ]) {
    await submit(page, '#room-form', { '#room-input': text });
    await seen(bob, '#room-messages', text);
  }
  await bob.evaluate(() => document.activeElement?.blur());
  await server.post('/api/notify/bob', { message: 'Your build #42 passed' }, { as: 'Bob' });
  await bob.locator('#toasts .toast').waitFor();
  await sleep(400); // let the toast's slide-in finish
  await bob.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await server.stop();
}
