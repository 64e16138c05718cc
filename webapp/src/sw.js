// The field app's service worker, made of Workbox's modules: the shell (page, script, styles,
// icons) precached by revision, the last answers of the read APIs kept so the lists show offline.
// Writes are never touched here: the app's own outbox (outbox.js) queues and sends them, because
// they need the user's fresh token and a reason shown when refused (Workbox's background sync
// would replay them blind).
import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { NetworkFirst } from "workbox-strategies";
import { CacheableResponsePlugin } from "workbox-cacheable-response";

const LISTS = "lists-v1";

self.skipWaiting();
clientsClaim();

// The build (build.mjs) writes the list of the shell's files with a hash of each: a new build
// changes this file, the phone fetches the changed files once, and old revisions are dropped.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Any page of the app, offline or not, is the one page (the sign-in's redirect keeps its query).
registerRoute(new NavigationRoute(createHandlerBoundToURL("index.html")));

// Read APIs: the network first, the last answer when offline. Photos are not kept on the phone.
registerRoute(
  ({ url, request, sameOrigin }) => sameOrigin && request.method === "GET" && url.pathname.startsWith("/api/") && !url.pathname.includes("/photos/"),
  new NetworkFirst({ cacheName: LISTS, plugins: [new CacheableResponsePlugin({ statuses: [200] })] }),
);

self.addEventListener("message", (event) => {
  // Signing out: the device keeps no family's data behind.
  if (event.data === "forget-lists") event.waitUntil(caches.delete(LISTS));
});

self.addEventListener("sync", (event) => {
  // Chromium only: wake an open page's sender; the page's own triggers do the same elsewhere.
  event.waitUntil(self.clients.matchAll().then((all) => all.forEach((c) => c.postMessage("send-now"))));
});
