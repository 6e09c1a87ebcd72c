// Switchboard browser client: protocol v1 over one WebSocket.
//
// A plain ES module with no build step and no dependency. The framework serves it at
// `GET /switchboard/switchboard.js` (under `routes_prefix`) whenever the WebSocket endpoint is enabled:
//
//   import { SocketClient } from '/switchboard/switchboard.js';
//   const client = new SocketClient('/ws', { token: () => fetchToken() });
//   await client.connect();
//   const room = await client.subscribe('room.42');
//   room.listen('message', data => console.log(data.message));
//   await room.emit('message', { message: 'hi' }, { ack: true });
//
// The API reads like Envuso's socket client (`usingJwt(token).connect()`,
// `subscribe(name, (error, channel) => …)`, `channel.listen(event, cb)`).

/** @typedef {'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed'} ConnectionState */

/**
 * Why the client asks for a token.
 * `connect`: first attempt; `reconnect`: after a lost connection or failed attempt;
 * `refused`: the server refused the previous token (expired, invalid);
 * `refresh`: the connection's token expires soon (`token-expiring`): a new one is sent
 * in-band (`refresh-token-request`), without reconnecting.
 * @typedef {{ reason: 'connect' | 'reconnect' | 'refused' | 'refresh', attempt: number }} TokenRequest
 */

/**
 * Returns the token to connect with (or `null` for an anonymous connection). Called
 * before every attempt, so it can refresh an expired token.
 * @typedef {(request: TokenRequest) => (string | null | undefined | Promise<string | null | undefined>)} TokenSupplier
 */

/**
 * @typedef {object} ClientOptions
 * @property {string | TokenSupplier} [token] A JWT, or a function returning a fresh one.
 * @property {'protocol' | 'query'} [tokenIn='protocol'] How the token travels: as the
 *   handshake's only `Sec-WebSocket-Protocol` value (kept out of URLs, so out of proxy
 *   and access logs), or as `?token=` for servers that only read the query.
 * @property {typeof globalThis.WebSocket} [WebSocket] The WebSocket constructor: the
 *   browser's by default; in Node 20 pass the `ws` package's.
 * @property {typeof globalThis.fetch} [fetch] Used to tell a refused handshake from a
 *   network failure, by {@link SocketClient#fetch}, and so by declarative mode.
 * @property {boolean} [reconnect=true] Reconnect after a lost connection.
 * @property {number} [minReconnectDelay=250] Milliseconds: the shortest wait before a retry.
 * @property {number} [maxReconnectDelay=10000] Milliseconds: the longest wait before a retry.
 * @property {number} [maxReconnectAttempts=Infinity] Consecutive failed attempts before giving up.
 * @property {number} [stableAfter=10000] Milliseconds a connection must stay up before the
 *   backoff starts again from its shortest delay (a server that accepts, then closes at
 *   once, is retried ever more slowly, not every few hundred milliseconds forever).
 * @property {number} [goingAwayWindow=5000] Milliseconds over which reconnects after a
 *   `1001` (a server shutting down) are spread, so a drained node's clients do not all
 *   arrive at its neighbours in the same instant.
 * @property {number} [openTimeout=10000] Milliseconds from opening the socket to `ready`.
 * @property {number} [idleTimeout=75000] Milliseconds without any packet (the server pings
 *   every 25 s by default) after which the connection is deemed dead; 0 turns it off.
 * @property {number} [ackTimeout=10000] Milliseconds to wait for an `ack`.
 * @property {number} [subscribeTimeout=10000] Milliseconds to wait for a subscription answer.
 * @property {number} [maxPendingAcks=256] Emits awaiting an ack at once; more are refused.
 * @property {number} [maxBufferedBytes=1048576] Bytes the socket may hold unsent before
 *   emits are refused with `backpressure`.
 * @property {() => number} [random=Math.random] Source of jitter (tests make it fixed).
 */

/**
 * @typedef {object} EmitOptions
 * @property {boolean} [ack=false] Ask the server for an `ack` (protocol `id`): the promise
 *   then resolves with the ack's data or rejects with its error.
 * @property {number} [timeout] Milliseconds to wait for the ack (default `ackTimeout`).
 */

/**
 * @typedef {object} ReadyInfo
 * @property {string} connectionId
 * @property {string | null} userId
 * @property {number | null} expiresAt When the connection's token expires (seconds since
 *   the epoch; the server closes with 4001 then unless it was refreshed), or null.
 * @property {boolean} reconnected True when this is not the client's first connection.
 * @property {boolean | null} recovered When the server keeps the user's sends (user
 *   streams): whether this reconnect recovered every direct event sent to the user while
 *   it was away (they follow `ready` as ordinary events); null on a first connection or
 *   without user streams.
 * @property {number} missed How many direct events were recovered.
 */

/** Events of the protocol that are not application events. */
const RESERVED = new Set([
  'ready',
  'ping',
  'subscribe-channel-response',
  'unsubscribe-channel-response',
  'ack',
  'error',
  'token-expiring',
  'refresh-token-response',
  'resync',
  'subscribed',
  'disconnect',
]);

const OPEN = 1;

/** A refusal or failure: `code` is a protocol error code or one of the client's own
 * (`not_connected`, `not_subscribed`, `disconnected`, `timeout`, `too_many_pending`,
 * `backpressure`, `closed`, `unreachable`). A refused subscription also carries
 * `reason` (the server's code) and `channel`. */
export class SocketError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{channel?: string, event?: string, reason?: string, status?: number}} [details]
   */
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'SocketError';
    /** @type {string} */
    this.code = code;
    /** @type {string | undefined} */
    this.channel = details.channel;
    /** @type {string | undefined} */
    this.event = details.event;
    /** @type {string | undefined} */
    this.reason = details.reason;
    /** @type {number | undefined} HTTP status of a refused handshake. */
    this.status = details.status;
  }
}

/**
 * The wait before reconnect attempt `attempt` (1, 2, …): exponential backoff with full
 * jitter above a floor, uniform in `[min, min(max, min · 2^attempt)]`.
 * @param {number} attempt
 * @param {{minReconnectDelay?: number, maxReconnectDelay?: number}} [options]
 * @param {() => number} [random]
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
  const min = options.minReconnectDelay ?? 250;
  const max = Math.max(min, options.maxReconnectDelay ?? 10_000);
  const ceiling = Math.min(max, min * 2 ** Math.min(Math.max(attempt, 1), 30));
  return Math.round(min + random() * (ceiling - min));
}

/**
 * The WebSocket URL for `path` on the page's own host (`ws:` or `wss:` as the page is
 * served over `http:` or `https:`). Absolute `ws(s)://` and `http(s)://` URLs are
 * accepted too.
 * @param {string} [path='/ws']
 * @returns {string}
 */
export function socketUrl(path = '/ws') {
  if (/^wss?:\/\//i.test(path)) return path;
  if (/^https?:\/\//i.test(path)) return path.replace(/^http/i, 'ws');
  const base = globalThis.location?.href;
  if (!base) throw new TypeError(`a relative WebSocket URL (${path}) needs a page to resolve against`);
  const url = new URL(path, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Calls a user callback; a throwing callback must not break the client. */
function safely(fn, ...args) {
  try {
    fn(...args);
  } catch (error) {
    if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
    else setTimeout(() => { throw error; });
  }
}

/** A promise with its settlers. */
function deferred() {
  /** @type {any} */
  const d = {};
  d.promise = new Promise((resolve, reject) => {
    d.resolve = resolve;
    d.reject = reject;
  });
  return d;
}

/** A tiny event emitter: `on` returns the function that removes the listener. */
class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._handlers = new Map();
  }

  /**
   * @param {string} name
   * @param {Function} callback
   * @returns {() => void} removes the listener
   */
  on(name, callback) {
    let set = this._handlers.get(name);
    if (!set) this._handlers.set(name, (set = new Set()));
    set.add(callback);
    return () => this.off(name, callback);
  }

  /**
   * @param {string} name
   * @param {Function} [callback] omitted: every listener of `name`
   */
  off(name, callback) {
    const set = this._handlers.get(name);
    if (!set) return;
    if (callback) set.delete(callback);
    if (!callback || set.size === 0) this._handlers.delete(name);
  }

  /** @param {string} name @param {...any} args @returns {boolean} whether anyone listened */
  _emit(name, ...args) {
    const set = this._handlers.get(name);
    if (!set || set.size === 0) return false;
    for (const callback of [...set]) safely(callback, ...args);
    return true;
  }
}

/** A channel the client joined. Obtained from {@link SocketClient#subscribe}. */
export class SocketChannel {
  /** @param {SocketClient} client @param {string} name */
  constructor(client, name) {
    /** @type {SocketClient} */
    this.client = client;
    /** @type {string} */
    this.name = name;
    /** @type {'pending' | 'subscribed' | 'unsubscribed' | 'failed'} */
    this.state = 'pending';
    /** @private */
    this._events = new Emitter();
    /** @private @type {any} the caller's pending `subscribe` */
    this._pending = null;
    /** @private @type {any} */
    this._timer = null;
    /**
     * On a stream: the last publication seen (`{offset, epoch}`), sent as `since` when
     * the channel is joined again after a reconnect, so what was missed is delivered.
     * `null` on a channel without history.
     * @type {{offset: number, epoch: string} | null}
     */
    this.position = null;
    /**
     * After a (re-)join of a stream: `true` when what was missed was recovered (it
     * follows as ordinary events), `false` when it was not (re-fetch), `null` otherwise.
     * @type {boolean | null}
     */
    this.recovered = null;
    /**
     * On a presence channel: who is here, by user id, with the `info` the server gave
     * (or `undefined`). Filled by {@link SocketChannel#presence}, then kept up to date
     * by `presence-join` and `presence-leave`; empty until then.
     * @type {Map<string, any>}
     */
    this.members = new Map();
    /** @private 'join' and 'leave' listeners */
    this._presence = new Emitter();
  }

  /**
   * Presence: `callback({user_id, info})` when a user's first connection joins
   * (`'join'`) or their last one leaves (`'leave'`, no `info`), on any node. Listeners
   * stay across reconnects.
   * @param {'join' | 'leave'} name
   * @param {(member: {user_id: string, info?: any}) => void} callback
   * @returns {() => void} stops listening
   */
  on(name, callback) {
    return this._presence.on(name, callback);
  }

  /**
   * Asks who is on this presence channel: resolves with `{count, connections,
   * members?}` (`members`, `[{user_id, info?}]`, absent on a counts-only channel) and
   * refills {@link SocketChannel#members}. Rejects with `unknown_event` on a channel
   * without presence.
   * @returns {Promise<{count: number, connections: number, members?: Array<{user_id: string, info?: any}>}>}
   */
  async presence() {
    if (this.state !== 'subscribed') {
      const code = this.client.state === 'connected' ? 'not_subscribed' : 'not_connected';
      throw new SocketError(code, `not subscribed to ${this.name}`, { channel: this.name, event: 'presence-request' });
    }
    const snapshot = await this.client._packet(this.name, 'presence-request', {}, { ack: true });
    if (Array.isArray(snapshot?.members)) {
      this.members = new Map(snapshot.members.map((/** @type {any} */ m) => [m.user_id, m.info]));
    }
    return snapshot;
  }

  /** True while the server has this connection on the channel. */
  get subscribed() {
    return this.state === 'subscribed';
  }

  /**
   * Calls `callback(data, packet)` for every `event` on this channel. Listeners stay
   * across reconnects.
   * @param {string} event
   * @param {(data: any, packet: {event: string, channel: string, data: any}) => void} callback
   * @returns {() => void} stops listening
   */
  listen(event, callback) {
    return this._events.on(event, callback);
  }

  /**
   * @param {string} event
   * @param {Function} [callback] omitted: every listener of `event`
   */
  stopListening(event, callback) {
    this._events.off(event, callback);
  }

  /**
   * Sends `event` on this channel. Refused locally with `not_subscribed` while the
   * subscription is not confirmed (e.g. just after a reconnect) and with
   * `not_connected` while disconnected: nothing is queued.
   * @param {string} event
   * @param {any} [data]
   * @param {EmitOptions} [options]
   * @returns {Promise<any>} the ack's data with `{ack: true}`; otherwise resolves once sent
   */
  emit(event, data, options = {}) {
    if (this.state !== 'subscribed') {
      const code = this.client.state === 'connected' ? 'not_subscribed' : 'not_connected';
      return Promise.reject(new SocketError(code, `not subscribed to ${this.name}`, { channel: this.name, event }));
    }
    return this.client._packet(this.name, event, data, options);
  }

  /**
   * Leaves the channel and drops its listeners. Resolves when the server confirms (or
   * the connection is gone, which leaves the channel too).
   * @returns {Promise<void>}
   */
  unsubscribe() {
    return this.client._unsubscribe(this);
  }

  /** @private */
  _dispatch(packet) {
    const data = packet.data ?? {};
    if (packet.event === 'presence-join') {
      this.members.set(data.user_id, data.info);
      this._presence._emit('join', data);
    } else if (packet.event === 'presence-leave') {
      this.members.delete(data.user_id);
      this._presence._emit('leave', data);
    }
    if (packet.event === 'resync') {
      this._moveTo(packet.data?.offset, packet.data?.epoch, true);
    } else {
      this._moveTo(packet.offset, packet.epoch, false);
    }
    this._events._emit(packet.event, packet.data ?? {}, packet);
  }

  /** Follows the stream's position: forward in one epoch, anywhere into a new one. @private */
  _moveTo(offset, epoch, always) {
    if (typeof offset !== 'number' || typeof epoch !== 'string') return;
    const current = this.position;
    if (always || !current || current.epoch !== epoch || offset > current.offset) {
      this.position = { offset, epoch };
    }
  }
}

/**
 * One connection to a Switchboard server, kept up across network failures and server
 * restarts: it reconnects with backoff and re-subscribes every channel it had.
 *
 * Client events (`client.on(name, cb)`): `state` (ConnectionState, previous),
 * `ready` (ReadyInfo), `subscribed` (SocketChannel: a join, or a re-join after a
 * reconnect, was confirmed), `error` (SocketError: `error` packets from the server,
 * refused re-subscriptions, giving up, a refused token refresh), `close` ({code, reason}),
 * `recovered` (SocketChannel, missed: a stream re-joined after a reconnect; the `missed`
 * publications follow as ordinary events), `resync` (SocketChannel, {reason, offset,
 * epoch}: a stream's publications were lost, re-fetch; the channel's listeners of
 * `resync` are called too), `user-resync` ({reason, offset, epoch}: direct events the
 * server keeps for the user were lost, re-fetch what depends on them; whether a
 * reconnect recovered them is in `ready`'s `recovered` and `missed`), `refreshed` ({expiresAt}: the token was replaced in-band), `unsubscribed`
 * (SocketChannel, {reason, message}: the server took the connection out of a channel,
 * e.g. its authorisation no longer passes; the channel object gets `unsubscribed` too).
 */
export class SocketClient {
  /**
   * @param {string} [url] `ws://host/ws`, or a path such as `/ws` on the page's host
   *   (the default).
   * @param {ClientOptions} [options]
   */
  constructor(url, options = {}) {
    /** @type {string} */
    this.url = socketUrl(url ?? '/ws');
    this._options = {
      tokenIn: 'protocol',
      reconnect: true,
      minReconnectDelay: 250,
      maxReconnectDelay: 10_000,
      maxReconnectAttempts: Infinity,
      stableAfter: 10_000,
      goingAwayWindow: 5_000,
      openTimeout: 10_000,
      idleTimeout: 75_000,
      ackTimeout: 10_000,
      subscribeTimeout: 10_000,
      maxPendingAcks: 256,
      maxBufferedBytes: 1 << 20,
      random: Math.random,
      ...options,
    };
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this._WebSocket !== 'function') {
      throw new TypeError('no WebSocket implementation: pass { WebSocket } (e.g. the `ws` package in Node 20)');
    }
    this._fetch = options.fetch ?? globalThis.fetch?.bind(globalThis);
    /** @type {string | TokenSupplier | null} */
    this._token = options.token ?? null;

    /** @type {ConnectionState} */
    this._state = 'idle';
    this._events = new Emitter();
    this._direct = new Emitter();
    /** @type {Map<string, SocketChannel>} */
    this._channels = new Map();
    /** @type {Map<number, {resolve: Function, reject: Function, timer: any}>} */
    this._acks = new Map();
    /** @type {Map<string, Set<Function>>} */
    this._leaving = new Map();
    this._nextId = 1;
    /** @type {any} */
    this._ws = null;
    this._generation = 0;
    this._attempt = 0;
    this._authFailures = 0;
    /** @type {SocketError | null} */
    this._refusal = null;
    /** @type {string | null} */
    this._refusedToken = null;
    /** The server's `disconnect` packet, until its close frame arrives. @type {{code: number, reason: string, reconnect: boolean} | null} */
    this._disconnectAdvice = null;
    this._everConnected = false;
    this._stopped = false;
    /** @type {any[]} */
    this._waiters = [];
    /** @type {ReadyInfo | null} */
    this._ready = null;
    /**
     * The user's stream: the last direct event seen (`{offset, epoch}`) when the server
     * keeps sends to users; sent as `since` when reconnecting, so what was missed follows
     * `ready` (docs/protocol.md, "User streams").
     * @type {{offset: number, epoch: string} | null}
     */
    this.userPosition = null;
    this._retryTimer = null;
    this._idleTimer = null;
    this._openTimer = null;
  }

  /** @returns {ConnectionState} */
  get state() {
    return this._state;
  }

  /** The connection id the server gave in `ready`, while connected. */
  get connectionId() {
    return this._ready?.connectionId ?? null;
  }

  /** The user id the server gave in `ready` (null when anonymous). */
  get userId() {
    return this._ready?.userId ?? null;
  }

  /**
   * Connects with this token (or token supplier), Envuso style:
   * `await client.usingJwt(token).connect()`.
   * @param {string | TokenSupplier} token
   * @returns {this}
   */
  usingJwt(token) {
    this._token = token;
    return this;
  }

  /**
   * Opens the connection. Resolves on the server's `ready`; keeps retrying with backoff
   * meanwhile; rejects when the client gives up (handshake refused and no token
   * supplier that can help, `maxReconnectAttempts` reached, or `disconnect()`).
   * @returns {Promise<ReadyInfo>}
   */
  connect() {
    if (this._state === 'connected' && this._ready) return Promise.resolve(this._ready);
    const waiter = deferred();
    this._waiters.push(waiter);
    if (this._state === 'idle' || this._state === 'closed') {
      this._stopped = false;
      this._attempt = 0;
      this._authFailures = 0;
      this._refusal = null;
      this._setState('connecting');
      this._open(this._everConnected ? 'reconnect' : 'connect');
    }
    return waiter.promise;
  }

  /**
   * Closes the connection and stops reconnecting. Channels and listeners are kept, so
   * a later `connect()` restores them.
   * @param {number} [code=1000]
   * @param {string} [reason]
   */
  disconnect(code = 1000, reason = 'client disconnect') {
    this._stopped = true;
    const ws = this._ws;
    this._teardown(new SocketError('closed', 'the client disconnected'));
    if (ws) {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
    this._finish(new SocketError('closed', 'the client disconnected'), false);
  }

  /**
   * Listens to client events: `state`, `ready`, `subscribed`, `error`, `close`.
   * @param {'state' | 'ready' | 'subscribed' | 'recovered' | 'resync' | 'user-resync' | 'error' | 'close'} name
   * @param {Function} callback
   * @returns {() => void} removes the listener
   */
  on(name, callback) {
    return this._events.on(name, callback);
  }

  /** @param {string} name @param {Function} [callback] */
  off(name, callback) {
    this._events.off(name, callback);
  }

  /**
   * Listens to direct events: packets the server sends to this connection without a
   * channel (e.g. `notification`, or a socket listener's reply).
   * @param {string} event
   * @param {(data: any, packet: {event: string, data: any}) => void} callback
   * @returns {() => void} stops listening
   */
  listen(event, callback) {
    return this._direct.on(event, callback);
  }

  /** @param {string} event @param {Function} [callback] */
  stopListening(event, callback) {
    this._direct.off(event, callback);
  }

  /**
   * Sends a direct event (no channel), handled by the server's socket listener for it.
   * Refused with `not_connected` while disconnected: nothing is queued.
   * @param {string} event
   * @param {any} [data]
   * @param {EmitOptions} [options]
   * @returns {Promise<any>}
   */
  emit(event, data, options = {}) {
    return this._packet(null, event, data, options);
  }

  /**
   * The joined (or joining) channel of that name, if any.
   * @param {string} name
   * @returns {SocketChannel | undefined}
   */
  channel(name) {
    return this._channels.get(name);
  }

  /** @returns {SocketChannel[]} every channel the client holds */
  channels() {
    return [...this._channels.values()];
  }

  /**
   * Joins a channel. Resolves with the channel once the server accepts; rejects with a
   * {@link SocketError} whose `reason` and `message` are the server's. With a callback,
   * Envuso style, calls `callback(error, channel)` instead and resolves with the
   * channel or `null`. Subscribing during (re)connection waits for `ready`.
   * @param {string} name
   * @param {(error: SocketError | null, channel: SocketChannel | null) => void} [callback]
   * @returns {Promise<SocketChannel>}
   */
  subscribe(name, callback) {
    const joined = this._subscribe(name);
    if (!callback) return joined;
    return /** @type {Promise<any>} */ (joined.then(
      (channel) => { safely(callback, null, channel); return channel; },
      (error) => { safely(callback, error, null); return null; },
    ));
  }

  /**
   * Watches elements carrying `data-sb-channel` under `root` (now and later): see
   * {@link DeclarativeBinding}.
   * @param {ParentNode} [root=document]
   * @param {{debounce?: number}} [options]
   * @returns {DeclarativeBinding}
   */
  bindDeclarative(root = globalThis.document, options = {}) {
    return new DeclarativeBinding(this, root, options);
  }

  /**
   * `fetch`, telling the server which connection the request comes from: while
   * connected, a request to the page's own origin carries the connection id as
   * `X-Socket-Id`, so a server that signals a change the request made can leave this
   * connection out (the page already knows). Never on another origin: the id is this
   * server's business, and a custom header would also make the request a CORS preflight.
   * Without a page (Node), "own origin" is the WebSocket server's. Declarative refreshes
   * and actions go through it.
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   */
  fetch(input, init) {
    const fetchImpl = this._fetch;
    if (typeof fetchImpl !== 'function') return Promise.reject(new TypeError('no fetch implementation: pass { fetch }'));
    const id = this.connectionId;
    const isRequest = typeof Request === 'function' && input instanceof Request;
    const url = isRequest ? /** @type {Request} */ (input).url : String(input);
    const page = globalThis.location?.href ?? this.url.replace(/^ws/i, 'http');
    const base = globalThis.document?.baseURI ?? page; // what `fetch` resolves against
    if (!id || typeof Headers !== 'function' || !sameOrigin(url, base, page)) return fetchImpl(input, init);
    // Headers given in `init` replace a Request's own (as `fetch` does), so start from
    // whichever `fetch` would send.
    const headers = new Headers(init?.headers ?? (isRequest ? /** @type {Request} */ (input).headers : undefined));
    headers.set('X-Socket-Id', id);
    return fetchImpl(input, { ...init, headers });
  }

  // -- internals ---------------------------------------------------------------------

  /** @param {string} name @returns {Promise<SocketChannel>} */
  _subscribe(name) {
    if (typeof name !== 'string' || name.length === 0) {
      return Promise.reject(new SocketError('bad_payload', 'a channel name is a non-empty string'));
    }
    let channel = this._channels.get(name);
    if (channel?.state === 'subscribed') return Promise.resolve(channel);
    if (channel?._pending) return channel._pending.promise;
    if (this._state === 'idle' || this._state === 'closed') {
      return Promise.reject(new SocketError('not_connected', `cannot join ${name}: call connect() first`, { channel: name }));
    }
    const rejoining = channel !== undefined; // kept across a reconnect, re-join in flight
    if (!channel) {
      channel = new SocketChannel(this, name);
      this._channels.set(name, channel);
    }
    channel._pending = deferred();
    // While (re)connecting the request waits for `ready`: one entry per channel name.
    if (this._state === 'connected') {
      if (rejoining) this._armTimeout(channel);
      else this._requestJoin(channel);
    }
    return channel._pending.promise;
  }

  /** Sends the join request. @param {SocketChannel} channel */
  _requestJoin(channel) {
    channel.state = 'pending';
    this._armTimeout(channel);
    const data = { channel: channel.name };
    // A stream seen before: ask for what was published since (docs/protocol.md, "Streams").
    if (channel.position) data.since = { offset: channel.position.offset, epoch: channel.position.epoch };
    this._send({ event: 'subscribe-channel-request', data });
  }

  /** A caller waiting on a join gets `timeout` when the server does not answer. */
  _armTimeout(channel) {
    const pending = channel._pending;
    clearTimeout(channel._timer);
    if (!pending) return;
    channel._timer = setTimeout(() => {
      if (channel._pending !== pending) return;
      channel._pending = null;
      this._forget(channel, 'failed');
      pending.reject(new SocketError('timeout', `no answer to joining ${channel.name}`, { channel: channel.name }));
    }, this._options.subscribeTimeout);
  }

  /** @param {SocketChannel} channel @param {'unsubscribed' | 'failed'} state */
  _forget(channel, state) {
    if (this._channels.get(channel.name) === channel) this._channels.delete(channel.name);
    channel.state = state;
    clearTimeout(channel._timer);
  }

  /** @param {SocketChannel} channel @returns {Promise<void>} */
  _unsubscribe(channel) {
    if (this._channels.get(channel.name) !== channel) return Promise.resolve();
    this._forget(channel, 'unsubscribed');
    channel._events._handlers.clear();
    if (channel._pending) {
      channel._pending.reject(new SocketError('unsubscribed', `left ${channel.name} before joining it`, { channel: channel.name }));
      channel._pending = null;
    }
    if (this._state !== 'connected') return Promise.resolve();
    this._send({ event: 'unsubscribe-channel-request', channel: channel.name, data: { channel: channel.name } });
    return new Promise((resolve) => {
      let set = this._leaving.get(channel.name);
      if (!set) this._leaving.set(channel.name, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this._leaving.get(channel.name) === set) this._leaving.delete(channel.name);
        resolve();
      };
      const timer = setTimeout(done, this._options.subscribeTimeout);
      set.add(done);
    });
  }

  /**
   * @param {string | null} channel
   * @param {string} event
   * @param {any} data
   * @param {EmitOptions} options
   */
  _packet(channel, event, data, options) {
    const details = { channel: channel ?? undefined, event };
    if (typeof event !== 'string' || event.length === 0) {
      return Promise.reject(new SocketError('bad_packet', 'an event name is a non-empty string', details));
    }
    const ws = this._ws;
    if (this._state !== 'connected' || !ws || ws.readyState !== OPEN) {
      return Promise.reject(new SocketError('not_connected', `cannot send ${event}: not connected`, details));
    }
    if ((ws.bufferedAmount ?? 0) > this._options.maxBufferedBytes) {
      return Promise.reject(new SocketError('backpressure', `cannot send ${event}: the socket is not draining`, details));
    }
    /** @type {{event: string, channel?: string, data: any, id?: number}} */
    const packet = { event, data: data ?? {} };
    if (channel) packet.channel = channel;
    if (!options.ack) {
      this._send(packet);
      return Promise.resolve(undefined);
    }
    if (this._acks.size >= this._options.maxPendingAcks) {
      return Promise.reject(new SocketError('too_many_pending', `${this._acks.size} acks already pending`, details));
    }
    const id = this._nextId++;
    packet.id = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._acks.delete(id);
        reject(new SocketError('timeout', `no ack for ${event}`, details));
      }, options.timeout ?? this._options.ackTimeout);
      this._acks.set(id, { resolve, reject, timer, details });
      this._send(packet);
    });
  }

  /** @param {object} packet @returns {boolean} */
  _send(packet) {
    const ws = this._ws;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(packet));
    return true;
  }

  /** @param {ConnectionState} next */
  _setState(next) {
    const previous = this._state;
    if (previous === next) return;
    this._state = next;
    this._events._emit('state', next, previous);
  }

  /** @param {TokenRequest['reason']} reason @returns {Promise<string | null>} */
  async _currentToken(reason) {
    const token = this._token;
    if (typeof token === 'function') return (await token({ reason, attempt: this._attempt })) ?? null;
    return token ?? null;
  }

  /** Opens one socket. @param {TokenRequest['reason']} reason */
  async _open(reason) {
    const generation = ++this._generation;
    let token;
    try {
      token = await this._currentToken(reason);
    } catch (error) {
      if (generation !== this._generation) return;
      // The supplier could not produce a token (its server may be down too): retry.
      this._events._emit('error', new SocketError('token_unavailable', `token supplier failed: ${error?.message ?? error}`));
      this._retry(null);
      return;
    }
    if (generation !== this._generation) return;
    if (reason === 'refused' && token != null && token === this._refusedToken && this._refusal) {
      this._finish(this._refusal, true);
      return;
    }
    let ws;
    try {
      ws = this._socket(token);
    } catch (error) {
      this._finish(new SocketError('bad_url', `cannot open ${this.url}: ${error?.message ?? error}`), true);
      return;
    }
    this._ws = ws;
    let ready = false;
    this._openTimer = setTimeout(() => {
      if (generation === this._generation && !ready) this._lost(ws, token, false, 1006, 'no ready in time');
    }, this._options.openTimeout);
    ws.onmessage = (/** @type {MessageEvent} */ event) => {
      if (generation !== this._generation) return;
      this._touch(ws, token);
      if (typeof event.data !== 'string') return;
      let packet;
      try {
        packet = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!packet || typeof packet.event !== 'string') return;
      if (packet.event === 'ready' && !packet.channel) {
        ready = true;
        clearTimeout(this._openTimer);
        this._onReady(packet.data ?? {});
        return;
      }
      this._onPacket(packet);
    };
    ws.onclose = (/** @type {CloseEvent} */ event) => {
      if (generation !== this._generation) return;
      this._lost(ws, token, ready, event.code, event.reason);
    };
    ws.onerror = () => {
      // A close event follows; it decides what happens.
    };
  }

  /**
   * Opens a socket carrying `token` as `tokenIn` says.
   * @param {string | null} token
   */
  _socket(token) {
    const url = new URL(this.url);
    if (this.userPosition) {
      url.searchParams.set('since_offset', String(this.userPosition.offset));
      url.searchParams.set('since_epoch', this.userPosition.epoch);
    }
    if (!token) return new this._WebSocket(url.toString());
    if (this._options.tokenIn === 'query') {
      url.searchParams.set('token', token);
      return new this._WebSocket(url.toString());
    }
    return new this._WebSocket(url.toString(), [token]);
  }

  /** Restarts the idle watchdog: any packet proves the connection alive. */
  _touch(ws, token) {
    if (!this._options.idleTimeout) return;
    clearTimeout(this._idleTimer);
    const generation = this._generation;
    this._idleTimer = setTimeout(() => {
      if (generation === this._generation) this._lost(ws, token, true, 1006, 'no packet in time');
    }, this._options.idleTimeout);
  }

  /** @param {any} data */
  _onReady(data) {
    const reconnected = this._everConnected;
    this._everConnected = true;
    this._readyAt = Date.now(); // the attempt count resets once this lasted `stableAfter`
    this._authFailures = 0;
    this._refusal = null;
    this._refusedToken = null;
    this._ready = {
      connectionId: String(data.connection_id ?? ''),
      userId: data.user_id ?? null,
      expiresAt: typeof data.expires_at === 'number' ? data.expires_at : null,
      reconnected,
      recovered: typeof data.recovered === 'boolean' ? data.recovered : null,
      missed: Number(data.missed ?? 0),
    };
    // Recovered: the missed events follow and move the position themselves.
    if (this._ready.recovered !== true) this._moveUser(data.offset, data.epoch, true);
    this._setState('connected');
    for (const channel of this._channels.values()) this._requestJoin(channel);
    const waiters = this._waiters.splice(0);
    for (const waiter of waiters) waiter.resolve(this._ready);
    this._events._emit('ready', this._ready);
    if (this._ready.recovered === false) {
      this._events._emit('user-resync', { reason: 'not_recovered', offset: data.offset, epoch: data.epoch });
    }
  }

  /** Follows the user's stream: forward in one epoch, anywhere into a new one. @private */
  _moveUser(offset, epoch, always) {
    if (typeof offset !== 'number' || typeof epoch !== 'string') return;
    const current = this.userPosition;
    if (always || !current || current.epoch !== epoch || offset > current.offset) {
      this.userPosition = { offset, epoch };
    }
  }

  /** @param {{event: string, channel?: string, data?: any}} packet */
  _onPacket(packet) {
    const data = packet.data ?? {};
    if (packet.channel) {
      if (packet.event === 'subscribed') {
        this._onSubscribedByServer(packet.channel, data);
        return;
      }
      const channel = this._channels.get(packet.channel);
      if (!channel) return;
      if (packet.event === 'unsubscribed') this._onEvicted(channel, packet);
      else channel._dispatch(packet);
      if (packet.event === 'resync') this._events._emit('resync', channel, data);
      return;
    }
    if (!RESERVED.has(packet.event)) {
      this._moveUser(/** @type {any} */ (packet).offset, /** @type {any} */ (packet).epoch, false);
      this._direct._emit(packet.event, data, packet);
      return;
    }
    switch (packet.event) {
      case 'ping':
        this._send({ event: 'pong', data: {} });
        break;
      case 'subscribe-channel-response':
        this._onJoined(data);
        break;
      case 'unsubscribe-channel-response': {
        const waiting = this._leaving.get(data.channel);
        if (waiting) for (const done of [...waiting]) done();
        break;
      }
      case 'ack':
        this._onAck(data);
        break;
      case 'token-expiring':
        this._refreshToken();
        break;
      case 'resync':
        // The user's stream lost sends this connection could not be given: re-fetch.
        this._moveUser(data.offset, data.epoch, true);
        this._events._emit('user-resync', data);
        break;
      case 'refresh-token-response':
        if (data.successful) {
          if (this._ready) this._ready.expiresAt = data.expires_at ?? null;
          this._events._emit('refreshed', { expiresAt: data.expires_at ?? null });
        } else {
          this._events._emit('error', new SocketError(String(data.reason ?? 'unauthorised'), String(data.message ?? 'token refresh refused'), {
            event: 'refresh-token-request',
            reason: data.reason,
          }));
        }
        break;
      case 'disconnect':
        // The server is closing this connection; the close frame follows.
        this._disconnectAdvice = { code: Number(data.code), reason: String(data.reason ?? ''), reconnect: data.reconnect === true };
        break;
      case 'error':
        this._events._emit('error', new SocketError(String(data.code ?? 'internal'), String(data.message ?? 'refused'), {
          channel: data.channel,
          event: data.event,
        }));
        break;
      default:
        break;
    }
  }

  /**
   * The server subscribed this connection (server-side control): the channel object is
   * created if the app has none, and `subscribed` is emitted as for a join. After a
   * reconnect the client asks to re-join it like its own subscriptions.
   * @param {string} name @param {any} data
   */
  _onSubscribedByServer(name, data) {
    let channel = this._channels.get(name);
    if (!channel) {
      channel = new SocketChannel(this, name);
      this._channels.set(name, channel);
    }
    if (channel.state === 'subscribed') return;
    const pending = channel._pending;
    channel._pending = null;
    clearTimeout(channel._timer);
    channel.state = 'subscribed';
    channel._moveTo(data.offset, data.epoch, true);
    this._events._emit('subscribed', channel);
    pending?.resolve(channel);
  }

  /** @param {any} data */
  _onJoined(data) {
    const channel = this._channels.get(data.channel);
    if (!channel) return;
    const pending = channel._pending;
    channel._pending = null;
    clearTimeout(channel._timer);
    if (data.successful) {
      channel.state = 'subscribed';
      channel.recovered = typeof data.recovered === 'boolean' ? data.recovered : null;
      // Recovered: the missed publications follow and move the position themselves.
      if (channel.recovered !== true) channel._moveTo(data.offset, data.epoch, true);
      this._events._emit('subscribed', channel);
      if (channel.recovered === true) this._events._emit('recovered', channel, Number(data.missed ?? 0));
      if (channel.recovered === false) {
        const lost = { reason: 'not_recovered', offset: data.offset, epoch: data.epoch };
        channel._events._emit('resync', lost, { event: 'resync', channel: channel.name, data: lost });
        this._events._emit('resync', channel, lost);
      }
      pending?.resolve(channel);
      return;
    }
    const reason = String(data.reason ?? 'unauthorised');
    const error = new SocketError(reason, String(data.message ?? `joining ${channel.name} was refused`), {
      channel: channel.name,
      reason,
    });
    this._forget(channel, 'failed');
    if (pending) pending.reject(error);
    else this._events._emit('error', error); // a re-subscription after reconnect was refused
  }

  /**
   * The server took this connection out of `channel`: it is not re-joined on reconnect.
   * @param {SocketChannel} channel @param {{event: string, channel?: string, data?: any}} packet
   */
  _onEvicted(channel, packet) {
    this._forget(channel, 'unsubscribed');
    channel._dispatch(packet);
    this._events._emit('unsubscribed', channel, packet.data ?? {});
  }

  /**
   * `token-expiring`: asks the token supplier for a new token and sends it in-band. A
   * fixed token (not a function) cannot be renewed: the server closes with 4001 at its
   * expiry and the client reconnects as after any close.
   */
  async _refreshToken() {
    if (typeof this._token !== 'function') return;
    const generation = this._generation;
    let token;
    try {
      token = await this._currentToken('refresh');
    } catch (error) {
      this._events._emit('error', new SocketError('token_unavailable', `token supplier failed: ${error?.message ?? error}`));
      return;
    }
    if (generation !== this._generation || !token) return; // that connection is gone
    this._send({ event: 'refresh-token-request', data: { token } });
  }

  /** @param {any} data */
  _onAck(data) {
    const entry = this._acks.get(data.id);
    if (!entry) return;
    this._acks.delete(data.id);
    clearTimeout(entry.timer);
    if (data.ok) {
      entry.resolve(data.data);
    } else {
      const error = data.error ?? {};
      entry.reject(new SocketError(String(error.code ?? 'internal'), String(error.message ?? 'refused'), entry.details));
    }
  }

  /** Drops everything tied to the current socket. @param {SocketError} why */
  _teardown(why) {
    this._generation++;
    this._ws = null;
    this._ready = null;
    clearTimeout(this._openTimer);
    clearTimeout(this._idleTimer);
    clearTimeout(this._retryTimer);
    const acks = [...this._acks.values()];
    this._acks.clear();
    for (const entry of acks) {
      clearTimeout(entry.timer);
      entry.reject(new SocketError(why.code, why.message, entry.details));
    }
    for (const set of [...this._leaving.values()]) for (const done of [...set]) done();
    for (const channel of this._channels.values()) {
      clearTimeout(channel._timer);
      if (channel.state === 'subscribed') channel.state = 'pending';
    }
  }

  /**
   * The socket closed or was declared dead.
   * @param {any} ws @param {string | null} token @param {boolean} wasReady
   * @param {number} code @param {string} reason
   */
  async _lost(ws, token, wasReady, code, reason) {
    this._teardown(new SocketError('disconnected', `connection lost (${code})`));
    if (ws.readyState < 2) {
      try {
        ws.close();
      } catch {
        // already closing
      }
    }
    const advice = this._disconnectAdvice;
    this._disconnectAdvice = null;
    this._events._emit('close', { code, reason });
    if (this._stopped) return;
    if (advice && !advice.reconnect) {
      // The server closed it on purpose (a ban, a logout) and asked not to come back.
      this._finish(new SocketError('disconnected', advice.reason || `closed by the server (${code})`, { reason: 'by_server' }), true);
      return;
    }
    this._setState(this._everConnected ? 'reconnecting' : 'connecting');
    if (wasReady && Date.now() - (this._readyAt ?? 0) >= this._options.stableAfter) this._attempt = 0;
    const generation = this._generation;
    /** @type {SocketError | null} */
    let refusal = null;
    if (code === 4001) refusal = new SocketError('expired_token', 'the token expired');
    else if (!wasReady) refusal = await this._probe(token);
    if (generation !== this._generation || this._stopped) return;
    if (!this._options.reconnect) {
      this._finish(refusal ?? new SocketError('disconnected', `connection closed (${code})`), true);
      return;
    }
    if (refusal) {
      this._refusal = refusal;
      this._refusedToken = token;
      this._authFailures++;
      const canRefresh = typeof this._token === 'function' && refusal.status !== 403 && this._authFailures <= 3;
      if (!canRefresh) {
        this._finish(refusal, true);
        return;
      }
    }
    this._retry(refusal, code === 1001);
  }

  /**
   * Schedules the next attempt.
   * @param {SocketError | null} refusal
   * @param {boolean} [goingAway] the server closed with 1001: spread over `goingAwayWindow`
   */
  _retry(refusal, goingAway = false) {
    this._attempt++;
    if (this._attempt > this._options.maxReconnectAttempts) {
      this._finish(new SocketError('unreachable', `gave up after ${this._attempt - 1} attempts`), true);
      return;
    }
    this._setState(this._everConnected ? 'reconnecting' : 'connecting');
    let delay = backoffDelay(this._attempt, this._options, this._options.random);
    if (goingAway) delay = Math.max(delay, Math.round(this._options.random() * this._options.goingAwayWindow));
    const generation = this._generation;
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      if (generation === this._generation && !this._stopped) this._open(refusal ? 'refused' : 'reconnect');
    }, delay);
  }

  /**
   * A handshake failure tells a browser nothing (close code 1006), so ask over plain
   * HTTP: the endpoint answers a request that is not an upgrade with 401/403 and the
   * JSON reason when the token is refused, and with 400 otherwise.
   * @param {string | null} token
   * @returns {Promise<SocketError | null>} the refusal, or null when it is not one
   */
  async _probe(token) {
    if (typeof this._fetch !== 'function') return null;
    try {
      const url = this.url.replace(/^ws/i, 'http');
      /** @type {Record<string, string>} */
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      const timeout = typeof AbortSignal?.timeout === 'function' ? AbortSignal.timeout(5000) : undefined;
      const response = await this._fetch(url, { headers, cache: 'no-store', signal: timeout });
      if (response.status !== 401 && response.status !== 403) return null;
      let body = null;
      try {
        body = await response.json();
      } catch {
        // no JSON reason
      }
      const error = body?.error ?? {};
      return new SocketError(String(error.code ?? 'unauthorised'), String(error.message ?? `handshake refused (${response.status})`), {
        status: response.status,
      });
    } catch {
      return null; // unreachable: a network failure, not a refusal
    }
  }

  /**
   * Stops for good: state `closed`, pending `connect()` calls and joins rejected.
   * @param {SocketError} error @param {boolean} report emit it as an `error` event
   */
  _finish(error, report) {
    this._teardown(error);
    this._stopped = true;
    this._ready = null;
    this._setState('closed');
    for (const waiter of this._waiters.splice(0)) waiter.reject(error);
    for (const channel of this._channels.values()) {
      if (channel._pending) {
        clearTimeout(channel._timer);
        channel._pending.reject(new SocketError(error.code, error.message, { channel: channel.name }));
        channel._pending = null;
      }
    }
    if (report) this._events._emit('error', error);
  }
}

/**
 * Declarative mode: "signal, then re-fetch" without writing JavaScript.
 *
 * ```html
 * <ul data-sb-channel="room.42" data-sb-on="message"
 *     data-sb-refresh="/rooms/42/messages" data-sb-load></ul>
 *
 * <section data-sb-channel="receipt.42" data-sb-on="receipt-changed"
 *          data-sb-action="POST /receipts/42/card?after={data.at}"
 *          data-sb-target="#receipt-card" data-sb-swap="morph"></section>
 * ```
 *
 * - `data-sb-channel`: the channel to join (one subscription per channel, however many
 *   elements name it).
 * - `data-sb-on`: the events that trigger a refresh, space or comma separated
 *   (default `message`).
 * - `data-sb-refresh`: the URL fetched with GET; shorthand for `data-sb-action="GET URL"`.
 * - `data-sb-action`: `METHOD URL` (e.g. `POST /receipts/42/card`), or a bare URL for
 *   GET; it wins over `data-sb-refresh`. The request goes through
 *   {@link SocketClient#fetch}, so it carries `X-Socket-Id`.
 * - `data-sb-target`: a CSS selector for what the response replaces (looked up in the
 *   element's document or shadow root at each swap); default the element itself.
 * - `data-sb-swap`: `innerHTML` (the default), `outerHTML`, or `morph`: the target's
 *   children are updated in place (a small DOM diff) so focus, the caret and selection,
 *   scroll offsets and what the user typed into inputs, textareas and selects survive.
 * - `data-sb-load`: also fetch as soon as the element is bound.
 * - `data-sb-debounce`: milliseconds to coalesce a burst of events (default 50).
 *
 * The URL is templated when it is fetched: `{offset}` and `{epoch}` become the stream's
 * position (`/rooms/42/messages?after={offset}`), `{data.field}` and `{data.a.b}` that
 * field of the triggering signal's data (`?after={data.at}`), URL-encoded; a missing
 * field, or one that is not a string, number or boolean, becomes empty (as `{data.…}`
 * does on a refresh no signal triggered: `data-sb-load`, a re-join, a `resync`). A
 * coalesced burst is templated from its last signal.
 *
 * The response becomes HTML in the page, so only the page's own origin may supply it:
 * a URL of another origin (before or after templating) is refused with `sb:error` and
 * never fetched, a redirect to another origin fails, and a response that is not
 * `text/html` replaces nothing (`sb:error`).
 *
 * Bursts are coalesced, a response older than the one shown is ignored, and every
 * bound element is refreshed once its channel is re-joined after a reconnect (events
 * may have been missed meanwhile), except on a stream whose missed publications were
 * recovered (they arrive as events, and trigger the refresh only if there were any);
 * a `resync` refreshes too. Elements added, removed or changed later are (re)bound
 * through a MutationObserver. Each element gets `sb:refreshed` (detail `{channel,
 * method, url}`, the URL as fetched) and `sb:error` DOM events and a `data-sb-state`
 * attribute (`joining`, `live`, `error`). An `outerHTML` swap of the element itself
 * replaces the binding too: the new element is bound if it carries `data-sb-channel`
 * (a `data-sb-load` on it would fetch again, and again).
 */
export class DeclarativeBinding {
  /**
   * @param {SocketClient} client
   * @param {ParentNode} root
   * @param {{debounce?: number}} [options]
   */
  constructor(client, root, options = {}) {
    if (!root) throw new TypeError('bindDeclarative needs a root node (there is no document here)');
    this.client = client;
    this.root = root;
    this._debounce = options.debounce ?? 50;
    /** @type {Map<Element, any>} */
    this._bound = new Map();
    /** @type {Map<string, {count: number, owned: boolean, joined: Promise<SocketChannel>}>} */
    this._shared = new Map();
    // A re-join after a reconnect: signals may have been missed meanwhile. Refreshing
    // once the server has the subscription again leaves no gap.
    this._offJoined = client.on('subscribed', (/** @type {SocketChannel} */ joined) => {
      if (joined.recovered === true) return; // what was missed arrives as events
      for (const [element, record] of this._bound) {
        if (record.live && record.channel === joined.name) this._refresh(element, record, null);
      }
    });
    this._observer = new MutationObserver((records) => this._mutated(records));
    this._observer.observe(root, {
      subtree: true,
      childList: true,
      attributes: true,
      // `data-sb-target` and `data-sb-swap` are read at each swap: no rebinding needed.
      attributeFilter: ['data-sb-channel', 'data-sb-on', 'data-sb-refresh', 'data-sb-action'],
    });
    this.scan(root);
  }

  /** Binds every matching element in `node` (itself included). @param {Node} node */
  scan(node) {
    // Elements, and the document or a fragment (which have no attributes of their own).
    const parent = /** @type {any} */ (node);
    if (typeof parent.querySelectorAll !== 'function') return;
    if (node.nodeType === 1 && parent.hasAttribute('data-sb-channel')) this._bind(parent);
    for (const child of parent.querySelectorAll('[data-sb-channel]')) this._bind(child);
  }

  /**
   * Refreshes a bound element now, as a signal would (e.g. the page that made a change
   * is left out of its signal, and refreshes what else shows it itself). False when the
   * element is not bound (yet).
   * @param {Element} element
   */
  refresh(element) {
    const record = this._bound.get(element);
    if (!record) return false;
    this._refresh(element, record, null);
    return true;
  }

  /** Stops watching and leaves the channels this binding joined. */
  stop() {
    this._observer.disconnect();
    this._offJoined();
    for (const element of [...this._bound.keys()]) this._unbind(element);
  }

  /** @param {MutationRecord[]} records */
  _mutated(records) {
    /** @type {Set<Element>} */
    const changed = new Set();
    for (const record of records) {
      if (record.type === 'attributes') {
        changed.add(/** @type {Element} */ (record.target));
        continue;
      }
      for (const node of record.removedNodes) {
        if (node.nodeType !== 1 || node.isConnected) continue;
        for (const element of [...this._bound.keys()]) {
          if (element === node || node.contains(element)) this._unbind(element);
        }
      }
      for (const node of record.addedNodes) if (node.isConnected) this.scan(node);
    }
    // Several attributes changed at once rebind once, with their final values; the new
    // channel is joined before the old one is released, so keeping a channel never
    // leaves and re-joins it.
    for (const element of changed) {
      const old = this._bound.get(element);
      this._bound.delete(element);
      if (element.isConnected && element.hasAttribute('data-sb-channel')) this._bind(element);
      if (old) this._drop(old);
    }
  }

  /** @param {Element} element */
  _bind(element) {
    if (this._bound.has(element)) return;
    const channel = element.getAttribute('data-sb-channel');
    const action = actionOf(element);
    if (!channel || !action) return;
    if ('refusal' in action) {
      this._refuse(element, action.refusal);
      return;
    }
    // The response goes into the page: only the page's own origin may supply it. The
    // URL is checked again once templated, but a template that names another origin
    // is refused at once.
    if (!this._ownOrigin(element, action.url)) {
      this._refuse(element, `${action.attribute} must name a same-origin URL, not ${action.url}`);
      return;
    }
    const events = (element.getAttribute('data-sb-on') || 'message').split(/[\s,]+/).filter(Boolean);
    const debounce = Number(element.getAttribute('data-sb-debounce') ?? this._debounce);
    const record = {
      channel,
      method: action.method,
      url: action.url,
      events,
      debounce,
      stops: [],
      timer: null,
      /** @type {any} the last signal of the burst being coalesced: it templates the URL */
      signal: null,
      issued: 0,
      shown: 0,
      live: false,
    };
    this._bound.set(element, record);
    element.setAttribute('data-sb-state', 'joining');
    this._acquire(channel).then(
      (joined) => {
        if (this._bound.get(element) !== record) return;
        for (const event of events) {
          record.stops.push(joined.listen(event, (_data, packet) => this._schedule(element, record, packet)));
        }
        // A resync is not a signal: its data (a position) templates nothing.
        record.stops.push(joined.listen('resync', () => this._schedule(element, record, null)));
        record.live = true;
        element.setAttribute('data-sb-state', 'live');
        if (element.hasAttribute('data-sb-load')) this._refresh(element, record, null);
      },
      (error) => {
        if (this._bound.get(element) !== record) return;
        element.setAttribute('data-sb-state', 'error');
        element.dispatchEvent(new CustomEvent('sb:error', { detail: error }));
      },
    );
  }

  /** An element that cannot be bound: `error` state and an `sb:error` event. */
  _refuse(element, message) {
    element.setAttribute('data-sb-state', 'error');
    element.dispatchEvent(new CustomEvent('sb:error', { detail: new Error(message) }));
  }

  /**
   * Whether `url` resolves (against the element's base URL) to the origin of the
   * element's document: its own URL, not its base, which a `<base href>` could point
   * elsewhere.
   * @param {Element} element @param {string} url
   */
  _ownOrigin(element, url) {
    const page = element.ownerDocument?.URL ?? globalThis.location?.href;
    if (!page) return true; // no page to compare with (and nothing to put HTML in)
    return sameOrigin(url, element.ownerDocument?.baseURI ?? page, page);
  }

  /** @param {Element} element */
  _unbind(element) {
    const record = this._bound.get(element);
    if (!record) return;
    this._bound.delete(element);
    this._drop(record);
  }

  /** Stops one binding's listeners and releases its channel. */
  _drop(record) {
    clearTimeout(record.timer);
    for (const stop of record.stops) stop();
    this._release(record.channel);
  }

  /** One subscription per channel, shared by every element naming it. @param {string} name */
  _acquire(name) {
    let shared = this._shared.get(name);
    if (!shared) {
      const owned = !this.client.channel(name);
      const joined = this._whenConnectable().then(() => this.client.subscribe(name));
      shared = { count: 0, owned, joined };
      this._shared.set(name, shared);
      joined.catch(() => {
        if (this._shared.get(name) === shared) this._shared.delete(name);
      });
    }
    shared.count++;
    return shared.joined;
  }

  /** @param {string} name */
  _release(name) {
    const shared = this._shared.get(name);
    if (!shared || --shared.count > 0) return;
    this._shared.delete(name);
    if (!shared.owned) return; // someone else's subscription: leave it alone
    shared.joined.then((joined) => joined.unsubscribe(), () => {});
  }

  /** Resolves once subscribing is possible (the client is connecting or connected). */
  _whenConnectable() {
    const state = this.client.state;
    if (state !== 'idle' && state !== 'closed') return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.client.on('ready', () => {
        off();
        resolve(undefined);
      });
    });
  }

  /**
   * Coalesces a burst of events into one refresh, templated from the burst's last
   * signal: the page ends up showing what the last one would have fetched.
   * @param {Element} element @param {any} record @param {any} signal the packet, or null
   */
  _schedule(element, record, signal) {
    record.signal = signal;
    if (record.timer) return;
    record.timer = setTimeout(() => {
      record.timer = null;
      const last = record.signal;
      record.signal = null;
      this._refresh(element, record, last);
    }, record.debounce);
  }

  /**
   * Fetches the fragment and swaps it in; a response older than the one shown is
   * dropped, and so is anything that is not HTML from the page's own origin.
   * @param {Element} element @param {any} record @param {any} signal the triggering packet, or null
   */
  async _refresh(element, record, signal) {
    const seq = ++record.issued;
    const position = this.client.channel(record.channel)?.position;
    const url = expand(record.url, position, signal?.data);
    const what = `${record.method} ${url}`;
    try {
      const swap = element.getAttribute('data-sb-swap') || 'innerHTML';
      // Checked before the request: an action may change something on the server.
      if (!SWAPS.has(swap)) throw new Error(`data-sb-swap must be innerHTML, outerHTML or morph, not ${swap}`);
      if (!this._ownOrigin(element, url)) throw new Error(`${what}: not a same-origin URL, not fetched`);
      const response = await this.client.fetch(url, {
        method: record.method,
        headers: { Accept: 'text/html' },
        credentials: 'same-origin',
        cache: 'no-store',
        // In a browser, a redirect to another origin fails before it is followed.
        mode: 'same-origin',
      });
      if (!response.ok) throw new Error(`${what}: HTTP ${response.status}`);
      if (response.url && !this._ownOrigin(element, response.url)) {
        throw new Error(`${what}: redirected to another origin (${response.url})`);
      }
      const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'text/html') throw new Error(`${what}: not HTML (${type || 'no content-type'}), nothing replaced`);
      const html = await response.text();
      if (this._bound.get(element) !== record || seq <= record.shown) return;
      const selector = element.getAttribute('data-sb-target');
      const target = selector ? /** @type {any} */ (element.getRootNode()).querySelector(selector) : element;
      if (!target) throw new Error(`data-sb-target ${selector} matches nothing`);
      record.shown = seq;
      if (swap === 'morph') morph(target, html);
      else if (swap === 'outerHTML') target.outerHTML = html;
      else target.innerHTML = html;
      element.dispatchEvent(new CustomEvent('sb:refreshed', { detail: { channel: record.channel, method: record.method, url } }));
    } catch (error) {
      if (this._bound.get(element) !== record) return;
      element.dispatchEvent(new CustomEvent('sb:error', { detail: error }));
    }
  }
}

/** The values of `data-sb-swap`. */
const SWAPS = new Set(['innerHTML', 'outerHTML', 'morph']);

/**
 * What a bound element fetches: `data-sb-action` (`METHOD URL`, or a bare URL for GET),
 * else `data-sb-refresh` (GET); null when it has neither.
 * @param {Element} element
 * @returns {{method: string, url: string, attribute: string} | {refusal: string} | null}
 */
function actionOf(element) {
  const action = element.getAttribute('data-sb-action')?.trim();
  if (action) {
    const words = action.split(/\s+/);
    if (words.length === 1) return { method: 'GET', url: words[0], attribute: 'data-sb-action' };
    // `fetch` upper-cases only the standard methods: `patch` would go out as is.
    if (words.length === 2 && /^[A-Za-z]+$/.test(words[0])) {
      return { method: words[0].toUpperCase(), url: words[1], attribute: 'data-sb-action' };
    }
    return { refusal: `data-sb-action must be "METHOD URL" or a URL, not ${action}` };
  }
  const refresh = element.getAttribute('data-sb-refresh')?.trim();
  return refresh ? { method: 'GET', url: refresh, attribute: 'data-sb-refresh' } : null;
}

/**
 * Fills a URL template: `{offset}` and `{epoch}` from the stream's position,
 * `{data.a.b}` from the signal's data (own properties only, so `{data.constructor}` is
 * no way into the prototype), each URL-encoded; anything missing, or not a string,
 * number or boolean, is empty. Encoding keeps `/`, `?`, `#` and `:` out, so a value
 * cannot move the request to another path segment, let alone another origin.
 * @param {string} template
 * @param {{offset: number, epoch: string} | null | undefined} position
 * @param {any} data
 * @returns {string}
 */
function expand(template, position, data) {
  return template.replace(/\{(offset|epoch|data(?:\.[^.{}]+)+)\}/g, (_, name) => {
    let value;
    if (name === 'offset') value = position?.offset;
    else if (name === 'epoch') value = position?.epoch;
    else {
      value = data;
      for (const key of name.split('.').slice(1)) {
        value = value !== null && typeof value === 'object' && Object.hasOwn(value, key) ? value[key] : undefined;
      }
    }
    const printable = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    return printable ? encodeURIComponent(String(value)) : '';
  });
}

/**
 * Replaces `target`'s children with `html` by updating the nodes already there (a small
 * DOM diff), so what the user is doing survives a refresh: focus, the caret and
 * selection, scroll offsets, and the value of a form control the user changed or is in.
 * Children are matched by id, else by position and tag; attributes and text are updated;
 * unmatched nodes are inserted or removed. Scripts in `html` do not run (as with
 * `innerHTML`).
 * @param {Element} target
 * @param {string} html
 */
function morph(target, html) {
  const doc = /** @type {Document} */ (target.ownerDocument);
  const template = doc.createElement('template');
  template.innerHTML = html;
  const active = /** @type {any} */ (doc.activeElement);
  // Taken now: a node moved without moveBefore loses focus on the way.
  const focused = active && active !== target && target.contains(active) ? { element: active, selection: selectionOf(active) } : null;
  // Text above a scrolled point that grows or shrinks would move what the user reads.
  const scrolled = [target, ...target.querySelectorAll('*')]
    .filter((element) => element.scrollTop || element.scrollLeft)
    .map((element) => [element, element.scrollTop, element.scrollLeft]);
  morphChildren(target, template.content, focused?.element ?? null);
  for (const [element, top, left] of scrolled) {
    if (!element.isConnected) continue;
    element.scrollTop = top;
    element.scrollLeft = left;
  }
  // A node moved by insertBefore (no moveBefore) loses focus: give it back.
  if (focused && focused.element.isConnected && doc.activeElement !== focused.element) {
    focused.element.focus({ preventScroll: true });
    restoreSelection(focused.element, focused.selection);
  }
}

/**
 * Makes `parent`'s children look like `source`'s.
 * @param {Element} parent
 * @param {ParentNode} source its children are moved into `parent` where nothing matches
 * @param {Element | null} focused what had focus when the morph began
 */
function morphChildren(parent, source, focused) {
  const incoming = [...source.childNodes];
  /** @type {Set<string>} */
  const wanted = new Set();
  for (const node of incoming) if (node.nodeType === 1 && /** @type {Element} */ (node).id) wanted.add(/** @type {Element} */ (node).id);
  /** @type {Map<string, Element>} */
  const byId = new Map();
  for (const child of parent.children) if (child.id && !byId.has(child.id)) byId.set(child.id, child);
  /** @type {ChildNode | null} everything before it is settled */
  let cursor = parent.firstChild;
  for (const node of incoming) {
    // An old element whose id nothing asks for goes; it must not hold up the cursor.
    while (cursor && cursor.nodeType === 1 && /** @type {Element} */ (cursor).id && !wanted.has(/** @type {Element} */ (cursor).id)) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    const id = node.nodeType === 1 ? /** @type {Element} */ (node).id : '';
    /** @type {ChildNode | null} */
    let match = null;
    if (id) {
      const keyed = byId.get(id);
      if (keyed && sameKind(keyed, node)) {
        match = keyed;
        byId.delete(id);
      }
    }
    // By position: an old element with an id is only ever matched by its id, so a keyed
    // element's state never passes to another.
    if (!match && cursor && sameKind(cursor, node) && !(cursor.nodeType === 1 && /** @type {Element} */ (cursor).id)) {
      match = cursor;
    }
    if (!match) {
      parent.insertBefore(node, cursor);
      continue;
    }
    if (match === cursor) cursor = cursor.nextSibling;
    else move(parent, match, cursor);
    morphNode(match, node, focused);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

/** Same node type and, for elements, the same tag. @param {Node} a @param {Node} b */
function sameKind(a, b) {
  if (a.nodeType !== b.nodeType) return false;
  if (a.nodeType !== 1) return true;
  const [x, y] = /** @type {Element[]} */ ([a, b]);
  return x.localName === y.localName && x.namespaceURI === y.namespaceURI;
}

/** Moves `node` before `before`, keeping its state where the browser can (moveBefore). */
function move(parent, node, before) {
  if (typeof parent.moveBefore === 'function') {
    try {
      parent.moveBefore(node, before);
      return;
    } catch {
      // not movable atomically (e.g. from another document): insert
    }
  }
  parent.insertBefore(node, before);
}

/**
 * Updates `node` (already matched to `fresh`): attributes, children, kept user input.
 * @param {any} node @param {any} fresh @param {Element | null} focused
 */
function morphNode(node, fresh, focused) {
  if (node.nodeType !== 1) {
    if (node.nodeValue !== fresh.nodeValue) node.nodeValue = fresh.nodeValue;
    return;
  }
  const element = /** @type {HTMLElement} */ (node);
  const kept = userInput(element, element === focused);
  for (const attribute of [...fresh.attributes]) {
    if (element.getAttributeNS(attribute.namespaceURI, attribute.localName) !== attribute.value) {
      element.setAttributeNS(attribute.namespaceURI, attribute.name, attribute.value);
    }
  }
  for (const attribute of [...element.attributes]) {
    if (attribute.name === 'data-sb-state') continue; // the binding's, not the server's
    if (!fresh.hasAttributeNS(attribute.namespaceURI, attribute.localName)) {
      element.removeAttributeNS(attribute.namespaceURI, attribute.localName);
    }
  }
  if (element.localName === 'template') {
    element.innerHTML = fresh.innerHTML; // its content is inert: nothing there to keep
  } else if (!(element.isContentEditable && element === focused)) {
    morphChildren(element, fresh, focused); // (text being edited in place is left alone)
  }
  if (kept) restoreInput(element, kept);
}

/**
 * The state of a form control that a refresh must not overwrite: one the user changed
 * (its value, checkedness or selected options differ from the defaults the markup set)
 * or is in (focus). Null for anything else.
 * @param {any} element @param {boolean} focused
 */
function userInput(element, focused) {
  switch (element.localName) {
    case 'input': {
      const checkable = element.type === 'checkbox' || element.type === 'radio';
      const changed = checkable ? element.checked !== element.defaultChecked : element.value !== element.defaultValue;
      if (!changed && !focused) return null;
      return { value: element.value, checked: element.checked, checkable, focused, selection: selectionOf(element) };
    }
    case 'textarea':
      if (element.value === element.defaultValue && !focused) return null;
      return { value: element.value, focused, selection: selectionOf(element) };
    case 'select': {
      const options = [...element.options];
      if (!focused && options.every((option) => option.selected === option.defaultSelected)) return null;
      return { selected: options.filter((option) => option.selected).map((option) => option.value) };
    }
    default:
      return null;
  }
}

/** Puts back what {@link userInput} saved. */
function restoreInput(element, kept) {
  if (kept.selected) {
    for (const option of element.options) option.selected = kept.selected.includes(option.value);
    return;
  }
  if (kept.checkable) {
    element.checked = kept.checked;
    return;
  }
  // A file input's value cannot be set, and the markup never changes it anyway.
  if (element.type !== 'file' && element.value !== kept.value) element.value = kept.value;
  if (kept.focused) restoreSelection(element, kept.selection);
}

/** The caret and selection of a text control, or null (other elements, other types). */
function selectionOf(element) {
  try {
    if (typeof element.selectionStart !== 'number') return null;
    return [element.selectionStart, element.selectionEnd, element.selectionDirection];
  } catch {
    return null; // input types without a selection throw in older browsers
  }
}

/** @param {any} element @param {any[] | null} selection */
function restoreSelection(element, selection) {
  if (!selection) return;
  const [start, end, direction] = selection;
  if (element.selectionStart === start && element.selectionEnd === end) return;
  try {
    element.setSelectionRange(start, end, direction ?? undefined);
  } catch {
    // the control's type no longer has a selection
  }
}

/**
 * Whether `url`, resolved against `base`, has the origin of `page` (by default `base`'s).
 * A page's base URL and its origin differ when a `<base href>` points elsewhere: a
 * relative URL then leaves the page's origin. An opaque origin (`data:`, `about:blank`,
 * a sandboxed page) is nobody's: never the same.
 * @param {string} url
 * @param {string} base
 * @param {string} [page]
 */
function sameOrigin(url, base, page = base) {
  try {
    const origin = new URL(page).origin;
    return origin !== 'null' && new URL(url, base).origin === origin;
  } catch {
    return false;
  }
}

/**
 * The client started by `data-sb-auto`, if any: put `data-sb-auto` on an element
 * (e.g. `<body data-sb-auto data-sb-token="JWT" data-sb-url="/ws">`) and the module
 * connects and binds the whole document when it loads.
 * @type {SocketClient | null}
 */
export let autoClient = null;

if (typeof document !== 'undefined' && typeof MutationObserver !== 'undefined') {
  const start = () => {
    const marker = document.querySelector('[data-sb-auto]');
    if (!marker || autoClient) return;
    const token = marker.getAttribute('data-sb-token');
    autoClient = new SocketClient(marker.getAttribute('data-sb-url') || '/ws', token ? { token } : {});
    autoClient.connect().catch(() => {});
    autoClient.bindDeclarative(document);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
}
