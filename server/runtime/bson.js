// BSON and EJSON for App Services functions in QuickJS (server/runtime/js.py), as js-bson
// writes and reads them: ObjectId, Long, Int32, Double, Decimal128, Binary, UUID, Timestamp,
// MinKey, MaxKey, BSONRegExp; EJSON parse, stringify, serialize, deserialize (relaxed unless
// `{relaxed: false}`). Loaded before prelude.js, which takes `__bson` (the helpers it shares).
"use strict";
(function (g) {
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

  g.BSON = BSON;
  g.EJSON = EJSON;
  g.__bson = { BSON, EJSON, serialize, deserialize, toBase64, fromBase64, toHex, fromHex, utf8 };
})(globalThis);
