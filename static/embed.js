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

  var ENTER_EMAIL = "Enter your email address.";
  var BAD_EMAIL = "That doesn't look like an email address.";
  var ENTER_PASSWORD = "Enter your password.";
  var PASSWORD_LENGTH = "Use a password of 6 to 128 characters.";
  var TITLES = { signin: "Sign in", register: "Create an account", forgot: "Reset your password",
                 resend: "Confirm your email", account: "Your account", adding: "Add another account" };
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
    var signinView = el("div", { class: "lk-signin" });
    signinView.append(form, switches, anonBox);

    var account = el("div", { class: "lk-account" });
    var who = el("p", { class: "lk-who" });
    var list = el("ul", { class: "lk-accounts", "aria-label": "Accounts on this device" });
    var add = el("button", { type: "button", class: "lk-wide" }, "Add another account");
    account.append(who, list, add);
    box.append(title, status, signinView, account, error, notice);

    var task = "signin", adding = false, busy = false, ready = false;
    var menuOpen = null, confirming = null, waiting = null;
    var state = lastState;
    var stored = storedSession();

    function clearMessages() {
      error.textContent = notice.textContent = "";
      [email, password].forEach(function (f) {
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
      return current && !adding ? "account" : task;
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
      try { await work(); } catch (err) { error.textContent = err.message; }
      busy = false;
      box.removeAttribute("aria-busy");
      render();
      rescueFocus();
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
      signinView.hidden = name === "account";
      add.hidden = !current;
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
      adding = false;
      task = "signin";
      password.input.value = "";
      render();
      title.focus();
    }

    async function logInWith(address, secret) {
      var before = (state && state.allUsers || []).filter(function (u) { return u.state === "LoggedIn"; })
        .map(function (u) { return u.id; });
      var user = await api.logIn("emailPassword", address, secret);
      signedIn();
      if (before.indexOf(user.id) >= 0) {
        notice.textContent = "You were already signed in as " + user.label + " here; it is now the active account.";
      }
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
            await logInWith(address, secret);
            notice.textContent = "You already had an account as " + address + ": you are signed in.";
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
      if (menuOpen) {
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
