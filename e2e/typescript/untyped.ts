// The client without the application's types: as loose as the JavaScript. Must
// typecheck under --strict.

import { SocketClient, backoffDelay, socketUrl, autoClient } from 'switchboard-client';

export async function loose(name: string): Promise<unknown[]> {
  const seen: unknown[] = [];
  const client = new SocketClient(socketUrl('wss://chat.example/ws'), { token: () => null, reconnect: true });
  const ready = await client.connect();
  seen.push(ready.connectionId, backoffDelay(3), autoClient?.state);
  const channel = await client.subscribe(name);
  channel.listen('anything', (data) => seen.push(data.whatever.you.like));
  const ack = await channel.emit('whatever', { a: 1 }, { ack: true, timeout: 500 });
  seen.push(ack.field);
  await channel.emit('no-data');
  client.listen('notification', (data, packet) => seen.push(data.message, packet.event));
  await client.emit('private-message', 42);
  client.subscribe('global-chat', (error, joined) => seen.push(error?.code, joined?.name));
  client.channel(name)?.stopListening('anything');
  for (const held of client.channels()) seen.push(held.position?.offset);
  const binding = client.bindDeclarative(document, { debounce: 10 });
  binding.stop();
  client.disconnect();
  return seen;
}
