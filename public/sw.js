// Haven's service worker (docs/privacy.md, "Notifications between visits").
//
// - Caches only the app's fingerprinted assets (the WASM, JS and CSS whose names carry a
//   content hash, the versioned vendor scripts, the icons) for fast repeat visits. Never a
//   page, never an API answer: those may carry someone's conversations.
// - When a page cannot be loaded at all, shows the offline page (cached at install: it holds
//   only the service's crisis resources).
// - Shows a push as a notification: the server decides its words (by default no name and
//   no text); a tap opens that conversation.
"use strict";

const ASSETS = "haven-assets-v1";
const OFFLINE = "/offline.html";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(ASSETS)
      .then((cache) => cache.addAll([OFFLINE, "/icons/haven-192.png"]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== ASSETS).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// A name that changes whenever its content does: `haven.<22 characters>.wasm`, or a
// vendored `socket.io-4.8.1.min.js` (the server marks the same files immutable).
function fingerprinted(path) {
  const name = path.split("/").pop() || "";
  if (path.startsWith("/pkg/")) {
    return name.split(".").some((part) => /^[A-Za-z0-9_-]{22}$/.test(part));
  }
  return path.startsWith("/vendor/") && /-\d/.test(name);
}

// Keeps one build of each asset: a new `haven.<hash>.wasm` replaces the old one.
async function keep(cache, request, response) {
  const url = new URL(request.url);
  const name = url.pathname.split("/").pop() || "";
  const [stem] = name.split(".");
  const suffix = name.slice(name.lastIndexOf("."));
  for (const old of await cache.keys()) {
    const oldPath = new URL(old.url).pathname;
    const oldName = oldPath.split("/").pop() || "";
    if (oldPath !== url.pathname && oldPath.startsWith("/pkg/") && url.pathname.startsWith("/pkg/") &&
        oldName.split(".")[0] === stem && oldName.endsWith(suffix)) {
      await cache.delete(old);
    }
  }
  await cache.put(request, response);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (fingerprinted(url.pathname) || url.pathname.startsWith("/icons/")) {
    event.respondWith(
      caches.open(ASSETS).then(async (cache) => {
        const cached = await cache.match(request);
        if (cached) return cached;
        const response = await fetch(request);
        if (response.ok) event.waitUntil(keep(cache, request, response.clone()));
        return response;
      }),
    );
    return;
  }
  if (request.mode === "navigate") {
    // Always from the network; only when it cannot answer at all, the offline page.
    event.respondWith(
      fetch(request).catch(() => caches.match(OFFLINE).then((page) => page || Response.error())),
    );
  }
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_) {
    data = {};
  }
  const title = typeof data.title === "string" && data.title ? data.title : "New message in Haven";
  const url = typeof data.url === "string" && data.url.startsWith("/chat") ? data.url : "/chat";
  const tag = typeof data.tag === "string" && data.tag ? data.tag : "haven";
  event.waitUntil(
    self.registration.showNotification(title, {
      tag,
      data: { url },
      icon: "/icons/haven-192.png",
      badge: "/icons/haven-192.png",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.url) || "/chat";
  const target = new URL(path, self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin !== self.location.origin) continue;
        const opened = client.url === target ? client : await client.navigate(target).catch(() => null);
        if (opened) {
          await opened.focus().catch(() => {});
          return;
        }
      }
      await self.clients.openWindow(target);
    })(),
  );
});
