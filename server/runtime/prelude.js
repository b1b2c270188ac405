// The globals of App Services functions, for QuickJS in a function worker (server/runtime/js.py):
// utils.crypto (hash, hmac), console (one bounded log line per call) and the per-call `context`;
// BSON and EJSON come from bson.js, loaded first.
// `__host(method, text)` is the worker's one callable: it returns text or throws.
"use strict";
(function (g) {
  const rawHost = g.__host;
  delete g.__host;
  function host(method, text) {
    const answer = rawHost(method, text);
    if (answer[0] === "1") return answer.slice(1);
    throw new Error(answer.slice(1));
  }

  const { BSON, EJSON, serialize, deserialize, toBase64, fromBase64, toHex, fromHex, utf8 } = g.__bson;
  const { Binary } = BSON;
  delete g.__bson;

  function bytesOf(input) {
    if (input instanceof Binary) return input.buffer;
    if (input instanceof Uint8Array) return input;
    return utf8(input);
  }
  const crypto = {
    hash(algorithm, input) {
      return Binary.createFromBase64(host("hash", JSON.stringify([algorithm, toBase64(bytesOf(input))])), 0);
    },
    hmac(input, secret, algorithm, format) {
      return host("hmac", JSON.stringify([toBase64(bytesOf(input)), toBase64(bytesOf(secret)), algorithm, format || "hex"]));
    },
  };
  for (const name of ["encrypt", "decrypt", "sign", "verify"]) {
    crypto[name] = () => { throw new Error(`utils.crypto.${name} is not available in Latchkey (hash and hmac are)`); };
  }

  // setTimeout and clearTimeout: the worker sleeps until the next timer is due when the call
  // has nothing else to run (within the call's time limit). Timers end with their call.
  const timers = [];
  let timerSeq = 0;
  function setTimeout(fn, ms, ...args) {
    if (typeof fn !== "function") throw new TypeError("setTimeout needs a function");
    const id = ++timerSeq;
    timers.push({ id, at: Date.now() + Math.max(0, Number(ms) || 0), fn, args });
    return id;
  }
  function clearTimeout(id) {
    const i = timers.findIndex((t) => t.id === id);
    if (i >= 0) timers.splice(i, 1);
  }
  g.__nextTimer = function () {
    if (!timers.length) return -1;
    timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return Math.max(0, timers[0].at - Date.now());
  };
  g.__fireTimer = function () {
    const t = timers.shift();
    if (t) {
      try { t.fn(...t.args); } catch (e) { log("uncaught in a timer:", e); }
    }
  };

  // Node's Buffer, the part functions use for text and encodings; atob and btoa.
  function fromUtf8(bytes) {
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    try { return decodeURIComponent(escape(s)); } catch (e) { return s; }
  }
  class Buffer extends Uint8Array {
    static from(value, encoding) {
      let bytes;
      if (typeof value === "string") {
        bytes = encoding === "base64" || encoding === "base64url" ? fromBase64(value)
          : encoding === "hex" ? fromHex(value)
            : encoding === "latin1" || encoding === "binary" ? Uint8Array.from(value, (c) => c.charCodeAt(0) & 255)
              : utf8(value);
      } else if (value instanceof ArrayBuffer) {
        bytes = new Uint8Array(value);
      } else if (value instanceof Binary) {
        bytes = value.buffer;
      } else {
        bytes = Uint8Array.from(value);
      }
      const out = new Buffer(bytes.length);
      out.set(bytes);
      return out;
    }
    static alloc(size, fill) { const out = new Buffer(size); if (fill !== undefined) out.fill(fill); return out; }
    static isBuffer(value) { return value instanceof Buffer; }
    static byteLength(text, encoding) { return Buffer.from(text, encoding).length; }
    static concat(list) {
      const out = new Buffer(list.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of list) { out.set(b, at); at += b.length; }
      return out;
    }
    toString(encoding) {
      if (encoding === "base64") return toBase64(this);
      if (encoding === "base64url") return toBase64(this).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      if (encoding === "hex") return toHex(this);
      if (encoding === "latin1" || encoding === "binary") return String.fromCharCode(...this);
      return fromUtf8(this);
    }
    equals(other) { return this.length === other.length && this.every((b, i) => b === other[i]); }
  }
  function btoa(text) { return toBase64(Uint8Array.from(String(text), (c) => c.charCodeAt(0) & 255)); }
  function atob(text) { return String.fromCharCode(...fromBase64(text)); }
  function require(name) {
    throw new Error(`require(${JSON.stringify(String(name))}): Latchkey runs functions without npm packages or Node modules (BSON, EJSON, utils.crypto, Buffer and console are globals)`);
  }

  const LOG_LIMIT = 2000;
  let logText = "";
  function log(...items) {
    if (logText.length >= LOG_LIMIT) return;
    const line = items.map((x) => {
      if (typeof x === "string") return x;
      if (x instanceof Error) return String(x);
      try { return EJSON.stringify(x); } catch (e) { return String(x); }
    }).join(" ");
    logText += (logText ? " | " : "") + line;
    if (logText.length > LOG_LIMIT) logText = logText.slice(0, LOG_LIMIT) + "...";
  }
  const console = { log, info: log, warn: log, error: log, debug: log };

  // The function table: sources run once per worker, on first use.
  const loaded = new Map();
  function lookup(name) {
    if (!loaded.has(name)) {
      const source = host("source", name);
      const factory = (0, eval)("(function () { var module = { exports: undefined }; var exports;\n" +
        source + "\n;return exports !== undefined ? exports : module.exports; })");
      const fn = factory();
      if (typeof fn !== "function") throw new Error(`function ${name} does not set exports to a function`);
      loaded.set(name, fn);
    }
    return loaded.get(name);
  }
  function isJs(name) { return host("is_js", name) === "true"; }

  function stand(name) {
    return new Error(`${name} is not available in Latchkey`);
  }
  function makeCustomData(info) {
    const idField = info.user_id_field;
    function idOf(filter, what) {
      const keys = filter && typeof filter === "object" ? Object.keys(filter) : [];
      const id = keys.length === 1 ? filter[idField] : undefined;
      if (typeof id !== "string") {
        throw new Error(`${what}: the custom user data stand-in matches documents by { ${idField}: <user id string> } only`);
      }
      return id;
    }
    function read(id) { return deserialize(JSON.parse(host("ask", JSON.stringify(["get_custom_data", id]))), "args"); }
    function write(id, doc) { host("ask", JSON.stringify(["set_custom_data", id, EJSON.stringify(doc, { relaxed: false })])); }
    function setPath(doc, path, value) {
      const parts = path.split(".");
      let at = doc;
      for (const p of parts.slice(0, -1)) {
        if (at[p] === null || typeof at[p] !== "object") at[p] = {};
        at = at[p];
      }
      at[parts[parts.length - 1]] = value;
    }
    function unsetPath(doc, path) {
      const parts = path.split(".");
      let at = doc;
      for (const p of parts.slice(0, -1)) { at = at && at[p]; }
      if (at && typeof at === "object") delete at[parts[parts.length - 1]];
    }
    const collection = {
      async findOne(filter) { return read(idOf(filter, "findOne")); },
      async updateOne(filter, update, options) {
        const id = idOf(filter, "updateOne");
        const ops = update && typeof update === "object" ? Object.keys(update) : [];
        if (!ops.length || ops.some((op) => op !== "$set" && op !== "$unset")) {
          throw new Error("updateOne: the custom user data stand-in supports $set and $unset only");
        }
        const found = read(id);
        if (!found && !(options && options.upsert)) return { matchedCount: 0, modifiedCount: 0 };
        const doc = found || { [idField]: id };
        for (const [path, value] of Object.entries(update.$set || {})) setPath(doc, path, value);
        for (const path of Object.keys(update.$unset || {})) unsetPath(doc, path);
        doc[idField] = id;
        write(id, doc);
        return found ? { matchedCount: 1, modifiedCount: 1 } : { matchedCount: 0, modifiedCount: 0, upsertedId: id };
      },
      async insertOne(doc) {
        const id = doc && doc[idField];
        if (typeof id !== "string") throw new Error(`insertOne: the document needs ${idField}, the user id`);
        if (read(id)) throw new Error(`E11000 duplicate key error: a custom user data document for ${id} exists`);
        write(id, doc);
        return { insertedId: doc._id !== undefined ? doc._id : id };
      },
    };
    for (const name of ["find", "insertMany", "updateMany", "deleteOne", "deleteMany", "aggregate",
      "count", "countDocuments", "findOneAndUpdate", "findOneAndReplace", "findOneAndDelete", "bulkWrite", "watch"]) {
      collection[name] = () => { throw stand(`collection.${name} (the custom user data stand-in has findOne, updateOne and insertOne)`); };
    }
    return collection;
  }
  function services(app) {
    return {
      get(name) {
        if (name !== "mongodb-atlas") {
          throw new Error(`context.services.get(${JSON.stringify(String(name))}): Latchkey has no such service (no MongoDB, HTTP or other services; only "mongodb-atlas" for custom user data)`);
        }
        return {
          db(db) {
            return {
              collection(coll) {
                const cd = app.custom_data;
                if (cd && cd.collection === coll) return makeCustomData(cd);
                const why = cd ? `only ${cd.collection}, the custom user data collection, stands in` : "custom user data is not enabled in the config";
                throw new Error(`context.services.get("mongodb-atlas").db(${JSON.stringify(String(db))}).collection(${JSON.stringify(String(coll))}): Latchkey has no MongoDB service (${why})`);
              },
            };
          },
        };
      },
    };
  }

  function ejsonArgs(args) { return EJSON.stringify(args, { relaxed: false }); }
  function execute(name, ...args) {
    name = String(name);
    if (isJs(name)) return lookup(name).apply(undefined, args);
    return deserialize(JSON.parse(host("execute", JSON.stringify([name, ejsonArgs(args)]))), "args");
  }

  // What every call's context shares; only the user and the request change per call.
  function shared(app) {
    let values;
    return {
      values: { get(name) { values = values || deserialize(app.values, "args"); return values[name]; } },
      environment: Object.freeze({ tag: app.environment, values: {} }),
      functions: Object.freeze({ execute }),
      services: services(app),
      http: Object.fromEntries(["get", "post", "put", "patch", "delete", "head"].map(
        (verb) => [verb, () => { throw stand(`context.http.${verb} (no network)`); }])),
    };
  }
  const SYSTEM = { id: "", type: "system", data: {}, identities: [], custom_data: {} };
  function makeUser(user) {
    if (!user) return SYSTEM;
    let custom;
    return {
      id: user.id, type: user.type, data: deserialize(user.data, "args"),
      identities: deserialize(user.identities, "args"),
      get custom_data() {
        if (custom === undefined) {
          const doc = deserialize(JSON.parse(host("ask", JSON.stringify(["get_custom_data", user.id]))), "args") || {};
          delete doc._id;
          custom = doc;
        }
        return custom;
      },
    };
  }
  function makeContext(common, user, request) {
    return { user: makeUser(user), values: common.values, environment: common.environment,
      functions: common.functions, services: common.services, http: common.http,
      request: request || undefined };
  }

  function errorText(e) {
    if (e instanceof Error) return [JSON.stringify({ message: String(e.message), name: String(e.name) }), String(e.name)];
    if (typeof e === "string") return [e, "string"];
    try { return [EJSON.stringify(e), typeof e]; } catch (x) { return [String(e), typeof e]; }
  }

  // One call: `__call(name, argsText, userText, requestText, nested)` starts it and returns its
  // number; `__outcome(number)` is its end once the worker has run the pending jobs:
  // `[true, canonical EJSON]`, `[false, message, name]`, or null while a promise is pending.
  // A nested call (a Python function calling back into JavaScript) keeps the caller's context.
  const outcomes = new Map();
  let calls = 0;
  const app = JSON.parse(host("app", ""));
  const common = shared(app);
  function finish(id, ok, value) {
    if (ok) {
      try { outcomes.set(id, [true, JSON.stringify(serialize(value, { relaxed: false }))]); } catch (e) { outcomes.set(id, [false, ...errorText(e)]); }
    } else {
      outcomes.set(id, [false, ...errorText(value)]);
    }
  }
  g.__call = function (name, argsText, userText, requestText, nested) {
    const id = ++calls;
    try {
      if (!nested) {
        outcomes.clear(); logText = ""; timers.length = 0;
        g.context = makeContext(common, JSON.parse(userText), JSON.parse(requestText));
      }
      const fn = lookup(name);
      const result = fn.apply(undefined, deserialize(JSON.parse(argsText), "args"));
      if (result !== null && typeof result === "object" && typeof result.then === "function") {
        Promise.resolve(result).then((v) => finish(id, true, v), (e) => finish(id, false, e));
      } else {
        finish(id, true, result);
      }
    } catch (e) {
      finish(id, false, e);
    }
    return id;
  };
  g.__outcome = function (id) {
    const out = outcomes.get(id);
    if (out === undefined) return null;
    outcomes.delete(id);
    return JSON.stringify(out);
  };
  g.__logs = function () { const t = logText; logText = ""; return t; };
  g.utils = { crypto };
  g.console = console;
  g.setTimeout = setTimeout;
  g.Buffer = Buffer;
  g.atob = atob;
  g.btoa = btoa;
  g.require = require;
  g.clearTimeout = clearTimeout;
})(globalThis);
