/*
 * Latchkey embed: the Latchkey Python SDK, on Pyodide, in a page of any origin, from one tag.
 *
 *   <script src="https://auth.example.com/static/embed.js" data-app-id="latchkey-demo"
 *           data-server="https://auth.example.com" data-mount="#login"></script>
 *
 * - data-app-id (required): the app's client App ID.
 * - data-server: the Latchkey server; by default the origin this file was loaded from.
 * - data-mount: a CSS selector; a ready-made login widget is mounted in that element.
 * - data-theme: "light" or "dark" for the widget; by default it follows the visitor's system.
 *
 * Either way, window.Latchkey is a promise-based API over the Python SDK:
 *   await Latchkey.ready
 *   await Latchkey.logIn("emailPassword", email, password)   // or "anonymous", "apiKey", key
 *   await Latchkey.currentUser(); await Latchkey.allUsers()
 *   await Latchkey.switchUser(id); await Latchkey.logOut(); await Latchkey.removeUser(id)
 *   await Latchkey.callFunction("translate", "hello", "en_fr")
 *   await Latchkey.register(email, password); await Latchkey.sendResetPasswordEmail(email)
 *   await Latchkey.resendConfirmationEmail(email); await Latchkey.deleteUser(id)
 *   await Latchkey.authProviders()   // [{name, type, displayName}] the server has enabled
 *   await Latchkey.logInWithPasskey(); await Latchkey.signUpWithPasskey(); await Latchkey.passkeys()
 *   await Latchkey.addPasskey(); await Latchkey.renamePasskey(id, name); await Latchkey.deletePasskey(id)
 *   // A password logIn rejecting with .code "SecondFactorRequired": secondFactorChallenge()
 *   // ({factors, expiresIn, enrolmentRequired}), then verifySecondFactor(code) or
 *   // verifySecondFactorWithPasskey(). Two-step: secondFactorStatus(), enrolTotp() (secret,
 *   // otpauthUri, qrSvg), confirmTotp(code) (recoveryCodes), disableTotp(code or recovery code).
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
      // A precompiled module (server/embed_bundle.py) comes as base64; the sources as text.
      py.FS.writeFile(path, /\.pyc$/.test(rel) ? Uint8Array.from(atob(bundle[rel]), function (c) {
        return c.charCodeAt(0);
      }) : bundle[rel]);
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

  // A request refused by CORS looks like a network failure from script. A no-cors request
  // (its answer is unreadable, but it arrives) tells "the server answers, but not to this
  // origin" from "the server can't be reached".
  async function originRefused() {
    try {
      await fetch(server + "/api/client/v2.0/app/" + encodeURIComponent(appId) + "/location",
                  { mode: "no-cors", credentials: "omit", cache: "no-store" });
      return true;
    } catch (err) {
      return false;
    }
  }

  async function call(name, args) {
    await started;
    var answer = JSON.parse(await bridge.call(name, JSON.stringify(args)));
    if (answer.ok) return answer.value;
    if (answer.code === "NetworkError" && await originRefused()) {
      answer.code = "DomainNotAllowed";
      answer.message = "This website isn't allowed to use its sign-in server. If you run the site, " +
        "add " + location.origin + " to the server's allowed origins ([cors] allowed_origins).";
    }
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
    secondFactorChallenge: function () { return call("secondFactorChallenge", []); },
    resendConfirmationEmail: function (email) { return call("resendConfirmationEmail", [email]); },
    deleteUser: function (id) { return call("deleteUser", id === undefined ? [] : [id]); },
    authProviders: function () { return call("authProviders", []); },
    subscribe: function (listener) {
      listeners.add(listener);
      if (lastState) listener(lastState);
      return function unsubscribe() { listeners.delete(listener); };
    },
  };
  api.ready = started.then(function () { return api; });
  window.Latchkey = api;

  // The login widget ---------------------------------------------------------------------------
  // The page's tasks (app/tasks.py), one at a time: sign in, create an account, reset a password,
  // resend the confirmation; then the account chooser. It shows from the first paint, disabled,
  // with a visible "getting ready" note until the SDK is ready. The region is named by its
  // heading, which follows the task. Messages come from the SDK's bridge (app.messages), and the
  // checks before any request are the page's (the same words).
  // Passkeys and two-step verification (issue 14): passkey buttons first in the sign-in (where
  // the browser has WebAuthn); the code step is a task of its own ("mfa") after a password login
  // that answers SecondFactorRequired (or sets a factor up, when the app requires one); the
  // account's "Security" view lists, adds, renames and deletes passkeys and turns two-step
  // verification on (QR and key once, recovery codes once) and off.

  var ENTER_EMAIL = "Enter your email address.";
  var BAD_EMAIL = "That doesn't look like an email address.";
  var ENTER_PASSWORD = "Enter your password.";
  var PASSWORD_LENGTH = "Use a password of 6 to 128 characters.";
  var ENTER_CODE = "Enter the code from your authenticator app, or a recovery code.";
  var ENTER_APP_CODE = "Enter the 6-digit code your authenticator app shows.";
  var ENTER_NAME = "Enter a name for this passkey.";
  var WEBAUTHN = Boolean(window.PublicKeyCredential);
  var TITLES = { signin: "Sign in", register: "Create an account", forgot: "Reset your password",
                 resend: "Confirm your email", account: "Your account", adding: "Add another account",
                 mfa: "Two-step verification", security: "Security" };
  var SUBMITS = { signin: "Sign in", register: "Create account", forgot: "Email me a link",
                  resend: "Send the link again" };

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text; // Text, never HTML.
    return node;
  }

  function emailProblem(value) {
    if (!value) return ENTER_EMAIL;
    var at = value.lastIndexOf("@");
    if (at < 1 || at === value.length - 1 || /\s/.test(value)) return BAD_EMAIL;
    return null;
  }

  function passwordProblem(value, isNew) {
    if (!value) return isNew ? PASSWORD_LENGTH : ENTER_PASSWORD;
    if (isNew && (value.length < 6 || value.length > 128)) return PASSWORD_LENGTH;
    return null;
  }

  // A signed-in session stored by this page (a refresh token key exists): the first paint is
  // the account view, like index.html's. The token itself is never read.
  function storedSession() {
    try {
      var ids = JSON.parse(localStorage.getItem(storagePrefix + "userIds") || "[]");
      return ids.some(function (id) {
        return typeof id === "string" && (storagePrefix + "user(" + id + "):refreshToken") in localStorage;
      });
    } catch (err) { return false; }
  }

  function mountWidget(host) {
    var shadow = host.attachShadow({ mode: "open" });
    var theme = script.dataset.theme;
    var title = el("h2", { class: "lk-title", id: "lk-title", tabindex: "-1" }, "Sign in");
    var box = el("section", { class: "lk", "aria-labelledby": "lk-title", "aria-busy": "true" });
    if (theme === "dark" || theme === "light") box.dataset.theme = theme;
    shadow.append(el("link", { rel: "stylesheet", href: server + "/static/embed.css" }), box);
    var status = el("p", { class: "lk-status", role: "status" }, "Getting sign-in ready…");
    var error = el("p", { class: "lk-error", role: "alert" });
    var notice = el("p", { class: "lk-notice", role: "status" });

    // One form for every task: the email field stays, so what was typed follows.
    var form = el("form", { class: "lk-form", novalidate: "" });
    var fieldset = el("fieldset", { disabled: "" });
    function field(id, labelText, attributes) {
      var wrap = el("div", { class: "lk-field" });
      var input = el("input", Object.assign({ id: id, "aria-describedby": id + "-problem" }, attributes));
      var label = el("label", { for: id }, labelText);
      var problem = el("p", { id: id + "-problem", class: "lk-problem" });
      wrap.append(label, input, problem);
      return { wrap: wrap, input: input, label: label, problem: problem };
    }
    var email = field("lk-email", "Email", { type: "email", name: "email", autocomplete: "username",
                                             spellcheck: "false", required: "" });
    var password = field("lk-password", "Password", { type: "password", name: "password",
                                                      autocomplete: "current-password", required: "" });
    var forgotLink = el("button", { type: "button", class: "lk-link lk-right" }, "Forgot your password?");
    var submit = el("button", { type: "submit", class: "lk-primary lk-wide" }, "Sign in");
    var hint = el("p", { class: "lk-hint" });
    fieldset.append(el("legend", { class: "lk-hidden" }, "Email and password"), hint, email.wrap,
                    password.wrap, forgotLink, submit);
    form.append(fieldset);

    var switches = el("div", { class: "lk-switches" });
    function switchButton(text, task) {
      var button = el("button", { type: "button", class: "lk-link", disabled: "" }, text);
      button.addEventListener("click", function () { goTo(task); });
      return button;
    }
    var toRegister = el("p", {}, "No account yet? ");
    toRegister.append(switchButton("Create an account", "register"));
    var toSignin = el("p", {}, "Already have an account? ");
    toSignin.append(switchButton("Sign in", "signin"));
    var toResend = el("p", {}, "Didn't get the confirmation email? ");
    toResend.append(switchButton("Send it again", "resend"));
    var back = el("p");
    back.append(switchButton("Back to sign in", "signin"));
    var cancelAdd = el("p");
    var cancelAddButton = el("button", { type: "button", class: "lk-link", disabled: "" }, "Back to your account");
    cancelAdd.append(cancelAddButton);
    switches.append(toRegister, toSignin, toResend, back, cancelAdd);
    var anonymous = el("button", { type: "button", class: "lk-wide", disabled: "" }, "Continue without an account");
    var anonBox = el("div", { class: "lk-anon" });
    anonBox.append(el("p", { class: "lk-divider" }, "or"), anonymous);
    // Passkeys first, like social buttons, where the browser has WebAuthn.
    var passkeyBox = el("div", { class: "lk-passkey-start" });
    var passkeyIn = el("button", { type: "button", class: "lk-wide lk-primary", disabled: "" }, "Sign in with a passkey");
    var passkeyNew = el("button", { type: "button", class: "lk-wide", disabled: "" }, "Create an account with a passkey");
    passkeyBox.append(passkeyIn, passkeyNew, el("p", { class: "lk-divider" }, "or with your email"));
    var signinView = el("div", { class: "lk-signin" });
    signinView.append(passkeyBox, form, switches, anonBox);

    // The code step of a login with two-step verification: a task of its own.
    var mfaView = el("div", { class: "lk-mfa" });
    var mfaHint = el("p", { class: "lk-hint" });
    var mfaForm = el("form", { class: "lk-form", novalidate: "" });
    var code = field("lk-code", "Code from your authenticator app, or a recovery code",
                     { type: "text", name: "code", autocomplete: "one-time-code", spellcheck: "false",
                       autocapitalize: "off", required: "" });
    var verify = el("button", { type: "submit", class: "lk-primary lk-wide", disabled: "" }, "Verify");
    mfaForm.append(code.wrap, verify);
    var mfaPasskey = el("button", { type: "button", class: "lk-wide", disabled: "" }, "Use a passkey instead");
    var mfaEnrol = el("button", { type: "button", class: "lk-primary lk-wide", disabled: "" }, "Set up two-step verification");
    var mfaBack = el("p");
    var mfaBackButton = el("button", { type: "button", class: "lk-link", disabled: "" }, "Back to sign in");
    mfaBack.append(mfaBackButton);
    mfaView.append(mfaHint, mfaForm, mfaPasskey, mfaEnrol, mfaBack);

    var account = el("div", { class: "lk-account" });
    var who = el("p", { class: "lk-who" });
    var list = el("ul", { class: "lk-accounts", "aria-label": "Accounts on this device" });
    var add = el("button", { type: "button", class: "lk-wide" }, "Add another account");
    var toSecurity = el("button", { type: "button", class: "lk-wide" }, "Security: passkeys and two-step verification");
    account.append(who, list, add, toSecurity);

    // Security: the user's passkeys, and two-step verification (QR and key once, recovery codes once).
    var secView = el("div", { class: "lk-security" });
    var secWho = el("p", { class: "lk-sec-who" });
    var keysBox = el("div", { class: "lk-section" });
    var keysTitle = el("h3", { id: "lk-keys-title", tabindex: "-1" }, "Passkeys");
    var keysEmpty = el("p", { class: "lk-hint" }, "No passkeys yet. A passkey signs you in with your device's screen lock, without a password.");
    var keysList = el("ul", { class: "lk-keys", "aria-labelledby": "lk-keys-title" });
    var addKey = el("button", { type: "button", class: "lk-wide" }, "Add a passkey");
    keysBox.append(keysTitle, keysEmpty, keysList, addKey);
    var renameForm = el("form", { class: "lk-rename", novalidate: "" });
    var rename = field("lk-passkey-name", "Passkey name", { type: "text", name: "passkey-name",
                                                          autocomplete: "off", maxlength: "100", required: "" });
    var renameSave = el("button", { type: "submit", class: "lk-primary" }, "Save");
    var renameCancel = el("button", { type: "button" }, "Cancel");
    renameForm.append(rename.wrap, renameSave, renameCancel);
    var totpBox = el("div", { class: "lk-section" });
    var totpTitle = el("h3", { id: "lk-totp-title", tabindex: "-1" }, "Two-step verification");
    var totpStatus = el("p", { class: "lk-hint" });
    var totpStart = el("button", { type: "button", class: "lk-wide" }, "Turn on two-step verification");
    var totpOff = el("form", { class: "lk-form", novalidate: "" });
    var offCode = field("lk-totp-off", "To turn it off: a current code or a recovery code",
                        { type: "text", name: "off-code", autocomplete: "one-time-code", spellcheck: "false", required: "" });
    totpOff.append(offCode.wrap, el("button", { type: "submit", class: "lk-danger lk-wide" }, "Turn off two-step verification"));
    totpBox.append(totpTitle, totpStatus, totpStart, totpOff);
    // Enrolment: shown in the security view, or in the code step when the app requires it.
    var enrolForm = el("form", { class: "lk-form lk-enrol", novalidate: "" });
    var qr = el("div", { class: "lk-qr", role: "img", "aria-label": "QR code for your authenticator app" });
    var secret = el("code", { class: "lk-secret" });
    var keyLine = el("p", {}, "Or type this key: ");
    keyLine.append(secret);
    var appCode = field("lk-totp-code", "Code from the app", { type: "text", name: "totp", inputmode: "numeric",
                                                               autocomplete: "one-time-code", required: "" });
    var enrolCancel = el("button", { type: "button" }, "Cancel");
    enrolForm.append(el("p", {}, "Scan this QR code with an authenticator app, then enter the code it shows. The QR code and key are shown only now."),
                     qr, keyLine, appCode.wrap, el("button", { type: "submit", class: "lk-primary" }, "Turn on"), enrolCancel);
    var recovery = el("div", { class: "lk-recovery", tabindex: "-1", role: "group", "aria-labelledby": "lk-recovery-title" });
    var codeList = el("ol");
    var saved = el("button", { type: "button", class: "lk-primary lk-wide" }, "I have saved them");
    recovery.append(el("h3", { id: "lk-recovery-title" }, "Your recovery codes"),
                    el("p", {}, "Each one signs you in once if you lose your authenticator app. Save them somewhere safe: they are shown only now."),
                    codeList, saved);
    var secBack = el("p");
    var secBackButton = el("button", { type: "button", class: "lk-link" }, "Back to your account");
    secBack.append(secBackButton);
    var secEmpty = el("p", { class: "lk-hint" }, "There is nothing to set up for this account here.");
    secView.append(secWho, recovery, keysBox, totpBox, secEmpty, secBack);
    box.append(title, status, signinView, mfaView, account, secView, error, notice);

    var task = "signin", adding = false, busy = false, ready = false;
    var menuOpen = null, confirming = null, waiting = null;
    // A login waiting for its second step ({address, factors, enrolmentRequired}); the user whose
    // security view is open, and what it shows; what to focus once an action has rendered.
    var challenge = null, security = null, focusAfter = null;
    var keys = null, factors = null, enrolment = null, recoveryCodes = null, renaming = null;
    var passkeysOffered = null; // Whether the server has the passkey provider on (asked once).
    var state = lastState;
    var stored = storedSession();

    function clearMessages() {
      error.textContent = notice.textContent = "";
      [email, password, code, rename, appCode, offCode].forEach(function (f) {
        f.input.removeAttribute("aria-invalid");
        f.problem.textContent = "";
      });
    }

    function check(problems) {
      var first = null;
      problems.forEach(function (p) {
        if (!p[1]) return;
        p[0].input.setAttribute("aria-invalid", "true");
        p[0].problem.textContent = p[1];
        first = first || p[0];
      });
      if (first) first.input.focus();
      return !first;
    }

    function view() {
      if (!ready && stored) return "account";
      var current = state && state.currentUser;
      if (challenge) return "mfa";
      if (current && !adding) return security === current.id ? "security" : "account";
      return task;
    }

    function rescueFocus() {
      var active = shadow.activeElement;
      if (!active || active.offsetParent === null) title.focus();
    }

    async function act(work) {
      if (busy || !ready) return;
      busy = true;
      box.setAttribute("aria-busy", "true");
      clearMessages();
      try { await work(); } catch (err) { error.textContent = factorWords(err) || err.message; }
      busy = false;
      box.removeAttribute("aria-busy");
      render();
      var target = typeof focusAfter === "function" ? focusAfter() : focusAfter;
      focusAfter = null;
      if (target && target.offsetParent !== null) target.focus();
      else rescueFocus();
    }

    function goTo(next) {
      task = next;
      clearMessages();
      render();
      (next === "signin" ? title : email.input).focus();
    }

    function row(user, active) {
      var item = el("li", { class: "lk-row" });
      if (active) item.setAttribute("aria-current", "true");
      var head = el("div", { class: "lk-row-head" });
      var main;
      var signedIn = user.state === "LoggedIn";
      if (active) main = el("div", { class: "lk-main" });
      else {
        // Named by its content (a hidden verb, then the name people see): WCAG 2.5.3.
        main = el("button", { type: "button", class: "lk-main" });
        main.append(el("span", { class: "lk-hidden" }, signedIn ? "Switch to " : "Sign in again as "));
      }
      main.append(el("span", { class: "lk-face", "aria-hidden": "true" }, (user.label || "?").charAt(0).toUpperCase()));
      var words = el("span", { class: "lk-words" });
      var name = el("span", { class: "lk-name" }, user.label);
      if (active) name.append(el("span", { class: "lk-badge" }, "Active"));
      words.append(name, el("span", { class: "lk-meta" }, user.provider + " · " + user.stateText));
      main.append(words);
      if (!active) {
        main.addEventListener("click", function () {
          if (signedIn) { act(function () { return api.switchUser(user.id); }); return; }
          adding = Boolean(state && state.currentUser);
          task = "signin";
          email.input.value = user.email || "";
          render();
          (user.email ? password.input : email.input).focus();
        });
      }
      var toggle = el("button", { type: "button", class: "lk-toggle", "aria-label": "More for " + user.label,
                                  "aria-expanded": String(menuOpen === user.id) }, "⋮");
      toggle.addEventListener("click", function () {
        menuOpen = menuOpen === user.id ? null : user.id;
        confirming = null;
        render();
        var first = shadow.querySelector(".lk-menu button");
        (menuOpen && first ? first : focusToggle(user.id) || title).focus();
      });
      toggle.dataset.userId = user.id;
      head.append(main, toggle);
      item.append(head);
      if (menuOpen === user.id) {
        var menu = el("div", { class: "lk-menu" });
        function entry(text, spoken, work, css) {
          var button = el("button", { type: "button", "aria-label": spoken, class: css || "" }, text);
          button.addEventListener("click", work);
          menu.append(button);
        }
        if (signedIn) entry("Log out", "Log out " + user.label, function () {
          menuOpen = null; act(function () { return api.logOut(user.id); });
        });
        entry("Remove from this device", "Remove from this device: " + user.label, function () {
          menuOpen = null; act(function () { return api.removeUser(user.id); });
        });
        if (signedIn) entry("Delete account", "Delete account " + user.label, function () {
          menuOpen = null; confirming = user.id; render();
          var keep = shadow.querySelector(".lk-confirm .lk-keep");
          if (keep) keep.focus();
        }, "lk-danger");
        item.append(menu);
      }
      if (confirming === user.id) {
        var confirmBox = el("div", { class: "lk-confirm", role: "group", "aria-label": "Confirm deleting " + user.label });
        confirmBox.append(el("p", {}, "Delete the account " + user.label + " for good? Its data on the server is deleted too. This cannot be undone."));
        var sure = el("button", { type: "button", class: "lk-danger lk-solid", "aria-label": "Delete for good: " + user.label }, "Delete for good");
        var keep = el("button", { type: "button", class: "lk-keep", "aria-label": "Cancel, keep " + user.label }, "Cancel");
        sure.addEventListener("click", function () { confirming = null; act(function () { return api.deleteUser(user.id); }); });
        keep.addEventListener("click", function () { cancelConfirm(); });
        confirmBox.append(sure, keep);
        item.append(confirmBox);
      }
      return item;
    }

    function focusToggle(userId) {
      var found = null;
      shadow.querySelectorAll(".lk-toggle").forEach(function (t) { if (t.dataset.userId === userId) found = t; });
      return found;
    }

    function cancelConfirm() {
      var userId = confirming;
      confirming = null;
      render();
      (focusToggle(userId) || title).focus();
    }

    function render() {
      var current = state && state.currentUser;
      var name = view();
      var heading = name === "signin" && adding ? TITLES.adding : TITLES[name];
      title.textContent = heading;
      account.hidden = name !== "account";
      signinView.hidden = name === "account" || name === "mfa" || name === "security";
      mfaView.hidden = name !== "mfa";
      secView.hidden = name !== "security";
      passkeyBox.hidden = !WEBAUTHN || (name !== "signin" && name !== "register");
      passkeyIn.hidden = name !== "signin";
      add.hidden = toSecurity.hidden = !current;
      password.wrap.hidden = name === "forgot" || name === "resend";
      forgotLink.hidden = name !== "signin";
      anonBox.hidden = name !== "signin";
      toRegister.hidden = name !== "signin";
      toSignin.hidden = toResend.hidden = name !== "register";
      back.hidden = name !== "forgot" && name !== "resend";
      cancelAdd.hidden = !(adding && current);
      submit.textContent = SUBMITS[name] || "Sign in";
      password.input.setAttribute("autocomplete", name === "register" ? "new-password" : "current-password");
      password.label.textContent = name === "register" ? "Password (6 to 128 characters)" : "Password";
      hint.textContent = name === "forgot" ? "We will email you a link to choose a new password."
        : name === "resend" ? "We will send a new link to confirm your email address." : "";
      hint.hidden = !hint.textContent;
      if (name === "mfa") renderMfa();
      if (name === "security") renderSecurity(current);
      if (name !== "account") return;
      if (!current) {
        who.textContent = "Loading your account…";
        list.replaceChildren();
        return;
      }
      who.textContent = "";
      who.append("Signed in as ", el("strong", {}, current.label));
      var focused = shadow.activeElement;
      var focusKey = focused && focused.getAttribute("aria-label");
      var users = [current].concat(state.allUsers.filter(function (u) { return !u.isCurrent; }));
      list.replaceChildren.apply(list, users.map(function (u) { return row(u, u.isCurrent); }));
      if (focusKey) {
        shadow.querySelectorAll(".lk-accounts button").forEach(function (b) {
          if (b.getAttribute("aria-label") === focusKey) b.focus();
        });
      }
    }

    function signedIn() {
      challenge = null;
      code.input.value = "";
      adding = false;
      task = "signin";
      password.input.value = "";
      render();
      title.focus();
    }

    async function logInWith(address, secret) {
      var before = (state && state.allUsers || []).filter(function (u) { return u.state === "LoggedIn"; })
        .map(function (u) { return u.id; });
      var user;
      try {
        user = await api.logIn("emailPassword", address, secret);
      } catch (err) {
        if (err.code !== "SecondFactorRequired" && err.code !== "SecondFactorEnrolmentRequired") throw err;
        await askSecondFactor(address, err.code === "SecondFactorEnrolmentRequired");
        return false;
      }
      signedIn();
      if (before.indexOf(user.id) >= 0) {
        notice.textContent = "You were already signed in as " + user.label + " here; it is now the active account.";
      }
      return true;
    }

    function pendingConfirmation(err) {
      return err.code === "AuthError" && /confirmation required/i.test(err.detail || "");
    }

    // After "check your email": sign in by itself once the address is confirmed (tried again
    // when this tab comes back into view; the password stays in memory only).
    function retryWaiting() {
      if (!waiting || busy || !ready) return;
      var item = waiting;
      api.logIn("emailPassword", item[0], item[1]).then(function () {
        waiting = null;
        signedIn();
        notice.textContent = "Your email is confirmed and you are signed in as " + item[0] + ".";
      }, function (err) { if (!pendingConfirmation(err)) waiting = null; });
    }
    window.addEventListener("focus", retryWaiting);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") retryWaiting();
    });

    var handlers = {
      signin: async function (address) {
        if (!check([[email, emailProblem(address)], [password, passwordProblem(password.input.value, false)]])) return;
        await logInWith(address, password.input.value);
      },
      register: async function (address) {
        var secret = password.input.value;
        if (!check([[email, emailProblem(address)], [password, passwordProblem(secret, true)]])) return;
        try {
          await api.register(address, secret);
        } catch (err) {
          if (err.code !== "AccountNameInUse") throw err;
          try {
            if (await logInWith(address, secret)) {
              notice.textContent = "You already had an account as " + address + ": you are signed in.";
            }
          } catch (again) {
            if (!pendingConfirmation(again)) {
              if (again.code === "NetworkError" || again.code === "DomainNotAllowed") throw again;
              throw err;
            }
            waiting = [address, secret];
            notice.textContent = "You have already created this account, but " + address + " is not " +
              "confirmed yet. Open the link we sent you, or send it again.";
          }
          return;
        }
        try {
          await logInWith(address, secret);
        } catch (err) {
          if (!pendingConfirmation(err)) throw err;
          waiting = [address, secret];
          notice.textContent = "Check your email. We sent a link to " + address +
            ": open it to finish creating your account, then come back here.";
        }
      },
      forgot: async function (address) {
        if (!check([[email, emailProblem(address)]])) return;
        try { await api.sendResetPasswordEmail(address); } catch (err) { if (err.code !== "UserNotFound") throw err; }
        notice.textContent = "If there is an account for " + address + ", we have sent it a link to choose a new password.";
      },
      resend: async function (address) {
        if (!check([[email, emailProblem(address)]])) return;
        try { await api.resendConfirmationEmail(address); } catch (err) {
          if (err.code === "UserAlreadyConfirmed") { notice.textContent = "This email address is already confirmed. You can sign in."; return; }
          if (err.code !== "UserNotFound") throw err;
        }
        notice.textContent = "If " + address + " is waiting to be confirmed, a new link is on its way.";
      },
    };

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = view();
      act(function () { return handlers[name](email.input.value.trim()); });
    });
    forgotLink.addEventListener("click", function () { goTo("forgot"); });
    anonymous.addEventListener("click", function () {
      act(async function () { await api.logIn("anonymous"); signedIn(); });
    });
    add.addEventListener("click", function () {
      adding = true;
      task = "signin";
      menuOpen = confirming = null;
      email.input.value = password.input.value = "";
      clearMessages();
      render();
      title.focus();
    });
    cancelAddButton.addEventListener("click", function () {
      adding = false;
      clearMessages();
      render();
      title.focus();
    });
    box.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      if (escapeFactors()) {
        // A rename, an enrolment, the code step or the security view was left.
      } else if (menuOpen) {
        var id = menuOpen;
        menuOpen = null;
        render();
        (focusToggle(id) || title).focus();
      } else if (confirming) {
        cancelConfirm();
      } else if (view() !== "account" && task !== "signin") {
        goTo("signin");
      } else if (adding && state && state.currentUser) {
        adding = false;
        render();
        title.focus();
      } else {
        return;
      }
      event.preventDefault();
    });

    // Passkeys and two-step verification (issue 14) ------------------------------------------

    // The page's words for the failures particular to passkeys and codes (app/ui_factor_common.py).
    function factorWords(err) {
      var detail = err.detail || "";
      if (err.code === "PasskeyInvalid") return "This passkey was not accepted. Try again, or use another way to sign in.";
      if (err.code === "SecondFactorInvalid") {
        return /expired/.test(detail) ? "This sign-in took too long. Go back and start again with your password."
          : "That code is wrong or was used already. Enter the newest code from your app.";
      }
      if (err.code === "LastIdentity") return "This passkey is the only way into this account, so it cannot be deleted.";
      if (err.code === "IdentityAlreadyLinked") return "This passkey is registered already.";
      if (/The passkey request did not finish \(InvalidStateError\)/.test(detail)) {
        return "This device has a passkey for this account already.";
      }
      if (/The passkey request did not finish/.test(detail)) {
        return "The passkey request was cancelled or timed out. Try again, or use another way to sign in.";
      }
      return null;
    }

    function askSecondFactor(address, enrolmentRequired) {
      challenge = { address: address, factors: [], enrolmentRequired: enrolmentRequired };
      password.input.value = code.input.value = "";
      focusAfter = enrolmentRequired ? mfaEnrol : code.input;
      // Which factors this login takes (a passkey among them?); the code works either way.
      return api.secondFactorChallenge().then(function (found) {
        if (challenge) challenge.factors = found.factors || [];
      }, function () {});
    }

    function byLabel(parent, label) {
      var found = null;
      parent.querySelectorAll("button").forEach(function (b) { if (b.getAttribute("aria-label") === label) found = b; });
      return found;
    }

    function whenText(seconds) {
      return seconds ? new Date(seconds * 1000).toLocaleDateString() : "";
    }

    function keyRow(key) {
      var item = el("li", { class: "lk-key" });
      if (renaming === key.id) {
        item.append(renameForm);
        return item;
      }
      var words = el("span", { class: "lk-words" });
      var used = key.lastUsedAt ? "last used " + whenText(key.lastUsedAt) : "never used";
      words.append(el("span", { class: "lk-name" }, key.name),
                   el("span", { class: "lk-meta" }, "Added " + whenText(key.createdAt) + " · " + used));
      // Named by the visible verb, then the passkey's name (WCAG 2.5.3).
      var renameButton = el("button", { type: "button", "aria-label": "Rename " + key.name }, "Rename");
      var deleteButton = el("button", { type: "button", class: "lk-danger", "aria-label": "Delete " + key.name }, "Delete");
      renameButton.addEventListener("click", function () {
        renaming = key.id;
        clearMessages();
        rename.input.value = key.name;
        render();
        rename.input.focus();
        rename.input.select();
      });
      deleteButton.addEventListener("click", function () {
        act(async function () {
          await api.deletePasskey(key.id);
          await loadSecurity();
          notice.textContent = "The passkey " + key.name + " is deleted.";
          focusAfter = addKey.hidden ? keysTitle : addKey;
        });
      });
      var actions = el("span", { class: "lk-key-actions" });
      actions.append(renameButton, deleteButton);
      item.append(words, actions);
      return item;
    }

    function placeEnrol(parent, before) {
      if (enrolForm.parentNode !== parent) parent.insertBefore(enrolForm, before || null);
      enrolForm.hidden = !enrolment;
    }

    function renderMfa() {
      var enrolNow = challenge.enrolmentRequired;
      mfaHint.textContent = enrolNow
        ? "This app asks for two-step verification. Set it up with an authenticator app to finish signing in as " + challenge.address + "."
        : "Your password was right. To finish signing in as " + challenge.address +
          ", enter the code your authenticator app shows, or one of your recovery codes.";
      mfaForm.hidden = enrolNow;
      mfaPasskey.hidden = enrolNow || !WEBAUTHN || challenge.factors.indexOf("passkey") < 0;
      mfaEnrol.hidden = !enrolNow || Boolean(enrolment);
      placeEnrol(mfaView, mfaBack);
    }

    function renderSecurity(current) {
      secWho.textContent = "";
      secWho.append("Signed in as ", el("strong", {}, current.label));
      recovery.hidden = !recoveryCodes;
      codeList.replaceChildren.apply(codeList, (recoveryCodes || []).map(function (c) { return el("li", {}, c); }));
      addKey.hidden = !WEBAUTHN || passkeysOffered === false;
      keysBox.hidden = keys === null || (addKey.hidden && !keys.length);
      keysEmpty.hidden = Boolean(keys && keys.length);
      var focused = shadow.activeElement;
      var focusKey = focused && focused.getAttribute("aria-label");
      var typing = focused === rename.input;
      keysList.replaceChildren.apply(keysList, (keys || []).map(keyRow));
      if (typing) rename.input.focus();
      else if (focusKey && byLabel(keysList, focusKey)) byLabel(keysList, focusKey).focus();
      var on = Boolean(factors && factors.totp);
      var hasPassword = (current.identities || []).some(function (i) { return i.providerType === "local-userpass"; });
      totpBox.hidden = !factors || (!on && !hasPassword && !enrolment);
      var left = factors ? factors.recoveryCodesLeft : 0;
      totpStatus.textContent = on
        ? "On: signing in with your password also asks for a code from your app. " + left +
          (left === 1 ? " recovery code" : " recovery codes") + " left."
        : "Off: add a code from an authenticator app to signing in with your password.";
      totpStart.hidden = on || Boolean(enrolment);
      totpOff.hidden = !on || Boolean(recoveryCodes);
      placeEnrol(totpBox);
      secEmpty.hidden = !(keysBox.hidden && totpBox.hidden && !recoveryCodes);
    }

    async function loadSecurity() {
      var found = await Promise.all([
        api.passkeys().catch(function () { return null; }),
        api.secondFactorStatus().catch(function () { return null; }),
        passkeysOffered === null ? api.authProviders().catch(function () { return null; }) : null,
      ]);
      keys = found[0];
      factors = found[1];
      if (found[2]) passkeysOffered = found[2].some(function (p) { return p.type === "passkey"; });
    }

    function showEnrolment(found) {
      enrolment = found;
      // The QR code is the Latchkey server's own SVG (segno); it is parsed as SVG, never as
      // HTML, and only its drawing is kept.
      var markup = String(found.qrSvg).replace(/^<svg(?![^>]*\sxmlns=)/, '<svg xmlns="http://www.w3.org/2000/svg"');
      var doc = new DOMParser().parseFromString(markup, "image/svg+xml");
      var svg = doc.documentElement;
      qr.replaceChildren();
      if (svg.localName === "svg" && svg.namespaceURI === "http://www.w3.org/2000/svg") {
        svg.querySelectorAll("script, foreignObject").forEach(function (n) { n.remove(); });
        svg.setAttribute("aria-hidden", "true");
        qr.append(document.importNode(svg, true));
      }
      secret.textContent = found.secret;
      appCode.input.value = "";
      focusAfter = appCode.input;
    }

    function cancelEnrol() {
      enrolment = null;
      qr.replaceChildren();
      secret.textContent = appCode.input.value = "";
      clearMessages();
      render();
      (challenge ? mfaEnrol : totpStart).focus();
    }

    function leaveMfa() {
      challenge = enrolment = null;
      qr.replaceChildren();
      secret.textContent = code.input.value = "";
      goTo("signin");
    }

    function leaveSecurity() {
      security = enrolment = recoveryCodes = renaming = null;
      codeList.replaceChildren();
      qr.replaceChildren();
      secret.textContent = "";
      clearMessages();
      render();
      toSecurity.focus();
    }

    function cancelRename() {
      var key = (keys || []).filter(function (k) { return k.id === renaming; })[0];
      renaming = null;
      clearMessages();
      render();
      ((key && byLabel(keysList, "Rename " + key.name)) || keysTitle).focus();
    }

    function escapeFactors() {
      var name = view();
      if (renaming && name === "security") cancelRename();
      else if (enrolment && (name === "security" || name === "mfa")) cancelEnrol();
      else if (name === "mfa") leaveMfa();
      else if (name === "security" && !recoveryCodes) leaveSecurity();
      else return false;
      return true;
    }

    passkeyIn.addEventListener("click", function () {
      act(async function () { await api.logInWithPasskey(); signedIn(); });
    });
    passkeyNew.addEventListener("click", function () {
      act(async function () {
        await api.signUpWithPasskey();
        signedIn();
        notice.textContent = "Your account is ready. Next time, sign in with its passkey.";
      });
    });
    mfaForm.addEventListener("submit", function (event) {
      event.preventDefault();
      act(async function () {
        var value = code.input.value.trim();
        if (!check([[code, value ? null : ENTER_CODE]])) return;
        try {
          await api.verifySecondFactor(value);
        } catch (err) {
          if (err.code === "NetworkError" || err.code === "DomainNotAllowed") throw err;
          check([[code, factorWords(err) || err.message]]);
          code.input.select();
          return;
        }
        signedIn();
      });
    });
    mfaPasskey.addEventListener("click", function () {
      act(async function () { await api.verifySecondFactorWithPasskey(); signedIn(); });
    });
    mfaEnrol.addEventListener("click", function () {
      act(async function () { showEnrolment(await api.enrolTotp()); });
    });
    mfaBackButton.addEventListener("click", leaveMfa);
    toSecurity.addEventListener("click", function () {
      act(async function () {
        menuOpen = confirming = null;
        enrolment = recoveryCodes = renaming = null;
        await loadSecurity();
        security = state.currentUser.id;
        focusAfter = title;
      });
    });
    secBackButton.addEventListener("click", leaveSecurity);
    addKey.addEventListener("click", function () {
      act(async function () {
        var added = await api.addPasskey();
        await loadSecurity();
        notice.textContent = "Passkey added: " + added.name + ". You can sign in with it from now on.";
      });
    });
    renameForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var id = renaming, name = rename.input.value.trim();
      act(async function () {
        if (!check([[rename, name ? null : ENTER_NAME]])) return;
        await api.renamePasskey(id, name);
        renaming = null;
        await loadSecurity();
        focusAfter = function () { return byLabel(keysList, "Rename " + name); };
      });
    });
    renameCancel.addEventListener("click", cancelRename);
    totpStart.addEventListener("click", function () {
      act(async function () { showEnrolment(await api.enrolTotp()); });
    });
    enrolCancel.addEventListener("click", cancelEnrol);
    enrolForm.addEventListener("submit", function (event) {
      event.preventDefault();
      act(async function () {
        var value = appCode.input.value.replace(/\s/g, "");
        if (!check([[appCode, /^\d{6,8}$/.test(value) ? null : ENTER_APP_CODE]])) return;
        var done;
        try {
          done = await api.confirmTotp(value);
        } catch (err) {
          if (err.code === "NetworkError" || err.code === "DomainNotAllowed") throw err;
          check([[appCode, factorWords(err) || err.message]]);
          return;
        }
        enrolment = null;
        qr.replaceChildren();
        secret.textContent = appCode.input.value = "";
        if (challenge) signedIn(); // The app required it: this finished the login.
        recoveryCodes = done.recoveryCodes;
        await loadSecurity();
        security = state.currentUser.id;
        focusAfter = recovery;
      });
    });
    saved.addEventListener("click", function () {
      recoveryCodes = null;
      codeList.replaceChildren();
      clearMessages();
      notice.textContent = "Two-step verification is on.";
      render();
      totpTitle.focus();
    });
    totpOff.addEventListener("submit", function (event) {
      event.preventDefault();
      act(async function () {
        var value = offCode.input.value.trim();
        if (!check([[offCode, value ? null : ENTER_CODE]])) return;
        await api.disableTotp(value);
        offCode.input.value = "";
        await loadSecurity();
        notice.textContent = "Two-step verification is off.";
        focusAfter = totpStart;
      });
    });

    api.subscribe(function (next) {
      state = next;
      if (ready) render();
    });
    started.then(function () {
      ready = true;
      state = lastState;
      status.hidden = true;
      box.removeAttribute("aria-busy");
      shadow.querySelectorAll("fieldset, button").forEach(function (b) { b.disabled = false; });
      render();
    }, function (err) {
      status.textContent = "Sign-in could not start. Reload the page to try again.";
      status.classList.add("lk-failed");
      box.removeAttribute("aria-busy");
      console.error(err);
    });
    render();
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
