// Uses the client with the demo's generated types (`switchboard-app typescript`):
// must typecheck under --strict.

import { SocketClient, SocketError, type SocketChannel } from 'switchboard-client';
import type { App, Channels, Posted, Receipt } from './app';

const client = new SocketClient<App>('wss://chat.example/ws', { token: async () => 'jwt' });

export async function chat(userId: string): Promise<string[]> {
  const seen: string[] = [];
  await client.connect();

  // `global-chat` sends Posted and handles ChatMessage, acked with null.
  const global = await client.subscribe('global-chat');
  global.listen('message', (m) => seen.push(`${m.from}: ${m.message}`));
  const acked: null = await global.emit('message', { message: 'hi' }, { ack: true });
  const sent: undefined = await global.emit('message', { message: 'hi again' });
  seen.push(String(acked), String(sent));

  // `room.{id}`: a subscriber's Posted, a RoomMessage, or a PostgreSQL signal.
  const room = await client.subscribe('room.42');
  room.listen('message', (m) => {
    if ('at' in m) seen.push(`changed at ${m.at} (${m.count})`);
    else if ('seq' in m) seen.push(`#${m.seq} ${m.from}: ${m.message}`);
    else seen.push(`${m.from}: ${m.message}`);
  });
  room.listen('resync', (info) => seen.push(info.reason));
  room.listen('unsubscribed', (info) => seen.push(info.message));

  // A name built at run time is a `user:chat.{id}` channel too.
  const mine: SocketChannel<Channels['user:chat.{id}']> = await client.subscribe(`user:chat.${userId}`);
  mine.listen('message', (m) => seen.push('to' in m ? `${m.from_id} → ${m.to}` : m.from));

  // Direct events and socket listeners, with the ack's type.
  const receipt: Receipt = await client.emit('private-message', { to: 'bob', message: 'psst' }, { ack: true });
  seen.push(`delivered to ${receipt.delivered}`);
  client.listen('notification', (n) => seen.push(n.message));
  await client.emit('echo', { anything: [1, 'two'] });

  // Envuso's callback style, and the client's own events.
  client.subscribe('global-chat', (error: SocketError | null, channel) => {
    if (error) seen.push(error.reason ?? error.code);
    channel?.listen('message', (m: Posted) => seen.push(m.from));
  });
  client.on('recovered', (channel, missed) => seen.push(`${channel.name}: ${missed}`));
  client.on('state', (state, previous) => seen.push(`${previous} → ${state}`));
  await room.unsubscribe();
  return seen;
}
