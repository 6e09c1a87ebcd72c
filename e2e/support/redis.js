// A private redis-server on a free port, for tests of two demo nodes (scripts/test.sh
// installs redis-server). Kill it with `redis.child.kill('SIGKILL')`.

import { spawn } from 'node:child_process';
import net from 'node:net';

import { freePort } from './server.js';

/** Starts redis-server and resolves once it answers: `{child, url}`. */
export async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await answersPing(port)) return { child, url: `redis://127.0.0.1:${port}` };
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Ready is a PING answered with PONG: Redis accepts connections before it can serve. */
function answersPing(port) {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => socket.destroy());
    socket.on('data', (chunk) => {
      answer += chunk;
      if (answer.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(answer.startsWith('+PONG')));
    socket.on('error', () => {});
  });
}
