exports = function (text) {
  throw new Error(text);
};
