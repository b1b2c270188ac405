// What each argument became in JavaScript.
exports = function (...args) {
  return args.map((a) => (a === null ? "null" : a instanceof Date ? "Date" :
    typeof a === "object" && a._bsontype ? a._bsontype : Array.isArray(a) ? "Array" : typeof a));
};
