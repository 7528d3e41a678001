// Droply pages: what every page shares. No inline scripts (the CSP forbids
// them); page scripts read their data from data-* attributes.
"use strict";

(function () {
  // The browser's time zone, kept in a cookie so the server renders times in
  // it; a page that shows times is reloaded once when it first learns it.
  function detectZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  function readCookie(name) {
    return document.cookie.split("; ").reduce(function (found, pair) {
      var at = pair.indexOf("=");
      return pair.slice(0, at) === name ? decodeURIComponent(pair.slice(at + 1)) : found;
    }, "");
  }

  window.droply = {
    csrf: function () {
      var meta = document.querySelector('meta[name="csrf-token"]');
      return meta ? meta.getAttribute("content") : "";
    },
    zone: detectZone,
    setZone: function (zone) {
      document.cookie = "droply_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    },
    // A JSON request with the CSRF header; resolves to {status, body}.
    send: function (method, url, body, headers) {
      var all = { "x-csrf-token": window.droply.csrf(), accept: "application/json" };
      if (body !== undefined) all["content-type"] = "application/json";
      Object.keys(headers || {}).forEach(function (key) { all[key] = headers[key]; });
      return fetch(url, {
        method: method,
        headers: all,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = { message: text }; }
          return { status: response.status, body: parsed };
        });
      });
    },
  };

  // A photo that does not load gives way to the person's initials.
  function initialsFor(img) {
    var disc = document.createElement("div");
    disc.className = img.className + " initials";
    disc.setAttribute("aria-hidden", "true");
    disc.textContent = img.getAttribute("data-initials") || "";
    img.replaceWith(disc);
  }

  document.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target.tagName === "IMG" && target.hasAttribute("data-initials")) initialsFor(target);
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("img[data-initials]").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0) initialsFor(img);
    });
    var zone = detectZone();
    document.querySelectorAll("[data-detect-zone]").forEach(function (input) {
      if (zone) input.value = zone;
    });
    if (zone && !readCookie("droply_tz")) {
      window.droply.setZone(zone);
      if (document.body.hasAttribute("data-zone-sensitive")) window.location.reload();
    }
  });
})();
