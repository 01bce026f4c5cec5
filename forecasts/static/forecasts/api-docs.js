/* Starts Swagger UI on the API docs page (forecasts/api_docs.html).

   A static file rather than an inline script: the site's Content-Security-Policy allows scripts from 'self'
   only, and the page is cached whole, so it carries no per-request nonce or token. What differs per
   installation (the schema URL, the CSRF cookie and header names) is read from data- attributes; a session
   user's CSRF token is read from its cookie when a request is sent. */
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle !== "function") {
    return;
  }
  const { schemaUrl, csrfCookie, csrfHeader } = root.dataset;

  function cookie(name) {
    const prefix = name + "=";
    for (const part of document.cookie.split(";")) {
      const item = part.trim();
      if (item.startsWith(prefix)) {
        return decodeURIComponent(item.slice(prefix.length));
      }
    }
    return "";
  }

  // Writes from a logged-in browser session need Django's CSRF header (token users need none).
  function requestInterceptor(request) {
    const method = (request.method || "GET").toUpperCase();
    if (!["GET", "HEAD", "OPTIONS"].includes(method) && csrfCookie && csrfHeader) {
      const token = cookie(csrfCookie);
      if (token) {
        request.headers[csrfHeader] = token;
      }
    }
    return request;
  }

  window.ui = SwaggerUIBundle({
    url: schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    requestInterceptor,
  });
})();
