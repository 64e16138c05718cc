// The device's outbox (FIELD.md): every write is queued in IndexedDB with its Idempotency-Key,
// made once here at enqueue and never again, and sent oldest first by one sender. A refused
// write (409, 422…) stays, with the service's reason, until the user fixes it (a new item with a
// new key) or discards it. A network error or 503 is retried later with the same key; a 401
// pauses the queue until the user signs in again. Tokens are never stored in an item: a fresh
// one is added at send time. Photos are kept as Blobs in their own store (base64 where the
// browser cannot store Blobs: the probe below).
import { openDB } from "idb";
import { signal } from "@preact/signals";

const DB = "genting-lapangan";
export const items = signal([]); // what the screen shows: every item not yet sent
export const paused = signal(false); // a 401: sign in again to send
export const sending = signal(false);
export const answers = signal({}); // item id → the service's answer, for what this session sent

let dbPromise;
function db() {
  dbPromise ||= openDB(DB, 1, {
    upgrade(d) {
      d.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      d.createObjectStore("photos", { keyPath: "id" });
      d.createObjectStore("done", { keyPath: "id" }); // answers of sent items, for their dependents
    },
  });
  return dbPromise;
}

let blobsWork;
async function canStoreBlobs() {
  // Enketo's probe: some WebKit versions lose Blobs written to IndexedDB.
  if (blobsWork !== undefined) return blobsWork;
  try {
    const d = await db();
    await d.put("photos", { id: "probe", blob: new Blob(["ok"], { type: "text/plain" }) });
    const back = await d.get("photos", "probe");
    blobsWork = back && back.blob instanceof Blob && (await back.blob.text()) === "ok";
    await d.delete("photos", "probe");
  } catch {
    blobsWork = false;
  }
  return blobsWork;
}

export async function refresh() {
  const all = await (await db()).getAll("outbox");
  items.value = all;
}

/** Queue a write. `body` is JSON; `photo` a Blob sent as multipart field `photo`. `after` names
 * items whose answers this one needs (its path may say {{<id>.<field>}}). */
export async function enqueue({ label, method = "POST", path, body, photo, after = [], family, form }) {
  const id = crypto.randomUUID();
  // `form` is the screen that made it: a refused item is fixed there, with its values filled in.
  const item = { id, key: crypto.randomUUID(), label, method, path, body, after, family, form, status: "waiting", problem: null, created: Date.now() };
  if (photo) {
    // Read the bytes before the transaction: awaiting anything else would commit it.
    const stored = (await canStoreBlobs()) ? { blob: photo } : { base64: await toBase64(photo), type: photo.type };
    await (await db()).put("photos", { id, ...stored });
    item.photo = id;
  }
  await (await db()).add("outbox", item);
  await refresh();
  sendSoon();
  return id;
}

export async function discard(item) {
  const d = await db();
  await d.delete("outbox", item.seq);
  if (item.photo) await d.delete("photos", item.photo);
  await refresh();
}

/** Items that waited for `oldId` wait for `newId` instead (the refused item was fixed as a new one). */
export async function repoint(oldId, newId) {
  const d = await db();
  for (const item of await d.getAll("outbox")) {
    if (!(item.after || []).includes(oldId)) continue;
    item.after = item.after.map((a) => (a === oldId ? newId : a));
    item.path = item.path.split(`{{${oldId}.`).join(`{{${newId}.`);
    await d.put("outbox", item);
  }
}

async function toBase64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function photoBlob(id) {
  const found = await (await db()).get("photos", id);
  if (!found) return null;
  if (found.blob) return found.blob;
  const raw = atob(found.base64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return new Blob([bytes], { type: found.type });
}

// -- the sender -------------------------------------------------------------------------

let getToken = () => null;
let apiBase = "/api";
let backoff = 2000;
let timer = null;

export function configure({ token, api }) {
  getToken = token;
  apiBase = api;
}

export function sendSoon(delay = 0) {
  clearTimeout(timer);
  timer = setTimeout(sendAll, delay);
}

export function resume() {
  paused.value = false;
  sendSoon();
}

/** One sender at a time, across tabs too (Web Locks where present). */
export async function sendAll() {
  if (sending.value || paused.value) return;
  sending.value = true;
  try {
    if (navigator.locks) await navigator.locks.request("genting-outbox", drain);
    else await drain();
  } finally {
    sending.value = false;
    await refresh();
  }
}

async function drain() {
  const d = await db();
  const queue = (await d.getAll("outbox")).sort((a, b) => a.seq - b.seq);
  for (const item of queue) {
    if (item.status !== "waiting") continue;
    const token = getToken();
    if (!token) {
      paused.value = true;
      return;
    }
    // Held back while what it depends on is not sent (refused or still waiting).
    const needed = {};
    let ready = true;
    for (const dep of item.after || []) {
      const done = await d.get("done", dep);
      if (!done) ready = false;
      else needed[dep] = done.answer;
    }
    if (!ready) continue;
    const path = item.path.replace(/\{\{([^.}]+)\.([^}]+)\}\}/g, (_, dep, field) => needed[dep][field]);
    const headers = { Authorization: `Bearer ${token}`, "Idempotency-Key": item.key, "X-Client-Id": item.id };
    let body;
    if (item.photo) {
      const blob = await photoBlob(item.photo);
      body = new FormData();
      body.append("photo", blob, "foto.jpg");
    } else if (item.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(item.body);
    }
    let answer;
    try {
      answer = await fetch(apiBase + path, { method: item.method, headers, body, cache: "no-store" });
    } catch {
      sendSoon(nextBackoff()); // offline or the network failed: the same key later
      return;
    }
    if (answer.status === 401) {
      paused.value = true;
      return;
    }
    if (answer.status >= 500 || answer.status === 408 || answer.status === 429) {
      sendSoon(nextBackoff());
      return;
    }
    const json = await answer.json().catch(() => ({}));
    if (answer.ok) {
      backoff = 2000;
      await d.put("done", { id: item.id, answer: json, at: Date.now() });
      answers.value = { ...answers.value, [item.id]: json };
      await d.delete("outbox", item.seq);
      if (item.photo) await d.delete("photos", item.photo);
    } else {
      // Refused: kept, with the reason, until fixed or discarded. Unrelated items go on.
      item.status = "refused";
      item.problem = { status: answer.status, title: json.title, detail: json.detail, errors: json.errors || [] };
      await d.put("outbox", item);
    }
    await refresh();
  }
}

function nextBackoff() {
  const wait = backoff;
  backoff = Math.min(backoff * 2, 60000);
  return wait;
}

export function startTriggers() {
  window.addEventListener("online", () => sendSoon());
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && sendSoon());
  navigator.serviceWorker?.addEventListener("message", (e) => e.data === "send-now" && sendSoon());
  refresh().then(() => sendSoon());
}
