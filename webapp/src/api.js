// Reads from the services through the deployment's one origin (/api/<service>/…). Writes never
// go through here: they are queued in the outbox (outbox.js).
import { token } from "./auth.js";

let base = "/api";
export function setBase(api) {
  base = api;
}

export class Offline extends Error {}

export async function get(path) {
  let answer;
  try {
    answer = await fetch(base + path, { headers: { Authorization: `Bearer ${token() || ""}` } });
  } catch {
    throw new Offline("offline");
  }
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    const error = new Error(problem.detail || answer.statusText);
    error.status = answer.status;
    throw error;
  }
  return answer.json();
}

/** A photo the lurah may see, as an object URL (fetched with the token: never a bare link). */
export async function photoUrl(photoId) {
  const answer = await fetch(`${base}/aid/photos/${photoId}`, { headers: { Authorization: `Bearer ${token() || ""}` } });
  if (!answer.ok) return null;
  return URL.createObjectURL(await answer.blob());
}

/** A file only its owner may fetch (a receipt), opened from an object URL: never a bare link. */
export async function openFile(path) {
  const answer = await fetch(base + path, { headers: { Authorization: `Bearer ${token() || ""}` } });
  if (!answer.ok) throw new Error(answer.statusText);
  window.open(URL.createObjectURL(await answer.blob()), "_blank", "noopener");
}

export function today() {
  const d = new Date();
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

export function addDays(iso, days) {
  const d = new Date(iso + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export const rupiah = (n) => "Rp" + Number(n || 0).toLocaleString("id-ID");

/** Shrink a camera photo on the phone: at most 1280 px wide, JPEG. */
export async function shrink(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, 1280 / bitmap.width, 1280 / bitmap.height);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
}
