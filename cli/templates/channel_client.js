// The `{{Name}}` channel listener (`{{pattern}}`) from a page, with the browser client
// the server serves at /switchboard/switchboard.js. Written by
// `switchboard new channel`; import it from your page's module, or copy what you need.
import { SocketClient } from '/switchboard/switchboard.js';

/**
 * Joins {{js_channel_doc}}.
 * Calls `onMessage` with every `message` on it, and resolves to the channel and a
 * `send(text)` that resolves once the server handled it.
 *
 * @param {SocketClient} client A client, connected or connecting (`subscribe` waits for `ready`).
{{js_params_doc}} * @param {(data: {text: string}) => void} onMessage
 */
export async function join{{Name}}(client, {{js_params_arg}}onMessage) {
  const channel = await client.subscribe({{js_channel}});
  channel.listen('message', onMessage);
  return {
    channel,
    send: text => channel.emit('message', { text }, { ack: true }),
  };
}

// For example:
//
//   const client = new SocketClient('/ws', { token: () => fetchToken() });
//   await client.connect();
//   const joined = await join{{Name}}(client, {{js_sample_arg}}data => console.log(data.text));
//   await joined.send('hi');
