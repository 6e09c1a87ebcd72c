// Sends a field the listener does not take: must not typecheck.

import { SocketClient } from 'switchboard-client';
import type { App } from './app';

const client = new SocketClient<App>('/ws');
const room = await client.subscribe('room.42');
await room.emit('message', { text: 'hi' });
