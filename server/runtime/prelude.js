// The globals of App Services functions, for QuickJS in a function worker (server/runtime/js.py):
// BSON (ObjectId, Long, Int32, Double, Decimal128, Binary, UUID, Timestamp, MinKey, MaxKey,
// BSONRegExp), EJSON (parse, stringify, serialize, deserialize), utils.crypto (hash, hmac),
// console (one bounded log line per call), and the per-call `context`.
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

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function toBase64(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
        (i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < bytes.length ? B64[n & 63] : "=");
    }
    return out;
  }
  function fromBase64(text) {
    const clean = String(text).replace(/[\s=]/g, "").replace(/-/g, "+").replace(/_/g, "/");
    const out = new Uint8Array(Math.floor(clean.length * 3 / 4));
    let bits = 0, value = 0, j = 0;
    for (let i = 0; i < clean.length; i++) {
      const k = B64.indexOf(clean[i]);
      if (k < 0) throw new TypeError("invalid base64 text");
      value = (value << 6) | k; bits += 6;
      if (bits >= 8) { bits -= 8; out[j++] = (value >> bits) & 255; }
    }
    return out.subarray(0, j);
  }
  function toHex(bytes) {
    let out = "";
    for (const b of bytes) out += (b < 16 ? "0" : "") + b.toString(16);
    return out;
  }
  function fromHex(text) {
    if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new TypeError("invalid hex text");
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }
  function utf8(text) {
    const out = [];
    for (const ch of String(text)) {
      let c = ch.codePointAt(0);
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(out);
  }
  function randomBytes(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * 256);
    return out;
  }

  let oidCounter = Math.floor(Math.random() * 0xffffff);
  const oidProcess = randomBytes(5);
  class ObjectId {
    constructor(id) {
      if (id instanceof ObjectId) id = id.toHexString();
      if (id === undefined || id === null) {
        const b = new Uint8Array(12), t = Math.floor(Date.now() / 1000);
        b[0] = t >>> 24; b[1] = (t >> 16) & 255; b[2] = (t >> 8) & 255; b[3] = t & 255;
        b.set(oidProcess, 4);
        oidCounter = (oidCounter + 1) & 0xffffff;
        b[9] = oidCounter >> 16; b[10] = (oidCounter >> 8) & 255; b[11] = oidCounter & 255;
        this.id = toHex(b);
      } else if (typeof id === "string" && /^[0-9a-fA-F]{24}$/.test(id)) {
        this.id = id.toLowerCase();
      } else {
        throw new TypeError("ObjectId takes 24 hex characters");
      }
    }
    get _bsontype() { return "ObjectId"; }
    static isValid(id) { return typeof id === "string" ? /^[0-9a-fA-F]{24}$/.test(id) : id instanceof ObjectId; }
    static createFromHexString(hex) { return new ObjectId(hex); }
    toHexString() { return this.id; }
    toString() { return this.id; }
    toJSON() { return this.id; }
    equals(other) { return other != null && String(other).toLowerCase() === this.id; }
    getTimestamp() { return new Date(parseInt(this.id.slice(0, 8), 16) * 1000); }
  }

  const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;
  class Long {
    constructor(value) {
      const v = typeof value === "bigint" ? value : BigInt(typeof value === "number" ? Math.trunc(value) : String(value));
      this.value = BigInt.asIntN(64, v);
    }
    get _bsontype() { return "Long"; }
    static fromNumber(n) { return new Long(n); }
    static fromInt(n) { return new Long(n); }
    static fromString(s) { return new Long(BigInt(s)); }
    static fromBigInt(b) { return new Long(b); }
    static isLong(v) { return v instanceof Long; }
    toNumber() { return Number(this.value); }
    toBigInt() { return this.value; }
    toString(radix) { return this.value.toString(radix || 10); }
    toJSON() { return this.toString(); }
    valueOf() { return Number(this.value); }
    equals(o) { return new Long(o instanceof Long ? o.value : o).value === this.value; }
    compare(o) { const b = new Long(o instanceof Long ? o.value : o).value; return this.value < b ? -1 : this.value > b ? 1 : 0; }
    add(o) { return new Long(this.value + new Long(o instanceof Long ? o.value : o).value); }
    subtract(o) { return new Long(this.value - new Long(o instanceof Long ? o.value : o).value); }
    multiply(o) { return new Long(this.value * new Long(o instanceof Long ? o.value : o).value); }
    isZero() { return this.value === 0n; }
    isNegative() { return this.value < 0n; }
  }
  Long.ZERO = new Long(0n); Long.ONE = new Long(1n);
  Long.MAX_VALUE = new Long(INT64_MAX); Long.MIN_VALUE = new Long(INT64_MIN);

  class Int32 {
    constructor(v) { this.value = Number(v) | 0; }
    get _bsontype() { return "Int32"; }
    valueOf() { return this.value; }
    toString() { return String(this.value); }
    toJSON() { return this.value; }
  }
  class Double {
    constructor(v) { this.value = Number(v); }
    get _bsontype() { return "Double"; }
    valueOf() { return this.value; }
    toString() { return String(this.value); }
    toJSON() { return this.value; }
  }
  class Decimal128 {
    constructor(text) {
      text = String(text);
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(Infinity|Inf|NaN)$/i.test(text)) {
        throw new TypeError(`${text.slice(0, 40)} is not a valid Decimal128 string`);
      }
      this.text = text;
    }
    get _bsontype() { return "Decimal128"; }
    static fromString(s) { return new Decimal128(s); }
    toString() { return this.text; }
    toJSON() { return { $numberDecimal: this.text }; }
  }
  class Binary {
    constructor(buffer, subType) {
      if (typeof buffer === "string") buffer = utf8(buffer);
      else if (buffer instanceof ArrayBuffer) buffer = new Uint8Array(buffer);
      else if (buffer === undefined) buffer = new Uint8Array(0);
      else if (!(buffer instanceof Uint8Array)) buffer = Uint8Array.from(buffer);
      this.buffer = buffer;
      this.sub_type = subType === undefined ? 0 : subType;
    }
    get _bsontype() { return "Binary"; }
    static createFromBase64(text, subType) { return new Binary(fromBase64(text), subType); }
    static createFromHexString(text, subType) { return new Binary(fromHex(text), subType); }
    length() { return this.buffer.length; }
    value() { return this.buffer; }
    toString(format) {
      if (format === "hex") return toHex(this.buffer);
      if (format === "base64") return toBase64(this.buffer);
      let s = "";
      for (const b of this.buffer) s += String.fromCharCode(b);
      try { return decodeURIComponent(escape(s)); } catch (e) { return s; }
    }
    toJSON() { return toBase64(this.buffer); }
  }
  Binary.SUBTYPE_DEFAULT = 0; Binary.SUBTYPE_UUID = 4; Binary.SUBTYPE_MD5 = 5;
  Binary.SUBTYPE_USER_DEFINED = 128;
  class UUID extends Binary {
    constructor(value) {
      let bytes;
      if (value === undefined || value === null) {
        bytes = randomBytes(16);
        bytes[6] = (bytes[6] & 0x0f) | 0x40; bytes[8] = (bytes[8] & 0x3f) | 0x80;
      } else if (typeof value === "string") {
        const hex = value.replace(/-/g, "");
        if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError("UUID takes 32 hex digits");
        bytes = fromHex(hex);
      } else {
        bytes = value instanceof Binary ? value.buffer : Uint8Array.from(value);
        if (bytes.length !== 16) throw new TypeError("a UUID is 16 bytes");
      }
      super(bytes, 4);
    }
    static generate() { return new UUID(); }
    toHexString(dashes) {
      const h = toHex(this.buffer);
      if (dashes === false) return h;
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    toString(format) { return format ? super.toString(format) : this.toHexString(); }
    toJSON() { return this.toHexString(); }
    equals(other) { return other != null && new UUID(other instanceof Binary ? other : String(other)).toHexString() === this.toHexString(); }
    toBinary() { return new Binary(this.buffer, 4); }
  }
  class Timestamp {
    constructor(value) { this.t = value && value.t >>> 0 || 0; this.i = value && value.i >>> 0 || 0; }
    get _bsontype() { return "Timestamp"; }
  }
  class MinKey { get _bsontype() { return "MinKey"; } }
  class MaxKey { get _bsontype() { return "MaxKey"; } }
  class BSONRegExp {
    constructor(pattern, options) { this.pattern = String(pattern); this.options = [...String(options || "")].sort().join(""); }
    get _bsontype() { return "BSONRegExp"; }
  }
  const BSON = { ObjectId, ObjectID: ObjectId, Long, Int32, Double, Decimal128, Binary, UUID,
    Timestamp, MinKey, MaxKey, BSONRegExp };

  // EJSON, as js-bson writes and reads it: relaxed unless `{relaxed: false}`.
  const MAX_DEPTH = 100;
  function dateJSON(d, relaxed) {
    const ms = d.getTime();
    if (Number.isNaN(ms)) throw new TypeError("an invalid Date has no EJSON form");
    if (relaxed && ms >= 0 && ms <= 253402300799999) return { $date: d.toISOString() };
    return { $date: { $numberLong: String(ms) } };
  }
  function doubleJSON(v) {
    if (Object.is(v, -0)) return { $numberDouble: "-0.0" };
    if (Number.isNaN(v)) return { $numberDouble: "NaN" };
    if (!Number.isFinite(v)) return { $numberDouble: v > 0 ? "Infinity" : "-Infinity" };
    return { $numberDouble: Number.isInteger(v) ? v.toFixed(1).replace(/^(-?\d+)\.0$/, (m) => (Math.abs(v) >= 1e21 ? String(v) : m)) : String(v) };
  }
  function serialize(value, options, depth, seen) {
    const relaxed = !options || options.relaxed !== false;
    depth = depth || 0;
    if (depth > MAX_DEPTH) throw new RangeError("values nest too deeply for EJSON");
    if (value === null || value === undefined) return null;
    switch (typeof value) {
      case "string": case "boolean": return value;
      case "number":
        if (relaxed && Number.isFinite(value) && !Object.is(value, -0)) return value;
        if (Number.isInteger(value) && !Object.is(value, -0) && value >= -2147483648 && value <= 2147483647) {
          return { $numberInt: String(value) };
        }
        return doubleJSON(value);
      case "bigint":
        if (value < INT64_MIN || value > INT64_MAX) throw new RangeError("a BigInt outside 64 bits has no EJSON form");
        return { $numberLong: value.toString() };
      case "function": case "symbol": return undefined;
    }
    if (value instanceof Date) return dateJSON(value, relaxed);
    if (value instanceof RegExp) return { $regularExpression: { pattern: value.source, options: [...value.flags].filter((f) => "imsux".includes(f)).sort().join("") } };
    if (value instanceof Uint8Array || value instanceof ArrayBuffer) value = new Binary(value, 0);
    switch (value._bsontype) {
      case "ObjectId": return { $oid: value.toHexString() };
      case "Long": return relaxed ? Number(value.value) : { $numberLong: value.toString() };
      case "Int32": return relaxed ? value.value : { $numberInt: String(value.value) };
      case "Double": return relaxed && Number.isFinite(value.value) ? value.value : doubleJSON(value.value);
      case "Decimal128": return { $numberDecimal: value.toString() };
      case "Binary": return { $binary: { base64: toBase64(value.buffer), subType: (value.sub_type < 16 ? "0" : "") + value.sub_type.toString(16) } };
      case "Timestamp": return { $timestamp: { t: value.t, i: value.i } };
      case "MinKey": return { $minKey: 1 };
      case "MaxKey": return { $maxKey: 1 };
      case "BSONRegExp": return { $regularExpression: { pattern: value.pattern, options: value.options } };
    }
    seen = seen || [];
    if (seen.includes(value)) throw new TypeError("a circular structure has no EJSON form");
    seen.push(value);
    let out;
    if (Array.isArray(value)) {
      out = value.map((v) => { const s = serialize(v, options, depth + 1, seen); return s === undefined ? null : s; });
    } else {
      out = {};
      for (const key of Object.keys(value)) {
        const s = serialize(value[key], options, depth + 1, seen);
        if (s !== undefined) out[key] = s;
      }
    }
    seen.pop();
    return out;
  }
  // `mode`: "relaxed" (numbers of every kind become JS numbers), "canonical" (Int32, Double and
  // Long objects) or "args" (how function arguments arrive: numbers, but $numberLong as a Long).
  function deserialize(value, mode) {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((v) => deserialize(v, mode));
    const keys = Object.keys(value);
    if (keys.length >= 1 && keys[0][0] === "$") {
      const v = value[keys[0]];
      switch (keys[0]) {
        case "$oid": return new ObjectId(v);
        case "$numberInt": return mode === "canonical" ? new Int32(v) : Number(v);
        case "$numberDouble": return mode === "canonical" ? new Double(Number(v === "-0.0" ? "-0" : v)) : Number(v);
        case "$numberLong": return mode === "relaxed" ? Number(v) : new Long(BigInt(v));
        case "$numberDecimal": return new Decimal128(v);
        case "$date":
          if (typeof v === "string") return new Date(v);
          if (typeof v === "number") return new Date(v);
          return new Date(Number(v.$numberLong));
        case "$binary": {
          const b = typeof v === "string" ? { base64: v, subType: value.$type } : v;
          const sub = parseInt(b.subType, 16);
          return sub === 4 ? new UUID(fromBase64(b.base64)) : new Binary(fromBase64(b.base64), sub);
        }
        case "$uuid": return new UUID(v);
        case "$timestamp": return new Timestamp(v);
        case "$minKey": return new MinKey();
        case "$maxKey": return new MaxKey();
        case "$regularExpression": return new BSONRegExp(v.pattern, v.options);
      }
    }
    const out = {};
    for (const key of keys) out[key] = deserialize(value[key], mode);
    return out;
  }
  const EJSON = {
    serialize(value, options) { return serialize(value, options); },
    deserialize(value, options) { return deserialize(value, options && options.relaxed === false ? "canonical" : "relaxed"); },
    stringify(value, replacer, space, options) {
      if (space !== undefined && typeof space === "object") { options = space; space = 0; }
      if (replacer !== undefined && replacer !== null && typeof replacer === "object" && !Array.isArray(replacer)) {
        options = replacer; replacer = undefined; space = 0;
      }
      return JSON.stringify(serialize(value, options), replacer, space);
    },
    parse(text, options) { return EJSON.deserialize(JSON.parse(text), options); },
  };

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
      http: { get() { throw stand("context.http"); } },
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
        outcomes.clear(); logText = "";
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
  g.BSON = BSON;
  g.EJSON = EJSON;
  g.utils = { crypto };
  g.console = console;
})(globalThis);
