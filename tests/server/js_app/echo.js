// Arguments come back as they came: BSON types kept.
exports = function (...args) {
  return args;
};
