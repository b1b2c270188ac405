/*
 * Latchkey embed: the Latchkey Python SDK, on Pyodide, in a page of any origin, from one tag.
 *
 *   <script src="https://auth.example.com/static/embed.js" data-app-id="latchkey-demo"
 *           data-server="https://auth.example.com" data-mount="#login"></script>
 *
 * - data-app-id (required): the app's client App ID.
 * - data-server: the Latchkey server; by default the origin this file was loaded from.
 * - data-mount: a CSS selector; a ready-made login widget is mounted in that element.
 *
 * Either way, window.Latchkey is a promise-based API over the Python SDK:
 *   await Latchkey.ready
 *   await Latchkey.logIn("emailPassword", email, password)   // or "anonymous", "apiKey", key
 *   await Latchkey.currentUser(); await Latchkey.allUsers()
 *   await Latchkey.switchUser(id); await Latchkey.logOut(); await Latchkey.removeUser(id)
 *   await Latchkey.callFunction("translate", "hello", "en_fr")
 *   const stop = Latchkey.subscribe((state) => ...)   // {currentUser, allUsers}
 * A failed call rejects with an Error whose .message is a sentence for people, .code the
 * server's error code (e.g. "InvalidPassword", "NetworkError") and .detail the SDK's text.
 *
 * Pyodide and the SDK's Python files come from data-server (Pyodide from /vendor/pyodide, the
 * files from /embed/bundle.json); the sessions live in this page's localStorage, under the same
 * keys as realm-web. Nothing from a user or the server is ever inserted as HTML.
 * This must be a classic script (not type="module"), so it can find its own tag.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    throw new Error("Latchkey: load embed.js with a classic <script src> tag, not type=module.");
  }
  if (window.Latchkey) return; // Loaded twice: keep the first.

  var server = (script.dataset.server || new URL(script.src).origin).replace(/\/+$/, "");
  var appId = script.dataset.appId || "";
  var mountSelector = script.dataset.mount || "";
  var storagePrefix = "realm-web:app(" + appId + "):";
  var listeners = new Set();
  var lastState = null;
  var bridge = null;

  function notify(json) {
    lastState = JSON.parse(json);
    listeners.forEach(function (listener) {
      try { listener(lastState); } catch (err) { console.error("Latchkey listener:", err); }
    });
  }

  async function start() {
    if (!appId) throw new Error("Latchkey: the script tag needs data-app-id.");
    // The page's quick start: Pyodide from its content-addressed, long-cached URL, restored
    // from the memory snapshot made at setup (server/assets.py, rule 3).
    var files = fetch(server + "/embed/bundle.json").then(function (response) {
      if (!response.ok) throw new Error("Latchkey: the SDK bundle answered " + response.status);
      return response.json();
    });
    var pyodideModule = await import(server + "/vendor/latchkey-boot.mjs");
    var loaded = await Promise.all([pyodideModule.loadPyodide(), files]);
    // The SDK's package lives where the snapshot imported it from (server/snapshot.py, rule 2).
    var py = loaded[0], bundle = loaded[1], root = "/home/pyodide";
    Object.keys(bundle).forEach(function (rel) {
      var path = root + "/" + rel;
      py.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
      py.FS.writeFile(path, bundle[rel]);
    });
    var sys = py.pyimport("sys");
    sys.path.insert(0, root);
    sys.destroy();
    var embed = py.pyimport("app.embed");
    bridge = embed.browser_bridge(appId, server, notify);
    embed.destroy();
    // Other tabs of this page change the sessions: follow them.
    window.addEventListener("storage", function (event) {
      if (event.key === null || event.key.indexOf(storagePrefix) === 0) bridge.resync();
    });
    bridge.changed();
  }

  var started = start();

  async function call(name, args) {
    await started;
    var answer = JSON.parse(await bridge.call(name, JSON.stringify(args)));
    if (answer.ok) return answer.value;
    var error = new Error(answer.message);
    error.name = "LatchkeyError";
    error.code = answer.code;
    error.detail = answer.detail;
    throw error;
  }

  var api = {
    logIn: function (kind) { return call("logIn", Array.prototype.slice.call(arguments)); },
    register: function (email, password) { return call("register", [email, password]); },
    sendResetPasswordEmail: function (email) { return call("sendResetPasswordEmail", [email]); },
    currentUser: function () { return call("currentUser", []); },
    allUsers: function () { return call("allUsers", []); },
    switchUser: function (id) { return call("switchUser", [id]); },
    logOut: function (id) { return call("logOut", id === undefined ? [] : [id]); },
    removeUser: function (id) { return call("removeUser", [id]); },
    callFunction: function (name) { return call("callFunction", Array.prototype.slice.call(arguments)); },
    refreshCustomData: function () { return call("refreshCustomData", []); },
    subscribe: function (listener) {
      listeners.add(listener);
      if (lastState) listener(lastState);
      return function unsubscribe() { listeners.delete(listener); };
    },
  };
  api.ready = started.then(function () { return api; });
  window.Latchkey = api;

  // The login widget ---------------------------------------------------------------------------

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text; // Text, never HTML.
    return node;
  }

  function mountWidget(host) {
    var shadow = host.attachShadow({ mode: "open" });
    var box = el("section", { class: "lk", "aria-label": "Sign in" });
    shadow.append(el("link", { rel: "stylesheet", href: server + "/static/embed.css" }), box);
    var status = el("p", { class: "lk-status", role: "status" }, "Loading sign-in…");
    var error = el("p", { class: "lk-error", role: "alert" });
    var notice = el("p", { class: "lk-notice", role: "status" });

    var form = el("form", { class: "lk-form", novalidate: "" });
    var email = el("input", { type: "email", name: "email", autocomplete: "username", required: "" });
    var password = el("input", { type: "password", name: "password",
                                 autocomplete: "current-password", required: "" });
    var emailLabel = el("label", {}, "Email");
    emailLabel.append(email);
    var passwordLabel = el("label", {}, "Password");
    passwordLabel.append(password);
    var signIn = el("button", { type: "submit", class: "lk-primary" }, "Sign in");
    var create = el("button", { type: "button" }, "Create account");
    var anonymous = el("button", { type: "button", class: "lk-link" }, "Continue without an account");
    var buttons = el("div", { class: "lk-buttons" });
    buttons.append(signIn, create);
    form.append(emailLabel, passwordLabel, buttons, anonymous);

    var account = el("div", { class: "lk-account" });
    var who = el("p", { class: "lk-who" });
    var others = el("ul", { class: "lk-others" });
    var logOut = el("button", { type: "button" }, "Log out");
    var add = el("button", { type: "button", class: "lk-link" }, "Add another account");
    account.append(who, others, logOut, add);
    box.append(status, account, form, error, notice);
    form.hidden = account.hidden = true;

    var adding = false, busy = false;

    async function act(work) {
      if (busy) return;
      busy = true;
      box.setAttribute("aria-busy", "true");
      error.textContent = notice.textContent = "";
      try { await work(); } catch (err) { error.textContent = err.message; }
      busy = false;
      box.removeAttribute("aria-busy");
    }

    function render(state) {
      var current = state.currentUser;
      status.hidden = true;
      account.hidden = !current;
      form.hidden = Boolean(current) && !adding;
      add.hidden = adding;
      if (!current) return;
      who.textContent = "";
      who.append("Signed in as ", el("strong", {}, current.label));
      others.replaceChildren.apply(others, state.allUsers.filter(function (user) {
        return !user.isCurrent && user.state === "LoggedIn";
      }).map(function (user) {
        var item = el("li");
        var button = el("button", { type: "button", "aria-label": "Switch to " + user.label }, "Switch to " + user.label);
        button.addEventListener("click", function () { act(function () { return api.switchUser(user.id); }); });
        item.append(button);
        return item;
      }));
    }

    function signedIn() {
      adding = false;
      password.value = "";
      if (lastState) render(lastState);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      act(async function () {
        await api.logIn("emailPassword", email.value.trim(), password.value);
        signedIn();
      });
    });
    create.addEventListener("click", function () {
      act(async function () {
        await api.register(email.value.trim(), password.value);
        try {
          await api.logIn("emailPassword", email.value.trim(), password.value);
        } catch (err) {
          if (err.code !== "AuthError") throw err;
          notice.textContent = "Check your email: open the link we sent you, then sign in.";
          return;
        }
        signedIn();
      });
    });
    anonymous.addEventListener("click", function () {
      act(async function () { await api.logIn("anonymous"); signedIn(); });
    });
    logOut.addEventListener("click", function () { act(function () { return api.logOut(); }); });
    add.addEventListener("click", function () {
      adding = true;
      if (lastState) render(lastState);
      email.focus();
    });

    api.subscribe(render);
    started.catch(function (err) {
      status.textContent = "Sign-in could not start. Reload the page to try again.";
      console.error(err);
    });
  }

  if (mountSelector) {
    var mount = function () {
      var host = document.querySelector(mountSelector);
      if (host) mountWidget(host);
      else console.error("Latchkey: no element matches data-mount=" + mountSelector);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
    else mount();
  }
})();
