// Drives the official realm-web 2.0.1 client against a Latchkey server, one named scenario per run.
//
// realm-web is the judge of protocol compatibility: every scenario talks to the server only through
// realm-web's public API (plus the `accessToken` setter, which its own integration tests use), so a
// scenario that fails here fails for a browser app too.
//
// Usage:
//   node tests/interop/realm_web_driver.mjs '{"baseUrl": "http://127.0.0.1:8000", "appId": "x", "scenario": "anonymous"}'
//   echo '{...}' | node tests/interop/realm_web_driver.mjs
//
// The config is a JSON object {baseUrl, appId, scenario, ...params}. The driver prints exactly one JSON
// line on stdout:
//   {"ok": true, "result": {...}}                                          exit code 0
//   {"ok": false, "error": msg, "errorCode": code, "statusCode": n, ...}   exit code 1 (2: bad config, 3: timeout)
// Everything else (realm-web warnings, stack traces) goes to stderr, so stdout stays parseable.
//
// Each result carries `requests`, the list of HTTP exchanges realm-web made ({method, path, status}), so
// callers can assert on the wire flow (e.g. 401 -> refresh -> retry) without a proxy.

import { createHmac, randomBytes } from "node:crypto";
import * as Realm from "realm-web";

const DEFAULT_TIMEOUT_MS = 20_000;
// A server that keeps answering 401 InvalidSession to fresh tokens makes realm-web refresh and retry
// forever (it has no retry counter); cap the traffic so such a bug shows up as an error, not a hang.
const MAX_REQUESTS = 200;

// Keep stdout for the single result line: realm-web logs through console.log in a few places.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

let finished = false;
let captureBodies = false;
let currentStep = "start";
const requests = [];

function finish(payload, exitCode) {
  if (finished) {
    return;
  }
  finished = true;
  const line = JSON.stringify(payload) + "\n";
  // Exit explicitly: keep-alive sockets in Node's fetch would otherwise hold the process open.
  process.stdout.write(line, () => process.exit(exitCode));
}

function describeError(err) {
  const out = { ok: false, step: currentStep };
  if (err instanceof Error) {
    let message = err.message;
    // Node's fetch hides the socket error (e.g. ECONNREFUSED) in `cause`.
    if (err.cause instanceof Error && err.cause.message) {
      message = `${message}: ${err.cause.message}`;
    }
    out.error = message;
  } else {
    out.error = String(err);
  }
  if (err && typeof err === "object") {
    if (typeof err.errorCode === "string") out.errorCode = err.errorCode;
    if (typeof err.statusCode === "number") out.statusCode = err.statusCode;
    if (typeof err.error === "string") out.serverError = err.error;
  }
  out.requests = requests;
  return out;
}

function step(name) {
  currentStep = name;
}

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

async function readConfig() {
  const arg = process.argv[2];
  let text;
  if (arg !== undefined && arg !== "-") {
    text = arg;
  } else {
    const chunks = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString("utf8");
  }
  const config = JSON.parse(text);
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new Error("config must be a JSON object");
  }
  for (const key of ["baseUrl", "appId", "scenario"]) {
    if (typeof config[key] !== "string" || config[key] === "") {
      throw new Error(`config.${key} must be a non-empty string`);
    }
  }
  return config;
}

// ---------------------------------------------------------------------------------------------------
// Helpers

function recordingFetch(url, init = {}) {
  if (requests.length >= MAX_REQUESTS) {
    return Promise.reject(new Error(`more than ${MAX_REQUESTS} requests: refresh loop?`));
  }
  const entry = { method: init.method || "GET", path: new URL(url).pathname + new URL(url).search };
  requests.push(entry);
  return globalThis.fetch(url, init).then(
    async (response) => {
      entry.status = response.status;
      if (captureBodies) {
        // The exact wire texts, for scenarios that check types on the wire (bson_round_trip).
        entry.sent = typeof init.body === "string" ? init.body : null;
        entry.body = await response.clone().text();
      }
      return response;
    },
    (err) => {
      entry.status = 0;
      throw err;
    },
  );
}

function makeApp(config) {
  return new Realm.App({ id: config.appId, baseUrl: config.baseUrl, fetch: recordingFetch });
}

function randomSuffix() {
  return randomBytes(6).toString("hex");
}

function randomEmail() {
  return `realm-web-${randomSuffix()}@example.com`;
}

function randomPassword() {
  return `pw-${randomSuffix()}`;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function base64url(value) {
  return Buffer.from(value).toString("base64url");
}

function decodeJwtPayload(token) {
  if (typeof token !== "string") {
    return null;
  }
  const parts = token.split(".");
  if (parts.length !== 3) {
    return { malformed: true, parts: parts.length };
  }
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}

// An HS256 JWT signed with a key the server has never seen, expired in 2017: the shape of the token
// realm-web's integration test `refresh invalid access tokens` plants on the user.
function foreignExpiredJwt() {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({ sub: "1234567890", name: "John Doe", iat: 1516239022, exp: 1516239022 }),
  );
  const signature = createHmac("sha256", randomBytes(32)).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

// Runs an operation that may fail and returns a JSON-friendly description of the outcome.
async function outcome(promise) {
  try {
    const value = await promise;
    return { ok: true, value: value === undefined ? null : toPlain(value) };
  } catch (err) {
    const { error: message, errorCode = null, statusCode = null, serverError = null } = describeError(err);
    return { ok: false, message, error: serverError, errorCode, statusCode };
  }
}

// EJSON-deserialised values (ObjectId, Date, Long, ...) as plain JSON, canonical where it matters.
function toPlain(value) {
  if (value === undefined) {
    return null;
  }
  return JSON.parse(JSON.stringify(Realm.BSON.EJSON.serialize(value, { relaxed: true })));
}

function credentialsFrom(spec) {
  const { type } = spec;
  switch (type) {
    case "anonymous":
      return Realm.Credentials.anonymous(spec.reuse ?? true);
    case "emailPassword":
      return Realm.Credentials.emailPassword(spec.email, spec.password);
    case "apiKey":
      return Realm.Credentials.apiKey(spec.key);
    case "function":
      return Realm.Credentials.function(spec.payload);
    case "jwt":
      return Realm.Credentials.jwt(spec.token);
    default:
      throw new Error(`unknown credentials type ${JSON.stringify(type)}`);
  }
}

function userSummary(user) {
  return {
    id: user.id,
    state: user.state,
    isLoggedIn: user.isLoggedIn,
    providerType: user.providerType,
    profile: toPlain(user.profile),
    identities: user.identities.map(({ id, providerType }) => ({ id, providerType })),
    customData: toPlain(user.customData),
    deviceId: user.deviceId,
    accessTokenClaims: decodeJwtPayload(user.accessToken),
    hasRefreshToken: typeof user.refreshToken === "string" && user.refreshToken.length > 0,
  };
}

function appSummary(app) {
  return {
    currentUserId: app.currentUser ? app.currentUser.id : null,
    allUserIds: Object.keys(app.allUsers),
  };
}

async function registerAndLogIn(app, params = {}) {
  const email = params.email ?? randomEmail();
  const password = params.password ?? randomPassword();
  step("register");
  await app.emailPasswordAuth.registerUser({ email, password });
  step("login email/password");
  const user = await app.logIn(Realm.Credentials.emailPassword(email, password));
  return { email, password, user };
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

const scenarios = {
  async register_only(config) {
    const app = makeApp(config);
    step("register");
    await app.emailPasswordAuth.registerUser({ email: config.email, password: config.password });
    step("login while pending");
    const pending = await outcome(
      app.logIn(Realm.Credentials.emailPassword(config.email, config.password)));
    return { pendingLogin: pending };
  },

  async confirm_and_log_in(config) {
    const app = makeApp(config);
    step("confirm");
    await app.emailPasswordAuth.confirmUser({ token: config.token, tokenId: config.tokenId });
    step("confirm again");
    const again = await outcome(
      app.emailPasswordAuth.confirmUser({ token: config.token, tokenId: config.tokenId }));
    step("login");
    const user = await app.logIn(Realm.Credentials.emailPassword(config.email, config.password));
    return { userId: user.id, email: user.profile.email, confirmAgain: again };
  },

  async send_reset(config) {
    const app = makeApp(config);
    step("send reset email");
    await app.emailPasswordAuth.sendResetPasswordEmail({ email: config.email });
    return {};
  },

  async reset_and_log_in(config) {
    const app = makeApp(config);
    step("reset password");
    await app.emailPasswordAuth.resetPassword({
      token: config.token, tokenId: config.tokenId, password: config.password });
    step("login with the new password");
    const user = await app.logIn(Realm.Credentials.emailPassword(config.email, config.password));
    return { userId: user.id };
  },

  async anonymous(config) {
    const app = makeApp(config);
    step("initial state");
    check(app.currentUser === null, "a fresh app has no current user");
    step("login anonymous");
    const user = await app.logIn(Realm.Credentials.anonymous());
    const summary = userSummary(user);
    step("reuse anonymous");
    const before = requests.length;
    const again = await app.logIn(Realm.Credentials.anonymous());
    return {
      user: summary,
      profileType: user._profile?.type ?? null,
      ...appSummary(app),
      reusedSameUser: again === user,
      requestsForReuse: requests.slice(before),
      toJSONKeys: Object.keys(JSON.parse(JSON.stringify(user))).sort(),
    };
  },

  async restore(config) {
    const app = makeApp(config);
    step("login anonymous");
    const user = await app.logIn(Realm.Credentials.anonymous());
    step("second app instance");
    // Same default (in-memory) storage, new instance: it must rebuild the user from storage alone.
    const other = makeApp(config);
    const restored = other.currentUser;
    check(restored !== null, "the second app instance restored a current user");
    step("refresh profile on restored user");
    await restored.refreshProfile();
    return {
      userId: user.id,
      restoredId: restored.id,
      sameAccessToken: restored.accessToken === user.accessToken,
      sameRefreshToken: restored.refreshToken === user.refreshToken,
      allUserIds: Object.keys(other.allUsers),
      restoredIdentities: restored.identities.map((i) => i.providerType),
    };
  },

  async register_login(config) {
    const app = makeApp(config);
    const { email, user } = await registerAndLogIn(app, config);
    const afterLogin = userSummary(user);
    const oldAccessToken = user.accessToken;
    const oldRefreshToken = user.refreshToken;
    // Tokens carry second-resolution iat/exp; wait so even a server without a per-token nonce must
    // issue a different token.
    await sleep(config.refreshDelayMs ?? 1100);
    step("refreshAccessToken");
    await user.refreshAccessToken();
    const newAccessToken = user.accessToken;
    const refreshTokenUnchanged = user.refreshToken === oldRefreshToken;
    step("refreshProfile with new token");
    await user.refreshProfile();
    step("logOut");
    await user.logOut();
    const afterLogout = {
      state: user.state,
      isLoggedIn: user.isLoggedIn,
      accessToken: user.accessToken,
      refreshToken: user.refreshToken,
      ...appSummary(app),
    };
    step("refresh with revoked refresh token");
    // Put the revoked refresh token back to see how the server answers a refresh with it.
    user.refreshToken = oldRefreshToken;
    const refreshAfterLogout = await outcome(user.refreshAccessToken());
    return {
      email,
      user: afterLogin,
      tokenChanged: newAccessToken !== oldAccessToken,
      refreshTokenUnchanged,
      oldClaims: decodeJwtPayload(oldAccessToken),
      newClaims: decodeJwtPayload(newAccessToken),
      afterLogout,
      refreshAfterLogout,
      stateAfterRevokedRefresh: user.state,
    };
  },

  async refresh_invalid_access_token(config) {
    const app = makeApp(config);
    step("login anonymous");
    const user = await app.logIn(Realm.Credentials.anonymous());
    const originalToken = user.accessToken;
    const foreign = foreignExpiredJwt();
    user.accessToken = foreign;
    const before = requests.length;
    let value = null;
    if (config.useFunction) {
      step("call function with foreign token");
      const name = config.functionName ?? "translate";
      const args = config.args ?? ["hello", "en_fr"];
      value = toPlain(await user.functions[name](...args));
    } else {
      step("refreshProfile with foreign token");
      await user.refreshProfile();
    }
    return {
      value,
      tokenChanged: user.accessToken !== foreign,
      tokenIsNew: user.accessToken !== originalToken,
      newTokenSub: decodeJwtPayload(user.accessToken)?.sub ?? null,
      userId: user.id,
      state: user.state,
      flow: requests.slice(before),
    };
  },

  async link(config) {
    const app = makeApp(config);
    step("login anonymous");
    const anon = await app.logIn(Realm.Credentials.anonymous());
    const subBefore = decodeJwtPayload(anon.accessToken).sub;
    step("login second anonymous");
    const other = await app.logIn(Realm.Credentials.anonymous(false));
    const email = randomEmail();
    const password = randomPassword();
    step("register");
    await app.emailPasswordAuth.registerUser({ email, password });
    step("linkCredentials");
    await anon.linkCredentials(Realm.Credentials.emailPassword(email, password));
    const linked = {
      identities: anon.identities.map((i) => i.providerType),
      subAfter: decodeJwtPayload(anon.accessToken).sub,
      profile: toPlain(anon.profile),
      ...appSummary(app),
    };
    step("login with linked email/password");
    const viaEmail = await app.logIn(Realm.Credentials.emailPassword(email, password));
    return {
      anonId: anon.id,
      otherId: other.id,
      subBefore,
      ...linked,
      emailLoginUserId: viaEmail.id,
      emailLoginSameObject: viaEmail === anon,
      identitiesAfterEmailLogin: viaEmail.identities.map((i) => i.providerType),
    };
  },

  async delete(config) {
    const app = makeApp(config);
    const { email, password, user } = await registerAndLogIn(app, config);
    const userId = user.id;
    step("deleteUser");
    await app.deleteUser(user);
    const afterDelete = { state: user.state, ...appSummary(app) };
    step("login after delete");
    const relogin = await outcome(app.logIn(Realm.Credentials.emailPassword(email, password)));
    return { email, userId, afterDelete, relogin };
  },

  async two_users_switch(config) {
    const app = makeApp(config);
    step("login first");
    const first = await app.logIn(Realm.Credentials.anonymous(false));
    step("login second");
    const second = await app.logIn(Realm.Credentials.anonymous(false));
    const observed = { firstId: first.id, secondId: second.id };
    observed.afterLogins = appSummary(app);
    step("switch to first");
    app.switchUser(first);
    observed.afterSwitchToFirst = appSummary(app);
    step("switch to second");
    app.switchUser(second);
    observed.afterSwitchToSecond = appSummary(app);
    step("logOut current (second)");
    await app.currentUser.logOut();
    observed.afterLogout = { ...appSummary(app), secondState: second.state, firstState: first.state };
    step("removeUser second");
    await app.removeUser(second);
    observed.afterRemove = { ...appSummary(app), secondState: second.state, firstState: first.state };
    return observed;
  },

  async email_password_errors(config) {
    const app = makeApp(config);
    const auth = app.emailPasswordAuth;
    const email = randomEmail();
    const password = randomPassword();
    step("register");
    await auth.registerUser({ email, password });
    step("login");
    const user = await app.logIn(Realm.Credentials.emailPassword(email, password));
    step("negative calls");
    const observed = {
      email,
      userId: user.id,
      registerAgain: await outcome(auth.registerUser({ email, password })),
      shortPassword: await outcome(auth.registerUser({ email: randomEmail(), password: "12345" })),
      confirmInvalid: await outcome(auth.confirmUser({ token: "e30=", tokenId: "some-token-id" })),
      resendConfirmation: await outcome(auth.resendConfirmationEmail({ email })),
      retryCustomConfirmation: await outcome(auth.retryCustomConfirmation({ email })),
      wrongPassword: await outcome(
        app.logIn(Realm.Credentials.emailPassword(email, `${password}-wrong`)),
      ),
      unknownEmail: await outcome(app.logIn(Realm.Credentials.emailPassword(randomEmail(), password))),
      // Configuration-dependent (reset by email vs. by function); reported, not judged here.
      sendResetPasswordEmail: await outcome(auth.sendResetPasswordEmail({ email })),
      callResetPasswordFunction: await outcome(
        auth.callResetPasswordFunction({ email, password: "my-new-password" }, "some-argument"),
      ),
      resetInvalid: await outcome(
        auth.resetPassword({ token: "e30=", tokenId: "some-token-id", password: "another-password" }),
      ),
    };
    return observed;
  },

  async api_keys(config) {
    const app = makeApp(config);
    const { email, password, user } = await registerAndLogIn(app, config);
    const observed = { userId: user.id };
    step("fetchAll (initial)");
    observed.initialList = toPlain(await user.apiKeys.fetchAll());
    step("create");
    const name = config.keyName ?? `key-${randomSuffix()}`;
    const created = await user.apiKeys.create(name);
    observed.created = {
      idType: typeof created._id,
      keyType: typeof created.key,
      ...toPlain(created),
    };
    const keyId = created._id;
    step("fetchAll");
    observed.listAfterCreate = toPlain(await user.apiKeys.fetchAll());
    step("fetch");
    observed.fetched = toPlain(await user.apiKeys.fetch(keyId));
    step("disable");
    observed.disableResult = toPlain((await user.apiKeys.disable(keyId)) ?? null);
    step("fetch disabled");
    observed.fetchedDisabled = toPlain(await user.apiKeys.fetch(keyId));
    step("login with disabled key");
    observed.loginDisabledKey = await outcome(app.logIn(Realm.Credentials.apiKey(created.key)));
    step("enable");
    observed.enableResult = toPlain((await user.apiKeys.enable(keyId)) ?? null);
    step("fetch enabled");
    observed.fetchedEnabled = toPlain(await user.apiKeys.fetch(keyId));
    step("login with key");
    const keyUser = await app.logIn(Realm.Credentials.apiKey(created.key));
    observed.keyLoginUserId = keyUser.id;
    // realm-web reuses the known User object for the same id and keeps its providerType.
    observed.keyLoginSameObject = keyUser === user;
    observed.keyLoginIdentities = keyUser.identities.map((i) => i.providerType);
    step("delete key from its own session");
    // The session now stems from the key itself; BaaS refuses to delete it (403).
    observed.deleteFromKeySession = await outcome(keyUser.apiKeys.delete(keyId));
    step("login with email/password again");
    const again = await app.logIn(Realm.Credentials.emailPassword(email, password));
    observed.reloginUserId = again.id;
    step("delete");
    // An outcome, so that a server which already deleted the key above still reports the rest.
    observed.deleteResult = await outcome(again.apiKeys.delete(keyId));
    step("fetchAll after delete");
    observed.listAfterDelete = toPlain(await again.apiKeys.fetchAll());
    step("fetch deleted");
    observed.fetchDeleted = await outcome(again.apiKeys.fetch(keyId));
    step("login with deleted key");
    observed.loginDeletedKey = await outcome(app.logIn(Realm.Credentials.apiKey(created.key)));
    return observed;
  },

  async custom_function(config) {
    const app = makeApp(config);
    step("first function login");
    const first = await app.logIn(Realm.Credentials.function(config.payload));
    const firstSummary = userSummary(first);
    step("second function login");
    const second = await app.logIn(Realm.Credentials.function(config.payload));
    const observed = {
      first: firstSummary,
      secondId: second.id,
      sameObject: first === second,
    };
    if (config.badPayload !== undefined) {
      step("function login with bad payload");
      observed.badPayload = await outcome(app.logIn(Realm.Credentials.function(config.badPayload)));
    }
    return observed;
  },

  async custom_jwt(config) {
    const app = makeApp(config);
    step("jwt login");
    const user = await app.logIn(Realm.Credentials.jwt(config.token));
    const observed = { user: userSummary(user), profileKeys: Object.keys(user.profile).sort() };
    if (config.repeat) {
      step("second jwt login");
      const again = await app.logIn(Realm.Credentials.jwt(config.token));
      observed.secondId = again.id;
    }
    for (const [label, token] of Object.entries(config.badTokens ?? {})) {
      step(`jwt login with bad token ${label}`);
      observed[`bad_${label}`] = await outcome(app.logIn(Realm.Credentials.jwt(token)));
    }
    return observed;
  },

  // Social login with an ID token from an OpenID Connect provider the server is configured for as
  // Google (`Credentials.google({ idToken })` sends it as `id_token`), then linking one to a guest.
  async google_id_token(config) {
    const app = makeApp(config);
    step("google login");
    const user = await app.logIn(Realm.Credentials.google({ idToken: config.idToken }));
    const observed = { user: userSummary(user) };
    step("second google login");
    observed.secondId = (await app.logIn(Realm.Credentials.google({ idToken: config.idToken }))).id;
    for (const [label, token] of Object.entries(config.badTokens ?? {})) {
      step(`google login with bad token ${label}`);
      observed[`bad_${label}`] = await outcome(app.logIn(Realm.Credentials.google({ idToken: token })));
    }
    if (config.linkIdToken) {
      step("link google to an anonymous user");
      const guest = await app.logIn(Realm.Credentials.anonymous(false));
      await guest.linkCredentials(Realm.Credentials.google({ idToken: config.linkIdToken }));
      observed.linked = userSummary(guest);
    }
    return observed;
  },

  async function_call(config) {
    const app = makeApp(config);
    step("login");
    const user = await app.logIn(credentialsFrom(config.credentials ?? { type: "anonymous" }));
    step(`call ${config.name}`);
    let args = config.args ?? [];
    if (config.argsEjson) {
      // Lets callers pass ObjectIds, dates or 64-bit ints as Extended JSON.
      args = Realm.BSON.EJSON.deserialize(args, { relaxed: false });
    }
    const value = await user.functions[config.name](...args);
    return {
      value: value === undefined ? null : toPlain(value),
      canonical: JSON.parse(
        JSON.stringify(Realm.BSON.EJSON.serialize(value ?? null, { relaxed: false })),
      ),
      jsType: value === null ? "null" : typeof value,
      className: value && typeof value === "object" ? value.constructor?.name ?? null : null,
    };
  },

  // BSON values of realm-web's own types through a function that echoes its arguments and
  // through custom user data: the server must hand back exactly the types it was sent.
  async bson_round_trip(config) {
    const { BSON } = Realm;
    const uuid = new BSON.UUID("3b241101-e2bb-4255-8caf-4136c566a962");
    const values = [
      BSON.Long.fromNumber(5), BSON.Long.fromNumber(-7), new BSON.Int32(5),
      new BSON.Binary(uuid.toBinary().buffer, 4), uuid,
      new BSON.Binary(Buffer.from([0, 1]), 0), new BSON.Binary(Buffer.from([0, 1]), 0x80),
      BSON.Decimal128.fromString("1.10"), new BSON.Double(2), new BSON.Double(-0),
      new BSON.ObjectId("65a0c0ffee0000000000aaaa"), new Date(1704164645006),
      { nested: [BSON.Long.fromNumber(1), { deep: uuid }] },
    ];
    const typeOf = (v) => v?._bsontype ?? v?.constructor?.name ?? typeof v;
    const wire = (name) => {
      const entry = requests.filter((r) => r.path.endsWith("/functions/call")).at(-1);
      return { sent: JSON.parse(entry.sent).arguments, body: JSON.parse(entry.body), name };
    };
    captureBodies = true;
    const app = makeApp(config);
    step("login");
    const user = await app.logIn(Realm.Credentials.anonymous());
    step("echo");
    await user.functions.echo(...values);
    const echo = wire("echo");
    const back = BSON.EJSON.deserialize(echo.body, { relaxed: false });
    step("set custom data");
    const doc = Object.fromEntries(values.map((v, i) => [`v${i}`, v]));
    await user.functions.set_custom(doc);
    const stored = wire("set_custom");
    step("read custom data");
    await user.functions.get_custom();
    const read = wire("get_custom");
    step("refreshCustomData");
    await user.refreshCustomData();
    return {
      sent: echo.sent,
      echoed: echo.body,
      sentTypes: values.map(typeOf),
      echoedTypes: back.map(typeOf),
      echoedSubtypes: back.map((v) => v?.sub_type ?? null),
      customSent: stored.sent[0],
      customRead: read.body,
      customData: user.customData,
    };
  },

  async refresh_custom_data(config) {
    const app = makeApp(config);
    const spec = config.credentials ?? { type: "anonymous" };
    if (spec.type === "emailPassword" && spec.register) {
      step("register");
      await app.emailPasswordAuth.registerUser({ email: spec.email, password: spec.password });
    }
    step("login");
    const user = await app.logIn(credentialsFrom(spec));
    const before = toPlain(user.customData);
    const oldToken = user.accessToken;
    let setupValue = null;
    if (config.setup) {
      // A server function that writes the caller's custom user data (e.g. set_favorite_color).
      step(`call ${config.setup.name}`);
      setupValue = toPlain(await user.functions[config.setup.name](...(config.setup.args ?? [])));
    }
    const beforeRefresh = toPlain(user.customData);
    step("refreshCustomData");
    const refreshed = toPlain(await user.refreshCustomData());
    return {
      userId: user.id,
      before,
      setupValue,
      beforeRefresh,
      refreshed,
      after: toPlain(user.customData),
      tokenChanged: user.accessToken !== oldToken,
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Entry point

async function main() {
  let config;
  try {
    config = await readConfig();
  } catch (err) {
    finish({ ok: false, error: `bad config: ${err.message}`, step: "config" }, 2);
    return;
  }
  const scenario = scenarios[config.scenario];
  if (!scenario) {
    const known = Object.keys(scenarios).sort().join(", ");
    finish({ ok: false, error: `unknown scenario ${config.scenario} (known: ${known})`, step: "config" }, 2);
    return;
  }
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = setTimeout(() => {
    finish(
      { ok: false, error: `scenario ${config.scenario} timed out after ${timeoutMs} ms`, step: currentStep, requests },
      3,
    );
  }, timeoutMs);
  try {
    const result = await scenario(config);
    clearTimeout(timer);
    finish({ ok: true, result: { ...result, requests } }, 0);
  } catch (err) {
    clearTimeout(timer);
    if (err instanceof Error && err.stack) {
      console.error(err.stack);
    }
    finish(describeError(err), 1);
  }
}

process.on("unhandledRejection", (err) => {
  console.error("unhandled rejection:", err);
  finish(describeError(err), 1);
});
process.on("uncaughtException", (err) => {
  console.error("uncaught exception:", err);
  finish(describeError(err), 1);
});

await main();
