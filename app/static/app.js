// The demo page: sign in, global chat, private messages, a declarative room (a list
// and a summary card), toasts.
// Plain JavaScript on top of the framework's client at /switchboard/switchboard.js.

import { SocketClient } from '/switchboard/switchboard.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const MAX_ITEMS = 200;
const STORAGE_KEY = 'switchboard-demo';
const STATE_TEXT = {
  idle: 'offline',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  closed: 'offline',
};

/** @type {SocketClient | null} */
let client = null;
/** The page's declarative elements (the room list and its summary card). */
let binding = null;

// -- sign-in -------------------------------------------------------------------------

/** Asks the demo for a development token: `{token, user: {id, name}, expires_in}`. */
async function issueToken(name) {
  const response = await fetch('/api/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  return body;
}

function remembered() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function remember(session) {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $('sign-in-error');
  error.hidden = true;
  try {
    const session = await issueToken(/** @type {HTMLInputElement} */ ($('name')).value.trim());
    remember(session);
    start(session);
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
});

$('sign-out').addEventListener('click', () => {
  client?.disconnect();
  remember(null);
  location.reload();
});

// -- rendering -----------------------------------------------------------------------

function time() {
  return new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Appends a message; user text only ever goes through textContent. */
function append(list, { from, to, text, mine }) {
  list.querySelector('.empty')?.remove();
  const item = document.createElement('li');
  if (mine) item.classList.add('mine');
  const stamp = document.createElement('time');
  stamp.textContent = time();
  const author = document.createElement('span');
  author.className = 'from';
  author.textContent = from;
  item.append(stamp, author);
  if (to) {
    const arrow = document.createElement('span');
    arrow.className = 'to';
    arrow.textContent = `→ ${to}`;
    item.append(arrow);
  }
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  item.append(body);
  list.append(item);
  while (list.children.length > MAX_ITEMS) list.firstElementChild?.remove();
  list.scrollTop = list.scrollHeight;
}

function toast(text, { title = 'Notification', kind = 'info' } = {}) {
  const box = $('toasts');
  const note = document.createElement('div');
  note.className = `toast ${kind}`;
  const heading = document.createElement('strong');
  heading.textContent = title;
  const body = document.createElement('span');
  body.textContent = text;
  note.append(heading, body);
  box.append(note);
  while (box.children.length > 5) box.firstElementChild?.remove();
  setTimeout(() => note.remove(), 6000);
}

function showState(state) {
  const badge = $('state');
  badge.dataset.state = state;
  badge.textContent = STATE_TEXT[state] ?? state;
}

// -- the room (declarative) ------------------------------------------------------------

function openRoom(id) {
  const list = $('room-messages');
  const path = `/rooms/${encodeURIComponent(id)}`;
  // Changing the attributes is all it takes: the binding leaves the old channel and
  // joins the new one (once both elements have moved: they share the subscription).
  list.setAttribute('data-sb-channel', `room.${id}`);
  list.setAttribute('data-sb-refresh', `${path}/messages`);
  const summary = $('room-summary');
  summary.setAttribute('data-sb-channel', `room.${id}`);
  summary.setAttribute('data-sb-action', `POST ${path}/summary`);
  $('room-channel').textContent = `room.${id}`;
  showMembers(id);
  /** @type {HTMLInputElement} */ ($('room-id')).value = id;
  const link = /** @type {HTMLAnchorElement} */ ($('room-link'));
  link.href = `/?room=${encodeURIComponent(id)}`;
  const url = new URL(location.href);
  url.searchParams.set('room', id);
  history.replaceState(null, '', url);
}

// -- who is in the room (presence) -----------------------------------------------------

/** The room whose members are shown, and its presence channel once joined. */
let membersOf = 'lobby';
/** @type {any} */
let membersChannel = null;

function renderMembers() {
  const list = $('room-members');
  list.replaceChildren();
  const members = [...(membersChannel?.members ?? new Map())]
    .map(([id, info]) => ({ id, name: String(info?.name ?? id) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const member of members) {
    const item = document.createElement('li');
    item.dataset.user = member.id;
    item.textContent = member.name;
    item.title = member.id;
    list.append(item);
  }
}

/** Joins `room-members.{id}` (leaving the previous room's) and lists who is there. */
function showMembers(id) {
  membersOf = id;
  if (!client) return; // joined once the connection starts
  const previous = membersChannel;
  membersChannel = null;
  renderMembers();
  previous?.unsubscribe().catch(() => {});
  client.subscribe(`room-members.${id}`, (error, channel) => {
    if (error || membersOf !== id) return;
    membersChannel = channel;
    channel.on('join', renderMembers);
    channel.on('leave', renderMembers);
    channel.presence().then(renderMembers, () => {});
  });
}

$('room-messages').addEventListener('sb:refreshed', (event) => {
  const list = /** @type {HTMLElement} */ (event.currentTarget);
  list.scrollTop = list.scrollHeight;
});

$('room-picker').addEventListener('submit', (event) => {
  event.preventDefault();
  openRoom(/** @type {HTMLInputElement} */ ($('room-id')).value.trim());
});

// -- the connection --------------------------------------------------------------------

/** @param {{token: string, user: {id: string, name: string}}} session */
function start(session) {
  const { user } = session;
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('me-name').textContent = user.name;
  $('me-avatar').textContent = user.name.slice(0, 1);
  $('private-channel').textContent = `user:chat.${user.id}`;

  const room = new URL(location.href).searchParams.get('room');
  if (room && /^[A-Za-z0-9_-]{1,64}$/.test(room)) openRoom(room);

  let token = session.token;
  client = new SocketClient('/ws', {
    // Called before every attempt: the stored token until the server refuses it
    // (expired, or the server restarted with a new secret), then a fresh one; and
    // before the token expires (`refresh`), for the in-band refresh: dev tokens live
    // five minutes, and the connection stays up for hours.
    token: async ({ reason }) => {
      if (reason === 'refused' || reason === 'refresh') {
        const fresh = await issueToken(user.name);
        token = fresh.token;
        remember(fresh);
      }
      return token;
    },
  });
  client.on('state', showState);
  client.on('error', (error) => toast(error.message, { title: error.code, kind: 'error' }));
  client.listen('notification', ({ message }) => toast(String(message)));
  client.on('unsubscribed', (channel, { message }) =>
    toast(String(message ?? 'no longer authorised'), { title: `left ${channel.name}`, kind: 'error' }));
  client.connect().catch(() => {}); // giving up is reported through the `error` event
  // After a reconnect the members channel is joined again: ask who is there now.
  client.on('subscribed', (channel) => {
    if (channel === membersChannel) channel.presence().then(renderMembers, () => {});
  });
  showMembers(membersOf);

  // Envuso style: subscribe with a callback. Subscribing while connecting waits for
  // `ready`; after a reconnect the client re-joins by itself, listeners included.
  client.subscribe('global-chat', (error, channel) => {
    if (error) return toast(error.message, { title: 'global-chat', kind: 'error' });
    channel.listen('message', ({ message, from }) =>
      append($('global-messages'), { from, text: message, mine: from === user.name }));
  });

  $('global-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('global-input'));
    const channel = client.channel('global-chat');
    try {
      if (!channel) throw new Error('not in the global chat');
      await channel.emit('message', { message: input.value }, { ack: true });
      input.value = '';
    } catch (e) {
      toast(e.message, { title: 'not sent', kind: 'error' });
    }
  });

  client.subscribe(`user:chat.${user.id}`, (error, channel) => {
    if (error) return toast(error.message, { title: 'private channel', kind: 'error' });
    channel.listen('message', ({ message, from, from_id: fromId, to }) =>
      append($('private-messages'), { from, to, text: message, mine: fromId === user.id }));
  });

  $('private-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const to = /** @type {HTMLInputElement} */ ($('private-to'));
    const input = /** @type {HTMLInputElement} */ ($('private-input'));
    try {
      const receipt = await client.emit('private-message', { to: to.value.trim(), message: input.value }, { ack: true });
      input.value = '';
      if (receipt?.delivered === 0) toast(`${to.value.trim()} is not online right now.`, { title: 'not delivered' });
    } catch (e) {
      toast(e.message, { title: 'not sent', kind: 'error' });
    }
  });

  $('room-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('room-input'));
    const roomId = /** @type {HTMLInputElement} */ ($('room-id')).value.trim();
    // The server writes the message as the token's user: no `from` to trust.
    // client.fetch names this tab (X-Socket-Id): the room's signal leaves it out, and
    // the answer below shows the room instead.
    const post = () => client.fetch(`/rooms/${encodeURIComponent(roomId)}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message: input.value }),
    }).catch(() => null);
    let response = await post();
    if (response?.status === 401) { // expired, or the server has a new secret
      const fresh = await issueToken(user.name).catch(() => null);
      if (fresh) {
        token = fresh.token;
        remember(fresh);
        response = await post();
      }
    }
    if (response?.ok) {
      input.value = '';
      // This tab is left out of the room's signal (its X-Socket-Id named it): the answer
      // carries the room as it is now.
      const { html } = await response.json().catch(() => ({}));
      if (typeof html === 'string' && roomId === /** @type {HTMLInputElement} */ ($('room-id')).value.trim()) {
        $('room-messages').innerHTML = html;
        binding?.refresh($('room-summary')); // its signal left this tab out too
      }
    } else toast(`the room did not take it (${response?.status ?? 'offline'})`, { title: 'not posted', kind: 'error' });
  });

  binding = client.bindDeclarative(document);
  window.demo = { client }; // for the console (and the browser tests)
}

const session = remembered();
if (session?.token && session?.user) start(session);
else /** @type {HTMLInputElement} */ ($('name')).focus();
