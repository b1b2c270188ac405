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
    // Passkeys and second factors (app/embed_factors.py).
    logInWithPasskey: function () { return call("logInWithPasskey", []); },
    signUpWithPasskey: function (name) { return call("signUpWithPasskey", name === undefined ? [] : [name]); },
    passkeys: function () { return call("passkeys", []); },
    addPasskey: function (name) { return call("addPasskey", name === undefined ? [] : [name]); },
    renamePasskey: function (id, name) { return call("renamePasskey", [id, name]); },
    deletePasskey: function (id) { return call("deletePasskey", [id]); },
    verifySecondFactor: function (code) { return call("verifySecondFactor", [code]); },
    verifySecondFactorWithPasskey: function () { return call("verifySecondFactorWithPasskey", []); },
    secondFactorStatus: function () { return call("secondFactorStatus", []); },
    enrolTotp: function () { return call("enrolTotp", []); },
    confirmTotp: function (code) { return call("confirmTotp", [code]); },
    disableTotp: function (code) { return call("disableTotp", [code]); },
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
    // Passkeys (where the browser has WebAuthn) and the code step of two-step verification.
    var passkeyBox = el("div", { class: "lk-buttons" });
    var passkeyIn = el("button", { type: "button" }, "Sign in with a passkey");
    var passkeyNew = el("button", { type: "button", class: "lk-link" }, "Create an account with a passkey");
    passkeyBox.append(passkeyIn, passkeyNew);
    passkeyBox.hidden = !window.PublicKeyCredential;
    form.prepend(passkeyBox);
    var codeForm = el("form", { class: "lk-form", novalidate: "" });
    var code = el("input", { type: "text", name: "code", autocomplete: "one-time-code", required: "" });
    var codeLabel = el("label", {}, "Code from your authenticator app, or a recovery code");
    codeLabel.append(code);
    var verify = el("button", { type: "submit", class: "lk-primary" }, "Verify");
    codeForm.append(codeLabel, verify);
    codeForm.hidden = true;

    var account = el("div", { class: "lk-account" });
    var who = el("p", { class: "lk-who" });
    var others = el("ul", { class: "lk-others" });
    var logOut = el("button", { type: "button" }, "Log out");
    var add = el("button", { type: "button", class: "lk-link" }, "Add another account");
    var keys = el("ul", { class: "lk-others", "aria-label": "Your passkeys" });
    var addKey = el("button", { type: "button", class: "lk-link" }, "Add a passkey");
    addKey.hidden = !window.PublicKeyCredential;
    // Two-step verification: the QR code and key once, one code, the recovery codes once.
    var totpStart = el("button", { type: "button", class: "lk-link" }, "Turn on two-step verification");
    var totpForm = el("form", { class: "lk-form", novalidate: "" });
    var qr = el("div", { class: "lk-qr" });
    var secret = el("code");
    var keyLine = el("p", {}, "Key: ");
    keyLine.append(secret);
    var totpCode = el("input", { type: "text", name: "totp", inputmode: "numeric",
                                 autocomplete: "one-time-code", required: "" });
    var totpLabel = el("label", {}, "Code from the app");
    totpLabel.append(totpCode);
    totpForm.append(el("p", {}, "Scan this QR code with an authenticator app, or type the key."),
                    qr, keyLine, totpLabel, el("button", { type: "submit", class: "lk-primary" }, "Turn on"));
    totpForm.hidden = true;
    var recovery = el("div", { class: "lk-recovery", tabindex: "-1", "aria-label": "Your recovery codes" });
    var codeList = el("ol");
    var saved = el("button", { type: "button" }, "I have saved them");
    recovery.append(el("p", {}, "Recovery codes: each signs you in once. They are shown only now."), codeList, saved);
    recovery.hidden = true;
    account.append(who, others, keys, addKey, totpStart, totpForm, recovery, logOut, add);
    box.append(status, account, form, codeForm, error, notice);
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
      codeForm.hidden = true;
      if (lastState) render(lastState);
      showKeys();
    }

    async function showKeys() {
      var list = [];
      try { list = await api.passkeys(); } catch (err) { list = []; }
      keys.replaceChildren.apply(keys, list.map(function (key) {
        var item = el("li", {}, key.name + " ");
        var remove = el("button", { type: "button", "aria-label": "Delete " + key.name }, "Delete");
        remove.addEventListener("click", function () {
          act(async function () { await api.deletePasskey(key.id); await showKeys(); });
        });
        item.append(remove);
        return item;
      }));
    }

    function askCode(err) {
      if (err.code !== "SecondFactorRequired") throw err;
      form.hidden = true;
      codeForm.hidden = false;
      code.value = "";
      code.focus();
    }

    passkeyIn.addEventListener("click", function () {
      act(async function () { await api.logInWithPasskey(); signedIn(); });
    });
    passkeyNew.addEventListener("click", function () {
      act(async function () { await api.signUpWithPasskey(); signedIn(); });
    });
    addKey.addEventListener("click", function () {
      act(async function () { await api.addPasskey(); await showKeys(); notice.textContent = "Passkey added."; });
    });
    totpStart.addEventListener("click", function () {
      act(async function () {
        var enrolment = await api.enrolTotp();
        // The server's own SVG (segno): markup from the Latchkey server, never from the page.
        qr.innerHTML = enrolment.qrSvg;
        secret.textContent = enrolment.secret;
        totpForm.hidden = false;
        totpStart.hidden = true;
        totpCode.focus();
      });
    });
    totpForm.addEventListener("submit", function (event) {
      event.preventDefault();
      act(async function () {
        var done = await api.confirmTotp(totpCode.value.replace(/\s/g, ""));
        totpForm.hidden = true;
        qr.replaceChildren();
        secret.textContent = totpCode.value = "";
        codeList.replaceChildren.apply(codeList, done.recoveryCodes.map(function (code) { return el("li", {}, code); }));
        recovery.hidden = false;
        recovery.focus();
      });
    });
    saved.addEventListener("click", function () {
      codeList.replaceChildren();
      recovery.hidden = true;
      totpStart.hidden = true;
    });
    codeForm.addEventListener("submit", function (event) {
      event.preventDefault();
      act(async function () { await api.verifySecondFactor(code.value); signedIn(); });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      act(async function () {
        try {
          await api.logIn("emailPassword", email.value.trim(), password.value);
        } catch (err) {
          askCode(err);
          return;
        }
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
    api.ready.then(function () { if (lastState && lastState.currentUser) showKeys(); });
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
