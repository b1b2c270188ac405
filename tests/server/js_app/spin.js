exports = function () {
  for (;;) {}
};
