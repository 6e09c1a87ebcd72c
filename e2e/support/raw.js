// A `ws` WebSocket that records what the server really sent, beneath the client's own
// filtering: the client drops packets for channels it has left, so a check made through
// its listeners cannot see a server that keeps sending them.

import WebSocket from 'ws';

/**
 * A WebSocket class for `new SocketClient(url, { WebSocket })` and what it saw:
 * `opened` counts sockets constructed (connection attempts), `packets` holds every
 * packet received, parsed, across reconnects, `handshakes` each socket's URL and
 * offered subprotocols.
 * @param {object} [options] extra `ws` options for every socket (e.g. `{ origin }`)
 */
export function recording(options = {}) {
  const record = {
    opened: 0,
    /** @type {any[]} */ packets: [],
    /** Each socket's URL and offered subprotocols, as the client asked. */
    /** @type {{ url: string, protocols: any }[]} */ handshakes: [],
  };
  class RecordingWebSocket extends WebSocket {
    constructor(url, protocols, wsOptions) {
      super(url, protocols, { ...wsOptions, ...options });
      record.opened += 1;
      record.handshakes.push({ url: String(url), protocols });
      this.on('message', (data) => record.packets.push(JSON.parse(String(data))));
    }
  }
  return { WebSocket: RecordingWebSocket, record };
}

/**
 * Resolves with the index in `record.packets` of the first packet after `from` that
 * matches `predicate`, polling; rejects after `timeout` ms.
 */
export async function seenRaw(record, predicate, from = 0, timeout = 5_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const index = record.packets.findIndex((packet, i) => i >= from && predicate(packet));
    if (index >= 0) return index;
    if (Date.now() > deadline) throw new Error(`no matching packet within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
