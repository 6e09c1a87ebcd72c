// Reads a field the payload does not have: must not typecheck.

import { SocketClient } from 'switchboard-client';
import type { App } from './app';

const client = new SocketClient<App>('/ws');
const chat = await client.subscribe('global-chat');
chat.listen('message', (m) => m.text);
