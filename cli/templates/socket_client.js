// The `{{Name}}` socket listener (event `{{event}}`) from a page, with the browser
// client the server serves at /switchboard/switchboard.js. Written by
// `switchboard new socket`; import it from your page's module, or copy what you need.
import { SocketClient } from '/switchboard/switchboard.js';

/**
 * Calls `onAnswer` with every `{{event}}` the server sends this connection, and returns
 * a `send(text)` that emits `{{event}}` and resolves once the server handled it.
 *
 * @param {SocketClient} client A client; `send` rejects while it is not connected.
 * @param {(data: {text: string}) => void} onAnswer
 */
export function use{{Name}}(client, onAnswer) {
  client.listen('{{event}}', onAnswer);
  return text => client.emit('{{event}}', { text }, { ack: true });
}

// For example:
//
//   const client = new SocketClient('/ws', { token: () => fetchToken() });
//   await client.connect();
//   const send = use{{Name}}(client, data => console.log(data.text));
//   await send('hi');
