// The field app's service worker: the shell (page, script, styles, icons) precached under a
// versioned name; the last answers of the read APIs kept so the lists show offline. Writes are
// never touched here: the app's own outbox (outbox.js) queues and sends them.
/* global SHELL_VERSION, SHELL_FILES */
const SHELL = `shell-${SHELL_VERSION}`;
const LISTS = "lists-v1";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("shell-") && n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  // Signing out: the device keeps no family's data behind.
  if (event.data === "forget-lists") event.waitUntil(caches.delete(LISTS));
});

self.addEventListener("sync", (event) => {
  // Chromium only: wake an open page's sender; the page's own triggers do the same elsewhere.
  event.waitUntil(self.clients.matchAll().then((all) => all.forEach((c) => c.postMessage("send-now"))));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.includes("/api/")) {
    // Read APIs: network first, the last answer when offline. Photos are not kept.
    if (request.method !== "GET" || url.pathname.includes("/photos/")) return;
    event.respondWith(
      fetch(request)
        .then((answer) => {
          if (answer.ok) {
            const copy = answer.clone();
            caches.open(LISTS).then((cache) => cache.put(request, copy));
          }
          return answer;
        })
        .catch(() => caches.open(LISTS).then((cache) => cache.match(request)).then((hit) => hit || Response.error())),
    );
    return;
  }
  if (request.method !== "GET") return;
  // The shell: the network when it answers (an update), else the cache; a navigation offline
  // gets the page.
  event.respondWith(
    fetch(request)
      .then((answer) => {
        if (answer.ok && SHELL_FILES.some((f) => url.pathname.endsWith(f.replace("./", "/")))) {
          const copy = answer.clone();
          caches.open(SHELL).then((cache) => cache.put(request, copy));
        }
        return answer;
      })
      .catch(() =>
        caches.open(SHELL).then((cache) =>
          cache.match(request, { ignoreSearch: true }).then((hit) => hit || (request.mode === "navigate" ? cache.match("./") : Response.error())),
        ),
      ),
  );
});
