/// <reference lib="dom" />
// Types of the Switchboard browser client (switchboard.js, beside this file).
//
// Every class is generic over an application's types, as `switchboard::typescript`
// generates them (e.g. `switchboard-app typescript app.d.ts` for the demo):
//
//   import { SocketClient } from 'switchboard-client';
//   import type { App } from './app';
//   const client = new SocketClient<App>('/ws', { token });
//   const room = await client.subscribe('room.42');  // SocketChannel of `room.{id}`
//   room.listen('message', m => m.message);          // m: the payload `room.{id}` emits
//   await room.emit('message', { message: 'hi' });   // checked against what it handles
//
// Without a type argument every event name is a string and every payload `any`, as
// loose as the JavaScript itself.

// -- What an application's generated types look like ----------------------------------

/** One channel listener's events, as `switchboard::typescript` writes them. */
export interface ChannelTypes {
  /** The channel names the pattern matches, as a template literal type (`room.${string}`). */
  name: string;
  /** Names of more specific patterns (they win at run time), or `never`. */
  shadowedBy: string;
  /** Events the server sends on the channel: name → payload. */
  emits: object;
  /** Events the listener handles: name → payload the client sends. */
  handles: object;
  /** Events the listener handles: name → the ack's data (`{ ack: true }`). */
  acks: object;
}

/** Events without a channel: what the socket listeners handle and what the server sends directly. */
export interface SocketTypes {
  emits: object;
  handles: object;
  acks: object;
}

/** An application's types: `{ channels: { [pattern]: ChannelTypes }, socket: SocketTypes }`. */
export interface AppTypes {
  channels: object;
  socket: SocketTypes;
}

/** What an untyped client knows about any channel or direct event: nothing. */
export interface LooseEvents {
  emits: Record<string, any>;
  handles: Record<string, any>;
  acks: Record<string, any>;
}

/** The channel names `App` has listeners for; any string for an untyped client. */
export type ChannelName<App> = App extends { channels: infer C }
  ? { [K in keyof C]: C[K] extends { name: infer T extends string } ? T : never }[keyof C]
  : string;

/**
 * The events of the listener that serves channel `N`: the pattern `N` matches that no
 * more specific pattern also matches (the server picks the most specific one too).
 */
export type EventsOf<App, N extends string> = App extends { channels: infer C }
  ? {
      [K in keyof C]: C[K] extends { name: infer T; shadowedBy: infer S }
        ? N extends T
          ? N extends S
            ? never
            : C[K]
          : never
        : never;
    }[keyof C]
  : LooseEvents;

/** The direct (channel-less) events of `App`; loose for an untyped client. */
export type SocketEventsOf<App> = App extends { socket: infer S } ? S : LooseEvents;

type Emits<Ev> = Ev extends { emits: infer M } ? M : Record<string, any>;
type Handles<Ev> = Ev extends { handles: infer M } ? M : Record<string, any>;
type Acks<Ev> = Ev extends { acks: infer M } ? M : Record<string, any>;
type Lookup<M, K> = K extends keyof M ? M[K] : any;

/**
 * The arguments after the event name: the payload (optional when the listener ignores
 * it) and the options.
 */
type EmitArgs<Payload, Options> = undefined extends Payload
  ? [data?: Payload, options?: Options]
  : [data: Payload, options?: Options];

/** The arguments of an emit that asks for an ack: the options come last, so the data is written. */
type AckArgs<Payload, Options> = [data: Payload, options: Options];

// -- Options and records ----------------------------------------------------------------

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * Why the client asks for a token. `connect`: first attempt; `reconnect`: after a lost
 * connection or failed attempt; `refused`: the server refused the previous token;
 * `refresh`: the token expires soon and a new one is sent in-band.
 */
export interface TokenRequest {
  reason: 'connect' | 'reconnect' | 'refused' | 'refresh';
  attempt: number;
}

/** Returns the token to connect with (`null` for an anonymous connection). */
export type TokenSupplier = (
  request: TokenRequest,
) => string | null | undefined | Promise<string | null | undefined>;

export interface ClientOptions {
  /** A JWT, or a function returning a fresh one. */
  token?: string | TokenSupplier;
  /** How the token travels: the only `Sec-WebSocket-Protocol` value (default), or `?token=`. */
  tokenIn?: 'protocol' | 'query';
  /** The WebSocket constructor: the browser's by default; in Node 20 pass the `ws` package's. */
  WebSocket?: unknown;
  /** Tells a refused handshake from a network failure; used by `client.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean;
  /** Milliseconds: the shortest wait before a retry (250). */
  minReconnectDelay?: number;
  /** Milliseconds: the longest wait before a retry (10 000). */
  maxReconnectDelay?: number;
  /** Consecutive failed attempts before giving up (Infinity). */
  maxReconnectAttempts?: number;
  /** Milliseconds a connection must stay up before the backoff starts again (10 000). */
  stableAfter?: number;
  /** Milliseconds over which reconnects after a `1001` are spread (5 000). */
  goingAwayWindow?: number;
  /** Milliseconds from opening the socket to `ready` (10 000). */
  openTimeout?: number;
  /** Milliseconds without any packet before the connection is deemed dead (75 000; 0: off). */
  idleTimeout?: number;
  /** Milliseconds to wait for an `ack` (10 000). */
  ackTimeout?: number;
  /** Milliseconds to wait for a subscription answer (10 000). */
  subscribeTimeout?: number;
  /** Emits awaiting an ack at once; more are refused (256). */
  maxPendingAcks?: number;
  /** Bytes the socket may hold unsent before emits are refused with `backpressure` (1 MiB). */
  maxBufferedBytes?: number;
  /** Source of jitter (tests make it fixed). */
  random?: () => number;
}

export interface EmitOptions {
  /** Ask the server for an `ack`: the promise resolves with its data or rejects with its error. */
  ack?: boolean;
  /** Milliseconds to wait for the ack (default `ackTimeout`). */
  timeout?: number;
}

/** Options of an emit that waits for the server's `ack`. */
export type AckOptions = EmitOptions & { ack: true };

export interface ReadyInfo {
  connectionId: string;
  userId: string | null;
  /** When the token expires (seconds since the epoch), or null. */
  expiresAt: number | null;
  /** True when this is not the client's first connection. */
  reconnected: boolean;
  /** With user streams: whether this reconnect recovered every direct event; else null. */
  recovered: boolean | null;
  /** How many direct events were recovered. */
  missed: number;
}

/** A stream's position: the last publication seen. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** `resync`: publications were lost; re-fetch. */
export interface ResyncInfo {
  reason: string;
  offset?: number;
  epoch?: string;
}

/** `unsubscribed`: the server took the connection out of the channel. */
export interface UnsubscribedInfo {
  reason: string;
  message: string;
}

/** Events the protocol itself delivers on a channel, beside the application's. */
export interface ChannelSignals {
  resync: ResyncInfo;
  unsubscribed: UnsubscribedInfo;
}

/** A packet as received: the event, its channel (if any) and payload; streams add a position. */
export interface Packet<Data = any> {
  event: string;
  channel?: string;
  data: Data;
  offset?: number;
  epoch?: string;
}

/** The client's own events (`client.on(name, callback)`) and their callbacks' arguments. */
export interface ClientEvents {
  state: [state: ConnectionState, previous: ConnectionState];
  ready: [info: ReadyInfo];
  subscribed: [channel: SocketChannel];
  recovered: [channel: SocketChannel, missed: number];
  resync: [channel: SocketChannel, info: ResyncInfo];
  'user-resync': [info: ResyncInfo];
  refreshed: [info: { expiresAt: number | null }];
  unsubscribed: [channel: SocketChannel, info: UnsubscribedInfo];
  error: [error: SocketError];
  close: [info: { code: number; reason: string }];
}

// -- The API --------------------------------------------------------------------------

/**
 * A refusal or failure: `code` is a protocol error code or one of the client's own
 * (`not_connected`, `not_subscribed`, `disconnected`, `timeout`, `too_many_pending`,
 * `backpressure`, `closed`, `unreachable`).
 */
export declare class SocketError extends Error {
  constructor(
    code: string,
    message: string,
    details?: { channel?: string; event?: string; reason?: string; status?: number },
  );
  code: string;
  channel: string | undefined;
  event: string | undefined;
  /** The server's code for a refused subscription. */
  reason: string | undefined;
  /** HTTP status of a refused handshake. */
  status: number | undefined;
}

/**
 * The wait before reconnect attempt `attempt` (1, 2, …), in milliseconds: uniform in
 * `[min, min(max, min · 2^attempt)]`.
 */
export declare function backoffDelay(
  attempt: number,
  options?: { minReconnectDelay?: number; maxReconnectDelay?: number },
  random?: () => number,
): number;

/** The WebSocket URL for `path` on the page's own host (`ws:` or `wss:`). */
export declare function socketUrl(path?: string): string;

/**
 * A channel the client joined, typed by the listener's events `Ev` (an entry of the
 * generated `Channels`), or loosely without one.
 */
/** A member of a presence channel: `info` is what the server's resolver said. */
export interface PresenceMember {
  user_id: string;
  info?: unknown;
}

/** The answer to `presence-request`. */
export interface PresenceSnapshot {
  /** Distinct users. */
  count: number;
  /** Their connections, every node together. */
  connections: number;
  /** Absent on a counts-only (`presence(counts)`) channel. */
  members?: PresenceMember[];
}

export declare class SocketChannel<Ev = LooseEvents> {
  constructor(client: SocketClient<any>, name: string);
  readonly client: SocketClient<any>;
  readonly name: string;
  state: 'pending' | 'subscribed' | 'unsubscribed' | 'failed';
  /** On a stream: the last publication seen; null on a channel without history. */
  position: StreamPosition | null;
  /** After a (re-)join of a stream: whether what was missed was recovered; else null. */
  recovered: boolean | null;
  /** True while the server has this connection on the channel. */
  readonly subscribed: boolean;
  /** On a presence channel: user id → `info`, filled by `presence()`, kept by joins and leaves. */
  members: Map<string, unknown>;

  /** Presence: a user's first connection joined (`'join'`) or their last left (`'leave'`), on any node. */
  on(name: 'join', callback: (member: PresenceMember) => void): () => void;
  on(name: 'leave', callback: (member: { user_id: string }) => void): () => void;
  /** Who is on this presence channel (`members` absent on a counts-only channel). */
  presence(): Promise<PresenceSnapshot>;

  /** Calls `callback(data, packet)` for every `event` on this channel; returns the remover. */
  listen<E extends keyof (Emits<Ev> & ChannelSignals) & string>(
    event: E,
    callback: (
      data: Lookup<Emits<Ev> & ChannelSignals, E>,
      packet: Packet<Lookup<Emits<Ev> & ChannelSignals, E>> & { channel: string },
    ) => void,
  ): () => void;
  stopListening(event: string, callback?: Function): void;

  /** Sends `event` on this channel; with `{ ack: true }` resolves with the ack's data. */
  emit<E extends keyof Handles<Ev> & string>(
    event: E,
    ...args: AckArgs<Handles<Ev>[E], AckOptions>
  ): Promise<Lookup<Acks<Ev>, E>>;
  emit<E extends keyof Handles<Ev> & string>(
    event: E,
    ...args: EmitArgs<Handles<Ev>[E], EmitOptions & { ack?: false }>
  ): Promise<undefined>;
  emit<E extends keyof Handles<Ev> & string>(
    event: E,
    ...args: AckArgs<Handles<Ev>[E], EmitOptions>
  ): Promise<Lookup<Acks<Ev>, E> | undefined>;

  /** Leaves the channel and drops its listeners. */
  unsubscribe(): Promise<void>;
}

/**
 * One connection to a Switchboard server, kept up across failures: it reconnects with
 * backoff and re-joins every channel. `App` is the application's generated types.
 */
export declare class SocketClient<App = unknown> {
  constructor(url?: string, options?: ClientOptions);
  readonly url: string;
  /** The user's stream position when the server keeps sends to users; else null. */
  userPosition: StreamPosition | null;
  readonly state: ConnectionState;
  /** The connection id from `ready`, while connected. */
  readonly connectionId: string | null;
  /** The user id from `ready` (null when anonymous). */
  readonly userId: string | null;

  /** Connects with this token (or token supplier), Envuso style. */
  usingJwt(token: string | TokenSupplier): this;
  /** Opens the connection; resolves on `ready`, rejects when the client gives up. */
  connect(): Promise<ReadyInfo>;
  /** Closes the connection and stops reconnecting (channels and listeners are kept). */
  disconnect(code?: number, reason?: string): void;

  /** Listens to the client's own events; returns the remover. */
  on<K extends keyof ClientEvents>(name: K, callback: (...args: ClientEvents[K]) => void): () => void;
  off(name: keyof ClientEvents, callback?: Function): void;

  /** Listens to direct events (sent without a channel); returns the remover. */
  listen<E extends keyof Emits<SocketEventsOf<App>> & string>(
    event: E,
    callback: (
      data: Lookup<Emits<SocketEventsOf<App>>, E>,
      packet: Packet<Lookup<Emits<SocketEventsOf<App>>, E>>,
    ) => void,
  ): () => void;
  stopListening(event: string, callback?: Function): void;

  /** Sends a direct event, handled by the server's socket listener for it. */
  emit<E extends keyof Handles<SocketEventsOf<App>> & string>(
    event: E,
    ...args: AckArgs<Handles<SocketEventsOf<App>>[E], AckOptions>
  ): Promise<Lookup<Acks<SocketEventsOf<App>>, E>>;
  emit<E extends keyof Handles<SocketEventsOf<App>> & string>(
    event: E,
    ...args: EmitArgs<Handles<SocketEventsOf<App>>[E], EmitOptions & { ack?: false }>
  ): Promise<undefined>;
  emit<E extends keyof Handles<SocketEventsOf<App>> & string>(
    event: E,
    ...args: AckArgs<Handles<SocketEventsOf<App>>[E], EmitOptions>
  ): Promise<Lookup<Acks<SocketEventsOf<App>>, E> | undefined>;

  /** The joined (or joining) channel of that name, if any. */
  channel<N extends ChannelName<App>>(name: N): SocketChannel<EventsOf<App, N>> | undefined;
  /** Every channel the client holds. */
  channels(): SocketChannel<any>[];

  /** Joins a channel; resolves once the server accepts, rejects with a SocketError. */
  subscribe<N extends ChannelName<App>>(name: N): Promise<SocketChannel<EventsOf<App, N>>>;
  /** Envuso style: calls `callback(error, channel)` and resolves with the channel or null. */
  subscribe<N extends ChannelName<App>>(
    name: N,
    callback: (error: SocketError | null, channel: SocketChannel<EventsOf<App, N>> | null) => void,
  ): Promise<SocketChannel<EventsOf<App, N>> | null>;

  /** Watches `data-sb-channel` elements under `root`, now and later. */
  bindDeclarative(root?: ParentNode, options?: { debounce?: number }): DeclarativeBinding;
  /** `fetch`, plus `X-Socket-Id` on requests to the page's own origin while connected. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/** Declarative mode: elements with `data-sb-channel` re-fetch when their channel signals. */
export declare class DeclarativeBinding {
  constructor(client: SocketClient<any>, root: ParentNode, options?: { debounce?: number });
  readonly client: SocketClient<any>;
  readonly root: ParentNode;
  /** Binds every matching element in `node` (itself included). */
  scan(node: Node): void;
  /** Refreshes a bound element now, as a signal would; false when it is not bound. */
  refresh(element: Element): boolean;
  /** Stops watching and leaves the channels this binding joined. */
  stop(): void;
}

/** The client started by `data-sb-auto`, if any. */
export declare let autoClient: SocketClient | null;
