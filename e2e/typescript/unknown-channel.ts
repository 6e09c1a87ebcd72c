// Joins a channel no listener serves: must not typecheck.

import { SocketClient } from 'switchboard-client';
import type { App } from './app';

const client = new SocketClient<App>('/ws');
await client.subscribe('rooms.42');
